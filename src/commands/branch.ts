/**
 * `tdv branch`: create and delete branches by compare-and-swap (listing and
 * the ref work are repo/branches.ts).
 */
import { CurrentBranchError, NotMergedError, RefNotFoundError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { checkRefName } from "../store/refs.js";
import { isAncestor } from "../repo/history.js";
import type { Repository } from "../repo/repository.js";
import { readRef } from "../repo/revision.js";
import { HEADS, type CreateBranchOptions, createBranchRef, deleteRefAt } from "../repo/branches.js";

export function createBranch(repo: Repository, opts: CreateBranchOptions): ReturnType<typeof createBranchRef> {
  return repo.writing("branch", () => createBranchRef(repo, opts));
}

export interface DeleteBranchOptions {
  name: string;
  /** delete even when its commits are not merged into HEAD */
  force?: boolean;
}

export async function deleteBranch(
  repo: Repository,
  { name, force = false }: DeleteBranchOptions,
): Promise<{ name: string; oid: GitOid }> {
  checkRefName(name);
  const ref = HEADS + name;
  const oid = await readRef(repo, ref);
  if (oid === null) throw new RefNotFoundError(ref, "`tdv branch --list` shows the branches");
  const head = await repo.refs.head();
  if (head.branch === ref) {
    throw new CurrentBranchError(name, "delete");
  }
  if (!force && (head.oid === null || !(await isAncestor(repo, oid, head.oid)))) {
    throw new NotMergedError(name, oid);
  }
  await deleteRefAt(repo, ref, oid, "branch: deleted");
  return { name, oid };
}
