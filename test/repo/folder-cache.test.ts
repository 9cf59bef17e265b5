/**
 * The folder cache never hides a change: a scan that takes unchanged
 * folders' names from the cache finds exactly what a scan that lists every
 * folder finds, after each kind of change to the tree, and a recorded
 * listing is used only when the folder's ctime, mtime and inode are the
 * recorded ones and were older than the stamp taken before its stat.
 */
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeFolderCache, encodeFolder, encodeFolderCache, FOLDER_CACHE, FolderCache } from "../../src/worktree/folder-cache.js";
import { scanWorktree, type Scan } from "../../src/worktree/scan.js";
import { tempDir } from "../helpers/fixture.js";

/** A small tree: two arrays with chunk folders, a plain folder, and what a scan skips. */
async function tree(): Promise<string> {
  const root = await tempDir();
  await fsp.mkdir(path.join(root, ".tdv"));
  await fsp.writeFile(path.join(root, ".tdv", "index"), "not scanned");
  await fsp.writeFile(path.join(root, "top.txt"), "top");
  for (const a of ["a", "b"]) {
    await fsp.mkdir(path.join(root, "s.zarr", a, "c", "0"), { recursive: true });
    await fsp.writeFile(path.join(root, "s.zarr", a, "zarr.json"), "{}");
    for (const c of ["0", "1", "2"]) await fsp.writeFile(path.join(root, "s.zarr", a, "c", "0", c), `chunk ${a}${c}`);
  }
  await fsp.mkdir(path.join(root, "docs", ".git"), { recursive: true });
  await fsp.writeFile(path.join(root, "docs", ".git", "HEAD"), "not scanned");
  await fsp.writeFile(path.join(root, "docs", "readme"), "hello");
  await fsp.symlink("../top.txt", path.join(root, "docs", "link"));
  return root;
}

/** folders of tree(): "", s.zarr, s.zarr/a, s.zarr/a/c, s.zarr/a/c/0, the same for b, docs */
const FOLDERS = 9;

/** a stamp later than any time on the tree: every listing is recorded */
const LATE = () => Date.now() + 60_000;

async function cached(root: string, takeStamp: () => number = LATE, tdvDir = path.join(root, ".tdv")): Promise<{ scan: Scan; cache: FolderCache }> {
  const cache = FolderCache.open(root, tdvDir, { takeStamp });
  const scan = await scanWorktree(root, { threads: false, folders: cache });
  await cache.save();
  return { scan, cache };
}

const plain = (root: string) => scanWorktree(root, { threads: false });
const same = (a: Scan, b: Scan) => {
  expect([...a.files]).toEqual([...b.files]);
  expect(a.skipped).toEqual(b.skipped);
  expect(a.badNames).toEqual(b.badNames);
};

/** Rewrite the cache file with `rel`'s record replaced by one made of `st` and `names`. */
function forge(root: string, rel: string, st: { mtimeMs: number; ctimeMs: number; ino: number }, names: { name: string; dir: boolean }[]): void {
  const file = path.join(root, ".tdv", FOLDER_CACHE);
  const b = fs.readFileSync(file);
  const recs = decodeFolderCache(b);
  if (!recs) throw new Error("no cache to forge");
  const parts = [...recs].map(([r, v]) => (r === rel ? encodeFolder(rel, st, names) : b.subarray(v.start, v.end)));
  fs.writeFileSync(file, Buffer.concat(encodeFolderCache(parts)));
}

