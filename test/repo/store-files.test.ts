/**
 * Chunk files stored by the worker thread are stored exactly as the main
 * thread stores them: the same ids and stat data, the object bytes under the
 * same names, read-only, no temp files left, present objects freshened, and
 * a repository that fsck finds whole after a commit.
 */
import { createHash, randomBytes } from "node:crypto";
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, fsck, Repository } from "../../src/index.js";
import { storeChunkFiles } from "../../src/worktree/store-files.js";
import { hashWorkFile } from "../../src/worktree/work-state.js";
import { statOf, type FileStat } from "../../src/worktree/worktree.js";
import { FileAccessError } from "../../src/errors.js";
import type { IndexEntry } from "../../src/store/index-file.js";
import { tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

async function repoWithFiles(n: number): Promise<{ repo: Repository; rels: string[] }> {
  const dir = await tempDir();
  const { repo } = await Repository.init({ dir });
  const rels: string[] = [];
  for (let i = 0; i < n; i++) {
    const rel = `data/c/${i % 7}/${i}`;
    await fsp.mkdir(path.join(dir, "data", "c", String(i % 7)), { recursive: true });
    // two files share their bytes: one object, written once, found present the second time
    await fsp.writeFile(path.join(dir, rel), i === 5 ? Buffer.from("same bytes") : i === 6 ? Buffer.from("same bytes") : randomBytes(100 + i));
    // an old mtime (ctime stays now): the two times differ, as they do in a real tree
    if (i % 3 === 0) await fsp.utimes(path.join(dir, rel), new Date("2020-01-02"), new Date("2020-01-02"));
    rels.push(rel);
  }
  return { repo, rels };
}

/** The files' stat data now, as a scan takes it before they are stored. */
function scanned(repo: Repository, rels: readonly string[]): (i: number) => FileStat {
  const stats = rels.map((rel) => statOf(fs.lstatSync(path.join(repo.root, rel))));
  return (i) => stats[i] as FileStat;
}

async function objectFiles(repo: Repository): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fsp.readdir(repo.chunks.dir).catch(() => [] as string[])) {
    for (const f of await fsp.readdir(path.join(repo.chunks.dir, d))) out.push(`${d}/${f}`);
  }
  return out.sort();
}

