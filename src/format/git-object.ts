/**
 * A Git object's framing: "<type> <size>\0" then the content, named by the
 * SHA-1 of both. One check for every reader of whole (inflated) objects: the
 * local store, fsck, and what a remote sends.
 */
import { sha1 } from "./hash.js";

export type GitObjectType = "blob" | "tree" | "commit" | "tag";

/** The type and content of a whole object checked against its id `oid`, or what is wrong with it. */
export function checkGitObject(full: Buffer, oid: string): { type: GitObjectType; content: Buffer } | string {
  const actual = sha1(full);
  if (actual !== oid) return `its bytes hash to ${actual}`;
  const nul = full.indexOf(0);
  const m = /^(blob|tree|commit|tag) (\d+)$/.exec(nul > 0 ? full.toString("latin1", 0, nul) : "");
  if (!m || Number(m[2]) !== full.length - nul - 1) return "bad object header";
  return { type: m[1] as GitObjectType, content: full.subarray(nul + 1) };
}
