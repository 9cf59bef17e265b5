/**
 * Reflogs: every move of a ref, newest first, as `git reflog` lists them.
 * Entry N of ref R is the revision `R@{N}` (resolveRevision reads the same
 * file), so a reset, a forced branch update or a deleted commit can be undone:
 * `tdv reset --hard main@{1}`.
 */
import { RefNotFoundError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { Repository } from "../repo/repository.js";
import { resolveRefName } from "../repo/revision.js";
import type { ReflogEntry } from "../store/refs.js";

export interface ReflogItem {
  /** the revision naming this entry: "main@{0}" is the newest */
  selector: string;
  /** the commit the ref pointed to after this move */
  oid: GitOid | null;
  /** the commit it pointed to before (null when the move created the ref) */
  old: GitOid | null;
  /** "Name <email>" of who moved it */
  who: string;
  /** seconds since the epoch */
  timestamp: number;
  /** the mover's time zone, minutes east of UTC */
  tzOffset: number;
  /** what moved it: "commit: …", "checkout: moving from a to b", "reset: moving to HEAD~1" */
  message: string;
}

export interface ReflogOptions {
  /** a branch, a tag, "HEAD" (the default) or a full ref name */
  ref?: string;
  /** at most this many entries, newest first */
  n?: number;
}

export interface ReflogResult {
  /** the full ref name whose log this is ("HEAD", "refs/heads/main") */
  ref: string;
  entries: ReflogItem[];
}

/** The reflog of one ref, newest first. */
export async function reflog(repo: Repository, { ref = "HEAD", n }: ReflogOptions = {}): Promise<ReflogResult> {
  const full = await resolveRefName(repo, ref);
  if (full === null) {
    throw new RefNotFoundError(ref, "name a branch, a tag or HEAD; `tdv branch --list` and `tdv tag --list` show what exists");
  }
  const label = ref === "@" ? "HEAD" : ref;
  const entries = await repo.refs.reflog(full);
  const limit = n ?? entries.length;
  const out: ReflogItem[] = [];
  for (let i = 0; i < entries.length && out.length < limit; i++) {
    const e = entries[entries.length - 1 - i] as ReflogEntry;
    out.push({ selector: `${label}@{${i}}`, oid: e.next, old: e.old, who: e.who, timestamp: e.timestamp, tzOffset: e.tzOffset, message: e.message });
  }
  return { ref: full, entries: out };
}
