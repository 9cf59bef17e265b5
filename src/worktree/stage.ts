/**
 * Staging: store the bytes of working files (chunk objects or Git blobs) and
 * compute the next index. `add` writes that index; `commit -a` and `stash`
 * keep it in memory until their commit lands.
 */
import { outsideGridWarnings } from "../repo/grid-warnings.js";
import { isTdvError, NonUtf8NameError, PathNotFoundError } from "../errors.js";
import { mapLimit } from "../store/atomic.js";
import type { GitOid } from "../format/hash.js";
import { comparePaths, EntryTable, peekEntry, withAdded, type IndexEntry, type IndexState } from "../store/index-file.js";
import type { Change } from "../repo/changes.js";
import type { BadName, Skipped } from "./scan.js";
import { isUnder } from "../format/paths.js";
import { joinPath, parentDir, plainFolderWarning, problemsFor, SMALL_FILE, type Hierarchy } from "../repo/hierarchy.js";
import type { Repository } from "../repo/repository.js";
import { updateSnapshot } from "../repo/snapshot-update.js";
import { writeSnapshot } from "../repo/snapshot.js";
import { storeChunkFiles } from "./store-files.js";
import { compareWorktree, hashWorkFile, workHierarchy } from "./work-state.js";
import type { ObjectWriter } from "../store/types.js";
export interface Progress {
  phase: string;
  done: number;
  total: number;
  bytes: number;
}

export interface AddOptions {
  /** paths relative to the repository root ("" = everything) */
  paths?: readonly string[];
  /** stage every change in the working tree (add -A) */
  all?: boolean;
  /** only files of tracked arrays and tracked files (commit -a) */
  trackedOnly?: boolean;
  onProgress?: (p: Progress) => void;
}

export interface AddResult {
  added: string[];
  modified: string[];
  removed: string[];
  /** bytes of the files staged (added or modified) */
  bytes: number;
  warnings: string[];
  skipped: Skipped[];
  /** the Zarr arrays (folders) the staged and removed files belong to, sorted */
  arrays: string[];
}

/**
 * What `add` does, but the new index is returned instead of written (the
 * objects are stored): `commit -a` writes it only once the commit lands.
 */
