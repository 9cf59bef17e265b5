/** `tdv status`: what is staged, changed and untracked (the comparison is worktree/status.ts). */
import type { Repository } from "../repo/repository.js";
import { type StatusResult, workingCopyStatus } from "../worktree/status.js";

export type { StatusResult };

/** The working copy against the index and HEAD, under `paths` when given. */
export function status(repo: Repository, opts: { paths?: readonly string[] } = {}): Promise<StatusResult> {
  return workingCopyStatus(repo, opts);
}
