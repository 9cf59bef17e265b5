/** `tdv commit`: record the staged state as a commit on the current branch (see worktree/record.ts). */
import type { GitOid } from "../format/hash.js";
import type { Repository } from "../repo/repository.js";
import { gate } from "../rules/gate.js";
import { type CommitOptions, type CommitResult, recordCommit } from "../worktree/record.js";

/**
 * Snapshot the staged state of the whole hierarchy as one commit and move the
 * branch to it with compare-and-swap: if the branch moved meanwhile, nothing
 * is overwritten and BranchMovedError says so; the index keeps the staged work.
 * On a branch whose tdv-rules.toml checks commits, a result that breaks the
 * rules is refused the same way (RulesFailedError), unless `noVerify`.
 */
export function commit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  const verify = (oid: GitOid, branch: string | null) => gate(repo, oid, branch, "commit", opts.noVerify === true);
  return repo.exclusive("commit", () => recordCommit(repo, { ...opts, verify }));
}