export async function stage(
  repo: Repository,
  opts: AddOptions,
  /** where the metadata blobs go (an open pack) */
  pack: ObjectWriter,
): Promise<{
  result: AddResult;
  index: Pick<IndexState, "tree" | "entries">;
  /** the tree the index equalled before staging (null when unknown) */
  baseTree: GitOid | null;
  /** what staging changed in the index, file by file, in path order (made when asked for: a million new files make a million) */
  changes: () => Change[];
  /** the paths staging changed (added, modified, deleted), in no particular order */
  changedPaths: () => string[];
  /** the bytes of files staged from memory (metadata the hierarchy read): exactly their new entries' bytes */
  stagedBytes: Map<string, Buffer>;
}> {
  const { paths = [], all = false, trackedOnly = false, onProgress } = opts;
  const index = await repo.readIndex();
  const under = all || trackedOnly ? undefined : [...paths];
  const ws = await compareWorktree(repo, index, { under, write: pack });
  if (!trackedOnly) refuseBadNames(ws.scan.badNames);
  if (under) {
    for (const p of under) {
      const known = [...ws.scan.files.keys(), ...index.entries.keys()].some((f) => isUnder(f, p));
      if (!known) throw new PathNotFoundError(p, "in the working tree or the index (pathspec did not match any files)");
    }
  }
  const kept = new Map<string, Buffer>();
  // strict: invalid metadata of a Zarr version tdv reads fails here, naming the file; metadata tdv
  // cannot read at all (an unknown version, not JSON) makes its folder plain files, with a warning
  const h = workHierarchy(repo, index, true, under ? undefined : ws.scan, kept);
  let candidates = ws.untracked;
  if (trackedOnly) {
    // only files inside a tracked array (one whose zarr.json or .zarray the index holds, and that is
    // an array): found from each untracked file's own folders, so a commit -a that finds no new file
    // reads no array's metadata, and an untracked folder's metadata is not read (nor refused) here
    const inTracked = new Map<string, Promise<boolean>>();
    const tracks = (dir: string): boolean => index.entries.has(joinPath(dir, "zarr.json")) || index.entries.has(joinPath(dir, ".zarray"));
    const underTrackedArray = (dir: string): Promise<boolean> => {
      let known = inTracked.get(dir);
      if (!known) {
        known = (async () => (tracks(dir) && (await h.arrayAt(dir)) !== null) || (dir !== "" && underTrackedArray(parentDir(dir))))();
        inTracked.set(dir, known);
      }
      return known;
    };
    const trackedArray = async (dir: string): Promise<boolean> => tracks(dir) && (await h.arrayAt(dir)) !== null;
    const keep: string[] = [];
    for (const p of candidates) {
      // a file where a tracked array's folder was is inside it too (isUnder)
      if (!(await trackedArray(p)) && !(await underTrackedArray(parentDir(p)))) continue;
      const node = await h.arrayOf(p);
      if (node && tracks(node.dir)) keep.push(p);
    }
    candidates = keep;
    const bad: BadName[] = [];
    for (const b of ws.scan.badNames) if (await underTrackedArray(b.dir)) bad.push(b);
    refuseBadNames(bad);
  }
  const warnings: string[] = [];
  let done = 0;
  let bytes = 0;
  const total = candidates.length;
  const arrays = new Set<string>();
  const baseTree = index.tree;
  // the new files, in path order, kept as numbers (no object a file: at a million files the
  // kinds, entries and changes held per file were most of add's memory)
  const kinds = await classifyCompact(h, candidates);
  for (const a of kinds.arrays) arrays.add(a);
  // chunk objects (the bulk: many files, most bytes) are stored on both cores; metadata and small
  // plain files, which the hierarchy may already have read, one by one here
  const stores = new Uint8Array(candidates.length); // 0 a Git blob, 1 a chunk object
  let bulkCount = 0;
  for (let i = 0; i < candidates.length; i++) {
    const p = candidates[i] as string;
    const code = kinds.code[i] as number;
    const chunk = code === META ? false : code === CHUNK ? true : ws.scan.files.get(p)!.size > SMALL_FILE;
    stores[i] = chunk ? 1 : 0;
    if (chunk && !kept.has(p)) bulkCount++;
  }
  const bulk = new Array<string>(bulkCount);
  const bulkAt = new Uint32Array(bulkCount);
  const small: number[] = [];
  for (let i = 0, j = 0; i < candidates.length; i++) {
    const p = candidates[i] as string;
    if (stores[i] === 1 && !kept.has(p)) {
      bulk[j] = p;
      bulkAt[j++] = i;
    } else small.push(i);
  }
  warnings.push(...outsideGridWarnings(kinds.outside, " (stored as is)"));
  const changes: Change[] = []; // modified and deleted files; the added ones are made when asked for (addedChanges)
  let changedBytes = 0;
  for (const [p, e] of ws.refreshed) index.entries.set(p, e);
  for (const [p, e] of ws.modified) {
    const kind = await h.classify(p); // strict: a modified zarr.json/.zarray that is invalid fails here, naming the file
    if (kind.array !== null) arrays.add(kind.array);
    changes.push({ path: p, change: "modified", kind: kind.kind, array: kind.array, bytes: sizeOf(e), oldBytes: sizeOf(index.entries.get(p)) });
    index.entries.set(p, e);
    changedBytes += e.size;
  }
  for (const p of ws.deleted) {
    const kind = await h.classify(p).catch(() => null); // a deleted array's metadata is read from the index
    if (kind?.array != null) arrays.add(kind.array);
    changes.push({ path: p, change: "deleted", kind: kind?.kind ?? "plain", array: kind?.array ?? null, bytes: 0, oldBytes: sizeOf(index.entries.get(p)) });
  }
  for (const p of ws.deleted) index.entries.delete(p);
  // the new files join the index in its bytes: the old entries are laid out now, and each new
  // file's id and stat data written into its slot as it is stored (by either thread), so no
  // object a file and no second copy of them is held (at a million files, most of add's memory)
  const table = candidates.length > 0 ? new EntryTable(index.entries, candidates, stores) : null;
  const stagedBytes = new Map<string, Buffer>();
  await mapLimit(small, 16, async (i) => {
    const p = candidates[i] as string;
    const st = ws.scan.files.get(p)!;
    const read = kept.get(p);
    if (read) stagedBytes.set(p, read);
    const entry = await hashWorkFile(repo, p, stores[i] === 0 ? "git" : "chunk", pack, read && { bytes: read, stat: st });
    table!.set(i, entry);
    bytes += entry.size;
    onProgress?.({ phase: "storing", done: ++done, total, bytes });
  });
  const before = { done, bytes };
  if (table && bulk.length > 0) {
    const slots = new Uint32Array(new SharedArrayBuffer(bulk.length * 4));
    for (let j = 0; j < bulk.length; j++) slots[j] = table.at[bulkAt[j] as number] as number;
    // where each file is in the scan: its stat data, taken before the file is read, is what its entry records
    const scanned = ws.scan.files;
    const inScan = new Uint32Array(bulk.length);
    for (let j = 0; j < bulk.length; j++) {
      const f = scanned.indexOf(bulk[j] as string);
      if (f < 0) throw new Error(`internal: ${bulk[j]} is not in the scan`);
      inScan[j] = f;
    }
    await storeChunkFiles(repo, bulk, (j) => scanned.at(inScan[j] as number), true, (j, e) => table.set(bulkAt[j] as number, e), {
      onProgress: (files, b) => onProgress?.({ phase: "storing", done: before.done + files, total, bytes: before.bytes + b }),
      into: { bytes: table.bytes, at: slots },
    });
  }
  bytes = changedBytes;
  for (let i = 0; i < candidates.length; i++) bytes += table!.size(i);
  const entries = table ? withAdded(table) : index.entries;
  if (h.problems.length > 0) {
    const paths = [...candidates, ...changes.map((c) => c.path)];
    for (const err of problemsFor(h.problems, paths)) warnings.push(plainFolderWarning(err));
  }
  const changed = candidates.length + ws.modified.size + ws.deleted.length > 0;
  const result = {
    added: candidates,
    modified: [...ws.modified.keys()].sort(),
    removed: ws.deleted,
    bytes,
    warnings,
    skipped: ws.scan.skipped,
    arrays: [...arrays].sort(),
  };
  return { result, index: { tree: changed ? null : index.tree, entries }, baseTree, ...lazyChanges(candidates, kinds, entries, changes), stagedBytes };
}

