/**
 * Read-only questions about refs that the CLI asks without reaching into the
 * ref store: where HEAD points, and which refs under a prefix are broken.
 */
import type { GitOid } from "../format/hash.js";
import type { Repository } from "./repository.js";

/** The commit HEAD points to, or null on an unborn branch (no commit yet). */
export async function headCommit(repo: Repository): Promise<GitOid | null> {
  return (await repo.refs.head()).oid;
}

/**
 * The refs under `prefix` ("refs/tags/") that cannot be followed: a name git
 * refuses, a bad symbolic ref, a file holding no commit id, each with its file,
 * so that a listing can report them instead of hiding them.
 */
export async function brokenRefs(repo: Repository, prefix: string): Promise<{ ref: string; file: string; problem: string }[]> {
  return (await repo.refs.scan(prefix)).broken;
}