describe("storeChunkFiles", () => {
  it("on the worker thread stores what the main thread stores", async () => {
    const { repo, rels } = await repoWithFiles(40);
    const expected = new Map<string, IndexEntry>();
    for (const rel of rels) expected.set(rel, await hashWorkFile(repo, rel, "chunk", false)); // ids and stat data, nothing written
    expect(await objectFiles(repo)).toEqual([]);

    const got = new Map<string, IndexEntry>();
    const seen: number[] = [];
    const { byWorker } = await storeChunkFiles(repo, rels, scanned(repo, rels), true, (i, e) => got.set(rels[i]!, e), {
      threads: true,
      mainShares: false,
      onProgress: (files) => seen.push(files),
    });
    expect(byWorker).toBe(40);
    expect(seen.at(-1)).toBe(40);
    expect(got).toEqual(expected);

    const objects = await objectFiles(repo);
    expect(objects).toHaveLength(39); // two files, one object
    for (const [rel, e] of got) {
      const file = repo.chunks.pathOf(e.id as never);
      const bytes = await fsp.readFile(file);
      expect(bytes.equals(await fsp.readFile(path.join(repo.root, rel)))).toBe(true);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(e.id);
      expect((await fsp.stat(file)).mode & 0o777).toBe(0o444);
    }

    // stored again: every object is present; an old one is freshened, none rewritten
    const old = repo.chunks.pathOf(got.get(rels[0] as string)!.id as never);
    const longAgo = new Date(Date.now() - 30 * 24 * 3600_000);
    await fsp.utimes(old, longAgo, longAgo);
    const inode = (await fsp.stat(old)).ino;
    await storeChunkFiles(repo, rels, scanned(repo, rels), true, () => {}, { threads: true, mainShares: false });
    const st = await fsp.stat(old);
    expect(st.ino).toBe(inode);
    expect(Date.now() - st.mtimeMs).toBeLessThan(60_000);
    expect(await objectFiles(repo)).toEqual(objects); // and no temp file beside them
  });

  it("a file changed since the scan: the bytes read now, the scan's stat data; a symbolic link put in its place is refused", async () => {
    const { repo, rels } = await repoWithFiles(12);
    const stats = scanned(repo, rels);
    // after the scan: one file grows far past the size the scan saw (the read buffer grows with
    // it), one shrinks, one grows past the size read into a lent buffer (1 MiB)
    const grown = randomBytes(300_000);
    const shrunk = Buffer.from("short");
    const large = randomBytes((1 << 20) + 4096);
    await fsp.writeFile(path.join(repo.root, rels[1] as string), grown);
    await fsp.writeFile(path.join(repo.root, rels[2] as string), shrunk);
    await fsp.writeFile(path.join(repo.root, rels[4] as string), large);
    for (const threads of [false, true]) {
      const got = new Map<number, IndexEntry>();
      await storeChunkFiles(repo, rels, stats, true, (i, e) => got.set(i, e), { threads, mainShares: !threads });
      const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      expect(got.get(1)).toMatchObject({ id: sha(grown), size: grown.length, mtimeMs: stats(1).mtimeMs, ino: stats(1).ino });
      expect(got.get(2)).toMatchObject({ id: sha(shrunk), size: shrunk.length, mtimeMs: stats(2).mtimeMs });
      expect(got.get(4)).toMatchObject({ id: sha(large), size: large.length });
      for (const i of [1, 2, 4]) expect(await fsp.readFile(repo.chunks.pathOf(got.get(i)!.id as never))).toEqual(await fsp.readFile(path.join(repo.root, rels[i] as string)));
      // an entry with the scan's (older) stat data is hashed again by the next status: never taken as clean
      expect(got.get(1)!.mtimeMs).not.toBe(fs.statSync(path.join(repo.root, rels[1] as string)).mtimeMs);
    }
    const outside = path.join(await tempDir(), "secret");
    await fsp.writeFile(outside, "not in the tree");
    await fsp.rm(path.join(repo.root, rels[3] as string));
    await fsp.symlink(outside, path.join(repo.root, rels[3] as string));
    for (const threads of [false, true]) {
      const err = await storeChunkFiles(repo, rels, stats, true, () => {}, { threads, mainShares: !threads }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileAccessError);
      expect((err as Error).message).toContain(rels[3]);
    }
    // a file the scan saw larger than a lent buffer is read whole: through a link, refused too
    await fsp.writeFile(outside, randomBytes((1 << 20) + 1));
    await fsp.rm(path.join(repo.root, rels[3] as string));
    await fsp.writeFile(path.join(repo.root, rels[3] as string), randomBytes((1 << 20) + 1));
    const bigStats = scanned(repo, rels);
    await fsp.rm(path.join(repo.root, rels[3] as string));
    await fsp.symlink(outside, path.join(repo.root, rels[3] as string));
    const err = await storeChunkFiles(repo, rels, bigStats, true, () => {}, { threads: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as Error).message).toContain(rels[3]);
  });

  it("add and commit through both threads leave a repository fsck finds whole", async () => {
    const { repo, rels } = await repoWithFiles(120);
    // 120 files of 150 kB: over both thresholds, so `add` shares them with the worker
    for (const rel of rels) await fsp.writeFile(path.join(repo.root, rel), randomBytes(150_000));
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const report = await fsck(repo, { full: true });
    expect(report.problems).toEqual([]);
    const index = await repo.readIndex();
    expect(index.entries.size).toBe(120);
    for (const rel of rels) {
      const e = index.entries.get(rel)!;
      expect(e.store).toBe("chunk");
      expect(createHash("sha256").update(await fsp.readFile(path.join(repo.root, rel))).digest("hex")).toBe(e.id);
    }
  });
});
