/**
 * Write a snapshot into the working tree and index: the machinery under
 * checkout, switch, reset, merge, revert, stash and sparse. Only files that
 * differ are written; local changes are never overwritten without `force`;
 * files are written by copy, verified against their ids, never hard-linked
 * to the object store.
 */
import path from "node:path";
import { readSparse } from "./sparse-set.js";
import { DirtyWorkingCopyError, type FileAccessError, IncompleteUpdateError, isTdvError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { hasIndex, type Repository } from "../repo/repository.js";
import { headTree, readEntry, readSnapshot, type SnapEntry } from "../repo/snapshot.js";
import { diffTrees } from "../repo/tree-diff.js";
import { mapLimit } from "../store/atomic.js";
import type { IndexEntry } from "../store/index-file.js";
import { copyChunks } from "./checkout-copy.js";
import { compareWorktree, hashWorkFile } from "./work-state.js";
import { type FileStat, sameStat, TreeWriter } from "./worktree.js";
import type { PrePlaced } from "./arriving.js";

export interface CheckoutResult {
  written: number;
  deleted: number;
  bytes: number;
}

export type ProgressFn = (p: { phase: string; done: number; total: number; bytes: number }) => void

/**
 * A failure to write or read a file (a full disk) once a command has begun
 * changing the working copy becomes IncompleteUpdateError, which says what
 * state the working copy is in and how to finish or undo. The index is
 * written last, so HEAD and the index still describe where the command started.
 */
export function incomplete(action: string, err: unknown): unknown {
  if (!isTdvError(err, "FileAccessError")) return err;
  const e = err as FileAccessError;
  return new IncompleteUpdateError(action, e.path, e.code, err);
}

export async function writeEntries(
  repo: Repository,
  writes: [string, SnapEntry][],
  deletes: string[],
  onProgress?: ProgressFn,
  /** chunk ids this process verified and stored moments before: copied without a second verifying read (copyChunks) */
  verified?: ReadonlySet<string>,
): Promise<{ stats: Map<string, IndexEntry>; bytes: number }> {
  // a lazy clone downloads what it lacks before the working tree is touched: a chunk the remote
  // cannot give fails the command with the working tree and the index as they were
  await fetchAbsentChunks(repo, writes, onProgress);
  const w = new TreeWriter(repo.root, path.join(repo.tdvDir, "tmp"));
  for (const p of deletes) await w.remove(p);
  const stats = new Map<string, IndexEntry>();
  let bytes = 0;
  let done = 0;
  const byWorker = { files: 0, bytes: 0 };
  const placed = (p: string, e: SnapEntry, st: FileStat) => {
    bytes += st.size;
    stats.set(p, { ...(e.store === "git" ? { store: "git", id: e.id } : { store: "chunk", id: e.id }), ...st });
    onProgress?.({ phase: "writing", done: ++done + byWorker.files, total: writes.length, bytes: bytes + byWorker.bytes });
  };
  // Chunk objects in the local store: verified copies on both cores (copyChunks);
  // Git blobs, and chunks a lazy clone must fetch, below
  const rest: [string, SnapEntry][] = writes.filter(([, e]) => e.store !== "chunk");
  await copyChunks(
    repo,
    w,
    writes.filter(([, e]) => e.store === "chunk"),
    placed,
    (p, e) => rest.push([p, e]),
    { byWorkerSoFar: byWorker, ...(verified ? { verified } : {}) },
  );
  // Git blobs and chunks a lazy clone fetches: reads in parallel
  await mapLimit(rest, 16, async ([p, e]) => {
    const data = await readEntry(repo, p, e);
    placed(p, e, w.writeSync(p, data));
  });
  return { stats, bytes };
}

/**
 * The chunk objects of `writes` a lazy clone lacks, downloaded (verified and
 * stored) from its remote; nothing for a repository with every chunk. Each
 * object once, 16 at a time; the first failure stops the rest and is thrown
 * once the downloads in flight have settled.
 */
async function fetchAbsentChunks(repo: Repository, writes: readonly [string, SnapEntry][], onProgress?: ProgressFn): Promise<void> {
  if (!repo.chunks.fallback) return;
  const wanted = new Map<string, [string, SnapEntry]>();
  for (const w of writes) if (w[1].store === "chunk" && !wanted.has(w[1].id)) wanted.set(w[1].id, w);
  const all = [...wanted.values()];
  const here = await mapLimit(all, 64, ([, e]) => repo.chunks.has(e.id as ChunkId));
  const absent = all.filter((_, i) => !here[i]);
  let done = 0;
  let bytes = 0;
  const total = absent.length;
  await mapLimit(absent, 16, async ([p, e]) => {
    await repo.chunks.get(e.id as ChunkId, p);
    bytes += e.size;
    onProgress?.({ phase: "fetching", done: ++done, total, bytes });
  });
}

/**
 * Move the working tree and index from HEAD's snapshot to `targetTree`.
 * Local changes to files that do not differ between the two are carried over
 * (as git does); local changes to files that do differ refuse the move unless
 * `force`, which also discards every local change to tracked files.
 */
export async function materialize(
  repo: Repository,
  {
    targetTree,
    force = false,
    action,
    onProgress,
    verified,
    prePlaced,
  }: {
    targetTree: GitOid | null;
    force?: boolean;
    action: string;
    onProgress?: ProgressFn;
    /** chunk ids this process verified and stored moments before (a clone's fetch): see copyChunks */
    verified?: ReadonlySet<string>;
    /**
     * Working files this process wrote moments before from verified chunks (a clone's, as they
     * arrived: arriving.ts): each taken as it is while its stat data is still what was placed
     */
    prePlaced?: PrePlaced;
  },
): Promise<CheckoutResult> {
  const head = await repo.refs.head();
  const index = await repo.readIndex();
  const hTree = await headTree(repo, head.oid);
  // no index yet (a clone made with --no-checkout): the first checkout, which carries nothing from HEAD
  const H: ReadonlyMap<string, { id: string }> = !hasIndex(repo)
    ? new Map()
    : index.tree && index.tree === hTree
      ? index.entries
      : (await readSnapshot(repo, hTree)).files;
  // a sparse checkout: files outside the set are neither written nor removed; the index takes the target's
  const sparse = readSparse(repo);
  const outside = new Map<string, SnapEntry | undefined>();
  // Nothing staged (the index is HEAD's snapshot): only the files that differ between HEAD and
  // the target are written or deleted, so only they are looked at in the working tree. A local
  // change elsewhere is carried over untouched, as git does; the cost follows the change, not
  // the size of the tree.
  const onlyChanged = !force && index.tree !== null && index.tree === hTree;
  let T: ReadonlyMap<string, SnapEntry>;
  let scope: string[] | undefined;
  if (onlyChanged && targetTree && repo.isVerifiedTree(targetTree) && repo.isVerifiedTree(hTree!)) {
    // both trees passed a full check before: comparing them reads only the subtrees that differ,
    // and T holds only the target's files that differ from HEAD's (all the loop below looks at)
    const differing = new Map<string, SnapEntry>();
    scope = (await diffTrees(repo, hTree, targetTree, differing)).map((c) => c.path);
    T = differing;
  } else {
    T = (await readSnapshot(repo, targetTree)).files; // checks everything a hostile tree could hold
    if (targetTree) repo.markVerifiedTree(targetTree);
    if (onlyChanged) {
      scope = [];
      for (const [p, t] of T) if (H.get(p)?.id !== t.id) scope.push(p);
      for (const p of H.keys()) if (!T.has(p)) scope.push(p);
    }
  }
  const ws = await compareWorktree(repo, index, scope ? { under: scope } : {});
  const deletedLocally = new Set(ws.deleted);

  const writes: [string, SnapEntry][] = [];
  const deletes: string[] = [];
  const dirty: string[] = [];
  // files whose local state already is the target's (a switch killed half-way got that far)
  const already = new Map<string, IndexEntry>();
  const holdsTarget = async (p: string, t: SnapEntry | undefined, i: IndexEntry | undefined): Promise<IndexEntry | "absent" | null> => {
    if (!ws.scan.files.has(p)) return t ? null : "absent";
    if (!t) return null;
    const pre = prePlaced?.get(p);
    const now = ws.scan.files.get(p);
    if (pre && now && t.store === "chunk" && pre.id === t.id && sameStat(pre.stat, now)) return { store: "chunk", id: t.id, size: now.size, mtimeMs: now.mtimeMs, ctimeMs: now.ctimeMs, ino: now.ino };
    const known = ws.modified.get(p) ?? (i && !deletedLocally.has(p) ? i : undefined);
    if (known && known.store === t.store) return known.id === t.id ? known : null;
    const hashed = await hashWorkFile(repo, p, t.store, false);
    return hashed.id === t.id ? hashed : null;
  };
  let carried = false;
  const paths = scope ? new Set(scope) : new Set<string>([...H.keys(), ...T.keys(), ...index.entries.keys()]);
  for (const p of paths) {
    const h = H.get(p);
    const t = T.get(p);
    const i = index.entries.get(p);
    if (sparse && !sparse.includes(p)) {
      outside.set(p, t);
      continue;
    }
    const localChange = i?.id !== h?.id || ws.modified.has(p) || deletedLocally.has(p);
    if (force) {
      if (t && (i?.id !== t.id || ws.modified.has(p) || deletedLocally.has(p))) writes.push([p, t]);
      else if (!t && i) deletes.push(p);
      continue;
    }
    if (h?.id === t?.id) {
      if (localChange) carried = true;
      continue;
    }
    const inTheWay = !i && !h && ws.scan.files.has(p);
    if (localChange || inTheWay) {
      const held = await holdsTarget(p, t, i);
      if (held === "absent") deletes.push(p);
      else if (held) already.set(p, held);
      else dirty.push(p);
    } else if (t) writes.push([p, t]);
    else deletes.push(p);
  }
  if (dirty.length > 0) throw new DirtyWorkingCopyError(dirty.sort(), action);

  let written: Awaited<ReturnType<typeof writeEntries>>;
  try {
    written = await writeEntries(repo, writes, deletes, onProgress, verified);
  } catch (err) {
    throw incomplete(action, err);
  }
  const { stats, bytes } = written;
  let entries: Map<string, IndexEntry>;
  if (force) {
    entries = new Map();
    for (const [p, t] of T) {
      const i = index.entries.get(p);
      entries.set(p, stats.get(p) ?? (i && i.id === t.id ? i : { ...t, mtimeMs: 0, ctimeMs: 0, ino: 0 }));
    }
  } else {
    entries = new Map(index.entries);
    for (const p of deletes) entries.delete(p);
    for (const [p, e] of [...already, ...stats]) entries.set(p, e);
    for (const [p, t] of outside) {
      const i = entries.get(p);
      if (!t) entries.delete(p);
      else if (i?.id !== t.id) entries.set(p, { ...t, mtimeMs: 0, ctimeMs: 0, ino: 0 });
    }
  }
  await repo.writeIndex({ tree: force || !carried ? targetTree : null, entries }).catch((err: unknown) => {
    throw incomplete(action, err);
  });
  return { written: writes.length, deleted: deletes.length, bytes };
}

/**
 * The first checkout of a working copy that has none yet (a clone made with
 * --no-checkout, or `sparse set` in one): HEAD's snapshot, as far as the
 * sparse set reaches. Files already in the way are kept when they hold the
 * target's bytes, else refused as local changes.
 */
export async function initialCheckout(repo: Repository, onProgress?: ProgressFn): Promise<CheckoutResult> {
  const head = await repo.refs.head();
  if (!head.oid) return { written: 0, deleted: 0, bytes: 0 };
  return materialize(repo, { targetTree: await commitTree(repo, head.oid), action: "checking out HEAD", ...(onProgress ? { onProgress } : {}) });
}

export async function commitTree(repo: Repository, oid: GitOid): Promise<GitOid> {
  return (await repo.git.readCommit(oid)).tree;
}
