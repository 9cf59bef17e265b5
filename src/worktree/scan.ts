/**
 * The scan of the working tree: every regular file with the stat data the
 * index caches. This is the one cost of `status`, `add` and `commit -a` that
 * grows with the size of the tree rather than with the change: one `lstat`
 * a file, most of it in the kernel.
 *
 * Synchronous calls on purpose: for many small stat calls they are several
 * times faster than promises through the thread pool, and allocate far less.
 * A large tree is scanned on two threads: the main thread lists the first
 * levels, then it and a worker thread take the folders below from one shared
 * counter. Measured at 102,400 files (2 cores), the scan with its map of
 * files: 520-580 ms on one thread, 390-420 ms on two. Below ~30,000 files
 * the worker's start (~30 ms of a core) costs what it saves (10,000 files:
 * no gain), so smaller trees are scanned on the main thread alone.
 *
 * The files come out sorted by path, as the index is (each folder's names in
 * Git's order, a folder as its name and "/"), in two flat arrays: no object
 * or map entry a file. The index and the scan are then compared by walking
 * both in step (work-state.ts). At 1,000,000 files the map of files this
 * replaced cost more than the kernel's stat calls (7 of 34 s of a `status`).
 */
import fs from "node:fs";
import path from "node:path";
import { escapeBytes } from "../format/display.js";
import { asAccessError } from "../store/atomic.js";
import { comparePaths, indexOfPath } from "../store/index-file.js";
import type { FolderCache, FolderEntry } from "./folder-cache.js";
import { shareWork, takeItems } from "./shared-work.js";
import type { ScanJob, ScanResult } from "./worker-protocol.js";
import { RESERVED_NAMES, SKIP_DIRS, type FileStat } from "./worktree.js";

export interface Skipped {
  path: string;
  reason: string;
}

/**
 * A file or folder whose name is not UTF-8. Node cannot name it with a string
 * (it decodes the bytes lossily), Zarr keys and tdv paths are UTF-8 text, and
 * a Git tree entry tdv reads must be: it cannot be tracked. `status` lists it,
 * `add` and `commit -a` refuse to run until it is renamed.
 */
export interface BadName {
  /** its path with each byte that is not UTF-8 as `\xHH` (and control characters, `"`, `\` escaped: escapeBytes) */
  path: string;
  /** the folder that holds it (a valid path, "" for the root) */
  dir: string;
  /** the name's bytes in hex, exactly as the file system has them */
  hex: string;
  /** a folder: nothing in it was scanned */
  folder: boolean;
}

/** size, mtimeMs, ctimeMs, ino: the numbers kept of each file */
const FIELDS = 4;

/** The regular files a scan found, sorted by path (comparePaths), each with its stat data. */
export class FileList implements Iterable<[string, FileStat]> {
  constructor(
    readonly paths: readonly string[],
    /** FIELDS numbers a path: size, mtimeMs, ctimeMs, ino */
    readonly stats: Float64Array,
  ) {}

  get size(): number {
    return this.paths.length;
  }

  /** where `p` is in `paths`, or -1 */
  indexOf(p: string): number {
    return indexOfPath(this.paths, p);
  }

  has(p: string): boolean {
    return this.indexOf(p) >= 0;
  }

  get(p: string): FileStat | undefined {
    const i = this.indexOf(p);
    return i < 0 ? undefined : this.at(i);
  }

  /** the stat data of the i-th file */
  at(i: number): FileStat {
    const s = this.stats;
    const o = i * FIELDS;
    return { size: s[o]!, mtimeMs: s[o + 1]!, ctimeMs: s[o + 2]!, ino: s[o + 3]! };
  }

  /** whether the i-th file's stat data is `st`'s */
  sameAt(i: number, st: FileStat): boolean {
    const s = this.stats;
    const o = i * FIELDS;
    return s[o] === st.size && s[o + 1] === st.mtimeMs && s[o + 2] === st.ctimeMs && s[o + 3] === st.ino;
  }

  keys(): IterableIterator<string> {
    return this.paths.values();
  }

  *[Symbol.iterator](): IterableIterator<[string, FileStat]> {
    for (let i = 0; i < this.paths.length; i++) yield [this.paths[i] as string, this.at(i)];
  }
}

