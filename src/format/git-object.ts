/**
 * Git objects as values. A Git object's framing: "<type> <size>\0" then the
 * content, named by the SHA-1 of both (checkGitObject: one check for every
 * reader of whole, inflated objects: the local store, fsck, and what a remote
 * sends). Then the models (tree entries, commits, tags, identities) and their
 * encoding and parsing.
 */
import { CorruptObjectError, UnsafePathError } from "../errors.js";
import { escapeBytes, isUtf8 } from "./display.js";
import { sha1, type GitOid } from "./hash.js";

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

// ---- the object models: tree entries, people, commits, tags ----------------
//
// Pure: bytes in, values out (and back). The store (src/store/git.ts) reads
// and writes the objects; what they hold and how they are spelled is here.

export type TreeMode = "100644" | "100755" | "040000" | "120000" | "160000";

export interface TreeEntry {
  mode: TreeMode;
  name: string;
  oid: GitOid;
}

export interface Person {
  name: string;
  email: string;
  /** seconds since the epoch */
  timestamp: number;
  /** minutes east of UTC, as Git writes it (+0100 is 60) */
  tzOffset: number;
}

export interface CommitObject {
  oid: GitOid;
  tree: GitOid;
  parents: GitOid[];
  author: Person;
  committer: Person;
  message: string;
}

export interface TagObject {
  oid: GitOid;
  object: GitOid;
  type: string;
  tag: string;
  tagger: Person | null;
  message: string;
}

/**
 * What readTree puts before the name of an entry whose bytes are not UTF-8
 * (then shown with `\xHH` escapes): a NUL, which no name read from a tree can
 * hold, so that checkEntryName refuses it and no reader mistakes it for a name.
 */
export const NON_UTF8_NAME = "\0";

/** Names a tree entry may never have (they would escape or shadow the repository, or are not text). */
export function checkEntryName(name: string, where: string): void {
  if (name.startsWith(NON_UTF8_NAME)) {
    throw new UnsafePathError(`${where}/${name.slice(NON_UTF8_NAME.length)}`, "the name is not valid UTF-8 (its bytes are shown as \\xHH); tdv paths are UTF-8 text, as Zarr keys are");
  }
  if (name === "" || name === "." || name === "..") throw new UnsafePathError(`${where}/${name}`, "empty, '.' or '..' path component");
  if (name.includes("/") || name.includes("\\") || name.includes("\0")) throw new UnsafePathError(`${where}/${name}`, "path component contains '/', '\\' or NUL");
  const lower = name.toLowerCase();
  if (lower === ".git" || lower === ".tdv") throw new UnsafePathError(`${where}/${name}`, `'${name}' is reserved`);
}

