/**
 * fsck, gc and reflog, and guarantee 5 (corruption is detected): a flipped
 * byte in a chunk is named by `fsck --full`, and a checkout that needs it
 * fails instead of writing bad data.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, fsck, gc, Repository } from "../../src/index.js";
import { sha256, type ChunkId, type GitOid } from "../../src/format/hash.js";
import { writeSnapshot, type SnapEntry } from "../../src/repo/snapshot.js";
import { tempName } from "../../src/store/atomic.js";
import { readIndex } from "../../src/store/index-file.js";
import { tempDir } from "../helpers/fixture.js";
import { backdate, gitFsck, hashTree, makeGrid, mutate, rng, run, runOk, tdvFsckClean } from "./helpers.js";

const DAY = 24 * 3600 * 1000;

/** Two commits on a 60-chunk grid, made through the library (the CLI is what the tests exercise). */
async function repoWithHistory(n = 60): Promise<{ dir: string; next: () => number; grid: Awaited<ReturnType<typeof makeGrid>> }> {
  const dir = await tempDir();
  const next = rng(7);
  const grid = await makeGrid(dir, n, next);
  const { repo } = await Repository.init({ durability: "none", dir });
  await add(repo, { all: true });
  await commit(repo, { message: "base" });
  await mutate(dir, grid, 10, next);
  await commit(repo, { all: true, message: "second" });
  return { dir, next, grid };
}

/** Every file under .tdv with its bytes and mtime: fsck must leave all of it as it was. */
async function repoState(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(abs, { withFileTypes: true })) {
      const p = path.join(abs, e.name);
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p, r);
      else {
        const st = await fsp.lstat(p);
        out.set(r, `${sha256(await fsp.readFile(p))} ${st.mtimeMs} ${st.mode}`);
      }
    }
  };
  await walk(path.join(dir, ".tdv"), ".tdv");
  return out;
}

async function chunkOf(dir: string, rel: string): Promise<string> {
  const repo = await Repository.open({ durability: "none", dir });
  const e = (await readIndex(repo.indexFile)).entries.get(rel);
  if (e?.store !== "chunk") throw new Error(`${rel} is not a staged chunk`);
  return repo.chunks.pathOf(e.id);
}

describe.concurrent("tdv reflog", () => {
  it("lists every move newest first with REF@{N} names that work as revisions; a reset is undone through it", async () => {
    const { dir } = await repoWithHistory();
    const before = await hashTree(dir);
    const head = (await runOk(dir, ["log", "--json", "-n", "1"])).stdout;
    const second = (JSON.parse(head) as { oid: string }[])[0]?.oid as string;
    await runOk(dir, ["reset", "--hard", "HEAD~1"]);
    expect(await hashTree(dir)).not.toEqual(before);

    const r = await runOk(dir, ["reflog", "main"]);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^[0-9a-f]{7} main@\{0\} \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\): reset: moving to HEAD~1$/);
    expect(lines[1]).toMatch(new RegExp(`^${second.slice(0, 7)} main@\\{1\\} \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\\): commit: second$`));
    expect(lines[2]).toMatch(/^[0-9a-f]{7} main@\{2\} \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\): commit \(initial\): base$/);
    expect(lines).toHaveLength(3);

    const headLog = (await runOk(dir, ["reflog"])).stdout;
    expect(headLog).toMatch(/^[0-9a-f]{7} HEAD@\{0\} \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\): reset: moving to HEAD~1$/m);
    const json = JSON.parse((await runOk(dir, ["reflog", "main", "--json", "-n", "2"])).stdout) as { selector: string; oid: string; old: string | null; message: string }[];
    expect(json.map((e) => e.selector)).toEqual(["main@{0}", "main@{1}"]);
    expect(json[1]?.oid).toBe(second);
    expect(json[0]?.old).toBe(second);

    // the dropped commit is main@{1}: reset back to it, byte for byte
    expect(JSON.parse((await runOk(dir, ["log", "--json", "-n", "1", "main@{1}"])).stdout)[0].oid).toBe(second);
    await runOk(dir, ["reset", "--hard", "main@{1}"]);
    expect(await hashTree(dir)).toEqual(before);

    const bad = await run(dir, ["reflog", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: 'nope' does not exist/m);
  });
});

