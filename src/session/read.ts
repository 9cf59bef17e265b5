/**
 * A read-only session: one commit, pinned when the session opens, read in
 * place without a checkout. An array is found by listing the path's folders
 * down to it and reading its metadata documents; of its manifest only the
 * shard that holds a chunk is read (see docs/format.md), so a repository of
 * millions of chunks answers one chunk as fast as a small one. The terminal
 * UI decodes a chunk only when the cursor is on it, through this.
 *
 * A session is also a zarrita store (`get`, `getRange`): the key of a file in
 * the commit's tree ("/era5.zarr/t2m/c/0/0/0", "/era5.zarr/.zattrs") gives its
 * exact stored bytes, verified against their hash; a chunk the manifest does
 * not list gives undefined (the fill value), so `zarr.open(session, ...)`
 * reads any revision as it was committed. The repository may be a local one
 * or a remote's stores (src/remote): the session reads through its stores.
 */
import { formatChunkKey, parseChunkKey } from "../format/chunk-key.js";
import { pathParts } from "../format/paths.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { FILE_LIST, MANIFEST_TREE, regionName, type FileListEntry, type ManifestEntry } from "../format/manifest.js";
import type { ArrayMeta } from "../format/zarr-meta.js";
import type { CommitObject, TreeEntry } from "../format/git-object.js";
import { decodeChunk, fillChunk, type DecodedChunk } from "../zarr/decode.js";
import type { Repository, Stores } from "../repo/repository.js";
import type { BufferPool } from "../store/buffer-pool.js";
import { resolveRevision } from "../repo/revision.js";
import { arrayDocIn, readFolder as readCheckedFolder, readShard } from "../repo/folder-read.js";

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

/** One file of the session's tree: where its bytes are. */
export interface FileAt extends StoredRef {
  /** its path in the tree, canonical ("era5.zarr/t2m/c/0/0") */
  path: string;
  /** its size in bytes; -1 for a Git blob (metadata documents, small plain files) until read */
  size: number;
  /** a chunk of an array (listed in the array's manifest), a file of the tree (metadata, plain files) */
  kind: "chunk" | "file";
}

/** A byte range as zarrita asks for one: `length` bytes from `offset`, or the last `suffixLength` bytes. */
export type RangeQuery = { offset: number; length: number } | { suffixLength: number };

/** The entries of one folder of the session's tree. */
export interface Listing {
  /** subfolders, including the first part of chunk keys that hold a separator ("c" of a v3 array) */
  dirs: string[];
  /** files directly in the folder (metadata documents, plain files, chunks whose key has no separator) */
  files: FileAt[];
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

  /** The file at `path` (a canonical path in the tree), or null when the commit has none there; UnsafePathError for `..`, `.`, empty parts. */
  file(path: string): Promise<FileAt | null>;
  /**
   * The exact bytes of a file, verified against its id. With `pool`, a chunk
   * object's bytes may be a buffer lent by it: the caller gives them back
   * (`pool.give`) once nothing reads them.
   */
  read(file: FileAt, pool?: BufferPool): Promise<Uint8Array>;
  /** The folder at `path` ("" for the root), or null when the commit has no folder there. An array's chunk keys are listed from its whole manifest. */
  list(path: string): Promise<Listing | null>;
  /** Every file under `path` (a folder, or one file; "" for all), folder by folder, one manifest shard in memory at a time. */
  walk(path: string): AsyncGenerator<FileAt>;
  /** zarrita's store: the bytes of the file at `key` ("/a.zarr/zarr.json"), undefined when the commit has none there. */
  get(key: string, opts?: unknown): Promise<Uint8Array | undefined>;
  /** zarrita's store: a byte range of the file at `key` (clamped to its size), undefined when the commit has none there. */
  getRange(key: string, range: RangeQuery, opts?: unknown): Promise<Uint8Array | undefined>;
}

/** Open a read-only session on revision `rev` (a branch, tag, commit id, `HEAD~2`, `main@{DATE}`). */
export async function openSession(repo: Repository<Stores>, rev: string): Promise<ReadSession> {
  const commit = await resolveRevision(repo, rev);
  return new CommitSession(repo, commit, await repo.git.readCommit(commit));
}

/** The bytes of `range` in `bytes`, clamped to their length (a range past the end is empty). */
export function sliceRange(bytes: Uint8Array, range: RangeQuery): Uint8Array {
  if ("suffixLength" in range) return bytes.subarray(Math.max(0, bytes.length - Math.max(0, range.suffixLength)));
  const start = Math.min(bytes.length, Math.max(0, range.offset));
  return bytes.subarray(start, Math.min(bytes.length, start + Math.max(0, range.length)));
}

