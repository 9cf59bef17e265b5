/**
 * The whole workflow through the built binary, on a real Zarr v3 store:
 * init → add → commit → edit → status → commit -a → log → show → ls →
 * branches → detached checkout → restore → reset → tags → cat → git fsck.
 */
import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, makeFixture } from "../helpers/fixture.js";

interface LogJson {
  oid: string;
  parents: string[];
  message: string;
  refs: string[];
  author: { name: string; email: string };
}

const CHUNK = "ocean.zarr/sst/c/0/0/0";

function oidFrom(commitOutput: string): string {
  const m = /^\[[^\]]* ([0-9a-f]{7})\] /m.exec(commitOutput);
  if (!m) throw new Error(`no commit id in:\n${commitOutput}`);
  return m[1] as string;
}

describe("workflow on v3/ocean.zarr", () => {
  it("init, add, commit, edit, status, log, show, ls, branches, checkout, restore, reset, tag, cat", { timeout: 180_000 }, async () => {
    const dir = path.dirname(await makeFixture("v3/ocean.zarr"));
    const original = await listFiles(dir);

    // init
    const init = await tdvOk(dir, ["init"]);
    expect(init.stdout).toContain(`Initialized empty tdv repository in ${dir}/.tdv`);
    expect(init.stdout).toContain("Found 9 Zarr arrays and 2 groups");
    expect(init.stdout).toContain("tdv add -A && tdv commit -m");
    expect(init.stderr).toBe(""); // the store is a subfolder: no warning

    // status before the first commit: untracked arrays as arrays
    const st0 = await tdvOk(dir, ["status"]);
    expect(st0.stdout).toContain("On branch main");
    expect(st0.stdout).toContain("No commits yet");
    expect(st0.stdout).toMatch(/new array\s+ocean\.zarr\/sst\s+\(18 chunks, [\d.]+ kB\)/);
    expect(st0.stdout).toMatch(/new array\s+ocean\.zarr\/flags\s+\(3 chunks, 222 B\)/);
    // the details of every row start in one column, after the longest path
    const rows = st0.stdout.split("\n").filter((l) => l.startsWith("  new "));
    expect(rows.length).toBeGreaterThan(2);
    expect(new Set(rows.map((l) => l.indexOf("  (", 15))).size).toBe(1);

    // add -A, commit
    const add = await tdvOk(dir, ["add", "-A"]);
    expect(add.stdout).toMatch(new RegExp(`^staged ${original.size} files \\(9 arrays\\), [\\d.]+ kB$`, "m"));
    expect(add.stderr).toBe(""); // no progress: stderr is not a terminal
    const c1 = await tdvOk(dir, ["commit", "-m", "Import ocean"]);
    expect(c1.stdout).toMatch(/^\[main \(root-commit\) [0-9a-f]{7}\] Import ocean$/m);
    expect(c1.stdout).toMatch(/^  new array ocean\.zarr\/sst \(18 chunks, /m);
    expect(c1.stdout).toMatch(/^  new group ocean\.zarr \(zarr\.json\)$/m);
    const first = oidFrom(c1.stdout);

    const clean = await tdvOk(dir, ["status"]);
    expect(clean.stdout).toContain("nothing to commit, working tree clean");
    expect((await tdvJson<{ clean: boolean; head: string }>(dir, ["status", "--json"])).clean).toBe(true);

    // edit one chunk: status names the array and the chunk counts
    await fsp.writeFile(path.join(dir, CHUNK), Buffer.from("edited chunk bytes"));
    const st1 = await tdvOk(dir, ["status"]);
    expect(st1.stdout).toContain("Changes not staged for commit:");
    expect(st1.stdout).toMatch(/^  modified\s+ocean\.zarr\/sst\s+chunks: 1 modified \(18 B\)$/m);
    expect(st1.stdout).toContain('no changes added to commit (use "tdv add" or "tdv commit -a")');
    const sj = await tdvJson<{ clean: boolean; grouped: { unstaged: { arrays: { path: string; chunks: object }[] } }; unstaged: { path: string }[] }>(
      dir,
      ["status", "--json"],
    );
    expect(sj.clean).toBe(false);
    expect(sj.grouped.unstaged.arrays).toEqual([expect.objectContaining({ path: "ocean.zarr/sst", chunks: { added: 0, modified: 1, deleted: 0 } })]);
    expect(sj.unstaged.map((c) => c.path)).toEqual([CHUNK]);
    expect((await tdvOk(dir, ["status", "-s"])).stdout).toBe(" M ocean.zarr/sst/\n");

    // commit -a
    const c2 = await tdvOk(dir, ["commit", "-a", "-m", "Fix one SST chunk"]);
    expect(c2.stdout).toMatch(/^\[main [0-9a-f]{7}\] Fix one SST chunk$/m);
    expect(c2.stdout).toMatch(/^  ocean\.zarr\/sst: 1 chunk modified \([+-][\d.]+ k?B\)$/m);
    const second = oidFrom(c2.stdout);
    const afterEdit = await listFiles(dir);

    // log
    const oneline = await tdvOk(dir, ["log", "--oneline"]);
    expect(oneline.stdout).toBe(`${second} (HEAD -> main) Fix one SST chunk\n${first} Import ocean\n`);
    const entries = await tdvJson<LogJson[]>(dir, ["log", "--json"]);
    expect(entries.map((e) => e.oid.slice(0, 7))).toEqual([second, first]);
    expect(entries[0]?.parents).toEqual([entries[1]?.oid]);
    expect(entries[0]?.refs).toEqual(["HEAD", "main"]);
    expect(entries[0]?.author).toEqual(expect.objectContaining({ name: "Test User", email: "test@example.org" }));
    expect(entries[0]?.message).toContain("Tdv-Command: tdv commit -a -m 'Fix one SST chunk'");
    const long = await tdvOk(dir, ["log", "-n", "1"]);
    expect(long.stdout).toMatch(new RegExp(`^commit ${entries[0]?.oid} \\(HEAD -> main\\)\\nAuthor: Test User <test@example.org>\\nDate:   \\w{3} \\w{3} \\d+ \\d\\d:\\d\\d:\\d\\d \\d{4} [+-]\\d{4}\\n\\n    Fix one SST chunk\\n`));
    expect((await tdvOk(dir, ["log", "main", "-n", "1", "--oneline"])).stdout.split("\n")[0]).toContain(second);
    // path filter, with and without --
    expect((await tdvOk(dir, ["log", "--oneline", "--", "ocean.zarr/sst"])).stdout.trim().split("\n")).toHaveLength(2);
    expect((await tdvOk(dir, ["log", "--oneline", "--", "ocean.zarr/salinity"])).stdout.trim().split("\n")).toEqual([`${first} Import ocean`]);
    expect((await tdvOk(path.join(dir, "ocean.zarr"), ["log", "--oneline", "salinity"])).stdout.trim().split("\n")).toEqual([`${first} Import ocean`]);
    expect((await tdvOk(dir, ["log", "HEAD~1", "--oneline", "--", "ocean.zarr/sst"])).stdout).toBe(`${first} Import ocean\n`);

    // show
    const show = await tdvOk(dir, ["show"]);
    expect(show.stdout).toMatch(new RegExp(`^commit ${entries[0]?.oid}`));
    expect(show.stdout).toMatch(/^  ocean\.zarr\/sst: 1 chunk modified/m);
    const showJson = await tdvJson<{ commit: { oid: string }; changes: { arrays: { path: string; chunks: object }[] } }>(dir, ["show", "HEAD", "--json"]);
    expect(showJson.commit.oid).toBe(entries[0]?.oid);
    expect(showJson.changes.arrays).toEqual([expect.objectContaining({ path: "ocean.zarr/sst", chunks: { added: 0, modified: 1, deleted: 0 } })]);
    expect((await tdvOk(dir, ["show", first])).stdout).toMatch(/new array ocean\.zarr\/salinity \(8 chunks/);

    // ls
    type Info = { path: string; shape: number[]; dtype: string; chunkShape: number[]; chunks: number; gridChunks: number; zarrFormat: number };
    const arrays = await tdvJson<Info[]>(dir, ["ls", "--json"]);
    const by = new Map(arrays.map((a) => [a.path, a]));
    expect(arrays).toHaveLength(9);
    expect(by.get("ocean.zarr/sst")).toEqual(expect.objectContaining({ shape: [6, 16, 24], dtype: "float32", chunkShape: [2, 8, 8], chunks: 18, gridChunks: 18, zarrFormat: 3 }));
    expect(by.get("ocean.zarr/salinity")).toEqual(expect.objectContaining({ shape: [6, 16, 24], dtype: "float64", chunkShape: [3, 8, 12], chunks: 8, gridChunks: 8 }));
    expect(by.get("ocean.zarr/flags")).toEqual(expect.objectContaining({ dtype: "uint8", chunks: 3, gridChunks: 18 }));
    expect(by.get("ocean.zarr/reference_density")).toEqual(expect.objectContaining({ shape: [], chunks: 1, gridChunks: 1 }));
    const table = await tdvOk(dir, ["ls"]);
    expect(table.stdout).toMatch(/^PATH\s+SHAPE\s+DTYPE\s+CHUNKS\s+CODECS\s+STORED\s+BYTES$/m);
    expect(table.stdout).toMatch(/^ocean\.zarr\/flags\s+6×16×24\s+uint8\s+2×8×8\s+bytes,gzip\s+3\/18\s+222 B$/m);
    // one operand that is a path, not a revision; and REV PATH
    expect((await tdvJson<Info[]>(dir, ["ls", "ocean.zarr/derived", "--json"])).map((a) => a.path)).toEqual(["ocean.zarr/derived/sst_anomaly"]);
    expect((await tdvJson<Info[]>(path.join(dir, "ocean.zarr"), ["ls", first, "derived", "--json"])).map((a) => a.path)).toEqual(["ocean.zarr/derived/sst_anomaly"]);

    // branches: create, switch, commit there, switch back and forth with exact bytes
    expect((await tdvOk(dir, ["branch", "experiment"])).stdout).toMatch(/^Created branch experiment at [0-9a-f]{7}$/m);
    expect((await tdvOk(dir, ["branch"])).stdout).toBe("  experiment\n* main\n");
    const sw = await tdvOk(dir, ["switch", "experiment"]);
    expect(sw.stdout).toContain("Switched to branch 'experiment'");
    await fsp.writeFile(path.join(dir, "ocean.zarr/depth/c/0"), Buffer.from([1, 2, 3, 4]));
    await fsp.rm(path.join(dir, "ocean.zarr/flags/c/0/0/0"));
    await fsp.writeFile(path.join(dir, "NOTES.md"), "experiment notes\n");
    await tdvOk(dir, ["add", "-A"]);
    const c3 = await tdvOk(dir, ["commit", "-m", "Experiment"]);
    expect(c3.stdout).toMatch(/^\[experiment [0-9a-f]{7}\] Experiment$/m);
    expect(c3.stdout).toMatch(/^  ocean\.zarr\/depth: 1 chunk modified/m);
    expect(c3.stdout).toMatch(/^  ocean\.zarr\/flags: 1 chunk deleted/m);
    expect(c3.stdout).toMatch(/^  new file NOTES\.md$/m);
    const experimentFiles = await listFiles(dir);
    const back = await tdvOk(dir, ["switch", "main"]);
    expect(back.stdout).toMatch(/^Switched to branch 'main'\n\(2 files written, 1 removed, [\d.]+ k?B\)\n$/);
    expect(await listFiles(dir)).toEqual(afterEdit);
    await tdvOk(dir, ["switch", "experiment"]);
    expect(await listFiles(dir)).toEqual(experimentFiles);
    await tdvOk(dir, ["switch", "main"]);
    expect(await listFiles(dir)).toEqual(afterEdit);
    const branches = await tdvJson<{ name: string; current: boolean; oid: string }[]>(dir, ["branch", "--list", "--json"]);
    expect(branches.map((b) => [b.name, b.current])).toEqual([["experiment", false], ["main", true]]);
    const created = await tdvOk(dir, ["switch", "-c", "from-first", first]);
    expect(created.stdout).toContain("Switched to a new branch 'from-first'");
    expect(await listFiles(dir)).toEqual(original);
    await tdvOk(dir, ["switch", "main"]);
    expect((await tdvOk(dir, ["branch", "-d", "from-first"])).stdout).toMatch(/^Deleted branch from-first \(was [0-9a-f]{7}\)\.$/m);
    // a refusal exits 1 (with the reason), not 2 (a usage error)
    const current = await tdv(dir, ["branch", "-d", "main"]);
    expect(current.code).toBe(1);
    expect(current.stderr).toContain("error: cannot delete branch 'main': it is the current branch");
    const unmerged = await tdv(dir, ["branch", "-d", "experiment"]);
    expect(unmerged.code).toBe(1);
    expect(unmerged.stderr).toContain("not fully merged");

    // detached checkout of HEAD~1
    const co = await tdvOk(dir, ["checkout", "HEAD~1"]);
    expect(co.stdout).toMatch(new RegExp(`^HEAD is now at ${first} Import ocean`, "m"));
    expect(co.stderr).toContain("detached HEAD");
    expect(co.stderr).toContain("tdv switch -c");
    expect(await listFiles(dir)).toEqual(original);
    expect((await tdvOk(dir, ["status"])).stdout).toMatch(new RegExp(`^HEAD detached at ${first}$`, "m"));
    // checkout BRANCH says it as switch does
    expect((await tdvOk(dir, ["checkout", "main"])).stdout).toMatch(/^Switched to branch 'main'\n\(\d+ files? written, \d+ removed, [\d.]+ k?B\)\n$/);
    expect(await listFiles(dir)).toEqual(afterEdit);

    // restore: local edits and deletions come back
    await fsp.writeFile(path.join(dir, "ocean.zarr/lat/c/0"), "garbage");
    await fsp.rm(path.join(dir, "ocean.zarr/salinity"), { recursive: true });
    const rs = await tdvOk(dir, ["restore", "."]);
    expect(rs.stdout).toMatch(/^restored \d+ files/m);
    expect(await listFiles(dir)).toEqual(afterEdit);
    await fsp.writeFile(path.join(dir, CHUNK), "local");
    await tdvOk(path.join(dir, "ocean.zarr"), ["restore", "--source", first, "sst/c/0/0/0"]);
    expect(await fsp.readFile(path.join(dir, CHUNK))).toEqual(original.get(CHUNK));
    await tdvOk(dir, ["restore", CHUNK]);
    expect(await listFiles(dir)).toEqual(afterEdit);

    // reset --hard discards local changes; reset --soft moves the branch only
    await fsp.writeFile(path.join(dir, "ocean.zarr/time/c/0"), "garbage");
    await fsp.writeFile(path.join(dir, "ocean.zarr/zarr.json"), '{"zarr_format":3,"node_type":"group","attributes":{"x":1}}');
    const rh = await tdvOk(dir, ["reset", "--hard"]);
    expect(rh.stdout).toMatch(new RegExp(`^HEAD is now at ${second} Fix one SST chunk`, "m"));
    expect(await listFiles(dir)).toEqual(afterEdit);
    expect((await tdvOk(dir, ["reset", "--soft", "HEAD~1"])).stdout).toContain(`main moved to ${first}`);
    const staged = await tdvOk(dir, ["status"]);
    expect(staged.stdout).toContain("Changes to be committed:");
    expect(staged.stdout).toMatch(/^  modified\s+ocean\.zarr\/sst\s+chunks: 1 modified/m);
    await tdvOk(dir, ["reset", "--hard", second]);
    expect((await tdvOk(dir, ["status"])).stdout).toContain("nothing to commit, working tree clean");

    // tags: lightweight and annotated
    expect((await tdvOk(dir, ["tag", "v1"])).stdout).toBe(`Created tag v1 at ${second}\n`);
    expect((await tdvOk(dir, ["tag", "v0", first, "-m", "First import"])).stdout).toBe(`Created annotated tag v0 at ${first}\n`);
    expect((await tdvOk(dir, ["tag"])).stdout).toBe("v0\nv1\n");
    const tags = await tdvJson<{ name: string; annotated: boolean; message?: string; oid: string }[]>(dir, ["tag", "--list", "--json"]);
    expect(tags.map((t) => [t.name, t.annotated, t.oid.slice(0, 7)])).toEqual([["v0", true, first], ["v1", false, second]]);
    expect(tags[0]?.message).toBe("First import");
    expect((await tdvOk(dir, ["log", "--oneline"])).stdout).toBe(`${second} (HEAD -> main, tag: v1) Fix one SST chunk\n${first} (tag: v0) Import ocean\n`);
    await tdvOk(dir, ["checkout", "v0"]);
    expect(await listFiles(dir)).toEqual(original);
    await tdvOk(dir, ["switch", "main"]);
    expect((await tdvOk(dir, ["tag", "-d", "v1"])).stdout).toContain("Deleted tag 'v1'");
    expect((await tdvOk(dir, ["tag"])).stdout).toBe("v0\n");
    expect((await tdv(dir, ["tag", "v0"])).code).toBe(1); // exists

    // cat: exact bytes, no newline added
    const chunk = await tdvOk(dir, ["cat", "HEAD", CHUNK]);
    expect(chunk.stdoutBytes.equals(afterEdit.get(CHUNK) as Buffer)).toBe(true);
    const old = await tdvOk(path.join(dir, "ocean.zarr"), ["cat", "v0", "sst/c/0/0/0"]);
    expect(old.stdoutBytes.equals(original.get(CHUNK) as Buffer)).toBe(true);
    const meta = await tdvOk(dir, ["cat", "experiment", "ocean.zarr/sst/zarr.json"]);
    expect(meta.stdoutBytes.equals(original.get("ocean.zarr/sst/zarr.json") as Buffer)).toBe(true);
    const missing = await tdv(dir, ["cat", "HEAD", "ocean.zarr/sst"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("an array: name a file in it");

    // stock git finds the metadata repository clean
    execFileSync("git", ["--git-dir", path.join(dir, ".tdv/git"), "fsck", "--strict"], { stdio: "pipe" });
    const gitLog = execFileSync("git", ["--git-dir", path.join(dir, ".tdv/git"), "log", "--format=%s", "main"], { encoding: "utf8" });
    expect(gitLog).toBe("Fix one SST chunk\nImport ocean\n");
  });
});
