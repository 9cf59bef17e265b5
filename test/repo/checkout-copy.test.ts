/**
 * Checkout copies on the worker thread as on the main thread: the object's
 * bytes at the checked path, the stat data the file has, nothing left in
 * .tdv/tmp; a corrupt object is refused and never reaches the tree; a missing
 * one goes back to the caller (a lazy clone fetches it).
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, checkout, commit, isTdvError, Repository, status } from "../../src/index.js";
import { copyChunks } from "../../src/worktree/checkout-copy.js";
import { readSnapshot, type SnapEntry } from "../../src/repo/snapshot.js";
import { TreeWriter, type FileStat } from "../../src/worktree/worktree.js";
import { tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

/** A committed repository of `n` chunk files in nested folders, and its snapshot's chunk entries. */
async function committed(n: number, size: number): Promise<{ repo: Repository; writes: [string, SnapEntry][] }> {
  const dir = await tempDir();
  const { repo } = await Repository.init({ dir });
  for (let i = 0; i < n; i++) {
    await fsp.mkdir(path.join(dir, "data", "c", String(i % 5)), { recursive: true });
    await fsp.writeFile(path.join(dir, "data", "c", String(i % 5), String(i)), randomBytes(size));
  }
  await add(repo, { all: true });
  await commit(repo, { message: "import" });
  const head = await repo.refs.head();
  const commitObj = await repo.git.readCommit(head.oid!);
  const snap = await readSnapshot(repo, commitObj.tree);
  const writes = [...snap.files].filter(([, e]) => e.store === "chunk") as [string, SnapEntry][];
  return { repo, writes };
}

async function emptyWorktree(dir: string): Promise<void> {
  for (const n of await fsp.readdir(dir)) if (n !== ".tdv") await fsp.rm(path.join(dir, n), { recursive: true });
}

describe("copyChunks", () => {
  it("on the worker thread writes each object's bytes with the stat data the file has", async () => {
    const { repo, writes } = await committed(30, 70_000);
    expect(writes).toHaveLength(30);
    await emptyWorktree(repo.root);
    repo.reflink = false; // the shared path is for file systems that cannot clone
    // a folder where a file goes: replaced by the file
    const [inTheWay] = writes[3] as [string, SnapEntry];
    await fsp.mkdir(path.join(repo.root, inTheWay, "sub"), { recursive: true });
    await fsp.writeFile(path.join(repo.root, inTheWay, "sub", "x"), "untracked");
    const w = new TreeWriter(repo.root, path.join(repo.tdvDir, "tmp"));
    const placed = new Map<string, FileStat>();
    const { byWorker } = await copyChunks(repo, w, writes, (p, _e, st) => placed.set(p, st), () => expect.unreachable(), { threads: true, mainShares: false });
    expect(byWorker).toBe(30);
    expect(placed.size).toBe(30);
    for (const [p, e] of writes) {
      const file = path.join(repo.root, p);
      const bytes = await fsp.readFile(file);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(e.id);
      const st = await fsp.lstat(file);
      expect(placed.get(p)).toEqual({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
      expect(st.nlink).toBe(1);
    }
    expect(await fsp.readdir(path.join(repo.tdvDir, "tmp"))).toEqual([]);
  });

  it("the count a progress line shows (placed + the worker's not yet reported) never drops when the worker's files are handed over", async () => {
    const { repo, writes } = await committed(60, 70_000);
    await emptyWorktree(repo.root);
    repo.reflink = false;
    const w = new TreeWriter(repo.root, path.join(repo.tdvDir, "tmp"));
    const byWorkerSoFar = { files: 0, bytes: 0 };
    const shown: number[] = [];
    let done = 0;
    const slowly = () => {
      // the main thread dawdles, so the worker starts and takes files while the main thread still places some
      const until = Date.now() + 5;
      while (Date.now() < until);
    };
    const onFile = () => {
      shown.push(++done + byWorkerSoFar.files);
      slowly();
    };
    await copyChunks(repo, w, writes, onFile, () => expect.unreachable(), { threads: true, mainShares: true, byWorkerSoFar });
    for (let i = 1; i < shown.length; i++) expect(shown[i], `step ${i}: ${shown.slice(Math.max(0, i - 3), i + 2).join(", ")}`).toBeGreaterThanOrEqual(shown[i - 1] as number);
    expect(shown.at(-1)).toBe(60);
  });

  it("refuses a corrupt object on the worker thread, writes nothing for it, and hands back a missing one", async () => {
    const { repo, writes } = await committed(12, 70_000);
    await emptyWorktree(repo.root);
    repo.reflink = false;
    const [badPath, bad] = writes[7] as [string, SnapEntry];
    const object = repo.chunks.pathOf(bad.id as never);
    await fsp.chmod(object, 0o644);
    const bytes = await fsp.readFile(object);
    bytes[0] = (bytes[0] as number) ^ 1;
    await fsp.writeFile(object, bytes);
    const w = new TreeWriter(repo.root, path.join(repo.tdvDir, "tmp"));
    const err = await copyChunks(repo, w, writes, () => {}, () => {}, { threads: true, mainShares: false }).catch((e: unknown) => e);
    expect(isTdvError(err)).toBe(true);
    expect(String((err as Error).message)).toContain(bad.id);
    await expect(fsp.access(path.join(repo.root, badPath))).rejects.toThrow();
    expect(await fsp.readdir(path.join(repo.tdvDir, "tmp"))).toEqual([]);

    await fsp.rm(object);
    const missing: string[] = [];
    await copyChunks(repo, w, writes, () => {}, (p) => missing.push(p), { threads: true, mainShares: false });
    expect(missing).toEqual([badPath]);
  });

  it("a full checkout of 70 files of 250 kB (over both thresholds) restores every byte and leaves status clean", async () => {
    const { repo, writes } = await committed(70, 250_000);
    const want = new Map(writes.map(([p, e]) => [p, e.id]));
    await emptyWorktree(repo.root);
    const res = await checkout(repo, { rev: "main", force: true });
    expect(res.written).toBe(70);
    for (const [p, id] of want) expect(createHash("sha256").update(await fsp.readFile(path.join(repo.root, p))).digest("hex")).toBe(id);
    const st = await status(repo);
    expect(st.clean).toBe(true);
  });
});
