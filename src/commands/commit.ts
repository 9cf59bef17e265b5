/** `tdv commit`: record the staged state as a commit on the current branch (see worktree/record.ts). */
import type { Repository } from "../repo/repository.js";
import { type CommitOptions, type CommitResult, recordCommit } from "../worktree/record.js";

/**
 * Snapshot the staged state of the whole hierarchy as one commit and move the
 * branch to it with compare-and-swap: if the branch moved meanwhile, nothing
 * is overwritten and BranchMovedError says so; the index keeps the staged work.
 */
export function commit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  return repo.exclusive("commit", () => recordCommit(repo, opts));
}
