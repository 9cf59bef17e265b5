/**
 * One chunk of one array of a commit, read without reading the snapshot: the
 * path's folders are listed down to the array, its metadata documents read,
 * and of its manifest only the shard that holds the chunk (see
 * docs/format.md). The review and conflict screens decode a chunk only when
 * the cursor is on it, so a repository of millions of chunks stays responsive.
 */
import {
  arrayMetaOf,
  decodeChunk,
  decodeShard,
  fillChunk,
  MANIFEST_TREE,
  regionName,
  type ArrayMeta,
  type DecodedChunk,
  type GitOid,
  type ManifestEntry,
  type Repository,
} from "../../../src/index.js";

export interface ArrayAt {
  meta: ArrayMeta;
  /** the chunk decoded; the fill value when no file is stored; null when it lies outside the array's shape */
  chunk(index: readonly number[]): Promise<DecodedChunk | null>;
  /** `bytes` decoded as chunk `index` of this array (null bytes: the fill value) */
  decode(index: readonly number[], bytes: Uint8Array | null): Promise<DecodedChunk>;
  /** every stored chunk's index (reads the whole manifest: for a root commit's review) */
  stored(): Promise<{ index: number[]; size: number }[]>;
}

export class ChunkReader {
  private readonly arrays = new Map<string, Promise<ArrayAt | null>>();

  constructor(private readonly repo: Repository) {}

  /** The array at `path` in `commit`, or null when the commit has no array there. */
  array(commit: string, path: string): Promise<ArrayAt | null> {
    const k = `${commit}:${path}`;
    let hit = this.arrays.get(k);
    if (!hit) {
      hit = this.load(commit as GitOid, path);
      hit.catch(() => this.arrays.delete(k));
      this.arrays.set(k, hit);
    }
    return hit;
  }

  private async load(commit: GitOid, path: string): Promise<ArrayAt | null> {
    const git = this.repo.git;
    let tree = (await git.readCommit(commit)).tree;
    for (const part of path.split("/").filter((p) => p !== "")) {
      const e = (await git.readTree(tree, path)).find((x) => x.name === part && x.mode === "040000");
      if (!e) return null;
      tree = e.oid;
    }
    const entries = await git.readTree(tree, path || "root tree");
    const blob = (name: string) => entries.find((e) => e.name === name && e.mode !== "040000");
    const docEntry = blob("zarr.json") ?? blob(".zarray");
    if (!docEntry) return null;
    const doc = await git.readBlob(docEntry.oid, `${path}/${docEntry.name}`);
    let meta: ArrayMeta;
    try {
      meta = arrayMetaOf(doc);
    } catch {
      return null; // a group, or a document tdv cannot parse
    }
    const za = docEntry.name === ".zarray" ? blob(".zattrs") : undefined;
    const zattrs = za ? await git.readBlob(za.oid, `${path}/.zattrs`) : null;
    const manifest = entries.find((e) => e.name === MANIFEST_TREE && e.mode === "040000");
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
    return {
      meta,
      chunk: async (index) => {
        if (index.length !== ndim || index.some((k, d) => k * (meta.chunkShape[d] as number) >= (meta.shape[d] as number))) return null;
        const entry = (await shard(regionName(index, ndim))).get(index.join(","));
        if (!entry) return fillChunk(doc, [...index]);
        return decodeChunk(doc, zattrs, [...index], await this.repo.chunks.get(entry.id));
      },
      decode: (index, bytes) => (bytes ? decodeChunk(doc, zattrs, [...index], bytes) : fillChunk(doc, [...index])),
      stored: async () => {
        const all = await Promise.all([...shardOids.keys()].map(shard));
        return all.flatMap((m) => [...m.values()].map((e) => ({ index: e.index, size: e.size })));
      },
    };
  }
}
