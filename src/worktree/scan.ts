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
 */
import fs from "node:fs";
import path from "node:path";
import { escapeBytes } from "../format/display.js";
import { asAccessError } from "../store/atomic.js";
import { comparePaths } from "../store/index-file.js";
import { shareWork, takeItems } from "./shared-work.js";
import type { ScanJob, ScanResult } from "./worker-protocol.js";
import { RESERVED_NAMES, SKIP_DIRS, sameStat, type FileStat } from "./worktree.js";

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

export interface Scan {
  files: Map<string, FileStat>;
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
  /** the index: a file whose stat data equals its entry is listed with that entry itself (no new object) */
  known?: ReadonlyMap<string, FileStat>;
  /** use a worker thread: by default when `known` lists at least PARALLEL_FILES files */
  threads?: boolean;
  /** false: the main thread leaves every shared folder to the worker (tests of the worker's side) */
  mainShares?: boolean;
}

export const PARALLEL_FILES = 30_000;
/** folders the first levels must reach before the two threads share them */
const SHARED_FOLDERS = 256;

/** what a worker reports of a file: its kind, then size, mtimeMs, ctimeMs, ino */
const KIND_FILE = 0;
const KIND_LINK = 1;
const KIND_OTHER = 2;
const FIELDS = 5;

/**
 * List the regular files under `root`, skipping `.tdv` and `.git` folders.
 * Symbolic links and special files are reported in `skipped`, never followed.
 */
