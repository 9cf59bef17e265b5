/**
 * Branches: refs under refs/heads/, listed, and created by compare-and-swap.
 */
import path from "node:path";
import { CurrentBranchError, isTdvError, RefExistsError, RefNotFoundError, UsageError } from "../errors.js";
import { checkRefName } from "../store/refs.js";
import type { GitOid } from "../format/hash.js";
import type { Repository } from "./repository.js";
import { readRef, resolveRevision } from "./revision.js";
export const HEADS = "refs/heads/";

export interface BranchInfo {
  name: string;
  oid: GitOid;
  /** HEAD is on this branch */
  current: boolean;
  /** a symbolic ref (git branch's "alias -> main"): the branch it points to */
  symref?: string;
}

/** All branches, sorted by name, symbolic ones with the branch they point to. */
export async function listBranches(repo: Repository): Promise<BranchInfo[]> {
  return (await scanBranches(repo)).branches;
}

/**
 * The branches, and the refs under refs/heads/ that cannot be followed (a
 * symbolic ref that loops or leads outside refs/, a name git refuses, a file
 * holding no commit id), each with its file, so that a listing reports them.
 */
export async function scanBranches(repo: Repository): Promise<{ branches: BranchInfo[]; broken: { ref: string; file: string; problem: string }[] }> {
  const head = await repo.refs.head();
  const scan = await repo.refs.scan(HEADS);
  const all: [string, BranchInfo][] = [...scan.refs].map(([ref, oid]) => [ref, { name: ref.slice(HEADS.length), oid, current: ref === head.branch }]);
  const broken = [...scan.broken];
  for (const [ref, { target, oid }] of scan.symbolic) {
    const short = target.startsWith(HEADS) ? target.slice(HEADS.length) : target;
    if (oid === null) broken.push({ ref, file: path.join(repo.refs.gitdir, ...ref.split("/")), problem: `it is a symbolic ref to '${target}', which does not exist` });
    else all.push([ref, { name: ref.slice(HEADS.length), oid, current: ref === head.branch, symref: short }]);
  }
  all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { branches: all.map(([, b]) => b), broken };
}

/** The short name of HEAD's branch (also when it has no commit yet), or null when HEAD is detached. */
export async function currentBranch(repo: Repository): Promise<string | null> {
  const { branch } = await repo.refs.head();
  return branch?.startsWith(HEADS) ? branch.slice(HEADS.length) : null;
}

export interface CreateBranchOptions {
  name: string;
  /** the revision the branch starts at */
  start?: string;
  /** move an existing branch (not the current one) */
  force?: boolean;
}

/** Create (or with `force` move) branch `name` at revision `start`, by compare-and-swap. */
export async function createBranchRef(
  repo: Repository,
  { name, start = "HEAD", force = false }: CreateBranchOptions,
): Promise<{ name: string; ref: string; oid: GitOid; previous: GitOid | null }> {
  checkRefName(name);
  const ref = HEADS + name;
  const oid = await resolveRevision(repo, start);
  await assertNoFolderClash(repo, name);
  const previous = await readRef(repo, ref);
  if (previous !== null && !force) throw new RefExistsError(ref);
  if (previous !== null && (await repo.refs.head()).branch === ref) {
    throw new CurrentBranchError(name, "force-update");
  }
  const message = previous === null ? `branch: Created from ${start}` : `branch: Reset to ${start}`;
  try {
    await repo.refs.update(ref, { expected: previous, next: oid, who: repo.identity(), message });
  } catch (err) {
    if (previous === null && isTdvError(err, "BranchMovedError")) throw new RefExistsError(ref);
    throw err;
  }
  return { name, ref, oid, previous };
}

/** `a` and `a/b` cannot both be branches: one would be a file, the other a folder. */
async function assertNoFolderClash(repo: Repository, name: string): Promise<void> {
  for (const { name: other } of await listBranches(repo)) {
    if (other.startsWith(`${name}/`) || name.startsWith(`${other}/`)) {
      throw new UsageError(`cannot create branch '${name}': branch '${other}' exists`, {
        hint: "a branch name cannot also be a folder of other branch names; choose another name or delete the other branch",
      });
    }
  }
}

/** Deletes `ref` if it still points at `oid` (compare-and-swap); one deleted meanwhile is RefNotFoundError. */
export async function deleteRefAt(repo: Repository, ref: string, oid: GitOid, message: string): Promise<void> {
  try {
    await repo.refs.update(ref, { expected: oid, next: null, who: repo.identity(), message });
  } catch (err) {
    if (isTdvError(err, "BranchMovedError") && err.actual === null) throw new RefNotFoundError(ref);
    throw err;
  }
}
