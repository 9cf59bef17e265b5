/**
 * `tdv rebase [UPSTREAM] [--onto NEWBASE]`: the current branch's commits that
 * UPSTREAM lacks, replayed one by one onto UPSTREAM (or NEWBASE), as git does.
 * Each step is a three-way merge of one commit's change with the merge
 * engine: base = the commit's parent, ours = the rewritten tip so far,
 * theirs = the commit. Chunks changed on one side are taken from it, chunks
 * both changed merge element by element; a real conflict stops the rebase
 * with a merge state (`tdv resolve`, `tdv status` work on it) and
 * `--continue`, `--skip` or `--abort` go on from there.
 *
 * Each replayed commit keeps its author, message and trailers (the committer
 * is who rebases, now). Merge commits of the range are left out (git's
 * default): the commits they merged are replayed in their place, so history
 * becomes linear. A commit whose change is already there is dropped (one
 * that was empty from the start is kept, as git keeps it).
 *
 * As in git, HEAD is detached while the rebase runs and moves with each step
 * (its reflog records each one); the branch moves once, at the end, so
 * `BRANCH@{1}` names its commit before the rebase. The state is in
 * `.tdv/rebase-state.json` (rebase-state.ts), written before each move: a
 * rebase killed anywhere is undone by `--abort` or finished by `--continue`.
 */
