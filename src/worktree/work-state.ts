/**
 * Compare the working tree with the index: which tracked files changed, which
 * went away, which files are new. Files whose stat data matches the index and
 * that are not "racy" (modified after the index was written) are not read.
 */
import fs from "node:fs";
import path from "node:path";
import { asAccessError, mapLimit, readWithStat } from "../store/atomic.js";
import { GitStore } from "../store/git.js";
import { entriesInOrder, type IndexEntry, type IndexState } from "../store/index-file.js";
import { Hierarchy, type FileKind } from "../repo/hierarchy.js";
import type { Repository } from "../repo/repository.js";
import { FolderCache } from "./folder-cache.js";
import { scanWorktree, type Scan } from "./scan.js";
import { readSparse } from "./sparse-set.js";
import { hashChunkFile } from "./store-files.js";
import { sameStat, type FileStat } from "./worktree.js";
import { isUnder } from "../format/paths.js";
import type { ObjectWriter } from "../store/types.js";

export interface WorkFile extends FileStat {
  path: string;
}

export interface WorkState {
  scan: Scan;
  /** tracked files whose content differs from the index, with their new ids */
  modified: Map<string, IndexEntry>;
  /** tracked files missing from the working tree */
  deleted: string[];
  /** files in the working tree the index does not track */
  untracked: string[];
  /** tracked files whose content equals the index but whose stat data changed */
  refreshed: Map<string, IndexEntry>;
  /** how many files had to be read and hashed (0 on a clean tree whose stat data matches) */
  hashed: number;
}

/** Hash one working file as `store` says, and with `write` store it (a Git blob goes where `write` writes: the store or an open pack). */
export async function hashWorkFile(
  repo: Repository,
  rel: string,
  store: "git" | "chunk",
  write: ObjectWriter | false,
  /** the file's bytes, read after `stat` was taken (a metadata document the hierarchy read) */
  known?: { bytes: Buffer; stat: FileStat },
): Promise<IndexEntry> {
  const abs = path.join(repo.root, ...rel.split("/"));
  if (store === "chunk") return hashChunkFile(repo.chunks, abs, write !== false, known);
  // stat data older than the bytes is safe: a change in between shows as a stat change, and is hashed again
  const { bytes, stat: st } = known ?? (await readWithStat(abs));
  const id = write ? await write.writeBlob(bytes) : GitStore.blobOid(bytes);
  return { store, id, size: bytes.byteLength, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

export function isClean(index: IndexState, e: IndexEntry, st: FileStat): boolean {
  return sameStat(e, st) && e.mtimeMs < index.mtimeMs;
}

export async function compareWorktree(
  repo: Repository,
  index: IndexState,
  /** write: where the blobs of changed files go (their chunks go to the chunk store); false: only hash */
  { under, write = false }: { under?: readonly string[]; write?: ObjectWriter | false } = {},
): Promise<WorkState> {
  // a whole-tree scan lists only the folders changed since the folder cache recorded them
  const folders = under ? undefined : FolderCache.open(repo.root, repo.tdvDir);
  const scan = await scanWorktree(repo.root, { under, expected: index.entries.size, folders });
  await folders?.save();
  // a sparse checkout: tracked files outside the set are not in the working tree, and are no change
  const sparse = readSparse(repo);
  const inUnder = scopeTest(under);
  const inScope = sparse ? (p: string) => inUnder(p) && sparse.includes(p) : inUnder;
  const modified = new Map<string, IndexEntry>();
  const refreshed = new Map<string, IndexEntry>();
  const deleted: string[] = [];
  const untracked: string[] = [];
  const toHash: [string, IndexEntry][] = [];
  // the index and the scan, both sorted by path, walked in step: no lookup a file
  const { paths: files, stats } = scan.files;
  const tracked = entriesInOrder(index.entries);
  const paths = tracked.paths;
  const racy = index.mtimeMs;
  const st = new Float64Array(4);
  let j = 0;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i] as string;
    while (j < files.length && (files[j] as string) < p) untracked.push(files[j++] as string);
    const onDisk = j < files.length && files[j] === p;
    const at = j;
    if (onDisk) j++;
    if (!inScope(p)) continue; // not compared, and not untracked either
    if (!onDisk) {
      deleted.push(p);
      continue;
    }
    tracked.statInto(i, st);
    const o = at * 4;
    const clean = stats[o] === st[0] && stats[o + 1] === st[1] && stats[o + 2] === st[2] && stats[o + 3] === st[3] && st[1]! < racy;
    if (!clean) toHash.push([p, tracked.entry(i)]);
  }
  while (j < files.length) untracked.push(files[j++] as string);
  await mapLimit(toHash, 16, async ([p, e]) => {
    const now = await hashWorkFile(repo, p, e.store, write);
    if (now.id === e.id) refreshed.set(p, now);
    else modified.set(p, now);
  });
  return { scan, modified, deleted, untracked, refreshed, hashed: toHash.length };
}

/** A hierarchy over the working tree that falls back to the index for files gone from disk. */
export function workHierarchy(repo: Repository, index: IndexState, strict = false, scan?: Scan, kept?: Map<string, Buffer>): Hierarchy {
  return new Hierarchy(async (rel) => {
    // a full scan already knows which files exist: skip probing the others
    if (scan && !scan.files.has(rel) && !index.entries.has(rel)) return null;
    const abs = path.join(repo.root, ...rel.split("/"));
    try {
      const bytes = fs.readFileSync(abs); // metadata documents: small, and a thread-pool round trip costs more
      kept?.set(rel, bytes); // `add` stores what it read instead of reading it again
      return bytes;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw asAccessError(err, abs);
    }
    const e = index.entries.get(rel);
    if (!e) return null;
    return repo.readStored(e, rel);
  }, strict);
}

export async function classifyAll(h: Hierarchy, paths: readonly string[]): Promise<Map<string, FileKind>> {
  const kinds = await mapLimit(paths, 64, (p) => h.classify(p));
  return new Map(paths.map((p, i) => [p, kinds[i]!]));
}

/** Whether a path is one of `under` or inside one of them (a set and the path's folders: thousands of paths stay cheap). */
function scopeTest(under: readonly string[] | undefined): (p: string) => boolean {
  if (!under) return () => true;
  if (under.includes("")) return () => true;
  if (under.length <= 4) return (p) => under.some((u) => isUnder(p, u));
  const set = new Set(under);
  return (p) => {
    if (set.has(p)) return true;
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) if (set.has(p.slice(0, i))) return true;
    return false;
  };
}