describe("folder cache", () => {
  it("lists each folder once, then only the changed ones, and finds what a full listing finds", async () => {
    const root = await tree();
    const first = await cached(root);
    expect(first.cache.counts).toEqual({ hits: 0, listed: FOLDERS });
    same(first.scan, await plain(root));
    expect(first.scan.files.has("docs/.git/HEAD")).toBe(false);
    const again = await cached(root);
    expect(again.cache.counts).toEqual({ hits: FOLDERS, listed: 0 });
    expect(again.cache.changed).toBe(false); // nothing new: the file is not written again
    same(again.scan, first.scan);
  });

  // each change, made after the cache recorded the tree: the cached scan equals a full listing
  const changes: [string, (root: string) => Promise<void>, number][] = [
    ["a file added", (r) => fsp.writeFile(path.join(r, "s.zarr/a/c/0/3"), "new"), 1],
    ["a file removed", (r) => fsp.rm(path.join(r, "s.zarr/a/c/0/1")), 1],
    ["a file renamed in its folder", (r) => fsp.rename(path.join(r, "s.zarr/a/c/0/1"), path.join(r, "s.zarr/a/c/0/9")), 1],
    ["a folder added", (r) => fsp.mkdir(path.join(r, "s.zarr/a/c/1")).then(() => fsp.writeFile(path.join(r, "s.zarr/a/c/1/0"), "x")), 2],
    ["a folder removed", (r) => fsp.rm(path.join(r, "s.zarr/b/c"), { recursive: true }), 1],
    ["a folder renamed", (r) => fsp.rename(path.join(r, "s.zarr/b"), path.join(r, "s.zarr/z")), 4],
    ["a file replaced by a folder", (r) => fsp.rm(path.join(r, "top.txt")).then(() => fsp.mkdir(path.join(r, "top.txt"))), 2],
    ["a folder replaced by a link", (r) => fsp.rm(path.join(r, "s.zarr/b/c"), { recursive: true }).then(() => fsp.symlink("../a/c", path.join(r, "s.zarr/b/c"))), 1],
    ["a link replaced by a file", (r) => fsp.rm(path.join(r, "docs/link")).then(() => fsp.writeFile(path.join(r, "docs/link"), "now a file")), 1],
    ["a .git folder made in a recorded folder", (r) => fsp.mkdir(path.join(r, "s.zarr/a/.git")).then(() => fsp.writeFile(path.join(r, "s.zarr/a/.git/x"), "x")), 1],
    ["a name tdv reserves", (r) => fsp.writeFile(path.join(r, "s.zarr/a/.tdv-manifest"), "reserved"), 1],
    ["a folder swapped for another made before it", async (r) => {
      await fsp.rename(path.join(r, "s.zarr/a/c/0"), path.join(r, "old0"));
      await fsp.rename(path.join(r, "s.zarr/b/c/0"), path.join(r, "s.zarr/a/c/0"));
    }, 5],
  ];
  for (const [what, change, listed] of changes) {
    it(`sees ${what}`, async () => {
      const root = await tree();
      await cached(root);
      await change(root);
      const after = await cached(root);
      same(after.scan, await plain(root));
      expect(after.cache.counts.listed).toBe(listed);
      // and the cache written after the change is right too, without the folders gone
      const recorded = decodeFolderCache(fs.readFileSync(path.join(root, ".tdv", FOLDER_CACHE)))!;
      for (const rel of recorded.keys()) expect(fs.lstatSync(path.join(root, rel)).isDirectory()).toBe(true);
      expect(recorded.size).toBe(after.cache.counts.hits + after.cache.counts.listed);
      const next = await cached(root);
      expect(next.cache.counts.listed).toBe(0);
      same(next.scan, after.scan);
    });
  }

  it("still takes each file's own stat: a file rewritten with the same size shows new stat data", async () => {
    const root = await tree();
    const before = (await cached(root)).scan;
    const f = path.join(root, "s.zarr/a/c/0/1");
    const old = fs.statSync(f);
    await fsp.writeFile(f, "chunk XX"); // same size
    await fsp.utimes(f, old.atime, old.mtime); // and the same mtime: the ctime still tells
    const after = await cached(root);
    expect(after.cache.counts.hits).toBe(FOLDERS);
    const i = after.scan.files.indexOf("s.zarr/a/c/0/1");
    expect(after.scan.files.at(i).size).toBe(old.size);
    expect(after.scan.files.sameAt(i, before.files.get("s.zarr/a/c/0/1")!)).toBe(false);
    same(after.scan, await plain(root));
  });

  it("trusts a record only when the folder's ctime, mtime and inode all match", async () => {
    const root = await tree();
    await cached(root);
    const dir = path.join(root, "s.zarr/a/c/0");
    const st = fs.lstatSync(dir);
    const lie = [{ name: "0", dir: false }]; // the record says the folder holds one file of three
    const full = await plain(root);
    // the exact stat data: the record is used (this is how the cache saves the listing)
    forge(root, "s.zarr/a/c/0", st, lie);
    const trusted = await cached(root);
    expect(trusted.scan.files.has("s.zarr/a/c/0/1")).toBe(false);
    // any one field off: the folder is listed again
    for (const off of [
      { ...st, ctimeMs: st.ctimeMs + 1, mtimeMs: st.mtimeMs, ino: st.ino },
      { ctimeMs: st.ctimeMs, mtimeMs: st.mtimeMs + 1, ino: st.ino },
      { ctimeMs: st.ctimeMs, mtimeMs: st.mtimeMs, ino: st.ino + 1 },
    ]) {
      await cached(root);
      forge(root, "s.zarr/a/c/0", off, lie);
      const r = await cached(root);
      same(r.scan, full);
      expect(r.cache.counts.listed).toBe(1);
    }
  });

  it("does not record a folder whose times are not older than the stamp (racy), nor by 2 s when the repository is elsewhere", async () => {
    const root = await tree();
    const dir = path.join(root, "s.zarr/a/c/0");
    const newest = () => {
      const s = fs.lstatSync(dir);
      return Math.max(s.mtimeMs, s.ctimeMs);
    };
    // a stamp equal to the folder's newest time: the folder may change again in this tick unseen
    const racy = await cached(root, () => newest());
    expect(racy.cache.counts.listed).toBe(FOLDERS);
    const next = await cached(root);
    expect(next.cache.counts.listed).toBeGreaterThanOrEqual(1); // it was not recorded: listed again
    // one ms later than its times: recorded
    fs.rmSync(path.join(root, ".tdv", FOLDER_CACHE));
    await cached(root, () => newest() + 1);
    const saved = decodeFolderCache(fs.readFileSync(path.join(root, ".tdv", FOLDER_CACHE)))!;
    expect(saved.has("s.zarr/a/c/0")).toBe(true);
    // a repository folder outside the tree (another file system, maybe): 2 s older than the stamp
    const elsewhere = await tempDir();
    const recordedThere = () => {
      const f = path.join(elsewhere, FOLDER_CACHE);
      return fs.existsSync(f) && decodeFolderCache(fs.readFileSync(f))!.has("s.zarr/a/c/0");
    };
    await cached(root, () => newest() + 1000, elsewhere);
    expect(recordedThere()).toBe(false);
    await cached(root, () => newest() + 2001, elsewhere);
    expect(recordedThere()).toBe(true);
  });

  it("takes the stamp from the file system before the first folder it lists", async () => {
    const root = await tree();
    await new Promise((r) => setTimeout(r, 50)); // the tree's times a few ticks older than the stamp
    const first = FolderCache.open(root, path.join(root, ".tdv"));
    await scanWorktree(root, { threads: false, folders: first });
    await first.save();
    expect(fs.existsSync(path.join(root, ".tdv", "folder-cache.stamp"))).toBe(true);
    const stamp = fs.statSync(path.join(root, ".tdv", "folder-cache.stamp")).mtimeMs;
    expect(stamp).toBeGreaterThan(fs.lstatSync(path.join(root, "s.zarr")).ctimeMs);
    const again = await cached(root, () => {
      throw new Error("no stamp needed: nothing to list");
    });
    expect(again.cache.counts).toEqual({ hits: FOLDERS, listed: 0 });
  });

  it("ignores a damaged file, one of another version, and names a listing cannot hold", async () => {
    const root = await tree();
    const full = await plain(root);
    const file = path.join(root, ".tdv", FOLDER_CACHE);
    await cached(root);
    const good = fs.readFileSync(file);
    for (const bad of [
      (() => {
        const b = Buffer.from(good);
        b[b.length - 21]! ^= 1; // the last name's last byte ("2" -> "3"): well formed, but not what was written
        return b;
      })(),
      (() => {
        const b = Buffer.from(good);
        b[3] = 9;
        return b;
      })(),
      good.subarray(0, good.length - 5),
      Buffer.from("not a cache"),
    ]) {
      fs.writeFileSync(file, bad);
      const r = await cached(root);
      expect(r.cache.counts).toEqual({ hits: 0, listed: FOLDERS });
      same(r.scan, full);
    }
    // a well-formed file whose record names a path outside its folder: the folder is listed
    for (const name of ["..", ".", "", "x/y", "a\0b"]) {
      await cached(root);
      forge(root, "s.zarr/a", fs.lstatSync(path.join(root, "s.zarr/a")), [{ name, dir: true }]);
      const r = await cached(root);
      same(r.scan, full);
      expect(r.cache.counts.listed).toBe(1);
    }
  });

  it("never records a folder holding a name that is not UTF-8", async () => {
    const root = await tree();
    await fsp.writeFile(Buffer.from(`${root}/s.zarr/a/bad\xff`, "latin1"), "x");
    const first = await cached(root);
    expect(first.scan.badNames.map((b) => b.path)).toEqual(["s.zarr/a/bad\\xff"]);
    const again = await cached(root);
    expect(again.cache.counts.listed).toBe(1);
    same(again.scan, first.scan);
  });

  it("chooses one thread with the cache for a large tree of many folders, two threads without", async () => {
    const root = await tree();
    const open = () => FolderCache.open(root, path.join(root, ".tdv"), { takeStamp: LATE });
    const big = await open();
    await scanWorktree(root, { expected: 200_000, folders: big }); // too large to record on one thread: not used
    expect(big.counts).toEqual({ hits: 0, listed: 0 });
    const seed = open();
    await scanWorktree(root, { expected: 30_000, folders: seed }); // no cache yet: recorded once, on one thread
    expect(seed.counts.listed).toBe(FOLDERS);
    await seed.save();
    const few = open(); // 9 folders for 30,000 files: stat calls are the cost, shared by two threads
    await scanWorktree(root, { expected: 30_000, folders: few });
    expect(few.counts).toEqual({ hits: 0, listed: 0 });
    // a folder for every 4 files: listing is the cost, saved by the cache
    const wide = await tempDir();
    await fsp.mkdir(path.join(wide, ".tdv"));
    for (let i = 0; i < 7_500; i++) fs.mkdirSync(path.join(wide, `d${i}`));
    const openWide = () => FolderCache.open(wide, path.join(wide, ".tdv"), { takeStamp: LATE });
    const first = openWide();
    await scanWorktree(wide, { expected: 30_000, folders: first });
    await first.save();
    const many = openWide();
    await scanWorktree(wide, { expected: 30_000, folders: many });
    expect(many.counts).toEqual({ hits: 7_501, listed: 0 });
    const more = openWide();
    await scanWorktree(wide, { expected: 30_008, folders: more });
    expect(more.counts).toEqual({ hits: 0, listed: 0 });
  });

  it("is not used by a scan of some paths, nor on two threads", async () => {
    const root = await tree();
    await cached(root);
    const cache = FolderCache.open(root, path.join(root, ".tdv"), { takeStamp: LATE });
    await scanWorktree(root, { under: ["s.zarr/a"], folders: cache });
    await scanWorktree(root, { threads: true, folders: cache });
    expect(cache.counts).toEqual({ hits: 0, listed: 0 });
  });
});