export interface Scan {
  files: FileList;
  /** symbolic links, special files and reserved names, sorted by path */
  skipped: Skipped[];
  /** files and folders whose names are not UTF-8, sorted by path (never in `files`) */
  badNames: BadName[];
  /** folders the worker thread walked (0 when the scan ran on one thread) */
  byWorker: number;
}

export interface ScanOptions {
  /** scan only these paths (relative to root), files or folders */
  under?: readonly string[];
  /** how many files the caller expects (the index's count): a worker thread helps from PARALLEL_FILES */
  expected?: number;
  /** use a worker thread: by default when `expected` is at least PARALLEL_FILES */
  threads?: boolean;
  /** false: the main thread leaves every shared folder to the worker (tests of the worker's side) */
  mainShares?: boolean;
  /** folders whose stat data is unchanged take their names from here (a whole-tree scan on one thread) */
  folders?: FolderCache;
}

export const PARALLEL_FILES = 30_000;
/** folders the first levels must reach before the two threads share them */
const SHARED_FOLDERS = 256;

/**
 * What one thread found: files in the order met, with their numbers, and the
 * entries skipped. A file whose name tdv reserves is skipped here, on either
 * thread.
 */
class Found {
  readonly paths: string[] = [];
  /** FIELDS numbers a path, in a buffer that doubles as it fills (no array of boxed numbers, no copy at the end) */
  private buf = new Float64Array(1024 * FIELDS);
  readonly skipped: [string, string][] = [];

  /** the numbers of the paths found so far */
  get nums(): Float64Array {
    return this.buf.subarray(0, this.paths.length * FIELDS);
  }

  entry(rel: string, st: fs.Stats): void {
    if (st.isFile()) {
      if (rel === ".tdv") return; // the working copy's own pointer file (init --separate-repo): tdv's, as a .tdv folder is
      const name = rel.slice(rel.lastIndexOf("/") + 1);
      if (RESERVED_NAMES.has(name) || SKIP_DIRS.has(name)) this.skipped.push([rel, `'${name}' is a name reserved by tdv`]);
      else {
        const o = this.paths.push(rel) * FIELDS - FIELDS;
        if (o + FIELDS > this.buf.length) {
          const more = new Float64Array(this.buf.length * 2);
          more.set(this.buf);
          this.buf = more;
        }
        const b = this.buf;
        b[o] = st.size;
        b[o + 1] = st.mtimeMs;
        b[o + 2] = st.ctimeMs;
        b[o + 3] = st.ino;
      }
    } else if (st.isSymbolicLink()) this.skipped.push([rel, "symbolic link (not tracked)"]);
    else this.skipped.push([rel, "not a regular file"]);
  }
}

/**
 * List the regular files under `root`, skipping `.tdv` and `.git` folders.
 * Symbolic links and special files are reported in `skipped`, never followed.
 */
export async function scanWorktree(root: string, { under, expected, threads, mainShares = true, folders }: ScanOptions = {}): Promise<Scan> {
  const found = new Found();
  const badNames: BadName[] = [];
  let byWorker = 0;
  let files: FileList | null = null;
  const onBad = (dir: string, name: Buffer, folder: boolean): void => {
    badNames.push({ path: escapeBytes(Buffer.concat([Buffer.from(dir ? `${dir}/` : ""), name])), dir, hex: name.toString("hex"), folder });
  };
  const visit = (rel: string, abs: string, st: fs.Stats): void => {
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(rel.slice(rel.lastIndexOf("/") + 1))) walkFolder(rel, abs, SKIP_DIRS, found, undefined, onBad);
    } else found.entry(rel, st);
  };
  const lstat = (abs: string): fs.Stats | null => {
    try {
      return fs.lstatSync(abs, { throwIfNoEntry: false }) ?? null;
    } catch (err) {
      throw asAccessError(err, abs);
    }
  };

  try {
    if (!under || under.includes("")) {
      const top = path.resolve(root);
      if (threads ?? ((expected ?? 0) >= PARALLEL_FILES && !folderBound(expected ?? 0, folders))) {
        const shared = await walkShared(top, found, onBad, mainShares);
        byWorker = shared.byWorker;
        files = shared.files;
      } else walkFolder("", top, SKIP_DIRS, found, undefined, onBad, folders);
    } else {
      // a path is looked at only through real folders: a symbolic link (or a file) on the way hides
      // what is behind it, as in a full scan, which never follows links
      const realDir = new Map<string, boolean>([["", true]]);
      const throughRealDirs = (rel: string): boolean => {
        const i = rel.lastIndexOf("/");
        if (i < 0) return true;
        const dir = rel.slice(0, i);
        let ok = realDir.get(dir);
        if (ok === undefined) {
          ok = throughRealDirs(dir);
          if (ok) {
            const st = lstat(path.join(root, dir));
            if (st?.isSymbolicLink()) found.skipped.push([dir, "symbolic link (not tracked)"]);
            ok = !!st && st.isDirectory();
          }
          realDir.set(dir, ok);
        }
        return ok;
      };
      for (const rel of under) {
        if (!throughRealDirs(rel)) continue;
        const abs = path.join(root, rel);
        const st = lstat(abs);
        if (st) visit(rel, abs, st);
      }
    }
  } catch (err) {
    throw asAccessError(err, (err as NodeJS.ErrnoException).path ?? root);
  }
  const skipped = found.skipped.map(([p, reason]) => ({ path: p, reason }));
  skipped.sort((a, b) => comparePaths(a.path, b.path));
  badNames.sort((a, b) => comparePaths(a.path, b.path));
  return { files: files ?? sortedFiles(found.paths, found.nums), skipped, badNames, byWorker };
}

