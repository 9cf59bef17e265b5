/**
 * `tdv revert COMMIT`: a new commit that undoes COMMIT's changes, made with
 * the merge machinery: a three-way merge of HEAD (ours) and COMMIT's parent
 * (theirs) against COMMIT (the base), so later edits of the same arrays are
 * kept and both sides' edits of one chunk merge element by element. Where
 * the undo and a later change touch the same elements, the revert is refused
 * and nothing changes (RevertConflictError lists them): reverting is then a
 * job for `tdv restore --source COMMIT^ PATH` and a commit.
 *
 * Killed after the working copy moved and before the commit, the working
 * copy holds the revert as staged changes: `tdv commit` concludes it,
 * `tdv reset --hard` drops it; nothing committed is lost.
 */
import { NothingToRevertError, RevertConflictError, UncommittedChangesError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../worktree/materialize.js";
import { recordCommit } from "../worktree/record.js";
import { gate } from "../rules/gate.js";
import type { CommitResult } from "../worktree/record.js";
import type { Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import { readCommitSnapshot } from "../repo/snapshot.js";
import { uncommittedPaths } from "../worktree/status.js";
import { mergeBaseOf } from "../repo/merge/bases.js";
import { MergeInProgressError } from "../repo/merge/errors.js";
import { readMergeState } from "../repo/merge/state.js";
import { mergeSnapshots } from "../repo/merge/three-way.js";

export interface RevertOptions {
  /** the commit to undo */
  rev: string;
  /** the commit message (default: `Revert "SUBJECT"` and "This reverts commit OID.") */
  message?: string;
  trailers?: Record<string, string>;
  /** skip the validation rules the branch's tdv-rules.toml runs at commit (recorded as a Tdv-No-Verify trailer when they fail) */
  noVerify?: boolean;
  onProgress?: ProgressFn;
}

export interface RevertResult {
  /** the reverted commit */
  reverted: GitOid;
  commit: CommitResult;
  checkout: CheckoutResult;
}

export function revert(repo: Repository, opts: RevertOptions): Promise<RevertResult> {
  return repo.exclusive("revert", () => _revert(repo, opts));
}

async function _revert(repo: Repository, { rev, message, trailers = {}, onProgress, noVerify = false }: RevertOptions): Promise<RevertResult> {
  const pending = await readMergeState(repo);
  if (pending) throw new MergeInProgressError(pending.name);
  const head = await repo.refs.head();
  if (head.oid === null) throw new UsageError("nothing to revert: this branch has no commits yet");
  const target = await resolveRevision(repo, rev);
  const c = await repo.git.readCommit(target);
  if (c.parents.length > 1) {
    throw new UsageError(`${rev} is a merge commit: reverting a merge is not supported`, {
      hint: `undo it with \`tdv restore --source ${rev}^1 PATH\` and a commit, or \`tdv reset --hard ${rev}^1\` if it is not shared yet`,
    });
  }
  const dirty = await uncommittedPaths(repo);
  if (dirty.length > 0) throw new UncommittedChangesError(dirty, `revert ${rev}`);

  // base: the commit; ours: HEAD; theirs: its parent (what it changed, undone)
  const mb = await mergeBaseOf(repo, [target]);
  const [O, T] = [await readCommitSnapshot(repo, head.oid), await readCommitSnapshot(repo, c.parents[0] ?? null)];
  const merged = await mergeSnapshots(repo, mb, O, T);
  if (merged.conflicts) throw new RevertConflictError(rev, merged.conflicts);
  const tree = merged.tree;
  if (tree === O.tree) throw new NothingToRevertError(rev);
  const subject = c.message.trim().split("\n")[0] ?? "";
  const text = message ?? `Revert "${subject}"\n\nThis reverts commit ${target}.`;
  // a revert is a commit: the branch's rules check its result before the working copy moves
  const probe = await repo.git.writeCommit({ tree, parents: [head.oid], author: repo.identity(), committer: repo.identity(), message: `${text}\n` });
  const override = await gate(repo, probe, head.branch, "commit", noVerify);
  const checkout = await materialize(repo, { targetTree: tree, action: `reverting ${rev}`, onProgress });
  const res = await recordCommit(repo, { message: text, trailers: { ...trailers, ...override } });
  return { reverted: target, commit: res, checkout };
}