/** What the session knows of one folder of its tree. */
interface Folder {
  path: string;
  entries: TreeEntry[];
  /** the array whose metadata the folder holds, or null */
  array: ArrayInfo | null;
  /** the folder's large plain files (.tdv-files), by name */
  large: Map<string, FileListEntry>;
}

interface ArrayInfo {
  meta: ArrayMeta;
  doc: Uint8Array;
  docName: string;
  /** shard name → its blob */
  shardOids: Map<string, GitOid>;
  /** a shard's entries by index ("1,0,3") */
  shard(name: string): Promise<Map<string, ManifestEntry>>;
  /** drop a shard read by a walk, so a walk keeps one shard in memory at a time */
  forget?(name: string): void;
}

/** Folders read by a session, at most this many kept (a walk of a big tree reads each folder once). */
const FOLDER_CACHE = 4096;

class CommitSession implements ReadSession {
  private readonly loaded = new Map<string, Promise<ArrayAt | null>>();
  private readonly folders = new Map<string, Promise<Folder | null>>();

  constructor(
    private readonly repo: Repository<Stores>,
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

  async file(path: string): Promise<FileAt | null> {
    const parts = pathParts(path);
    if (parts.length === 0) return null;
    let folder = await this.folder("");
    for (let i = 0; folder !== null; i++) {
      const dir = folder.path;
      if (folder.array) {
        const found = await this.chunkAt(folder, parts.slice(i).join("/"));
        if (found) return found;
      }
      const name = parts[i] as string;
      const rel = dir ? `${dir}/${name}` : name;
      if (name === MANIFEST_TREE || name === FILE_LIST) return null;
      const e = folder.entries.find((x) => x.name === name);
      const last = i === parts.length - 1;
      if (e && e.mode !== DIR) return last ? { path: rel, store: "git", id: e.oid, size: -1, kind: "file" } : null;
      if (!e) {
        const big = last ? folder.large.get(name) : undefined;
        return big ? { path: rel, store: "chunk", id: big.id, size: big.size, kind: "file" } : null;
      }
      if (last) return null; // a folder, not a file
      folder = await this.folderOf(e.oid, rel);
    }
    return null;
  }

  read(file: FileAt, pool?: BufferPool): Promise<Uint8Array> {
    if (file.store === "chunk") return this.repo.chunks.get(file.id as ChunkId, file.path, { size: file.size, pool });
    return this.repo.git.readBlob(file.id as GitOid, file.path);
  }

  async list(path: string): Promise<Listing | null> {
    const folder = await this.folderAtPath(pathParts(path));
    if (!folder) return null;
    const dirs = new Set<string>();
    const files: FileAt[] = [];
    for (const f of this.plainFiles(folder)) files.push(f);
    for (const e of folder.entries) if (e.mode === DIR && e.name !== MANIFEST_TREE) dirs.add(e.name);
    if (folder.array) {
      for await (const f of this.chunksOf(folder)) {
        const key = f.path.slice(folder.path ? folder.path.length + 1 : 0);
        const slash = key.indexOf("/");
        if (slash < 0) files.push(f);
        else dirs.add(key.slice(0, slash));
      }
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { dirs: [...dirs].sort(), files };
  }

  async *walk(path: string): AsyncGenerator<FileAt> {
    const parts = pathParts(path);
    const folder = await this.folderAtPath(parts);
    if (!folder) {
      const one = parts.length > 0 ? await this.file(path) : null;
      if (one) yield one;
      return;
    }
    yield* this.walkFolder(folder);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const f = await this.file(key);
    return f ? this.read(f) : undefined;
  }

  async getRange(key: string, range: RangeQuery): Promise<Uint8Array | undefined> {
    const bytes = await this.get(key);
    return bytes && sliceRange(bytes, range);
  }

  private async *walkFolder(folder: Folder): AsyncGenerator<FileAt> {
    yield* this.plainFiles(folder);
    if (folder.array) yield* this.chunksOf(folder);
    for (const e of folder.entries) {
      if (e.mode !== DIR || e.name === MANIFEST_TREE) continue;
      const sub = await this.folderOf(e.oid, folder.path ? `${folder.path}/${e.name}` : e.name);
      if (sub) yield* this.walkFolder(sub);
    }
  }

  /** The folder's files that are not chunks: blobs and the file list's entries. */
  private *plainFiles(folder: Folder): Generator<FileAt> {
    const at = (name: string) => (folder.path ? `${folder.path}/${name}` : name);
    for (const e of folder.entries) {
      if (e.mode === DIR || e.name === FILE_LIST) continue;
      yield { path: at(e.name), store: "git", id: e.oid, size: -1, kind: "file" };
    }
    for (const f of folder.large.values()) yield { path: at(f.name), store: "chunk", id: f.id, size: f.size, kind: "file" };
  }

  /** The chunks of the array in `folder`, shard by shard. */
  private async *chunksOf(folder: Folder): AsyncGenerator<FileAt> {
    const a = folder.array as ArrayInfo;
    for (const name of [...a.shardOids.keys()].sort()) {
      for (const e of (await a.shard(name)).values()) {
        const key = formatChunkKey(a.meta.keyEncoding, e.index);
        yield { path: folder.path ? `${folder.path}/${key}` : key, store: "chunk", id: e.id, size: e.size, kind: "chunk" };
      }
      a.forget?.(name);
    }
  }

  /** The chunk of the array in `folder` whose key is `rest`: its file, null when the manifest lists none there, undefined when `rest` is no chunk key. */
  private async chunkAt(folder: Folder, rest: string): Promise<FileAt | null | undefined> {
    const a = folder.array as ArrayInfo;
    const ndim = a.meta.shape.length;
    const index = parseChunkKey(a.meta.keyEncoding, rest, ndim);
    if (index === null) return undefined;
    const e = (await a.shard(regionName(index, ndim))).get(index.join(","));
    if (!e) return null;
    return { path: folder.path ? `${folder.path}/${rest}` : rest, store: "chunk", id: e.id, size: e.size, kind: "chunk" };
  }

  private async folderAtPath(parts: readonly string[]): Promise<Folder | null> {
    let folder = await this.folder("");
    for (const name of parts) {
      if (!folder || name === MANIFEST_TREE) return null;
      const e = folder.entries.find((x) => x.name === name && x.mode === DIR);
      if (!e) return null;
      folder = await this.folderOf(e.oid, folder.path ? `${folder.path}/${name}` : name);
    }
    return folder;
  }

  private folder(path: string): Promise<Folder | null> {
    return path === "" ? this.folderOf(this.info.tree, "") : this.folderAtPath(pathParts(path));
  }

  /** The folder whose tree is `oid`, read once (and kept among the last FOLDER_CACHE read). */
  private folderOf(oid: GitOid, path: string): Promise<Folder | null> {
    const k = `${oid}:${path}`;
    let hit = this.folders.get(k);
    if (!hit) {
      hit = this.readFolder(oid, path);
      hit.catch(() => this.folders.delete(k));
      if (this.folders.size >= FOLDER_CACHE) this.folders.delete(this.folders.keys().next().value as string);
      this.folders.set(k, hit);
    }
    return hit;
  }

  private async readFolder(oid: GitOid, path: string): Promise<Folder> {
    // what checkout refuses in a folder, a session refuses when it reads the folder (repo/folder-read.ts)
    const checked = await readCheckedFolder(this.repo, oid, path);
    const found = checked.array;
    let array: ArrayInfo | null = null;
    if (found) {
      const shards = new Map<string, Promise<Map<string, ManifestEntry>>>();
      array = {
        ...found,
        shard: (name) => {
          let s = shards.get(name);
          if (!s) {
            s = readShard(this.repo, checked, name).then((entries) => new Map(entries.map((e) => [e.index.join(","), e])));
            s.catch(() => shards.delete(name));
            shards.set(name, s);
          }
          return s;
        },
        forget: (name) => shards.delete(name),
      };
    }
    return { path, entries: checked.entries, array, large: checked.large };
  }

  /** The metadata of the array whose folder lists `entries`, or null (a group, plain files, a document tdv cannot parse). */
  private arrayIn(entries: readonly TreeEntry[], path: string): Promise<{ meta: ArrayMeta; doc: Uint8Array; docName: string } | null> {
    return arrayDocIn(this.repo, entries, path);
  }

  private async load(path: string): Promise<ArrayAt | null> {
    const folder = await this.folderAtPath(path === "" ? [] : path.split("/"));
    if (!folder?.array) return null;
    const { meta, doc, docName } = folder.array;
    const a = folder.array;
    const za = docName === ".zarray" ? folder.entries.find((e) => e.name === ".zattrs" && e.mode !== DIR) : undefined;
    const zattrs = za ? await this.repo.git.readBlob(za.oid, `${path}/.zattrs`) : null;
    const ndim = meta.shape.length;
    const inside = (index: readonly number[]) => index.length === ndim && index.every((k, d) => k * (meta.chunkShape[d] as number) < (meta.shape[d] as number));
    const chunkBytes = async (index: readonly number[]): Promise<Uint8Array | null> => {
      if (!inside(index)) return null;
      const entry = (await a.shard(regionName(index, ndim))).get(index.join(","));
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
        const all = await Promise.all([...a.shardOids.keys()].map(a.shard));
        return all.flatMap((m) => [...m.values()].map((e) => ({ index: e.index, size: e.size })));
      },
    };
  }
}