/**
 * Whether a whole-tree scan runs on one thread with the folder cache though
 * the tree is large: when the tree is mostly folders (a recorded folder for
 * every FILES_A_FOLDER files expected), its cost is listing folders, which
 * the cache saves, more than stat calls, which two threads share. 10,000
 * arrays of two chunks (30,001 files, 20,002 folders), clean `status`: CPU
 * 1.10-1.19 s on two threads without the cache, 0.75-0.78 s on one with it
 * (wall 0.71-0.75 s and 0.65-0.68 s; peak 105 and 84 MB). With no cache yet,
 * below SEED_FILES files, one scan runs on one thread to record it.
 */
function folderBound(expected: number, folders: FolderCache | undefined): boolean {
  if (!folders) return false;
  const recorded = folders.recordedFolders;
  return recorded === 0 ? expected < SEED_FILES : recorded * FILES_A_FOLDER >= expected;
}
const FILES_A_FOLDER = 4;
const SEED_FILES = 4 * PARALLEL_FILES;

/**
 * The files as a FileList, sorted and without repeats. A walk lists them in
 * order already (then this only checks); paths given to `scanWorktree` one by
 * one, overlapping or not, are sorted here.
 */
function sortedFiles(paths: string[], nums: Float64Array): FileList {
  let inOrder = true;
  for (let i = 1; i < paths.length && inOrder; i++) inOrder = (paths[i - 1] as string) < (paths[i] as string);
  if (inOrder) return new FileList(paths, nums);
  const order = paths.map((_, i) => i).sort((a, b) => comparePaths(paths[a] as string, paths[b] as string));
  const outPaths: string[] = [];
  const out: number[] = [];
  for (const i of order) {
    const p = paths[i] as string;
    if (outPaths.length > 0 && outPaths[outPaths.length - 1] === p) continue;
    outPaths.push(p);
    for (let k = 0; k < FIELDS; k++) out.push(nums[i * FIELDS + k] as number);
  }
  return new FileList(outPaths, Float64Array.from(out));
}

/** A folder's entry, typed: a folder sorts as its name and "/" (Git's order, which makes paths sort as strings). */
interface Named extends FolderEntry {
  /** the lstat already taken of an entry the listing did not type */
  st?: fs.Stats | null;
}
const byKey = (a: Named, b: Named): number => comparePaths(a.dir ? `${a.name}/` : a.name, b.dir ? `${b.name}/` : b.name);

/**
 * Walk one folder tree in path order, giving `found` everything that is not
 * a folder; with `onDir`, the folders in `abs` are handed to it instead of
 * walked. A name that is not UTF-8 goes to `onBad` (with the folder that holds
 * it), and a folder so named is not entered: Node would name it lossily (U+FFFD
 * for each bad byte), a path that does not exist. The scan worker walks its
 * folders with it too.
 */