export async function scanWorktree(root: string, { under, known, threads, mainShares = true }: ScanOptions = {}): Promise<Scan> {
  const files = new Map<string, FileStat>();
  const skipped: Skipped[] = [];
  const badNames: BadName[] = [];
  let byWorker = 0;
  const onBad = (dir: string, name: Buffer, folder: boolean): void => {
    badNames.push({ path: escapeBytes(Buffer.concat([Buffer.from(dir ? `${dir}/` : ""), name])), dir, hex: name.toString("hex"), folder });
  };

  const addFile = (rel: string, st: FileStat): void => {
    if (rel === ".tdv") return; // the working copy's own pointer file (init --separate-repo): tdv's, as a .tdv folder is
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    if (RESERVED_NAMES.has(name) || SKIP_DIRS.has(name)) {
      skipped.push({ path: rel, reason: `'${name}' is a name reserved by tdv` });
      return;
    }
    const k = known?.get(rel);
    files.set(rel, k && sameStat(k, st) ? k : { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
  };
  const visit = (rel: string, abs: string, st: fs.Stats): void => {
    if (st.isFile()) addFile(rel, st);
    else if (st.isSymbolicLink()) skipped.push({ path: rel, reason: "symbolic link (not tracked)" });
    else if (st.isDirectory()) {
      // a folder the listing did not type (some file systems leave the type unknown)
      if (!SKIP_DIRS.has(rel.slice(rel.lastIndexOf("/") + 1))) walkFolder(rel, abs, SKIP_DIRS, visit, undefined, onBad);
    } else skipped.push({ path: rel, reason: "not a regular file" });
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
      if (threads ?? (known?.size ?? 0) >= PARALLEL_FILES) byWorker = await walkShared(top, visit, addFile, skipped, onBad, mainShares);
      else walkFolder("", top, SKIP_DIRS, visit, undefined, onBad);
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
            if (st?.isSymbolicLink()) skipped.push({ path: dir, reason: "symbolic link (not tracked)" });
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
  skipped.sort((a, b) => comparePaths(a.path, b.path));
  badNames.sort((a, b) => comparePaths(a.path, b.path));
  return { files, skipped, badNames, byWorker };
}

/**
 * Walk one folder tree, calling `onFile` with the lstat of everything that is
 * not a folder; with `onDir`, the folders in `abs` are handed to it instead of
 * walked. A name that is not UTF-8 goes to `onBad` (with the folder that holds
 * it), and a folder so named is not entered: Node would name it lossily (U+FFFD
 * for each bad byte), a path that does not exist. The scan worker walks its
 * folders with it too.
 */
function walkFolder(
  rel: string,
  abs: string,
  skipDirs: ReadonlySet<string>,
  onFile: (rel: string, abs: string, st: fs.Stats) => void,
  onDir?: (rel: string, abs: string) => void,
  onBad?: (dir: string, name: Buffer, folder: boolean) => void,
): void {
  /** the names of this folder that are valid UTF-8, read only when a name holds U+FFFD */
  let valid: Set<string> | null = null;
  for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
    const n = ent.name;
    if (n.includes("\uFFFD")) {
      if (!valid) {
        valid = new Set();
        for (const raw of fs.readdirSync(abs, { withFileTypes: true, encoding: "buffer" })) {
          const text = raw.name.toString("utf8");
          if (Buffer.from(text, "utf8").equals(raw.name)) valid.add(text);
          else onBad?.(rel, raw.name, raw.isDirectory());
        }
      }
      if (!valid.has(n)) continue; // reported above
    }
    const childRel = rel ? `${rel}/${n}` : n;
    const childAbs = `${abs}/${n}`; // a name from the folder itself: nothing to normalize
    if (ent.isDirectory()) {
      if (skipDirs.has(n)) continue;
      if (onDir) onDir(childRel, childAbs);
      else walkFolder(childRel, childAbs, skipDirs, onFile, undefined, onBad);
      continue;
    }
    const st = fs.lstatSync(childAbs, { throwIfNoEntry: false });
    if (st) onFile(childRel, childAbs, st);
  }
}

/**
 * The worker's side: take folders from the shared counter, walk each with
 * walkFolder as the main thread does, and report every entry found (its kind
 * and stat data) and every name that is not UTF-8.
 */
export async function scanOnWorker(job: ScanJob): Promise<ScanResult> {
  const { dirs } = job;
  const skip = new Set(job.skipDirs);
  const paths: string[] = [];
  const nums: number[] = [];
  const bad: [string, string, boolean][] = [];
  const onBad = (dir: string, name: Buffer, folder: boolean): void => void bad.push([dir, name.toString("hex"), folder]);
  const onFile = (rel: string, abs: string, st: fs.Stats): void => {
    if (st.isDirectory()) {
      // a folder the listing did not type
      if (!skip.has(rel.slice(rel.lastIndexOf("/") + 1))) walkFolder(rel, abs, skip, onFile, undefined, onBad);
      return;
    }
    paths.push(rel);
    nums.push(st.isFile() ? KIND_FILE : st.isSymbolicLink() ? KIND_LINK : KIND_OTHER, st.size, st.mtimeMs, st.ctimeMs, st.ino);
  };
  let folders = 0;
  await takeItems(job.claims, dirs.length, (i) => {
    const [rel, abs] = dirs[i] as [string, string];
    walkFolder(rel, abs, skip, onFile, undefined, onBad);
    folders++;
  });
  return { kind: "scan", paths: paths.join("\0"), stats: new Float64Array(nums), folders, bad };
}

/**
 * Walk `top` on two threads: the main thread lists levels until there are
 * SHARED_FOLDERS folders (or none left), then both take them from one
 * counter (shareWork). Returns how many folders the worker walked.
 */
async function walkShared(
  top: string,
  visit: (rel: string, abs: string, st: fs.Stats) => void,
  addFile: (rel: string, st: FileStat) => void,
  skipped: Skipped[],
  onBad: (dir: string, name: Buffer, folder: boolean) => void,
  mainShares: boolean,
): Promise<number> {
  let dirs: [string, string][] = [["", top]];
  while (dirs.length > 0 && dirs.length < SHARED_FOLDERS) {
    const deeper: [string, string][] = [];
    for (const [rel, abs] of dirs) walkFolder(rel, abs, SKIP_DIRS, visit, (r, a) => deeper.push([r, a]), onBad);
    dirs = deeper;
  }
  if (dirs.length === 0) return 0;

  const { result } = await shareWork<ScanJob>(
    { kind: "scan", dirs, skipDirs: [...SKIP_DIRS] },
    dirs.length,
    (i) => walkFolder(dirs[i]![0], dirs[i]![1], SKIP_DIRS, visit, undefined, onBad),
    mainShares,
  );
  if (!result) return 0;
  for (const [dir, hex, folder] of result.bad) onBad(dir, Buffer.from(hex, "hex"), folder);
  const { stats } = result;
  const paths = result.paths === "" ? [] : result.paths.split("\0");
  for (let i = 0; i < paths.length; i++) {
    const rel = paths[i] as string;
    const o = i * FIELDS;
    const kind = stats[o];
    if (kind === KIND_FILE) addFile(rel, { size: stats[o + 1]!, mtimeMs: stats[o + 2]!, ctimeMs: stats[o + 3]!, ino: stats[o + 4]! });
    else if (kind === KIND_LINK) skipped.push({ path: rel, reason: "symbolic link (not tracked)" });
    else if (kind === KIND_OTHER) skipped.push({ path: rel, reason: "not a regular file" });
  }
  return result.folders;
}