describe.concurrent("tdv fsck", () => {
  it("is clean on a healthy repository and modifies nothing", async () => {
    const { dir } = await repoWithHistory();
    const state = await repoState(dir);
    const r = await runOk(dir, ["fsck", "--full"]);
    expect(r.stdout).toMatch(/^checked 2 commits, \d+ trees, \d+ blobs, \d+ chunk objects/m);
    expect(r.stdout).toMatch(/^ok: every needed object is present and its bytes match its id$/m);
    const json = JSON.parse((await runOk(dir, ["fsck", "--json"])).stdout);
    expect(json.ok).toBe(true);
    expect(json.reachable.commits).toBe(2);
    expect(await repoState(dir)).toEqual(state);
    await gitFsck(path.join(dir, ".tdv/git"));
  });

  it("guarantee 5: a flipped byte in a chunk is named by fsck --full, and checkout refuses to write it", async () => {
    const { dir, grid } = await repoWithHistory();
    const victim = grid.chunks[3] as string;
    const file = await chunkOf(dir, victim);
    const good = await fsp.readFile(file);
    const bad = Buffer.from(good);
    bad[10] = (bad[10] as number) ^ 0x01;
    await fsp.chmod(file, 0o644);
    await fsp.writeFile(file, bad);
    const id = path.basename(path.dirname(file)) + path.basename(file);
    const state = await repoState(dir);

    // same size: only re-hashing finds it
    expect((await run(dir, ["fsck"])).code).toBe(0);
    const r = await run(dir, ["fsck", "--full"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`corrupt: chunk object ${id} is corrupt: its bytes hash to ${sha256(bad)} at ${victim} in commit`);
    expect(r.stdout).toMatch(/needed by .*refs\/heads\/main/);
    expect(r.stderr).toMatch(/^error: 1 problem found$/m);
    const json = JSON.parse((await run(dir, ["fsck", "--full", "--json"])).stdout);
    expect(json.problems).toEqual([expect.objectContaining({ kind: "corrupt", type: "chunk", id, path: victim })]);
    expect(json.problems[0].neededBy).toEqual(expect.arrayContaining(["refs/heads/main", "HEAD"]));
    expect(await repoState(dir)).toEqual(state); // fsck wrote nothing

    // a checkout that needs the chunk fails loudly; the bad bytes never reach the working tree
    await fsp.rm(path.join(dir, victim));
    const co = await run(dir, ["checkout", "--force", "HEAD~1"]);
    expect(co.code).toBe(1);
    expect(co.stderr).toMatch(new RegExp(`^error: object ${id} is corrupt: its bytes hash to`, "m"));
    expect(co.stderr).toMatch(/^hint: run `tdv fsck --full`/m);
    const now = await fsp.readFile(path.join(dir, victim)).catch(() => null);
    expect(now === null || !now.equals(bad)).toBe(true);
    const cat = await run(dir, ["cat", "HEAD", victim]);
    expect(cat.code).toBe(1);
    expect(cat.stdoutBytes.length).toBe(0);
    expect(cat.stderr).toContain("is corrupt");
  });

  it("names truncated and missing chunks (without --full), corrupt and missing Git objects, and a ref to a missing commit", async () => {
    const { dir, grid } = await repoWithHistory();
    const repo = await Repository.open({ durability: "none", dir });
    const truncated = await chunkOf(dir, grid.chunks[1] as string);
    await fsp.chmod(truncated, 0o644);
    await fsp.truncate(truncated, 10);
    const missing = await chunkOf(dir, grid.chunks[2] as string);
    await fsp.rm(missing);
    // a corrupt loose Git object: the README blob's file holds another object's bytes
    const readme = (await readIndex(repo.indexFile)).entries.get("data.zarr/README.md");
    const other = await repo.git.writeBlob(Buffer.from("something else"));
    const objFile = (oid: string) => path.join(dir, ".tdv/git/objects", oid.slice(0, 2), oid.slice(2));
    await fsp.chmod(objFile(readme!.id), 0o644);
    await fsp.copyFile(objFile(other), objFile(readme!.id));
    // a branch whose commit does not exist
    await fsp.writeFile(path.join(dir, ".tdv/git/refs/heads/ghost"), `${"ab".repeat(20)}\n`);

    const r = await run(dir, ["fsck", "--json"]);
    expect(r.code).toBe(1);
    const problems = JSON.parse(r.stdout).problems as { kind: string; type: string; id: string; path: string | null; neededBy: string[] }[];
    const byId = new Map(problems.map((p) => [p.id, p]));
    const idOf = (f: string) => path.basename(path.dirname(f)) + path.basename(f);
    expect(byId.get(idOf(truncated))).toMatchObject({ kind: "corrupt", type: "chunk", path: grid.chunks[1] });
    expect(byId.get(idOf(missing))).toMatchObject({ kind: "missing", type: "chunk", path: grid.chunks[2] });
    expect(byId.get(readme!.id)).toMatchObject({ kind: "corrupt", type: "blob", path: "data.zarr/README.md" });
    expect(byId.get("ab".repeat(20))).toMatchObject({ kind: "missing", neededBy: ["refs/heads/ghost"] });
    expect(problems).toHaveLength(4);
    const human = await run(dir, ["fsck"]);
    expect(human.stdout).toMatch(/^missing: object abab.* named by refs\/heads\/ghost is missing/m);
    expect(human.stderr).toMatch(/^error: 4 problems found$/m);
  });

  it("reports lock files with their age: young ones as a warning, stale ones as a problem", async () => {
    const { dir } = await repoWithHistory();
    const lock = path.join(dir, ".tdv/git/refs/heads/main.lock");
    await fsp.writeFile(lock, "");
    const young = await run(dir, ["fsck"]);
    expect(young.code).toBe(0);
    expect(young.stderr).toMatch(/^warning: lock file .*main\.lock \(\d+ s old\): a tdv command is updating refs\/heads\/main, or was killed/m);
    expect(young.stderr).toContain(`rm '${lock}'`);
    const old = new Date(Date.now() - 3 * 3600 * 1000);
    await fsp.utimes(lock, old, old);
    const stale = await run(dir, ["fsck", "--json"]);
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.stdout).problems).toEqual([expect.objectContaining({ kind: "stale-lock", id: lock })]);
    // the next commit is refused with the same explanation
    const c = await run(dir, ["commit", "--allow-empty", "-m", "blocked"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^error: refs\/heads\/main is locked .*lock file .*main\.lock, 3 h old/m);
    expect(c.stderr).toContain(`rm '${lock}'`);
  });
});

