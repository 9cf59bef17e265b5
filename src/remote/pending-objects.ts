/**
 * A fetch's Git objects before they are stored, readable as a store: the
 * objects a fetch downloaded and verified (held in memory until their chunks
 * are stored: fetch.ts, step 4) first, then the repository's own. A clone
 * reads the snapshot it will check out through it while the chunks are still
 * arriving, with every check a checkout makes (repo/folder-read.ts).
 *
 * Read-only: writes go to the repository's store, as they would without it.
 */
import { CorruptObjectError } from "../errors.js";
import { parseCommit, parseTag, parseTree, type CommitObject, type TagObject, type TreeEntry } from "../format/git-object.js";
import type { GitOid } from "../format/hash.js";
import type { PackType } from "../store/pack.js";
import { contentOfType } from "../store/git.js";
import type { ObjectStore, ObjectWriter } from "../store/types.js";

/** An object as the fetch holds it: verified against its name, inflated. */
export interface PendingObject {
  type: string;
  content: Buffer;
}

export class PendingObjects implements ObjectStore {
  constructor(
    private readonly pending: ReadonlyMap<string, PendingObject>,
    private readonly base: ObjectStore,
  ) {}

  async readObject(oid: GitOid, what: string): Promise<{ type: string; content: Buffer }> {
    return this.pending.get(oid) ?? this.base.readObject(oid, what);
  }

  private async readTyped(oid: GitOid, type: string, what: string): Promise<Buffer> {
    return contentOfType(await this.readObject(oid, what), oid, type, what);
  }

  async readBlob(oid: GitOid, what = "blob"): Promise<Uint8Array> {
    return this.readTyped(oid, "blob", what);
  }

  async readTree(oid: GitOid, what = "tree"): Promise<TreeEntry[]> {
    return parseTree(await this.readTyped(oid, "tree", what), oid, what);
  }

  async readCommit(oid: GitOid): Promise<CommitObject> {
    const o = this.pending.get(oid);
    if (!o) return this.base.readCommit(oid);
    if (o.type !== "commit") throw new CorruptObjectError(oid, `commit: expected a commit, found a ${o.type}`);
    return parseCommit(o.content, oid);
  }

  readCommitSync(oid: GitOid): CommitObject {
    const o = this.pending.get(oid);
    if (!o) return this.base.readCommitSync(oid);
    if (o.type !== "commit") throw new CorruptObjectError(oid, `commit: expected a commit, found a ${o.type}`);
    return parseCommit(o.content, oid);
  }

  async readTag(oid: GitOid): Promise<TagObject> {
    const o = this.pending.get(oid);
    return o ? parseTag(await this.readTyped(oid, "tag", "tag"), oid) : this.base.readTag(oid);
  }

  async typeOf(oid: GitOid): Promise<string | null> {
    return this.pending.get(oid)?.type ?? this.base.typeOf(oid);
  }

  async expand(prefix: string): Promise<GitOid[]> {
    const here = await this.base.expand(prefix);
    const more = [...this.pending.keys()].filter((oid) => oid.startsWith(prefix) && !here.includes(oid as GitOid)) as GitOid[];
    return [...here, ...more];
  }

  mergeBase(a: GitOid, b: GitOid): Promise<GitOid[]> {
    return this.base.mergeBase(a, b);
  }

  withPack<T>(fn: (pack: ObjectWriter) => Promise<T>): Promise<T> {
    return this.base.withPack(fn);
  }

  writeRaw(type: PackType, content: Uint8Array): Promise<GitOid> {
    return this.base.writeRaw(type, content);
  }

  writeBlob(content: Uint8Array): Promise<GitOid> {
    return this.base.writeBlob(content);
  }

  writeTree(entries: readonly TreeEntry[], where?: string): Promise<GitOid> {
    return this.base.writeTree(entries, where);
  }

  writeCommit(c: Omit<CommitObject, "oid">): Promise<GitOid> {
    return this.base.writeCommit(c);
  }

  writeTag(t: Omit<TagObject, "oid">): Promise<GitOid> {
    return this.base.writeTag(t);
  }
}
