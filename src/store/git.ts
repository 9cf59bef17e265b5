/**
 * The single wrapper over Git metadata in `.tdv/git`. Objects are written as
 * loose Git objects by tdv itself (zlib + SHA-1, temp file + fsync + rename:
 * isomorphic-git's writer neither fsyncs nor keeps up with thousands of
 * metadata blobs) and read with isomorphic-git, which also understands packs.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { deflateSync } from "node:zlib";
import git from "isomorphic-git";
import { MissingObjectError, UnsafePathError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { exists, writeObjectFile } from "./atomic.js";

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

/** Names a tree entry may never have (they would escape or shadow the repository). */
export function checkEntryName(name: string, where: string): void {
  if (name === "" || name === "." || name === "..") throw new UnsafePathError(`${where}/${name}`, "empty, '.' or '..' path component");
  if (name.includes("/") || name.includes("\\") || name.includes("\0")) throw new UnsafePathError(`${where}/${name}`, "path component contains '/', '\\' or NUL");
  const lower = name.toLowerCase();
  if (lower === ".git" || lower === ".tdv") throw new UnsafePathError(`${where}/${name}`, `'${name}' is reserved`);
}

export class GitStore {
  readonly cache: object = {};
  constructor(
    readonly gitdir: string,
    readonly durable = true,
  ) {}

  // ---- writing -------------------------------------------------------------

  async writeRaw(type: "blob" | "tree" | "commit" | "tag", content: Uint8Array): Promise<GitOid> {
    const header = Buffer.from(`${type} ${content.byteLength}\0`);
    const full = Buffer.concat([header, content]);
    const oid = createHash("sha1").update(full).digest("hex") as GitOid;
    const file = path.join(this.gitdir, "objects", oid.slice(0, 2), oid.slice(2));
    if (!(await exists(file))) await writeObjectFile(file, deflateSync(full, { level: 1 }), this.durable);
    return oid;
  }

  /** Git blob id of `content` without writing it. */
  static blobOid(content: Uint8Array): GitOid {
    return createHash("sha1")
      .update(`blob ${content.byteLength}\0`)
      .update(content)
      .digest("hex") as GitOid;
  }

  writeBlob(content: Uint8Array): Promise<GitOid> {
    return this.writeRaw("blob", content);
  }

  async writeTree(entries: readonly TreeEntry[], where = ""): Promise<GitOid> {
    const seen = new Set<string>();
    for (const e of entries) {
      checkEntryName(e.name, where);
      if (seen.has(e.name)) throw new UnsafePathError(`${where}/${e.name}`, "duplicate tree entry");
      seen.add(e.name);
    }
    const key = (e: TreeEntry) => Buffer.from(e.mode === "040000" ? `${e.name}/` : e.name);
    const sorted = [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
    const parts: Buffer[] = [];
    for (const e of sorted) {
      parts.push(Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex"));
    }
    return this.writeRaw("tree", Buffer.concat(parts));
  }

  async writeCommit(c: Omit<CommitObject, "oid">): Promise<GitOid> {
    let text = `tree ${c.tree}\n`;
    for (const p of c.parents) text += `parent ${p}\n`;
    text += `author ${formatPerson(c.author)}\ncommitter ${formatPerson(c.committer)}\n\n${ensureNewline(c.message)}`;
    return this.writeRaw("commit", Buffer.from(text));
  }

  async writeTag(t: Omit<TagObject, "oid">): Promise<GitOid> {
    let text = `object ${t.object}\ntype ${t.type}\ntag ${t.tag}\n`;
    if (t.tagger) text += `tagger ${formatPerson(t.tagger)}\n`;
    text += `\n${ensureNewline(t.message)}`;
    return this.writeRaw("tag", Buffer.from(text));
  }

  // ---- reading -------------------------------------------------------------

  private args() {
    return { fs, gitdir: this.gitdir, cache: this.cache };
  }

  async readBlob(oid: GitOid, what = "blob"): Promise<Uint8Array> {
    try {
      const { blob } = await git.readBlob({ ...this.args(), oid });
      return blob;
    } catch (err) {
      throw missing(err, oid, what);
    }
  }

  async readTree(oid: GitOid, what = "tree"): Promise<TreeEntry[]> {
    try {
      const { tree } = await git.readTree({ ...this.args(), oid });
      return tree.map((e) => ({ mode: normMode(e.mode), name: e.path, oid: e.oid as GitOid }));
    } catch (err) {
      throw missing(err, oid, what);
    }
  }

  async readCommit(oid: GitOid): Promise<CommitObject> {
    try {
      const { commit } = await git.readCommit({ ...this.args(), oid });
      return {
        oid,
        tree: commit.tree as GitOid,
        parents: commit.parent as GitOid[],
        author: person(commit.author),
        committer: person(commit.committer),
        message: commit.message,
      };
    } catch (err) {
      throw missing(err, oid, "commit");
    }
  }

  async readTag(oid: GitOid): Promise<TagObject> {
    try {
      const { tag } = await git.readTag({ ...this.args(), oid });
      return {
        oid,
        object: tag.object as GitOid,
        type: tag.type,
        tag: tag.tag,
        tagger: tag.tagger ? person(tag.tagger) : null,
        message: tag.message,
      };
    } catch (err) {
      throw missing(err, oid, "tag");
    }
  }

  /** The type of an object, or null when the repository lacks it. */
  async typeOf(oid: GitOid): Promise<string | null> {
    try {
      const o = await git.readObject({ ...this.args(), oid, format: "parsed" });
      return o.type;
    } catch {
      return null;
    }
  }

  /** All object ids starting with `prefix` (loose and packed). */
  async expand(prefix: string): Promise<GitOid[]> {
    const out = new Set<string>();
    const dir = path.join(this.gitdir, "objects", prefix.slice(0, 2));
    try {
      for (const f of await fs.promises.readdir(dir)) {
        const oid = prefix.slice(0, 2) + f;
        if (oid.startsWith(prefix) && oid.length === 40) out.add(oid);
      }
    } catch {
      /* no loose objects with that fan-out */
    }
    try {
      out.add(await git.expandOid({ ...this.args(), oid: prefix }));
    } catch (err) {
      const e = err as { code?: string; data?: { matches?: string[] } };
      if (e.code === "AmbiguousError") for (const o of e.data?.matches ?? []) out.add(o);
    }
    return [...out] as GitOid[];
  }

  async mergeBase(a: GitOid, b: GitOid): Promise<GitOid[]> {
    const oids = await git.findMergeBase({ ...this.args(), oids: [a, b] });
    return oids as GitOid[];
  }
}

function missing(err: unknown, oid: string, what: string): unknown {
  const code = (err as { code?: string })?.code;
  if (code === "NotFoundError" || code === "ObjectTypeError") return new MissingObjectError(oid, what);
  return err;
}

function normMode(mode: string): TreeMode {
  return (mode === "40000" ? "040000" : mode) as TreeMode;
}

function person(p: { name: string; email: string; timestamp: number; timezoneOffset: number }): Person {
  // isomorphic-git reports timezoneOffset like Date#getTimezoneOffset (minutes WEST of UTC).
  return { name: p.name, email: p.email, timestamp: p.timestamp, tzOffset: -p.timezoneOffset };
}

export function formatPerson(p: Person): string {
  const sign = p.tzOffset < 0 ? "-" : "+";
  const abs = Math.abs(p.tzOffset);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
  return `${p.name} <${p.email}> ${p.timestamp} ${tz}`;
}

function ensureNewline(s: string): string {
  return s.endsWith("\n") ? s : `${s}\n`;
}