describe.concurrent("tdv gc", () => {
  it("deletes old unreachable objects and temp files, keeps everything a root needs and everything young", async () => {
    const { dir, grid, next } = await repoWithHistory();
    // a commit reachable only from the reflog (reset away), a detached HEAD elsewhere, a tag
    await mutate(dir, grid, 5, next);
    await runOk(dir, ["commit", "-a", "-m", "dropped"]);
    const dropped = (await runOk(dir, ["log", "--json", "-n", "1"])).stdout;
    const droppedOid = (JSON.parse(dropped) as { oid: string }[])[0]?.oid as string;
    const droppedFiles = await hashTree(dir);
    await runOk(dir, ["reset", "--hard", "HEAD~1"]);
    await runOk(dir, ["tag", "v1", "HEAD~1", "-m", "first release"]);
    // staged, not committed
    await fsp.writeFile(path.join(dir, grid.chunks[0] as string), "staged only");
    await runOk(dir, ["add", grid.chunks[0] as string]);
    const repo = await Repository.open({ durability: "none", dir });
    // garbage: chunks and Git objects nothing names, and a temp file of a killed write
    const garbage: string[] = [];
    for (let i = 0; i < 20; i++) {
      const b = Buffer.from(`garbage ${i}`);
      await repo.chunks.put(sha256(b), b);
      garbage.push(sha256(b));
    }
    const garbageBlob = await repo.git.writeBlob(Buffer.from("garbage blob"));
    await fsp.writeFile(path.join(dir, ".tdv/chunks/00.tmp-1-abc"), "half");
    // a Git object write killed before its rename: stock git fsck must pass over the temp file
    const halfObject = tempName(path.join(dir, ".tdv/git/objects/ab", "c".repeat(38)));
    await fsp.mkdir(path.dirname(halfObject), { recursive: true });
    await fsp.writeFile(halfObject, "half an object");
    await gitFsck(path.join(dir, ".tdv/git"));
    // an in-progress merge names a commit and a chunk nothing else needs
    const mergeChunk = Buffer.from("merge result chunk");
    await repo.chunks.put(sha256(mergeChunk), mergeChunk);
    const mergeCommit = await repo.git.writeCommit({ tree: (await repo.git.readCommit(droppedOid as GitOid)).tree, parents: [], author: repo.identity(), committer: repo.identity(), message: "theirs\n" });
    await fsp.writeFile(path.join(dir, ".tdv/git/MERGE_HEAD"), `${mergeCommit}\n`);
    await fsp.writeFile(path.join(dir, ".tdv/MERGE_STATE.json"), JSON.stringify({ theirs: mergeCommit, resolved: [{ path: "x", chunk: sha256(mergeChunk) }] }));
    await backdate(path.join(dir, ".tdv"), new Date(Date.now() - 30 * DAY));
    // young garbage: kept by the grace period
    const young = Buffer.from("young garbage");
    await repo.chunks.put(sha256(young), young);

    const dry = JSON.parse((await runOk(dir, ["gc", "--dry-run", "--json"])).stdout);
    expect(dry.removed).toMatchObject({ chunks: 20, gitObjects: 1, tempFiles: 2 });
    expect(await fsp.stat(repo.chunks.pathOf(garbage[0] as ChunkId)).then(() => true)).toBe(true);

    const r = await runOk(dir, ["gc"]);
    expect(r.stdout).toMatch(/^removed 20 chunk objects, 1 Git object, 2 temp files: \d+ B freed$/m);
    expect(r.stdout).toMatch(/^kept 1 unreachable object \(13 B\): younger than /m);
    for (const g of garbage) await expect(fsp.stat(repo.chunks.pathOf(g as ChunkId))).rejects.toThrow();
    await expect((await Repository.open({ durability: "none", dir })).git.readBlob(garbageBlob)).rejects.toThrow(/missing/); // a new process: nothing in memory
    expect(await repo.chunks.has(sha256(young))).toBe(true);
    expect(await repo.chunks.has(sha256(mergeChunk))).toBe(true);
    expect(await repo.git.typeOf(mergeCommit)).toBe("commit");
    await tdvFsckClean(dir);
    await gitFsck(path.join(dir, ".tdv/git"));

    // --prune=now also removes the young garbage, nothing else
    const now = JSON.parse((await runOk(dir, ["gc", "--prune=now", "--json"])).stdout);
    expect(now.removed).toMatchObject({ chunks: 1, gitObjects: 0 });
    await tdvFsckClean(dir);
    // everything kept is usable: the staged chunk commits, the reflog-only commit checks out byte for byte
    await runOk(dir, ["commit", "-m", "staged"]);
    // the merge in progress ends first (switch and checkout refuse to leave a stopped merge)
    await fsp.rm(path.join(dir, ".tdv/git/MERGE_HEAD"));
    await fsp.rm(path.join(dir, ".tdv/MERGE_STATE.json"));
    await runOk(dir, ["checkout", droppedOid]);
    expect(await hashTree(dir)).toEqual(droppedFiles);
    await runOk(dir, ["checkout", "v1"]);

    const badPrune = await run(dir, ["gc", "--prune=someday"]);
    expect(badPrune.code).toBe(2);
    expect(badPrune.stderr).toMatch(/^error: --prune: 'someday' is not a date/m);
  });

  it("refuses to delete anything while a reachable object is missing (its chunks would look unreachable)", async () => {
    const { dir } = await repoWithHistory();
    const repo = await Repository.open({ durability: "none", dir });
    const head = (await repo.refs.head()).oid as GitOid;
    const tree = (await repo.git.readCommit(head)).tree;
    const file = path.join(dir, ".tdv/git/objects", tree.slice(0, 2), tree.slice(2));
    const saved = await fsp.readFile(file);
    await fsp.rm(file);
    await backdate(path.join(dir, ".tdv"), new Date(Date.now() - 30 * DAY));
    const chunksBefore = (await fsp.readdir(path.join(dir, ".tdv/chunks"), { recursive: true })).length;
    const r = await run(dir, ["gc", "--prune=now"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: .*${tree}.* is missing`, "m"));
    expect(r.stderr).toMatch(/^hint: run `tdv fsck`/m);
    expect((await fsp.readdir(path.join(dir, ".tdv/chunks"), { recursive: true })).length).toBe(chunksBefore);
    await fsp.writeFile(file, saved);
    await tdvFsckClean(dir);
  });

  it("keeps the chunks of a manifest whose bytes also appear as a plain file or folder elsewhere", async () => {
    // the walk met the shard blob (and the manifest tree) first as a plain file (folder) and
    // must still read it as a manifest where it is one, or gc deletes the array's chunks
    const dir = await tempDir();
    await makeGrid(dir, 20, rng(3));
    const { repo } = await Repository.init({ durability: "none", dir });
    await add(repo, { all: true });
    const c1 = await commit(repo, { message: "grid" });
    const arrayTree = (await repo.git.readTree(c1.tree)).find((e) => e.name === "data.zarr")!;
    const gridTree = (await repo.git.readTree(arrayTree.oid)).find((e) => e.name === "grid")!;
    const manifest = (await repo.git.readTree(gridTree.oid)).find((e) => e.name === ".tdv-manifest")!;
    const shards = await repo.git.readTree(manifest.oid);
    expect(shards.map((s) => s.name)).toEqual(["0.0"]);
    // "a/0.0" sorts before "data.zarr": a plain folder identical to the manifest tree
    await fsp.mkdir(path.join(dir, "a"));
    await fsp.writeFile(path.join(dir, "a/0.0"), await repo.git.readBlob(shards[0]!.oid));
    await add(repo, { all: true });
    const c2 = await commit(repo, { message: "a copy of the manifest as plain data" });
    expect((await repo.git.readTree(c2.tree)).find((e) => e.name === "a")?.oid).toBe(manifest.oid);
    // the grid leaves the working copy: its chunks are needed only by history now, not by the index
    await fsp.rm(path.join(dir, "data.zarr"), { recursive: true });
    await add(repo, { all: true });
    await commit(repo, { message: "drop the grid" });
    await backdate(path.join(dir, ".tdv"), new Date(Date.now() - 30 * DAY));
    const res = await gc(repo, { prune: "now" });
    expect(res.removed.chunks).toBe(0);
    const check = await fsck(repo, { full: true });
    expect(check.problems).toEqual([]);
  });

  it("is safe beside a commit that reuses old unreachable objects: writers refresh what they find present", async () => {
    // A commit in progress writes its tree; the tree already exists as old garbage (the same
    // state was snapshot before and dropped). gc runs before the commit object and the ref
    // are written. The tree must survive: the writer touched it, so it is young.
    const dir = await tempDir();
    const next = rng(11);
    const grid = await makeGrid(dir, 40, next);
    const { repo } = await Repository.init({ durability: "none", dir });
    await add(repo, { all: true });
    await commit(repo, { message: "base" });
    await mutate(dir, grid, 10, next);
    await add(repo, { all: true });
    const staged = (await readIndex(repo.indexFile)).entries as Map<string, SnapEntry>;
    const tree = await writeSnapshot(repo, staged); // an earlier snapshot of the same state, never committed
    await runOk(dir, ["reset"]); // unstage: the tree and the new chunks are garbage now
    await backdate(path.join(dir, ".tdv"), new Date(Date.now() - 30 * DAY));

    // the commit in progress: stage the same bytes again, write the snapshot ...
    await add(repo, { all: true });
    expect(await writeSnapshot(repo, (await readIndex(repo.indexFile)).entries as Map<string, SnapEntry>)).toBe(tree);
    await fsp.rm(repo.indexFile); // (the index alone would protect the chunks; the tree is what is at stake)
    // ... gc runs now, with the default grace period ...
    await gc(repo, {});
    // ... and the commit lands
    const head = (await repo.refs.head()).oid;
    const oid = await repo.git.writeCommit({ tree, parents: [head as GitOid], author: repo.identity(), committer: repo.identity(), message: "reuses\n" });
    await repo.refs.update("refs/heads/main", { expected: head, next: oid, who: repo.identity(), message: "commit: reuses" });
    expect((await fsck(repo, { full: true })).problems).toEqual([]);
  });
});
