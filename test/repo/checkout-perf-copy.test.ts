/**
 * The fast path of a checkout: chunk objects are copied with one read and one
 * write each, hashed on the way, through `.tdv/tmp`. These tests pin what that
 * path must keep (no timings here; `bench/run.mjs --only checkout` measures).
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, checkout, commit, isTdvError, Repository, reset, status } from "../../src/index.js";
import { listFiles, makeFixture } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

/** A repository over the v3 fixtures plus a plain file of several copy blocks (a chunk object), committed. */
async function committed(): Promise<{ dir: string; repo: Repository; original: Map<string, string> }> {
  const dir = await makeFixture("v3");
  await fsp.writeFile(path.join(dir, "big.bin"), randomBytes(2.5 * (1 << 20)));
  const { repo } = await Repository.init({ dir });
  await add(repo, { all: true });
  await commit(repo, { message: "import" });
  const original = await digests(dir);
  return { dir, repo, original };
}

/** Path -> SHA-256 of every working file (deep equality of megabytes of Buffers is slow in vitest). */
async function digests(dir: string): Promise<Map<string, string>> {
  const files = await listFiles(dir);
  return new Map([...files].map(([p, b]) => [p, createHash("sha256").update(b).digest("hex")]));
}

async function emptyWorktree(dir: string): Promise<void> {
  for (const n of await fsp.readdir(dir)) if (n !== ".tdv") await fsp.rm(path.join(dir, n), { recursive: true });
}

async function tmpLeft(repo: Repository): Promise<string[]> {
  return (await fsp.readdir(path.join(repo.tdvDir, "tmp")).catch(() => [])) as string[];
}

/** The chunk object behind working file `rel` (from the index). */
async function objectOf(repo: Repository, rel: string): Promise<string> {
  const e = (await repo.readIndex()).entries.get(rel);
  if (e?.store !== "chunk") throw new Error(`${rel} is not a chunk in the index`);
  return repo.chunks.pathOf(e.id);
}

describe("a full checkout into an emptied working copy", () => {
  it("writes every file byte for byte, as ordinary files, and an index whose stat data is the files'", async () => {
    const { dir, repo, original } = await committed();
    await emptyWorktree(dir);
    const res = await checkout(repo, { rev: "main", force: true });
    expect(res.written).toBe(original.size);
    expect(await digests(dir)).toEqual(original);

    const index = await repo.readIndex();
    expect(index.entries.size).toBe(original.size);
    for (const [rel, e] of index.entries) {
      const st = await fsp.lstat(path.join(dir, rel));
      // the stat data cached is what the file has now: the next status hashes nothing
      expect({ size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino }).toEqual({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
      // never a hard link to the object store, always writable by its owner
      expect(st.nlink).toBe(1);
      expect(st.mode & 0o200).toBe(0o200);
    }
    const big = await fsp.lstat(await objectOf(repo, "big.bin"));
    expect(big.ino).not.toBe((await fsp.lstat(path.join(dir, "big.bin"))).ino);
    expect(await tmpLeft(repo)).toEqual([]);
    expect((await status(repo)).clean).toBe(true);
  });

  it("replaces a file where a folder goes and a folder where a file goes", async () => {
    const { dir, repo, original } = await committed();
    await emptyWorktree(dir);
    await fsp.writeFile(path.join(dir, "ocean.zarr"), "in the way");
    await fsp.mkdir(path.join(dir, "big.bin", "inner"), { recursive: true });
    await checkout(repo, { rev: "main", force: true });
    expect(await digests(dir)).toEqual(original);
    expect((await status(repo)).clean).toBe(true);
  });
});

describe("an object that is not what its id says", () => {
  it("a corrupt chunk (same size) fails the checkout and its bytes never reach the working file", async () => {
    const { dir, repo } = await committed();
    const obj = await objectOf(repo, "big.bin");
    const bytes = await fsp.readFile(obj);
    bytes[bytes.length - 10] ^= 1; // in the last copy block: the earlier blocks were already written
    await fsp.chmod(obj, 0o644);
    await fsp.writeFile(obj, bytes);
    await emptyWorktree(dir);
    const err = await checkout(repo, { rev: "main", force: true }).catch((e: unknown) => e);
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
    await expect(fsp.lstat(path.join(dir, "big.bin"))).rejects.toThrow(/ENOENT/);
    expect(await tmpLeft(repo)).toEqual([]);
  });

  it("a missing chunk fails the checkout and leaves no temp file", async () => {
    const { dir, repo } = await committed();
    await fsp.rm(await objectOf(repo, "big.bin"));
    await emptyWorktree(dir);
    const err = await reset(repo, { rev: "HEAD", mode: "hard" }).catch((e: unknown) => e);
    expect(isTdvError(err, "MissingObjectError")).toBe(true);
    await expect(fsp.lstat(path.join(dir, "big.bin"))).rejects.toThrow(/ENOENT/);
    expect(await tmpLeft(repo)).toEqual([]);
  });
});
