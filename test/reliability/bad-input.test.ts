/**
 * Guarantee 4, bad user input: malformed Zarr metadata, chunk files outside
 * the grid, files that cannot be read, a disk that fills up during a commit.
 * Each gives a clear message and a non-zero exit, and leaves the repository
 * as it was (HEAD, refs, reflogs and the index byte for byte; `fsck --full`
 * clean — unreachable objects written before the failure are allowed, `tdv
 * gc` removes them). Unknown codecs are not bad input: tdv stores bytes, so
 * they commit and check out byte for byte.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { committedGrid, fsckClean, gitFsck, hashTree, INJECT, lanes, mutate, randomBytes, rng, run, runOk, tdvFsckClean, treeDiff } from "./helpers.js";

/**
 * What must not change when a command fails: everything under .tdv except
 * objects, temp files and the folder cache (a scan records the folders it
 * lists, whatever the command then does; docs/format.md).
 */
async function repoState(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (/^(chunks|git\/objects|tmp|folder-cache|folder-cache\.stamp)$/.test(r) || e.name.includes(".tmp-")) continue;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, createHash("sha256").update(await fsp.readFile(path.join(abs, e.name))).digest("hex"));
    }
  };
  await walk(path.join(dir, ".tdv"), "");
  return out;
}

/** A committed grid of `n` chunks (always the same bytes). */
const gridRepo = async (n = 40): Promise<string> => (await committedGrid(n, rng(5))).dir;

const ZARRAY = { zarr_format: 2, shape: [8, 8], chunks: [4, 4], dtype: "<f4", compressor: null, fill_value: 0, filters: null, order: "C" };

