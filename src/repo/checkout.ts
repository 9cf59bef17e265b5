/**
 * Make the working tree and index match a snapshot: checkout, switch,
 * restore, reset. Only files that differ are written; local changes are
 * never overwritten without --force; files are written by copy, verified
 * against their ids, never hard-linked to the object store.
 */
import fs from "node:fs";
import path from "node:path";
import { CorruptObjectError, DirtyWorkingCopyError, type FileAccessError, IncompleteUpdateError, isTdvError, PathNotFoundError, RefExistsError, RefNotFoundError } from "../errors.js";
import { checkRefName } from "../store/refs.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { mapLimit } from "../store/atomic.js";
import { GitStore } from "../store/git.js";
import type { IndexEntry, IndexState } from "../store/index-file.js";
import { createBranch } from "./branch.js";
import type { Repository } from "./repository.js";
import { resolveRevision } from "./revision.js";
import { MergeInProgressError } from "./merge/errors.js";
import { clearMergeState, readMergeState } from "./merge/state.js";
import { readSnapshot, type SnapEntry } from "./snapshot.js";
import { diffTrees } from "./tree-diff.js";
import { headTree } from "./status.js";
import { compareWorktree, hashWorkFile } from "./work-state.js";
import { copyChunks } from "./checkout-copy.js";
import { isUnder, TreeWriter, type FileStat } from "./worktree.js";
import { readSparse } from "./sparse.js";

export interface CheckoutResult {
  written: number;
  deleted: number;
  bytes: number;
}

export type ProgressFn = (p: { phase: string; done: number; total: number; bytes: number }) => void;

/** Bytes of one snapshot entry, verified against its id. */
export async function readEntry(repo: Repository, rel: string, e: SnapEntry): Promise<Uint8Array> {
  if (e.store === "chunk") return repo.chunks.get(e.id, rel);
  const bytes = await repo.git.readBlob(e.id, rel);
  if (GitStore.blobOid(bytes) !== e.id) throw new CorruptObjectError(e.id, `blob for ${rel} does not match its id`);
  return bytes;
}

/**
 * A failure to write or read a file (a full disk) once a command has begun
 * changing the working copy becomes IncompleteUpdateError, which says what
 * state the working copy is in and how to finish or undo. The index is
 * written last, so HEAD and the index still describe where the command started.
 */
function incomplete(action: string, err: unknown): unknown {
  if (!isTdvError(err, "FileAccessError")) return err;
  const e = err as FileAccessError;
  return new IncompleteUpdateError(action, e.path, e.code, err);
}

