/**
 * The keys of a remote's layout (layout.ts has the whole of it) and the check
 * that a ref read from a remote is safe to use as a name: what a lazy clone's
 * chunk fetcher and the public index need without the remote's client.
 */
import type { ChunkId, GitOid } from "../format/hash.js";
import { checkRefName } from "../store/refs.js";

export const CONFIG_KEY = "tdv.json";
export const HEAD_KEY = "git/HEAD";
export const INFO_REFS_KEY = "git/info/refs";
export const CONDITIONS_CHECK_KEY = "git/conditional-writes";

export function chunkKey(id: ChunkId | string): string {
  return `chunks/${id.slice(0, 2)}/${id.slice(2)}`;
}

export function gitObjectKey(oid: GitOid | string): string {
  return `git/objects/${oid.slice(0, 2)}/${oid.slice(2)}`;
}

/** "refs/heads/main" → "git/refs/heads/main" */
export function refKey(ref: string): string {
  return `git/${ref}`;
}

/**
 * A branch or tag name that is safe to store here: a remote is not trusted,
 * and a name like "refs/heads/../../config" must never become a path.
 */
export function isSafeRef(ref: string): boolean {
  const m = /^refs\/(heads|tags)\/(.+)$/.exec(ref);
  if (!m) return false;
  try {
    checkRefName(m[2] as string);
    return true;
  } catch {
    return false;
  }
}
