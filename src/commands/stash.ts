/**
 * `tdv stash`: put local changes to tracked files aside and bring them back,
 * stored as git stores them: a stash is a commit W (the working files) whose
 * parents are HEAD and a commit I (the index); `refs/stash` names the newest
 * and its reflog is the stack (stash@{0} is the newest). Chunk objects of a
 * stash are reachable from refs/stash and its reflog, so gc keeps them.
 * Untracked files are not stashed (git's default).
 *
 * apply merges the stash into HEAD with the merge machinery (base W^1, ours
 * HEAD, theirs W), element by element; a conflict refuses it and nothing
 * changes. Changed files come back unstaged, new files staged, as in git.
 */
import { NoStashError, StashConflictError, UncommittedChangesError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { IndexEntry } from "../store/index-file.js";
import { stage } from "../worktree/stage.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../worktree/materialize.js";
import type { Repository } from "../repo/repository.js";
import { readCommitSnapshot, readSnapshot, writeSnapshot, type SnapEntry } from "../repo/snapshot.js";
import { uncommittedPaths } from "../worktree/status.js";
import { mergeBaseOf } from "../repo/merge/bases.js";
import { MergeInProgressError } from "../repo/merge/errors.js";
import { readMergeState } from "../repo/merge/state.js";
import { mergeSnapshots } from "../repo/merge/three-way.js";

const STASH = "refs/stash";

export interface StashEntry {
  selector: string;
  oid: GitOid;
  /** "WIP on main: abc1234 subject" or "On main: MESSAGE" */
  message: string;
  timestamp: number;
}

function subjectOf(message: string): string {
  return message.trim().split("\n")[0] ?? "";
}

/** The stash stack, newest first. */
export async function stashList(repo: Repository): Promise<StashEntry[]> {
  const entries = await repo.refs.reflog(STASH);
  return entries
    .map((e, i) => ({ e, n: entries.length - 1 - i }))
    .reverse()
    .filter(({ e }) => e.next !== null)
    .map(({ e, n }) => ({ selector: `stash@{${n}}`, oid: e.next as GitOid, message: e.message, timestamp: e.timestamp }));
}

async function entryAt(repo: Repository, n: number): Promise<{ entry: StashEntry; top: GitOid }> {
  const list = await stashList(repo);
  const entry = list[n];
  const top = await repo.refs.read(STASH);
  if (!entry || !top) throw new NoStashError(`stash@{${n}}`, list.length);
  return { entry, top };
}

export interface StashPushResult {
  /** null: there were no local changes to save */
  entry: StashEntry | null;
  checkout: CheckoutResult;
}

/** Save the index and the tracked working files as a stash, then make them match HEAD. */
export function stashPush(repo: Repository, opts: { message?: string; onProgress?: ProgressFn } = {}): Promise<StashPushResult> {
  return repo.exclusive("stash", () => _stashPush(repo, opts));
}

async function _stashPush(repo: Repository, { message, onProgress }: { message?: string; onProgress?: ProgressFn }): Promise<StashPushResult> {
  const pending = await readMergeState(repo);
  if (pending) throw new MergeInProgressError(pending.name);
  const head = await repo.refs.head();
  if (head.oid === null) throw new UsageError("cannot stash on a branch with no commits", { hint: "commit first: a stash is kept relative to a commit" });
  if ((await uncommittedPaths(repo)).length === 0) return { entry: null, checkout: { written: 0, deleted: 0, bytes: 0 } };
  const headCommit = await repo.git.readCommit(head.oid);
  const branch = head.branch?.replace(/^refs\/heads\//, "") ?? "(no branch)";
  const base = `${head.oid.slice(0, 7)} ${subjectOf(headCommit.message)}`;
  const who = repo.identity();
  const { indexTree, workTree } = await repo.git.withPack(async (pack) => {
    const index = await repo.readIndex();
    const indexTree = index.tree ?? (await writeSnapshot(repo, index.entries, undefined, pack));
    const staged = await stage(repo, { trackedOnly: true }, pack); // stores the working files' bytes; the index file is not written
    const workTree = await writeSnapshot(repo, staged.index.entries, undefined, pack);
    return { indexTree, workTree };
  });
  const i = await repo.git.writeCommit({ tree: indexTree, parents: [head.oid], author: who, committer: who, message: `index on ${branch}: ${base}\n` });
  const title = message ? `On ${branch}: ${message}` : `WIP on ${branch}: ${base}`;
  const w = await repo.git.writeCommit({ tree: workTree, parents: [head.oid, i], author: who, committer: who, message: `${title}\n` });
  await repo.durability.flush();
  await repo.refs.update(STASH, { expected: await repo.refs.read(STASH), next: w, who, message: title });
  // only now that the stash is recorded: the working copy and index back to HEAD
  const checkout = await materialize(repo, { targetTree: headCommit.tree, force: true, action: "stashing", onProgress });
  return { entry: { selector: "stash@{0}", oid: w, message: title, timestamp: who.timestamp }, checkout };
}

export interface StashApplyResult {
  entry: StashEntry;
  checkout: CheckoutResult;
  /** pop: the entry was dropped */
  dropped: boolean;
}

/** Apply stash entry `n` to the working copy (a three-way merge into HEAD); `pop` then drops it. */
export function stashApply(repo: Repository, opts: { n?: number; pop?: boolean; onProgress?: ProgressFn } = {}): Promise<StashApplyResult> {
  return repo.exclusive(opts.pop ? "stash pop" : "stash apply", () => _stashApply(repo, opts));
}

async function _stashApply(repo: Repository, { n = 0, pop = false, onProgress }: { n?: number; pop?: boolean; onProgress?: ProgressFn }): Promise<StashApplyResult> {
  const pending = await readMergeState(repo);
  if (pending) throw new MergeInProgressError(pending.name);
  const { entry, top } = await entryAt(repo, n);
  const head = await repo.refs.head();
  if (head.oid === null) throw new UsageError("cannot apply a stash on a branch with no commits");
  const dirty = await uncommittedPaths(repo);
  if (dirty.length > 0) throw new UncommittedChangesError(dirty, `apply ${entry.selector}`);

  const w = await repo.git.readCommit(entry.oid);
  const stashBase = w.parents[0];
  if (!stashBase) throw new UsageError(`${entry.selector} is not a stash commit (it has no parent)`);
  const mb = await mergeBaseOf(repo, [stashBase]);
  const [O, T] = [await readCommitSnapshot(repo, head.oid), await readCommitSnapshot(repo, entry.oid)];
  const merged = await mergeSnapshots(repo, mb, O, T);
  if (merged.conflicts) throw new StashConflictError(entry.selector, merged.conflicts);
  const tree = merged.tree;
  const checkout = await materialize(repo, { targetTree: tree, action: `applying ${entry.selector}`, onProgress });
  // as git: changes to HEAD's files come back unstaged, new files staged
  const H = (await readSnapshot(repo, O.tree)).files;
  const index = await repo.readIndex();
  const entries = new Map<string, IndexEntry>(index.entries);
  const unstaged = (e: SnapEntry): IndexEntry => ({ ...e, mtimeMs: 0, ctimeMs: 0, ino: 0 });
  for (const [p, e] of index.entries) {
    const h = H.get(p);
    if (h && h.id !== e.id) entries.set(p, unstaged(h));
  }
  for (const [p, h] of H) if (!entries.has(p)) entries.set(p, unstaged(h));
  await repo.writeIndex({ tree: null, entries });
  let dropped = false;
  if (pop) {
    await repo.refs.dropReflogEntry(STASH, n, top);
    dropped = true;
  }
  return { entry, checkout, dropped };
}

/** Drop stash entry `n`. */
export async function stashDrop(repo: Repository, { n = 0 }: { n?: number } = {}): Promise<StashEntry> {
  return repo.writing("stash drop", async () => {
    const { entry, top } = await entryAt(repo, n);
    await repo.refs.dropReflogEntry(STASH, n, top);
    return entry;
  });
}
