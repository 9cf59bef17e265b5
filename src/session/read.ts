/**
 * A read-only session: one commit, pinned when the session opens, read in
 * place without a checkout. An array is found by listing the path's folders
 * down to it and reading its metadata documents; of its manifest only the
 * shard that holds a chunk is read (see docs/format.md), so a repository of
 * millions of chunks answers one chunk as fast as a small one. The terminal
 * UI decodes a chunk only when the cursor is on it, through this.
 */
import type { ChunkId, GitOid } from "../format/hash.js";
import { decodeShard, MANIFEST_TREE, regionName, type ManifestEntry } from "../format/manifest.js";
import type { ArrayMeta } from "../format/zarr-meta.js";
import type { CommitObject, TreeEntry } from "../format/git-object.js";
import { decodeChunk, fillChunk, arrayMetaOf, type DecodedChunk } from "../zarr/decode.js";
import type { Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";

const DIR = "040000";

/** One array of the session's commit. */
export interface ArrayAt {
  /** its path ("" for an array at the root) */
  path: string;
  meta: ArrayMeta;
  /** the stored bytes of chunk `index`, or null when no chunk is stored there (the fill value) */
  chunkBytes(index: readonly number[]): Promise<Uint8Array | null>;
  /** the chunk decoded; the fill value when no chunk is stored; null when it lies outside the array's shape */
  chunk(index: readonly number[]): Promise<DecodedChunk | null>;
  /** `bytes` decoded as chunk `index` of this array (null bytes: the fill value) */
  decode(index: readonly number[], bytes: Uint8Array | null): Promise<DecodedChunk>;
  /** every stored chunk's index and size (reads the whole manifest) */
  stored(): Promise<{ index: number[]; size: number }[]>;
}

/** Where a snapshot keeps a file's bytes: a chunk object or a Git blob (as manifests and conflicts name them). */
export interface StoredRef {
  store: "chunk" | "git";
  id: string;
}

export interface ReadSession {
  /** the commit the session reads, resolved once when it opened */
  readonly commit: GitOid;
  /** that commit's object: tree, parents, author, committer, message */
  readonly info: CommitObject;
  /** the array at `path`, or null when the commit has no array there */
  array(path: string): Promise<ArrayAt | null>;
  /** the paths of every array of the commit, sorted ("" for an array at the root) */
  arrays(): Promise<string[]>;
  /** the bytes of a stored object a manifest entry or a conflict names; `what` names it in errors */
  object(ref: StoredRef, what: string): Promise<Uint8Array>;
}

/** Open a read-only session on revision `rev` (a branch, tag, commit id, `HEAD~2`, `main@{DATE}`). */
export async function openSession(repo: Repository, rev: string): Promise<ReadSession> {
  const commit = await resolveRevision(repo, rev);
  return new CommitSession(repo, commit, await repo.git.readCommit(commit));
}

class CommitSession implements ReadSession {
  private readonly loaded = new Map<string, Promise<ArrayAt | null>>();

  constructor(
    private readonly repo: Repository,
    readonly commit: GitOid,
    readonly info: CommitObject,
  ) {}

  array(path: string): Promise<ArrayAt | null> {
    const key = path.split("/").filter((p) => p !== "").join("/");
    let hit = this.loaded.get(key);
    if (!hit) {
      hit = this.load(key);
      hit.catch(() => this.loaded.delete(key));
      this.loaded.set(key, hit);
    }
    return hit;
  }

  async arrays(): Promise<string[]> {
    const out: string[] = [];
    const visit = async (tree: GitOid, dir: string): Promise<void> => {
      const entries = await this.repo.git.readTree(tree, dir || "root tree");
      if (await this.arrayIn(entries, dir)) out.push(dir);
      for (const e of entries) if (e.mode === DIR && e.name !== MANIFEST_TREE) await visit(e.oid, dir ? `${dir}/${e.name}` : e.name);
    };
    await visit(this.info.tree, "");
    return out.sort();
  }

  object(ref: StoredRef, what: string): Promise<Uint8Array> {
    return ref.store === "chunk" ? this.repo.chunks.get(ref.id as ChunkId, what) : this.repo.git.readBlob(ref.id as GitOid, what);
  }

  /** The metadata of the array whose folder lists `entries`, or null (a group, plain files, a document tdv cannot parse). */
  private async arrayIn(entries: readonly TreeEntry[], path: string): Promise<{ meta: ArrayMeta; doc: Uint8Array; docName: string } | null> {
    const blob = (name: string) => entries.find((e) => e.name === name && e.mode !== DIR);
    const docEntry = blob("zarr.json") ?? blob(".zarray");
    if (!docEntry) return null;
    const doc = await this.repo.git.readBlob(docEntry.oid, `${path}/${docEntry.name}`);
    try {
      return { meta: arrayMetaOf(doc), doc, docName: docEntry.name };
    } catch {
      return null;
    }
  }

  private async load(path: string): Promise<ArrayAt | null> {
    const git = this.repo.git;
    let tree = this.info.tree;
    for (const part of path.split("/").filter((p) => p !== "")) {
      const e = (await git.readTree(tree, path)).find((x) => x.name === part && x.mode === DIR);
      if (!e) return null;
      tree = e.oid;
    }
    const entries = await git.readTree(tree, path || "root tree");
    const found = await this.arrayIn(entries, path);
    if (!found) return null;
    const { meta, doc, docName } = found;
    const za = docName === ".zarray" ? entries.find((e) => e.name === ".zattrs" && e.mode !== DIR) : undefined;
    const zattrs = za ? await git.readBlob(za.oid, `${path}/.zattrs`) : null;
    const manifest = entries.find((e) => e.name === MANIFEST_TREE && e.mode === DIR);
    const shardOids = manifest ? new Map((await git.readTree(manifest.oid, `${path}/${MANIFEST_TREE}`)).map((e) => [e.name, e.oid])) : new Map<string, GitOid>();
    const shards = new Map<string, Promise<Map<string, ManifestEntry>>>();
    const shard = (name: string): Promise<Map<string, ManifestEntry>> => {
      let s = shards.get(name);
      if (!s) {
        const oid = shardOids.get(name);
        s = oid
          ? git.readBlob(oid, `${path}/${MANIFEST_TREE}/${name}`).then((b) => new Map(decodeShard(b, `${path}/${MANIFEST_TREE}/${name}`).entries.map((e) => [e.index.join(","), e])))
          : Promise.resolve(new Map());
        shards.set(name, s);
      }
      return s;
    };
    const ndim = meta.shape.length;
    const inside = (index: readonly number[]) => index.length === ndim && index.every((k, d) => k * (meta.chunkShape[d] as number) < (meta.shape[d] as number));
    const chunkBytes = async (index: readonly number[]): Promise<Uint8Array | null> => {
      if (!inside(index)) return null;
      const entry = (await shard(regionName(index, ndim))).get(index.join(","));
      return entry ? this.repo.chunks.get(entry.id) : null;
    };
    return {
      path,
      meta,
      chunkBytes,
      chunk: async (index) => {
        if (!inside(index)) return null;
        const bytes = await chunkBytes(index);
        return bytes ? decodeChunk(doc, zattrs, [...index], bytes) : fillChunk(doc, [...index]);
      },
      decode: (index, bytes) => (bytes ? decodeChunk(doc, zattrs, [...index], bytes) : fillChunk(doc, [...index])),
      stored: async () => {
        const all = await Promise.all([...shardOids.keys()].map(shard));
        return all.flatMap((m) => [...m.values()].map((e) => ({ index: e.index, size: e.size })));
      },
    };
  }
}