describe.concurrent("bad user input", () => {
  const malformed: [string, string, string, RegExp][] = [
    ["invalid JSON (.zarray)", ".zarray", '{"zarr_format": 2, "shape": [8, 8]', /not valid JSON|JSON/],
    ["a shape that is a string", ".zarray", JSON.stringify({ ...ZARRAY, shape: "wide" }), /"shape"/],
    ["a negative shape", ".zarray", JSON.stringify({ ...ZARRAY, shape: [-8, 8] }), /"shape"/],
    ["a chunk shape of zero", ".zarray", JSON.stringify({ ...ZARRAY, chunks: [0, 4] }), /"chunks"/],
    ["shape and chunks of different lengths", ".zarray", JSON.stringify({ ...ZARRAY, chunks: [4] }), /"chunks"/],
    ["a dtype that is a number", ".zarray", JSON.stringify({ ...ZARRAY, dtype: 4 }), /"dtype"/],
    ["a compressor without an id", ".zarray", JSON.stringify({ ...ZARRAY, compressor: { level: 5 } }), /"compressor"/],
    ["a JSON array instead of an object", ".zarray", "[1, 2, 3]", /object/],
    ["an empty file", ".zarray", "", /JSON|empty/],
    ["invalid JSON (zarr.json)", "zarr.json", '{"zarr_format": 3, "node_type": "array",', /JSON/],
    ["a v3 node_type that is neither array nor group", "zarr.json", JSON.stringify({ zarr_format: 3, node_type: "table" }), /"node_type"/],
    ["a v3 array without codecs", "zarr.json", JSON.stringify({ zarr_format: 3, node_type: "array", shape: [8], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } }, chunk_key_encoding: { name: "default" }, fill_value: 0 }), /"codecs"/],
    ["a v3 irregular chunk grid", "zarr.json", JSON.stringify({ zarr_format: 3, node_type: "array", shape: [8], data_type: "uint8", chunk_grid: { name: "rectilinear", configuration: {} }, chunk_key_encoding: { name: "default" }, codecs: [{ name: "bytes" }], fill_value: 0 }), /chunk_grid/],
    ["a zarr_format of 4", "zarr.json", JSON.stringify({ zarr_format: 4, node_type: "group" }), /zarr_format/],
  ];

  // no metadata tdv reads at all (not JSON, not an object, another zarr_format): carried as plain files (issue 15 item 7)
  const unreadable = new Set(["invalid JSON (.zarray)", "a JSON array instead of an object", "an empty file", "invalid JSON (zarr.json)", "a zarr_format of 4"]);
  const refused = malformed.filter(([name]) => !unreadable.has(name));
  const carried = malformed.filter(([name]) => unreadable.has(name));

  it(`refuses ${refused.length} malformed metadata documents in add and commit -a, naming the file; the repository is unchanged`, { timeout: 120_000 }, async () => {
    const dir = await gridRepo();
    const before = await repoState(dir);
    for (const [name, file, text, problem] of refused) {
      // a new array with the bad document
      const rel = `new.zarr/${file}`;
      await fsp.mkdir(path.join(dir, "new.zarr"), { recursive: true });
      await fsp.writeFile(path.join(dir, rel), text);
      await fsp.writeFile(path.join(dir, file === "zarr.json" ? "new.zarr/c/0" : "new.zarr/0.0"), "chunk").catch(async () => {
        await fsp.mkdir(path.join(dir, "new.zarr/c"), { recursive: true });
        await fsp.writeFile(path.join(dir, "new.zarr/c/0"), "chunk");
      });
      const r = await run(dir, ["add", "-A"]);
      expect({ name, code: r.code }).toEqual({ name, code: 1 });
      expect(r.stderr, name).toMatch(new RegExp(`^error: invalid Zarr metadata in ${rel.replace(".", "\\.")}: `, "m"));
      expect(r.stderr.split("\n")[0], name).toMatch(problem);
      expect(r.stderr, name).toMatch(/^hint: fix or rewrite the file/m);
      expect(await repoState(dir), name).toEqual(before);
      await fsp.rm(path.join(dir, "new.zarr"), { recursive: true });
    }
    // the same documents over a tracked array's metadata, through commit -a
    const tracked = "data.zarr/grid/.zarray";
    const good = await fsp.readFile(path.join(dir, tracked));
    for (const [name, file, text, problem] of refused.filter(([, f]) => f === ".zarray")) {
      await fsp.writeFile(path.join(dir, tracked), text);
      const r = await run(dir, ["commit", "-a", "-m", "bad"]);
      expect({ name, code: r.code }).toEqual({ name, code: 1 });
      expect(r.stderr.split("\n")[0], `${name} (${file})`).toMatch(new RegExp(`^error: invalid Zarr metadata in ${tracked.replace(/\./g, "\\.")}: .*`));
      expect(r.stderr.split("\n")[0], name).toMatch(problem);
      expect(await repoState(dir), name).toEqual(before);
    }
    await fsp.writeFile(path.join(dir, tracked), good);
    await tdvFsckClean(dir);
    await gitFsck(path.join(dir, ".tdv/git"));
    expect((await runOk(dir, ["status", "--json"])).stdout).toContain('"clean": true');
  });

  it(`carries ${carried.length} documents that are no metadata tdv reads as plain files: add and commit work, one warning names the file`, { timeout: 120_000 }, async () => {
    const dir = await gridRepo();
    for (const [name, file, text, problem] of carried) {
      const rel = `new.zarr/${file}`;
      await fsp.mkdir(path.join(dir, "new.zarr/c"), { recursive: true });
      await fsp.writeFile(path.join(dir, rel), text);
      await fsp.writeFile(path.join(dir, file === "zarr.json" ? "new.zarr/c/0" : "new.zarr/0.0"), "chunk");
      const r = await run(dir, ["add", "-A"]);
      expect({ name, code: r.code }).toEqual({ name, code: 0 });
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"));
      expect(warnings, name).toHaveLength(1);
      expect(warnings[0], name).toMatch(new RegExp(`^warning: invalid Zarr metadata in ${rel.replace(".", "\\.")}: .*plain files`));
      expect(warnings[0], name).toMatch(problem);
      await runOk(dir, ["commit", "-m", name]);
      await fsp.rm(path.join(dir, "new.zarr"), { recursive: true });
      await runOk(dir, ["commit", "-a", "-m", `${name}: removed`]);
    }
    await tdvFsckClean(dir);
    await gitFsck(path.join(dir, ".tdv/git"));
    expect((await runOk(dir, ["status", "--json"])).stdout).toContain('"clean": true');
  });

  it("unknown codecs are committed as bytes (tdv never decodes to store) and check out byte for byte", async () => {
    const dir = await gridRepo();
    await fsp.mkdir(path.join(dir, "odd.zarr/c"), { recursive: true });
    await fsp.writeFile(
      path.join(dir, "odd.zarr/zarr.json"),
      JSON.stringify({ zarr_format: 3, node_type: "array", shape: [8], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } }, chunk_key_encoding: { name: "default" }, codecs: [{ name: "bytes" }, { name: "x-vendor-quantum-zip", configuration: { qubits: 7 } }], fill_value: 0 }),
    );
    await fsp.writeFile(path.join(dir, "odd.zarr/c/0"), Buffer.from([1, 2, 3, 250, 251]));
    await fsp.mkdir(path.join(dir, "odd2.zarr"), { recursive: true });
    await fsp.writeFile(path.join(dir, "odd2.zarr/.zarray"), JSON.stringify({ ...ZARRAY, compressor: { id: "x-unheard-of", level: 3 }, filters: [{ id: "x-filter" }] }));
    await fsp.writeFile(path.join(dir, "odd2.zarr/0.0"), "opaque bytes");
    const files = await hashTree(dir);
    await runOk(dir, ["add", "-A"]);
    const c = await runOk(dir, ["commit", "-m", "vendor codecs"]);
    expect(c.stdout).toMatch(/new array odd\.zarr \(1 chunk/);
    const ls = JSON.parse((await runOk(dir, ["ls", "--json"])).stdout) as { path: string; codecs: string[] }[];
    expect(ls.find((a) => a.path === "odd.zarr")?.codecs).toEqual(["bytes", "x-vendor-quantum-zip"]);
    await runOk(dir, ["switch", "-c", "empty", "HEAD~1"]);
    await runOk(dir, ["switch", "main"]);
    expect(treeDiff(await hashTree(dir), files)).toEqual([]);
  });

  it("chunk files outside the grid are warned about, committed and checked out as they are", async () => {
    const dir = await gridRepo();
    await fsp.writeFile(path.join(dir, "data.zarr/grid/999.0"), "beyond the edge");
    await fsp.writeFile(path.join(dir, "data.zarr/grid/01.2"), "not a canonical key: a plain file");
    const files = await hashTree(dir);
    const add = await runOk(dir, ["add", "-A"]);
    expect(add.stderr).toMatch(/^warning: 1 chunk file outside the grid of array 'data\.zarr\/grid' \(stored as is\): data\.zarr\/grid\/999\.0$/m);
    await runOk(dir, ["commit", "-m", "edge"]);
    await runOk(dir, ["switch", "-c", "before", "HEAD~1"]);
    await expect(fsp.stat(path.join(dir, "data.zarr/grid/999.0"))).rejects.toThrow();
    await runOk(dir, ["switch", "main"]);
    expect(treeDiff(await hashTree(dir), files)).toEqual([]);
  });

  it("a file that cannot be read (injected EACCES, as root ignores permissions): clear error, exit 1, repository unchanged", async () => {
    const dir = await gridRepo();
    const before = await repoState(dir);
    const victim = "data.zarr/grid/0.1";
    await fsp.writeFile(path.join(dir, victim), "new bytes nobody can read");
    const env = { TDV_INJECT_OP: "read", TDV_INJECT_CODE: "EACCES", TDV_INJECT_PATH: "grid[/\\\\]0\\.1$", TDV_INJECT_AT: "1" };
    for (const args of [["add", "-A"], ["commit", "-a", "-m", "x"], ["status"]]) {
      const r = await run(dir, args, { env, nodeArgs: ["--import", INJECT] });
      expect(r.code, `tdv ${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: cannot read or write ${path.join(dir, victim).replace(/\./g, "\\.")} \\(EACCES\\)$`, "m"));
      expect(r.stderr).toMatch(/^hint: check the file's permissions$/m);
      expect(await repoState(dir)).toEqual(before);
    }
    await runOk(dir, ["commit", "-a", "-m", "readable again"]);
  });

  it.skipIf(process.getuid?.() === 0)("a file without read permission (chmod 000, non-root only): clear error, exit 1, repository unchanged", async () => {
    const dir = await gridRepo();
    const before = await repoState(dir);
    const victim = path.join(dir, "data.zarr/grid/0.1");
    await fsp.writeFile(victim, "new bytes nobody can read");
    await fsp.chmod(victim, 0o000);
    const r = await run(dir, ["commit", "-a", "-m", "x"]);
    await fsp.chmod(victim, 0o644);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\(EACCES\)$/m);
    expect(await repoState(dir)).toEqual(before);
  });

  it("special files where data should be (a FIFO, a folder) are reported, never read or followed", async () => {
    const dir = await gridRepo();
    try {
      execFileSync("mkfifo", [path.join(dir, "data.zarr/pipe")]);
    } catch {
      return; // no mkfifo here
    }
    await fsp.rm(path.join(dir, "data.zarr/grid/0.2"));
    await fsp.mkdir(path.join(dir, "data.zarr/grid/0.2"));
    await fsp.writeFile(path.join(dir, "data.zarr/grid/0.2/inside"), "a folder where a chunk was");
    const st = await runOk(dir, ["status"]);
    expect(st.stderr).toMatch(/^warning: data\.zarr\/pipe: not a regular file/m);
    const add = await runOk(dir, ["add", "-A"]);
    expect(add.stderr).toMatch(/data\.zarr\/pipe: not a regular file/);
    await runOk(dir, ["commit", "-m", "with a folder where a chunk was"]);
    await tdvFsckClean(dir);
  });

  it("disk full during commit (injected ENOSPC at every write of a commit): exit 1, the repository unchanged, or the commit landed whole", { timeout: 120_000 }, async () => {
    const template = await gridRepo(60);
    const next = rng(9);
    await mutate(template, { chunks: [...Array(60).keys()].map((k) => `data.zarr/grid/${Math.floor(k / 8)}.${k % 8}`), array: "data.zarr/grid" }, 3, next);
    await fsp.writeFile(path.join(template, "data.zarr/big.bin"), Buffer.alloc(70_000, 7)); // a large plain file: a chunk object and a file list
    await runOk(template, ["add", "data.zarr/big.bin"]);
    // how many writes into .tdv one commit makes
    const countFile = path.join(os.tmpdir(), `tdv-inject-count-${process.pid}`);
    const probe = await copyRepo(template);
    await runOk(probe, ["commit", "-a", "-m", "probe"], { env: { TDV_INJECT_COUNT: countFile }, nodeArgs: ["--import", INJECT] });
    const writes = Number(await fsp.readFile(countFile, "utf8"));
    expect(writes).toBeGreaterThan(10);
    const outcomes = { failedCleanly: 0, landed: 0 };
    await lanes(2, async (lane) => {
    for (let k = 1 + lane; k <= writes; k += 2) {
      const dir = await copyRepo(template);
      const before = await repoState(dir);
      const head = (await fsp.readFile(path.join(dir, ".tdv/git/refs/heads/main"), "utf8")).trim();
      const r = await run(dir, ["commit", "-a", "-m", "fills the disk"], { env: { TDV_INJECT_AT: String(k) }, nodeArgs: ["--import", INJECT] });
      const now = (await fsp.readFile(path.join(dir, ".tdv/git/refs/heads/main"), "utf8")).trim();
      const what = `ENOSPC at write ${k} of ${writes}`;
      if (r.code === 0) {
        outcomes.landed++;
        expect(now, what).not.toBe(head);
      } else {
        outcomes.failedCleanly++;
        expect(r.code, `${what}: ${r.stderr}`).toBe(1);
        expect(r.stderr, what).toMatch(/^error: cannot read or write .* \(ENOSPC\)$/m);
        expect(r.stderr, what).toMatch(/^hint: the disk is full: free space and retry; the repository is unchanged \(`tdv gc --prune=now` deletes objects the failed command stored\)$/m);
        expect(now, `${what}: the branch moved though the command failed`).toBe(head);
        expect(await repoState(dir), what).toEqual(before);
      }
      await fsckClean(dir, what, 5);
      if (k % 5 === 0 || k === writes) {
        await gitFsck(path.join(dir, ".tdv/git"));
        // space is back: the commit goes through (or there is nothing left to commit)
        const again = await run(dir, ["commit", "-a", "-m", "retry"]);
        expect(again.code === 0 || (r.code === 0 && /nothing to commit/.test(again.stderr)), `${what}, retry: ${again.stderr}`).toBe(true);
      }
      await fsp.rm(dir, { recursive: true, force: true });
    }
    });
    process.stderr.write(`[reliability] disk full (injected): ${JSON.stringify({ writePoints: writes, ...outcomes })}\n`);
  });

  it("disk full on a real small file system (tmpfs, when this machine lets the test mount one)", { timeout: 60_000 }, async () => {
    const mnt = await tempDir();
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { stdio: "ignore" });
    } catch {
      return; // not root, or no mount permission (a container): the injected test above covers it
    }
    try {
      const dir = path.join(mnt, "wc");
      await fsp.mkdir(dir);
      const { grid } = await committedGrid(30, rng(1), dir);
      // 1.2 MB of new chunks in the working tree; storing them needs as much again, which is not there
      const next = rng(2);
      for (const c of grid.chunks.slice(0, 30)) await fsp.writeFile(path.join(dir, c), randomBytes(next, 40_000));
      const before = await repoState(dir);
      const files = await hashTree(dir);
      const r = await run(dir, ["commit", "-a", "-m", "too big"]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: cannot read or write .* \(ENOSPC\)$/m);
      expect(r.stderr).toMatch(/^hint: the disk is full/m);
      expect(await repoState(dir)).toEqual(before);
      await tdvFsckClean(dir);
      // free space (grow the file system) and retry: the commit lands, byte for byte
      execFileSync("mount", ["-o", "remount,size=8m", mnt]);
      await runOk(dir, ["commit", "-a", "-m", "fits now"]);
      await runOk(dir, ["checkout", "HEAD~1"]);
      await runOk(dir, ["checkout", "main"]);
      expect(treeDiff(await hashTree(dir), files)).toEqual([]);
      await tdvFsckClean(dir);
    } finally {
      execFileSync("umount", ["-l", mnt]);
    }
  });
});

async function copyRepo(src: string): Promise<string> {
  const dir = path.join(await tempDir(), "wc");
  await fsp.cp(src, dir, { recursive: true, preserveTimestamps: true });
  return dir;
}