function walkFolder(
  rel: string,
  abs: string,
  skipDirs: ReadonlySet<string>,
  found: Found,
  onDir?: (rel: string, abs: string) => void,
  onBad?: (dir: string, name: Buffer, folder: boolean) => void,
  cache?: FolderCache,
): void {
  let names: Named[] | null = null;
  let own: fs.Stats | undefined;
  if (cache) {
    // the folder's own stat first: unchanged since the cache recorded it, its names are the recorded ones
    own = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!own) return; // gone since its parent was listed
    if (own.isDirectory()) {
      names = cache.lookup(rel, own);
      if (!names && cache.stampBeforeListing()) own = fs.lstatSync(abs, { throwIfNoEntry: false }) ?? own; // its stat after the stamp
    } else if (rel !== "") {
      found.entry(rel, own); // a recorded folder replaced by a file or a link (its parent changed too)
      return;
    }
  }
  if (!names) names = listFolder(rel, abs, skipDirs, onBad, cache, own);
  for (const { name, dir, st } of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const childAbs = `${abs}/${name}`; // a name from the folder itself: nothing to normalize
    if (dir) {
      if (onDir) onDir(childRel, childAbs);
      else walkFolder(childRel, childAbs, skipDirs, found, undefined, onBad, cache);
      continue;
    }
    const s = st ?? fs.lstatSync(childAbs, { throwIfNoEntry: false });
    if (s) found.entry(childRel, s);
  }
}

/** A folder's entries in the walk's order (read from the folder); recorded in `cache` when given, with `own`, the folder's stat taken before. */
function listFolder(
  rel: string,
  abs: string,
  skipDirs: ReadonlySet<string>,
  onBad: ((dir: string, name: Buffer, folder: boolean) => void) | undefined,
  cache: FolderCache | undefined,
  own: fs.Stats | undefined,
): Named[] {
  /** the names of this folder that are valid UTF-8, read only when a name holds U+FFFD */
  let valid: Set<string> | null = null;
  let complete = true;
  const names: Named[] = [];
  let folders = false;
  for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
    const n = ent.name;
    if (n.includes("\uFFFD")) {
      if (!valid) {
        valid = new Set();
        for (const raw of fs.readdirSync(abs, { withFileTypes: true, encoding: "buffer" })) {
          const text = raw.name.toString("utf8");
          if (Buffer.from(text, "utf8").equals(raw.name)) valid.add(text);
          else {
            complete = false;
            onBad?.(rel, raw.name, raw.isDirectory());
          }
        }
      }
      if (!valid.has(n)) continue; // reported above
    }
    let dir = ent.isDirectory();
    let st: fs.Stats | null = null;
    if (!dir && !ent.isFile() && !ent.isSymbolicLink() && !ent.isFIFO() && !ent.isSocket() && !ent.isBlockDevice() && !ent.isCharacterDevice()) {
      // a file system that leaves the type unknown: ask
      st = fs.lstatSync(`${abs}/${n}`, { throwIfNoEntry: false }) ?? null;
      if (!st) continue;
      dir = st.isDirectory();
    }
    if (dir) {
      if (skipDirs.has(n)) continue;
      folders = true;
    }
    names.push({ name: n, dir, st });
  }
  // without folders the names sort as themselves; with them, a folder as its name and "/"
  if (folders) names.sort(byKey);
  else names.sort((a, b) => comparePaths(a.name, b.name));
  if (cache && own) cache.listed(rel, own, names, complete);
  return names;
}

/**
 * The worker's side: take folders from the shared counter, walk each with
 * walkFolder as the main thread does, and report the files of each folder as
 * one run (its number, first and end file), what it skipped, and every name
 * that is not UTF-8.
 */
export async function scanOnWorker(job: ScanJob): Promise<ScanResult> {
  const { dirs } = job;
  const skip = new Set(job.skipDirs);
  const found = new Found();
  const runs: number[] = [];
  const bad: [string, string, boolean][] = [];
  const onBad = (dir: string, name: Buffer, folder: boolean): void => void bad.push([dir, name.toString("hex"), folder]);
  await takeItems(job.claims, dirs.length, (i) => {
    const [rel, abs] = dirs[i] as [string, string];
    const start = found.paths.length;
    walkFolder(rel, abs, skip, found, undefined, onBad);
    runs.push(i, start, found.paths.length);
  });
  return {
    kind: "scan",
    paths: found.paths.join("\0"),
    stats: found.nums.slice(), // its own buffer, handed over without a copy (worker.ts)
    runs: Float64Array.from(runs),
    skipped: found.skipped,
    folders: runs.length / 3,
    bad,
  };
}