/**
 * The changes of staging, made when asked for: the added files' from their
 * kinds and the new index. A function of its own, so that what the answer
 * keeps is only what it names (a closure made in `stage` would keep every
 * variable of `stage` that any of its closures uses: the scan, the entry table).
 */
function lazyChanges(
  added: readonly string[],
  kinds: CompactKinds,
  entries: ReadonlyMap<string, IndexEntry>,
  others: readonly Change[],
): { changes: () => Change[]; changedPaths: () => string[] } {
  const addedChanges = (): Change[] =>
    added.map((p, i) => {
      const code = kinds.code[i] as number;
      const a = kinds.arrayOf[i] as number;
      const e = peekEntry(entries, p) as IndexEntry;
      return { path: p, change: "added", kind: code === META ? "meta" : code === CHUNK ? "chunk" : "plain", array: a < 0 ? null : (kinds.arrays[a] as string), bytes: sizeOf(e), oldBytes: 0 };
    });
  return {
    changes: () => [...addedChanges(), ...others].sort((a, b) => comparePaths(a.path, b.path)),
    changedPaths: () => [...added, ...others.map((c) => c.path)],
  };
}

const META = 0;
const CHUNK = 1;
const PLAIN = 2;

/** Kinds of many files, as numbers: META, CHUNK or PLAIN, and the array (an index into `arrays`, -1 for none). */
interface CompactKinds {
  code: Uint8Array;
  arrayOf: Int32Array;
  arrays: string[];
  /** chunks outside their array's grid */
  outside: { path: string; array: string | null }[];
}

/** Classify `paths` without keeping an object for each (a block at a time in flight). */
async function classifyCompact(h: Hierarchy, paths: readonly string[]): Promise<CompactKinds> {
  const out: CompactKinds = { code: new Uint8Array(paths.length), arrayOf: new Int32Array(paths.length), arrays: [], outside: [] };
  const arrayIds = new Map<string, number>();
  await h.classifyEach(paths, (i, k) => {
    out.code[i] = k.kind === "meta" ? META : k.kind === "chunk" ? CHUNK : PLAIN;
    if (k.kind === "chunk" && !k.inGrid) out.outside.push({ path: paths[i] as string, array: k.array });
    if (k.array === null) {
      out.arrayOf[i] = -1;
      return;
    }
    let a = arrayIds.get(k.array);
    if (a === undefined) {
      a = out.arrays.length;
      out.arrays.push(k.array);
      arrayIds.set(k.array, a);
    }
    out.arrayOf[i] = a;
  });
  return out;
}

/** Names that are not UTF-8 where files are to be staged: refused before anything is staged. */
function refuseBadNames(bad: readonly BadName[]): void {
  if (bad.length > 0) throw new NonUtf8NameError(bad.map((b) => (b.folder ? `${b.path}/` : b.path)));
}

/** A file's size as a change reports it: Git trees do not record blob sizes, so a tree comparison says -1 (unknown) for them. */
function sizeOf(e: IndexEntry | undefined): number {
  return !e ? 0 : e.store === "git" ? -1 : e.size;
}

/** What `add` does under its lock: stage, then write the index (with the snapshot it equals). */
export async function addToIndex(repo: Repository, opts: AddOptions): Promise<AddResult> {
  const { result, index } = await repo.git.withPack(async (pack) => {
    const staged = await stage(repo, opts, pack);
    // the index keeps the snapshot it equals, written from the one before it: the cost follows
    // the change, and the next commit writes only the commit (git's cache-tree)
    if (staged.baseTree && staged.index.tree === null) {
      staged.index.tree = await updateSnapshot(repo, staged.baseTree, staged.index.entries, staged.changedPaths(), pack);
    } else if (staged.index.tree === null && staged.index.entries.size > 0) {
      // no snapshot known (the first add): written whole, from the metadata just read and parsed
      // (the commit would write it the same, reading every document back from the object store)
      staged.index.tree = await writeSnapshot(repo, staged.index.entries, undefined, pack, staged.stagedBytes).catch((err: unknown) => {
        // metadata staged before that no snapshot can hold: the commit says so, as it did
        if (isTdvError(err, "InvalidMetadataError") || isTdvError(err, "UnsafePathError")) return null;
        throw err;
      });
    }
    return staged;
  });
  await repo.writeIndex(index);
  return result;
}