/** Whether `s` is a full Git object id (40 lowercase hex digits). */
export function isOid(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

/** A tree's content from its entries (checked: names, no duplicates), in Git's order; `where` names the tree in errors. */
export function encodeTree(entries: readonly TreeEntry[], where = ""): Buffer {
  const seen = new Set<string>();
  for (const e of entries) {
    checkEntryName(e.name, where);
    if (seen.has(e.name)) throw new UnsafePathError(`${where}/${e.name}`, "duplicate tree entry");
    seen.add(e.name);
  }
  // Git's order: by the UTF-8 bytes of the name, a folder's name as if it ended in "/"
  // (each key made once: made in the comparison, they were most of the cost of large trees)
  const keyed = entries.map((e) => ({ e, key: Buffer.from(e.mode === "040000" ? `${e.name}/` : e.name) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { e } of keyed) {
    parts.push(Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex"));
  }
  return Buffer.concat(parts);
}

/** The entries of tree `oid` from its content `b`; `what` names it in errors. */
export function parseTree(b: Buffer, oid: string, what = "tree"): TreeEntry[] {
  const out: TreeEntry[] = [];
  let p = 0;
  while (p < b.length) {
    const sp = b.indexOf(0x20, p);
    const nul = sp < 0 ? -1 : b.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > b.length) throw new CorruptObjectError(oid, `${what}: truncated tree entry`);
    const mode = b.toString("latin1", p, sp);
    let name = b.toString("utf8", sp + 1, nul);
    // bytes that are not UTF-8 decode to U+FFFD: keep them apart (and refused by checkEntryName), never lossily renamed
    if (name.includes("\uFFFD") && !isUtf8(b.subarray(sp + 1, nul))) name = NON_UTF8_NAME + escapeBytes(b.subarray(sp + 1, nul));
    out.push({ mode: normMode(mode), name, oid: b.toString("hex", nul + 1, nul + 21) as GitOid });
    p = nul + 21;
  }
  return out;
}

/** A commit's content. */
export function encodeCommit(c: Omit<CommitObject, "oid">): Buffer {
  let text = `tree ${c.tree}\n`;
  for (const p of c.parents) text += `parent ${p}\n`;
  text += `author ${formatPerson(c.author)}\ncommitter ${formatPerson(c.committer)}\n\n${ensureNewline(c.message)}`;
  return Buffer.from(text);
}

/** Commit `oid` from its content `b`. */
export function parseCommit(b: Buffer, oid: GitOid): CommitObject {
  const { headers, message } = parseHeaders(b, oid);
  const tree = headers.get("tree")?.[0];
  const author = headers.get("author")?.[0];
  const committer = headers.get("committer")?.[0];
  if (!tree || !isOid(tree) || !author || !committer) throw new CorruptObjectError(oid, "commit lacks tree, author or committer");
  const parents = headers.get("parent") ?? [];
  if (!parents.every(isOid)) throw new CorruptObjectError(oid, "commit has a malformed parent");
  return { oid, tree: tree as GitOid, parents: parents as GitOid[], author: parsePerson(author, oid), committer: parsePerson(committer, oid), message };
}

/** An annotated tag's content. */
export function encodeTag(t: Omit<TagObject, "oid">): Buffer {
  let text = `object ${t.object}\ntype ${t.type}\ntag ${t.tag}\n`;
  if (t.tagger) text += `tagger ${formatPerson(t.tagger)}\n`;
  text += `\n${ensureNewline(t.message)}`;
  return Buffer.from(text);
}

/** Annotated tag `oid` from its content `b`. */
export function parseTag(b: Buffer, oid: GitOid): TagObject {
  const { headers, message } = parseHeaders(b, oid);
  const object = headers.get("object")?.[0];
  const type = headers.get("type")?.[0];
  const tag = headers.get("tag")?.[0];
  const tagger = headers.get("tagger")?.[0];
  if (!object || !isOid(object) || !type || tag === undefined) throw new CorruptObjectError(oid, "tag lacks object, type or name");
  return { oid, object: object as GitOid, type, tag, tagger: tagger ? parsePerson(tagger, oid) : null, message };
}

/** Headers (with continuation lines) and message of a commit or tag object. */
export function parseHeaders(b: Buffer, oid: string): { headers: Map<string, string[]>; message: string } {
  const text = b.toString("utf8");
  const blank = text.indexOf("\n\n");
  const head = blank < 0 ? text.replace(/\n$/, "") : text.slice(0, blank);
  const message = blank < 0 ? "" : text.slice(blank + 2);
  const headers = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const line of head.split("\n")) {
    if (line.startsWith(" ") && last) {
      last[last.length - 1] += `\n${line.slice(1)}`;
      continue;
    }
    const sp = line.indexOf(" ");
    if (sp <= 0) throw new CorruptObjectError(oid, `malformed header line "${line.slice(0, 40)}"`);
    const key = line.slice(0, sp);
    last = headers.get(key) ?? [];
    last.push(line.slice(sp + 1));
    headers.set(key, last);
  }
  return { headers, message };
}

/** An identity as Git writes it: `Name <email> seconds +hhmm`. */
export function parsePerson(s: string, oid: string): Person {
  const m = /^(.*?) ?<([^>]*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(s);
  if (!m) throw new CorruptObjectError(oid, `malformed identity "${s.slice(0, 60)}"`);
  const tz = (Number(m[5]) * 60 + Number(m[6])) * (m[4] === "-" ? -1 : 1);
  return { name: m[1] as string, email: m[2] as string, timestamp: Number(m[3]), tzOffset: tz };
}

/** A tree entry's mode as tdv spells it (Git writes a folder's as "40000"). */
export function normMode(mode: string): TreeMode {
  return (mode === "40000" ? "040000" : mode) as TreeMode;
}

export function formatPerson(p: Person): string {
  const sign = p.tzOffset < 0 ? "-" : "+";
  const abs = Math.abs(p.tzOffset);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
  return `${p.name} <${p.email}> ${p.timestamp} ${tz}`;
}

export function ensureNewline(s: string): string {
  return s.endsWith("\n") ? s : `${s}\n`;
}