/**
 * Walk `top` on two threads: the main thread lists levels until there are
 * SHARED_FOLDERS folders (or none left), then both take them from one
 * counter (shareWork), each walking whole folders. The files come together
 * in path order: the first levels' own files and each shared folder's run,
 * by their paths (a folder's run as its path and "/").
 */
async function walkShared(
  top: string,
  found: Found,
  onBad: (dir: string, name: Buffer, folder: boolean) => void,
  mainShares: boolean,
): Promise<{ files: FileList | null; byWorker: number }> {
  let dirs: [string, string][] = [["", top]];
  while (dirs.length > 0 && dirs.length < SHARED_FOLDERS) {
    const deeper: [string, string][] = [];
    for (const [rel, abs] of dirs) walkFolder(rel, abs, SKIP_DIRS, found, (r, a) => deeper.push([r, a]), onBad);
    dirs = deeper;
  }
  if (dirs.length === 0) return { files: null, byWorker: 0 };
  dirs.sort((a, b) => comparePaths(`${a[0]}/`, `${b[0]}/`));
  const upper = found.paths.length; // files of the first levels: found[0, upper)

  /** each shared folder's run in the main thread's list: [start, end), or none */
  const mainRuns = new Float64Array(dirs.length * 2).fill(-1);
  const { result } = await shareWork<ScanJob>(
    { kind: "scan", dirs, skipDirs: [...SKIP_DIRS] },
    dirs.length,
    (i) => {
      const start = found.paths.length;
      walkFolder(dirs[i]![0], dirs[i]![1], SKIP_DIRS, found, undefined, onBad);
      mainRuns[i * 2] = start;
      mainRuns[i * 2 + 1] = found.paths.length;
    },
    mainShares,
  );

  const workerPaths = result && result.paths !== "" ? result.paths.split("\0") : [];
  const workerRuns = new Float64Array(dirs.length * 2).fill(-1);
  if (result) {
    for (const [dir, hex, folder] of result.bad) onBad(dir, Buffer.from(hex, "hex"), folder);
    found.skipped.push(...result.skipped);
    const { runs } = result;
    for (let k = 0; k < runs.length; k += 3) {
      const i = runs[k]!;
      workerRuns[i * 2] = runs[k + 1]!;
      workerRuns[i * 2 + 1] = runs[k + 2]!;
    }
  }

  // the first levels' files, sorted (few), merged with the folders' runs in the folders' order
  const ups = found.paths.slice(0, upper).map((p, i) => [p, i] as const).sort((a, b) => comparePaths(a[0], b[0]));
  const total = found.paths.length - upper + workerPaths.length + upper;
  const paths = new Array<string>(total);
  const stats = new Float64Array(total * FIELDS);
  let n = 0;
  const copy = (fromPaths: readonly string[], fromNums: ArrayLike<number>, start: number, end: number): void => {
    for (let k = start; k < end; k++, n++) {
      paths[n] = fromPaths[k] as string;
      for (let f = 0; f < FIELDS; f++) stats[n * FIELDS + f] = fromNums[k * FIELDS + f] as number;
    }
  };
  let u = 0;
  for (let i = 0; i <= dirs.length; i++) {
    const key = i < dirs.length ? `${dirs[i]![0]}/` : null;
    while (u < ups.length && (key === null || (ups[u]![0] as string) < key)) {
      const at = ups[u++]![1];
      copy(found.paths, found.nums, at, at + 1);
    }
    if (key === null) break;
    if (mainRuns[i * 2]! >= 0) copy(found.paths, found.nums, mainRuns[i * 2]!, mainRuns[i * 2 + 1]!);
    else if (workerRuns[i * 2]! >= 0 && result) copy(workerPaths, result.stats, workerRuns[i * 2]!, workerRuns[i * 2 + 1]!);
  }
  if (n !== total) throw new Error(`internal: the scan's threads found ${total} files and gave ${n}`);
  return { files: new FileList(paths, stats), byWorker: result ? result.folders : 0 };
}