export async function writeEntries(
  repo: Repository,
  writes: [string, SnapEntry][],
  deletes: string[],
  onProgress?: ProgressFn,
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
    { byWorkerSoFar: byWorker },
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
  { targetTree, force = false, action, onProgress }: { targetTree: GitOid | null; force?: boolean; action: string; onProgress?: ProgressFn },
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
    const known = ws.modified.get(p) ?? (i && !deletedLocally.has(p) ? i : undefined);
    if (known && known.store === t.store) return known.id === t.id ? known : null;
    const now = await hashWorkFile(repo, p, t.store, false);
    return now.id === t.id ? now : null;
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
    written = await writeEntries(repo, writes, deletes, onProgress);
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

/** Whether the working copy has an index: a clone made with --no-checkout has none until its first checkout. */
export function hasIndex(repo: Repository): boolean {
  return fs.existsSync(repo.indexFile);
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

/**
 * A merge stopped on conflicts holds its work in the index and the working
 * copy: moving away would leave its state behind, pointing at another
 * branch. Refused, as git does. With `force` the move discards that work and
 * the merge is abandoned once the move is done (as `reset --hard` abandons
 * it); returns whether it is.
 */
async function refuseDuringMerge(repo: Repository, force: boolean): Promise<boolean> {
  const pending = await readMergeState(repo);
  if (!pending) return false;
  if (!force) throw new MergeInProgressError(pending.name);
  return true;
}

async function commitTree(repo: Repository, oid: GitOid): Promise<GitOid> {
  return (await repo.git.readCommit(oid)).tree;
}

export interface SwitchResult extends CheckoutResult {
  branch: string;
  oid: GitOid | null;
  created: boolean;
}

/** Switch to a branch (creating it at `start` with `create`). */
export function switchBranch(repo: Repository, opts: Parameters<typeof _switchBranch>[1]): ReturnType<typeof _switchBranch> {
  return repo.exclusive("switch", () => _switchBranch(repo, opts));
}

async function _switchBranch(
  repo: Repository,
  { name, create = false, start, force = false, onProgress }: { name: string; create?: boolean; start?: string; force?: boolean; onProgress?: ProgressFn },
): Promise<SwitchResult> {
  const ref = `refs/heads/${name}`;
  const abandoning = await refuseDuringMerge(repo, force);
  const head = await repo.refs.head();
  let target: GitOid | null;
  if (create) {
    checkRefName(name);
    if (!head.oid && start === undefined) {
      // a new branch on an unborn repository: just point HEAD at it
      await repo.refs.setHead({ branch: ref }, repo.identity(), `switch: to new branch ${name}`);
      return { branch: name, oid: null, created: true, written: 0, deleted: 0, bytes: 0 };
    }
    if (await repo.refs.read(ref)) throw new RefExistsError(`branch ${name}`);
    target = await resolveRevision(repo, start ?? "HEAD");
  } else {
    target = await repo.refs.read(ref);
    if (!target) throw new RefNotFoundError(name, `create it with \`tdv switch -c ${name}\`; \`tdv branch --list\` shows the branches`);
  }
  const res =
    target === head.oid && !force && hasIndex(repo)
      ? { written: 0, deleted: 0, bytes: 0 }
      : await materialize(repo, { targetTree: await commitTree(repo, target), force, action: `switching to '${name}'`, onProgress });
  if (create) await createBranch(repo, { name, start: target });
  await repo.refs.setHead({ branch: ref }, repo.identity(), `checkout: moving from ${head.branch?.replace("refs/heads/", "") ?? head.oid} to ${name}`);
  if (abandoning) await clearMergeState(repo);
  return { branch: name, oid: target, created: create, ...res };
}

export interface CheckoutRevResult extends CheckoutResult {
  oid: GitOid;
  detached: boolean;
  branch: string | null;
}

/** Check out a revision: a branch name switches to it; anything else detaches HEAD there. */
export function checkout(repo: Repository, opts: Parameters<typeof _checkout>[1]): ReturnType<typeof _checkout> {
  return repo.exclusive("checkout", () => _checkout(repo, opts));
}

async function _checkout(
  repo: Repository,
  { rev, force = false, onProgress }: { rev: string; force?: boolean; onProgress?: ProgressFn },
): Promise<CheckoutRevResult> {
  if (!rev.includes("@{") && !/[~^]/.test(rev) && (await repo.refs.read(`refs/heads/${rev}`))) {
    const r = await switchBranch(repo, { name: rev, force, onProgress });
    return { ...r, oid: r.oid as GitOid, detached: false, branch: rev };
  }
  const abandoning = await refuseDuringMerge(repo, force);
  const oid = await resolveRevision(repo, rev);
  const head = await repo.refs.head();
  const res = await materialize(repo, { targetTree: await commitTree(repo, oid), force, action: `checking out '${rev}'`, onProgress });
  if (abandoning) await clearMergeState(repo);
  await repo.refs.setHead({ oid }, repo.identity(), `checkout: moving from ${head.branch?.replace("refs/heads/", "") ?? head.oid} to ${rev}`);
  return { ...res, oid, detached: true, branch: null };
}

/**
 * Restore working files under `paths` from the index, or from `source` (a
 * revision). The index is not changed. Tracked files under a path that the
 * source lacks are removed (as `git restore` does).
 */
export function restore(repo: Repository, opts: Parameters<typeof _restore>[1]): ReturnType<typeof _restore> {
  return repo.exclusive("restore", () => _restore(repo, opts));
}

async function _restore(
  repo: Repository,
  {
    paths,
    source,
    stage = false,
    onProgress,
  }: {
    paths: readonly string[];
    source?: string;
    /** with `source`: also put the source's version of the paths in the index (`checkout REV -- PATH`, as git) */
    stage?: boolean;
    onProgress?: ProgressFn;
  },
): Promise<CheckoutResult> {
  const index = await repo.readIndex();
  const src: ReadonlyMap<string, SnapEntry> =
    source === undefined ? index.entries : (await readSnapshot(repo, await commitTree(repo, await resolveRevision(repo, source)))).files;
  const ws = await compareWorktree(repo, index, { under: paths });
  const inScope = (p: string) => paths.some((u) => isUnder(p, u));
  for (const u of paths) {
    const known = [...src.keys(), ...index.entries.keys()].some((p) => isUnder(p, u));
    if (!known) throw new PathNotFoundError(u, source ? `in ${source} or the index` : "in the index (is it tracked?)");
  }
  const deleted = new Set(ws.deleted);
  const writes: [string, SnapEntry][] = [];
  const deletes: string[] = [];
  const sparse = readSparse(repo);
  for (const [p, e] of src) {
    if (!inScope(p) || (sparse && !sparse.includes(p))) continue;
    const i = index.entries.get(p);
    if (ws.modified.has(p) || deleted.has(p) || !i || i.id !== e.id || !ws.scan.files.has(p)) writes.push([p, e]);
  }
  for (const p of index.entries.keys()) if (inScope(p) && !src.has(p) && ws.scan.files.has(p) && (!sparse || sparse.includes(p))) deletes.push(p);
  const { stats, bytes } = await writeEntries(repo, writes, deletes, onProgress).catch((err: unknown) => {
    throw incomplete(`restoring ${paths.join(", ")}`, err);
  });
  if (source === undefined && stats.size > 0) {
    for (const [p, e] of stats) index.entries.set(p, e);
    await repo.writeIndex(index);
  } else if (source !== undefined && stage) {
    let changed = false;
    for (const [p, e] of src) {
      if (!inScope(p)) continue;
      const now = stats.get(p) ?? index.entries.get(p);
      const next = now && now.id === e.id ? now : { ...e, mtimeMs: 0, ctimeMs: 0, ino: 0 };
      if (next !== index.entries.get(p)) changed = true;
      index.entries.set(p, next);
    }
    for (const p of [...index.entries.keys()]) {
      if (inScope(p) && !src.has(p)) {
        index.entries.delete(p);
        changed = true;
      }
    }
    if (changed) await repo.writeIndex({ tree: null, entries: index.entries });
  }
  return { written: writes.length, deleted: deletes.length, bytes };
}

export type ResetMode = "soft" | "mixed" | "hard";

/** Move the current branch (or detached HEAD) to `rev`; mixed also resets the index, hard also the working tree. */
export function reset(repo: Repository, opts: Parameters<typeof _reset>[1]): ReturnType<typeof _reset> {
  return repo.exclusive("reset", () => _reset(repo, opts));
}

async function _reset(
  repo: Repository,
  { rev, mode = "mixed", onProgress }: { rev: string; mode?: ResetMode; onProgress?: ProgressFn },
): Promise<{ oid: GitOid; previous: GitOid | null; branch: string | null } & CheckoutResult> {
  const head = await repo.refs.head();
  const oid = await resolveRevision(repo, rev);
  const tree = await commitTree(repo, oid);
  let res: CheckoutResult = { written: 0, deleted: 0, bytes: 0 };
  if (mode === "hard") {
    res = await materialize(repo, { targetTree: tree, force: true, action: "reset", onProgress });
  } else if (mode === "mixed") {
    const index: IndexState = await repo.readIndex();
    const T = (await readSnapshot(repo, tree)).files;
    const entries = new Map<string, IndexEntry>();
    for (const [p, t] of T) {
      const i = index.entries.get(p);
      entries.set(p, i && i.id === t.id ? i : { ...t, mtimeMs: 0, ctimeMs: 0, ino: 0 });
    }
    await repo.writeIndex({ tree, entries });
  }
  await repo.refs.update(head.branch ?? "HEAD", { expected: head.oid, next: oid, who: repo.identity(), message: `reset: moving to ${rev}` });
  await clearMergeState(repo); // as git: a reset ends a stopped merge (MERGE_HEAD and the rest)
  return { oid, previous: head.oid, branch: head.branch, ...res };
}
