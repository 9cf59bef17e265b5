/**
 * Git objects as they travel: a loose object is zlib(header + content), named
 * by the SHA-1 of header + content. Everything downloaded is inflated and
 * checked against its name before it is parsed or stored.
 */
import { deflateSync, inflateSync } from "node:zlib";
import { CorruptObjectError } from "../errors.js";
import { checkGitObject, type GitObjectType } from "../format/git-object.js";
import type { GitOid } from "../format/hash.js";

export type GitType = GitObjectType;

export interface RawObject {
  type: GitType;
  content: Buffer;
}

/** The loose-object bytes of an object (what a remote stores under git/objects/). */
export function encodeLoose(type: GitType, content: Uint8Array): Buffer {
  return deflateSync(Buffer.concat([Buffer.from(`${type} ${content.byteLength}\0`), content]), { level: 1 });
}

/** Inflate and verify a downloaded loose object; `where` names it in errors. */
export function decodeLoose(oid: GitOid, raw: Uint8Array, where: string): RawObject {
  let full: Buffer;
  try {
    full = inflateSync(raw);
  } catch {
    throw new CorruptObjectError(oid, `${where}: does not inflate (damaged or truncated)`);
  }
  const checked = checkGitObject(full, oid);
  if (typeof checked === "string") throw new CorruptObjectError(oid, `${where}: ${checked}`);
  return checked;
}

/** The objects a commit or tag names: [tree, ...parents] or [object]. */
export function headerLinks(oid: GitOid, type: "commit" | "tag", b: Buffer): { tree?: GitOid; parents: GitOid[]; object?: GitOid } {
  const text = b.toString("utf8");
  const end = text.indexOf("\n\n");
  const head = end < 0 ? text : text.slice(0, end);
  const out: { tree?: GitOid; parents: GitOid[]; object?: GitOid } = { parents: [] };
  for (const line of head.split("\n")) {
    const sp = line.indexOf(" ");
    const key = line.slice(0, sp);
    const val = line.slice(sp + 1);
    const isOid = /^[0-9a-f]{40}$/.test(val);
    if (type === "commit" && key === "tree" && isOid) out.tree = val as GitOid;
    else if (type === "commit" && key === "parent" && isOid) out.parents.push(val as GitOid);
    else if (type === "tag" && key === "object" && isOid) out.object = val as GitOid;
  }
  if (type === "commit" && !out.tree) throw new CorruptObjectError(oid, "commit has no tree");
  if (type === "tag" && !out.object) throw new CorruptObjectError(oid, "tag names no object");
  return out;
}