import { isTdvError, UncommittedChangesError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { CommitObject } from "../format/git-object.js";
import { writeAtomic } from "../store/atomic.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../worktree/materialize.js";
import { recordCommit } from "../worktree/record.js";
import { gate } from "../rules/gate.js";
import { RulesFailedError } from "../rules/errors.js";
import { uncommittedPaths } from "../worktree/status.js";
import { isAncestor } from "../repo/history.js";
import type { Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import { readCommitSnapshot, readEntry, writeSnapshot } from "../repo/snapshot.js";
import { assembleFiles } from "../repo/merge/assemble.js";
import { mergeBaseOf } from "../repo/merge/bases.js";
import { detectConflicts } from "../repo/merge/detect.js";
import { MergeIncompleteError, MergeInProgressError, UnresolvedConflictsError } from "../repo/merge/errors.js";
import { dropOutsideGrid } from "../repo/merge/grid.js";
import { storeMerged } from "../repo/merge/three-way.js";
import { describeOpen } from "../repo/merge/inputs.js";
import { solve } from "../repo/merge/solve.js";
import { clearMergeState, isResolvedInIndex, openConflict, readMergeState, writeMergeState } from "../repo/merge/state.js";
import { conflictSubject, type MergeState, type OpenConflict } from "../repo/merge/types.js";
import {
  clearRebaseState,
  NoRebaseInProgressError,
  readRebaseOrigIndex,
  readRebaseState,
  RebaseInProgressError,
  saveRebaseOrigIndex,
  writeRebaseState,
  type RebaseState,
  type RebaseStep,
} from "../repo/rebase-state.js";

export interface RebaseOptions {
  /** the commits to leave out are those of UPSTREAM (default: the branch's remote-tracking branch, origin/BRANCH) */
  upstream?: string;
  /** replay onto this commit instead of UPSTREAM */
  onto?: string;
  /** move the branch even when its rules (tdv-rules.toml, check_on "commit") fail on the result; named in the reflog */
  noVerify?: boolean;
  onProgress?: ProgressFn;
}

export interface RebaseResult {
  /**
   * "up-to-date": nothing to replay; "fast-forward": the branch had no commits
   * of its own and now is UPSTREAM; "rebased": every commit replayed;
   * "conflicts": stopped on a commit whose change conflicts;
   * "aborted": put back as before the rebase
   */
  kind: "up-to-date" | "fast-forward" | "rebased" | "conflicts" | "aborted";
  /** the branch (refs/heads/X), or null for a detached HEAD */
  branch: string | null;
  upstream: string;
  onto: GitOid;
  /** the branch's commit before the rebase */
  origHead: GitOid;
  /** HEAD now */
  head: GitOid;
  /** the commits replayed, oldest first: old id → new id (null: dropped) */
  replayed: RebaseStep[];
  /** merge commits of the range, left out (the history becomes linear) */
  flattened: GitOid[];
  /** commits still to replay (the stopped one included) */
  remaining: number;
  /** the commit stopped on, and its conflicts */
  stopped?: { oid: GitOid; subject: string };
  conflicts?: OpenConflict[];
  checkout: CheckoutResult;
}

const NONE: CheckoutResult = { written: 0, deleted: 0, bytes: 0 };

export function rebase(repo: Repository, opts: RebaseOptions = {}): Promise<RebaseResult> {
  return repo.exclusive("rebase", () => _rebase(repo, opts));
}

export function rebaseContinue(repo: Repository, opts: { onProgress?: ProgressFn; noVerify?: boolean } = {}): Promise<RebaseResult> {
  return repo.exclusive("rebase --continue", () => _continue(repo, opts.onProgress, opts.noVerify === true));
}

export function rebaseSkip(repo: Repository, opts: { onProgress?: ProgressFn; noVerify?: boolean } = {}): Promise<RebaseResult> {
  return repo.exclusive("rebase --skip", () => _skip(repo, opts.onProgress, opts.noVerify === true));
}

export function rebaseAbort(repo: Repository, opts: { onProgress?: ProgressFn } = {}): Promise<RebaseResult> {
  return repo.exclusive("rebase --abort", () => _abort(repo, opts.onProgress));
}

const subjectOf = (c: CommitObject) => c.message.trim().split("\n")[0] ?? "";

/** The default upstream of a branch: its remote-tracking branch (origin/BRANCH), as `tdv pull` brings it in. */
async function defaultUpstream(repo: Repository, branch: string): Promise<string> {
  const name = branch.replace(/^refs\/heads\//, "");
  if (await repo.refs.read(`refs/remotes/origin/${name}`)) return `origin/${name}`;
  throw new UsageError(`${name} has no upstream (no remote-tracking branch origin/${name})`, {
    hint: "name it: `tdv rebase main`, `tdv rebase origin/main`; or fetch first (`tdv fetch`)",
  });
}

/**
 * The commits of `head` that `upstream` lacks, parents before children
 * (first parents first), and the merge commits among them, which are left out.
 */
async function commitsToReplay(repo: Repository, upstream: GitOid, head: GitOid): Promise<{ picks: GitOid[]; merges: GitOid[] }> {
  const inUpstream = new Set<GitOid>();
  const stack: GitOid[] = [upstream];
  while (stack.length) {
    const oid = stack.pop() as GitOid;
    if (inUpstream.has(oid)) continue;
    inUpstream.add(oid);
    for (const p of (await repo.git.readCommit(oid)).parents) if (!inUpstream.has(p)) stack.push(p);
  }
  const picks: GitOid[] = [];
  const merges: GitOid[] = [];
  const seen = new Set<GitOid>();
  // depth-first, post-order (a commit after its parents), without recursion
  const work: { oid: GitOid; expanded: boolean }[] = [{ oid: head, expanded: false }];
  while (work.length) {
    const top = work.pop() as { oid: GitOid; expanded: boolean };
    if (top.expanded) {
      const c = await repo.git.readCommit(top.oid);
      (c.parents.length > 1 ? merges : picks).push(top.oid);
      continue;
    }
    if (seen.has(top.oid) || inUpstream.has(top.oid)) continue;
    seen.add(top.oid);
    work.push({ oid: top.oid, expanded: true });
    const parents = (await repo.git.readCommit(top.oid)).parents;
    for (const p of [...parents].reverse()) if (!seen.has(p) && !inUpstream.has(p)) work.push({ oid: p, expanded: false });
  }
  return { picks, merges };
}

async function _rebase(repo: Repository, opts: RebaseOptions): Promise<RebaseResult> {
  const pending = await readRebaseState(repo).catch(() => ({ branch: null }));
  if (pending) throw new RebaseInProgressError(pending.branch);
  const merging = await readMergeState(repo);
  if (merging) throw new MergeInProgressError(merging.name);
  const head = await repo.refs.head();
  if (head.oid === null) throw new UsageError("nothing to rebase: this branch has no commits yet");
  if (!head.branch && opts.upstream === undefined) {
    throw new UsageError("HEAD is detached: name the upstream to rebase onto", { hint: "`tdv rebase main`, or `tdv switch BRANCH` first" });
  }
  const upstreamName = opts.upstream ?? (await defaultUpstream(repo, head.branch as string));
  const upstream = await resolveRevision(repo, upstreamName);
  const onto = opts.onto === undefined ? upstream : await resolveRevision(repo, opts.onto);
  const dirty = await uncommittedPaths(repo);
  if (dirty.length > 0) throw new UncommittedChangesError(dirty, `rebase onto ${opts.onto ?? upstreamName}`);

  const { picks, merges } = await commitsToReplay(repo, upstream, head.oid);
  const base = { branch: head.branch, upstream: upstreamName, onto, origHead: head.oid, flattened: merges, replayed: [] as RebaseStep[], remaining: 0 };
  if (picks.length === 0) {
    if (head.oid === onto || (await isAncestor(repo, onto, head.oid))) return { ...base, kind: "up-to-date", head: head.oid, checkout: NONE };
    // no commits of its own: the branch becomes the new base (a fast-forward when it is ahead), as a merge would make it
    await gate(repo, onto, head.branch, "merge", opts.noVerify === true);
    const checkout = await materialize(repo, { targetTree: (await repo.git.readCommit(onto)).tree, action: `rebasing onto ${opts.onto ?? upstreamName}`, ...progress(opts.onProgress) });
    await repo.refs.update(head.branch ?? "HEAD", { expected: head.oid, next: onto, who: repo.identity(), message: `rebase (finish): ${head.branch ?? "HEAD"} onto ${onto}` });
    return { ...base, kind: "fast-forward", head: onto, checkout };
  }
  // already on top of the new base, one commit after another: nothing to rewrite
  if (merges.length === 0 && (await repo.git.readCommit(picks[0] as GitOid)).parents[0] === onto) {
    return { ...base, kind: "up-to-date", head: head.oid, checkout: NONE };
  }

  await saveRebaseOrigIndex(repo);
  const state: RebaseState = { version: 1, branch: head.branch, origHead: head.oid, upstream: upstreamName, onto, todo: picks, done: [], tip: onto, pending: onto, flattened: merges };
  await writeRebaseState(repo, state);
  return proceed(repo, state, opts.onProgress, opts.noVerify === true);
}

const progress = (onProgress?: ProgressFn) => (onProgress ? { onProgress } : {});

/**
 * Replay the commits of `state.todo` one after another, then move the branch.
 * Each step: the merge, a commit, the state naming it as pending, the working
 * copy and HEAD moved to it, the state with it as the tip.
 */
async function proceed(repo: Repository, state: RebaseState, onProgress?: ProgressFn, noVerify = false): Promise<RebaseResult> {
  const checkout = { ...NONE };
  const add = (c: CheckoutResult) => {
    checkout.written += c.written;
    checkout.deleted += c.deleted;
    checkout.bytes += c.bytes;
  };
  const finishPending = async () => {
    const next = state.pending as GitOid;
    const c = await repo.git.readCommit(next);
    add(await materialize(repo, { targetTree: c.tree, action: `rebasing onto ${state.upstream}`, ...progress(onProgress) }));
    const message = next === state.onto ? `rebase (start): checkout ${state.upstream}` : `rebase (pick): ${subjectOf(c)}`;
    if ((await repo.refs.head()).branch !== null || (await repo.refs.head()).oid !== next) await repo.refs.setHead({ oid: next }, repo.identity(), message);
    delete state.pending;
    state.tip = next;
    await writeRebaseState(repo, state);
  };
  if (state.pending) await finishPending();

  while (state.todo.length > 0) {
    const oid = state.todo[0] as GitOid;
    const c = await repo.git.readCommit(oid);
    const parent = c.parents[0] ?? null;
    const tipTree = (await repo.git.readCommit(state.tip)).tree;
    const parentTree = parent ? (await repo.git.readCommit(parent)).tree : null;
    let tree: GitOid;
    if (parentTree === tipTree) tree = c.tree; // the commit's parent is the tip as it is: its tree is the result
    else {
      const step = await mergeStep(repo, parent, state.tip, oid);
      if (step.conflicts) return stop(repo, state, c, step, checkout, onProgress);
      tree = step.tree;
    }
    if (tree === tipTree && c.tree !== parentTree) {
      // its change is there already (upstream has it): dropped, as git drops commits that become empty
      // (a commit empty from the start, `commit --allow-empty`, is kept, as git keeps it)
      state.todo.shift();
      state.done.push({ old: oid, new: null, subject: subjectOf(c), dropped: "empty" });
      await writeRebaseState(repo, state);
      continue;
    }
    const now = new Date();
    const next = await repo.git.writeCommit({ tree, parents: [state.tip], author: c.author, committer: repo.identity(now, "committer"), message: c.message });
    repo.markVerifiedTree(tree);
    state.todo.shift();
    state.done.push({ old: oid, new: next, subject: subjectOf(c) });
    state.pending = next;
    await writeRebaseState(repo, state);
    await finishPending();
  }
  return finish(repo, state, checkout, noVerify);
}

type Step = { tree: GitOid; conflicts?: undefined } | { tree: GitOid; conflicts: Awaited<ReturnType<typeof solve>>["unsolvable"]; consolidated: string[] };

/** One commit's change (parent → commit) merged onto the tip: the merged tree, and the conflicts left open (the tree then holds the tip's side of them). */
async function mergeStep(repo: Repository, parent: GitOid | null, tip: GitOid, commit: GitOid): Promise<Step> {
  const mb = await mergeBaseOf(repo, parent ? [parent] : []);
  const [O, T] = [await readCommitSnapshot(repo, tip), await readCommitSnapshot(repo, commit)];
  const input = { base: mb.base, ours: O, theirs: T, read: mb.read };
  const detection = await detectConflicts(input);
  const solved = await solve({ ...input, detection }, { conflicts: detection.conflicts, policy: "elementwise" });
  const { files, written } = await assembleFiles(detection, solved, storeMerged(repo), (p, e) => readEntry(repo, p, e));
  const unsettled = new Set(solved.unsolvable.map((u) => conflictSubject(u.conflict)));
  await dropOutsideGrid(files, written, { ours: O, theirs: T }, mb.read, (a) => !unsettled.has(a));
  const tree = await writeSnapshot(repo, files);
  if (solved.unsolvable.length === 0) return { tree };
  return { tree, conflicts: solved.unsolvable, consolidated: detection.consolidated };
}

/** Stop on a conflicting commit: a merge state (as `tdv merge` leaves one), the working copy at the merge with the tip's side where it conflicts. */
async function stop(repo: Repository, state: RebaseState, c: CommitObject, step: Extract<Step, { conflicts: unknown[] }>, checkout: CheckoutResult, onProgress?: ProgressFn): Promise<RebaseResult> {
  const merge: MergeState = {
    version: 1,
    name: `${c.oid.slice(0, 7)} (${subjectOf(c)})`,
    origHead: state.tip,
    branch: null,
    base: c.parents[0] ?? null,
    theirs: c.oid,
    message: c.message,
    strategy: "elementwise",
    conflicts: [],
    choices: {},
    consolidated: step.consolidated,
    interrupted: "it was stopped while it updated the working copy",
  };
  state.stopped = c.oid;
  await writeRebaseState(repo, state);
  await writeMergeState(repo, merge);
  const moved = await materialize(repo, { targetTree: step.tree, action: `replaying ${c.oid.slice(0, 7)}`, ...progress(onProgress) });
  const index = await repo.readIndex();
  const conflicts = step.conflicts.map((u) => openConflict(u, index.entries));
  const { interrupted: _moved, ...settled } = merge;
  await writeMergeState(repo, { ...settled, conflicts });
  return {
    ...summary(state),
    kind: "conflicts",
    head: state.tip,
    stopped: { oid: c.oid, subject: subjectOf(c) },
    conflicts,
    checkout: { written: checkout.written + moved.written, deleted: checkout.deleted + moved.deleted, bytes: checkout.bytes + moved.bytes },
  };
}

function summary(state: RebaseState) {
  return { branch: state.branch, upstream: state.upstream, onto: state.onto, origHead: state.origHead, replayed: state.done, flattened: state.flattened, remaining: state.todo.length };
}

/** Every commit replayed: the branch moves to the tip (one reflog entry: BRANCH@{1} is its commit before), HEAD back on it. */
async function finish(repo: Repository, state: RebaseState, checkout: CheckoutResult, noVerify = false): Promise<RebaseResult> {
  if (state.branch) {
    const at = await repo.refs.read(state.branch);
    if (at !== state.tip) {
      // the branch's rules on the replayed tip; refused, the rebase stays in progress with HEAD on that tip
      const override = await gate(repo, state.tip, state.branch, "commit", noVerify).catch((err: unknown) => {
        if (!isTdvError(err, "RulesFailedError")) throw err;
        const name = state.branch?.replace(/^refs\/heads\//, "") ?? "";
        throw new RulesFailedError("rebase", name, err.failures, `the rebase stays in progress, HEAD on its last commit: \`tdv rebase --abort\` puts '${name}' back; \`tdv rebase --continue --no-verify\` moves it anyway`);
      });
      const note = override ? ` (${Object.entries(override).map(([k, v]) => `${k}: ${v}`).join(", ")})` : "";
      await repo.refs.update(state.branch, { expected: state.origHead, next: state.tip, who: repo.identity(), message: `rebase (finish): ${state.branch} onto ${state.onto}${note}` });
    }
    await repo.refs.setHead({ branch: state.branch }, repo.identity(), `rebase (finish): returning to ${state.branch}`);
  }
  await clearRebaseState(repo);
  return { ...summary(state), kind: "rebased", head: state.tip, checkout };
}

async function activeState(repo: Repository): Promise<RebaseState> {
  const state = await readRebaseState(repo);
  if (!state) throw new NoRebaseInProgressError();
  return state;
}

async function _continue(repo: Repository, onProgress?: ProgressFn, noVerify = false): Promise<RebaseResult> {
  const state = await activeState(repo);
  if (state.stopped) {
    const merge = await readMergeState(repo);
    const head = await repo.refs.head();
    const c = await repo.git.readCommit(state.stopped);
    if (head.oid !== state.tip && head.oid && (await repo.git.readCommit(head.oid)).parents[0] === state.tip) {
      // killed after the resolved commit was made, before the state said so
      state.done.push({ old: c.oid, new: head.oid, subject: subjectOf(c) });
      state.tip = head.oid;
    } else if (merge) {
      if (merge.interrupted) throw new MergeIncompleteError(merge.name, `${merge.interrupted}; skip the commit with \`tdv rebase --skip\` or undo the rebase with \`tdv rebase --abort\``);
      const index = await repo.readIndex();
      const open = merge.conflicts.filter((o) => !isResolvedInIndex(o, index.entries));
      if (open.length > 0) throw new UnresolvedConflictsError(open.map(describeOpen));
      try {
        const res = await recordCommit(repo, { message: c.message, verbatim: true, author: c.author, reflogMessage: `rebase (continue): ${subjectOf(c)}` });
        state.done.push({ old: c.oid, new: res.oid, subject: subjectOf(c) });
        state.tip = res.oid;
      } catch (err) {
        if (!isTdvError(err, "NothingToCommitError")) throw err;
        // resolved to the tip as it was: the commit's change is gone, so is the commit
        state.done.push({ old: c.oid, new: null, subject: subjectOf(c), dropped: "empty" });
      }
    } else {
      // stopped before the merge state was written: the step is done again
      delete state.stopped;
      return proceed(repo, state, onProgress, noVerify);
    }
    state.todo.shift();
    delete state.stopped;
    await writeRebaseState(repo, state);
    await clearMergeState(repo);
    return proceed(repo, state, onProgress, noVerify);
  }
  // killed between steps: HEAD is where the state says (or a pending move finishes it)
  const head = await repo.refs.head();
  if (!state.pending && head.oid !== state.tip) state.pending = state.tip;
  return proceed(repo, state, onProgress, noVerify);
}

async function _skip(repo: Repository, onProgress?: ProgressFn, noVerify = false): Promise<RebaseResult> {
  const state = await activeState(repo);
  if (!state.stopped) throw new UsageError("the rebase is not stopped on a commit: nothing to skip", { hint: "`tdv rebase --continue` goes on, `tdv rebase --abort` undoes it" });
  const c = await repo.git.readCommit(state.stopped);
  // the working copy back at the tip, whatever the stopped step left in it
  const moved = await materialize(repo, { targetTree: (await repo.git.readCommit(state.tip)).tree, force: true, action: "skipping the commit", ...progress(onProgress) });
  state.todo.shift();
  state.done.push({ old: c.oid, new: null, subject: subjectOf(c), dropped: "skipped" });
  delete state.stopped;
  await writeRebaseState(repo, state);
  await clearMergeState(repo);
  const head = await repo.refs.head();
  if (head.oid !== state.tip) state.pending = state.tip;
  const res = await proceed(repo, state, onProgress, noVerify);
  return { ...res, checkout: { written: res.checkout.written + moved.written, deleted: res.checkout.deleted + moved.deleted, bytes: res.checkout.bytes + moved.bytes } };
}

/** Undo the rebase: working files, index (byte for byte), the branch and HEAD as they were before it. */
async function _abort(repo: Repository, onProgress?: ProgressFn): Promise<RebaseResult> {
  const state = await activeState(repo);
  const tree = (await repo.git.readCommit(state.origHead)).tree;
  const checkout = await materialize(repo, { targetTree: tree, force: true, action: "aborting the rebase", ...progress(onProgress) });
  const orig = await readRebaseOrigIndex(repo);
  if (orig) await writeAtomic(repo.indexFile, orig, { durable: repo.durability.mode !== "none" });
  const who = repo.identity();
  if (state.branch) {
    // killed after the branch moved, before HEAD went back on it: the branch goes back too
    if ((await repo.refs.read(state.branch)) !== state.origHead) await repo.refs.update(state.branch, { expected: undefined, next: state.origHead, who, message: "rebase (abort)" });
    await repo.refs.setHead({ branch: state.branch }, who, `rebase (abort): returning to ${state.branch}`);
  } else await repo.refs.setHead({ oid: state.origHead }, who, "rebase (abort)");
  await clearMergeState(repo);
  await clearRebaseState(repo);
  return { ...summary(state), kind: "aborted", head: state.origHead, checkout };
}
