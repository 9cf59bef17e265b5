/**
 * Make the working tree and index match a snapshot: checkout, switch,
 * restore, reset. Only files that differ are written; local changes are
 * never overwritten without --force; files are written by copy, verified
 * against their ids, never hard-linked to the object store.
 */
import { PathNotFoundError, RefExistsError, RefNotFoundError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { MergeInProgressError } from "../repo/merge/errors.js";
import { clearMergeState, readMergeState } from "../repo/merge/state.js";
import { hasIndex, type Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import { readSnapshot, type SnapEntry } from "../repo/snapshot.js";
import type { IndexEntry, IndexState } from "../store/index-file.js";
import { checkRefName } from "../store/refs.js";
import { type CheckoutResult, commitTree, incomplete, materialize, type ProgressFn, writeEntries } from "../worktree/materialize.js";
import { compareWorktree } from "../worktree/work-state.js";
import { isUnder } from "../format/paths.js";
import { createBranchRef } from "../repo/branches.js";
import { readSparse } from "../worktree/sparse-set.js";

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
  if (create) await createBranchRef(repo, { name, start: target });
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
