/**
 * Snapshots: a Git tree that mirrors the Zarr hierarchy. Metadata documents
 * and small plain files are blobs; each array folder has a `.tdv-manifest`
 * subtree of manifest shards (chunk index → chunk id, size) named by grid
 * region; large plain files of a folder are listed in its `.tdv-files` blob.
 * Chunk bytes never enter Git.
 */
import { CorruptObjectError, isTdvError, UnsafePathError } from "../errors.js";
import { formatChunkKey } from "../format/chunk-key.js";
import { sha256, type ChunkId, type GitOid } from "../format/hash.js";
import {
  decodeShard,
  encodeFileList,
  ChunkList,
  FILE_LIST,
  MANIFEST_TREE,
  type FileListEntry,
  type ManifestEntry,
} from "../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../format/zarr-meta.js";
import { mapLimit } from "../store/atomic.js";
import { GitStore } from "../store/git.js";
import { checkEntryName, type TreeEntry } from "../format/git-object.js";
import { peekEntry, type Stored } from "../store/index-file.js";
import type { ObjectWriter } from "../store/types.js";
import { Hierarchy, joinPath, parentDir, baseName, type FileKind } from "./hierarchy.js";
import type { Repository, Stores } from "./repository.js";
import { checkShard, readFolder, readShard } from "./folder-read.js";

// what a reader relies on, checked where every reader reads a folder (folder-read.ts); checkout and fsck use them too
export { checkEntries, checkFileList, checkManifestHasArray, checkShard, chunkPathRivals } from "./folder-read.js";

/** One file of a snapshot: where its bytes are, and its size (-1 when unknown, for Git blobs). */
export type SnapEntry = Stored & { size: number };

export interface Snapshot {
  tree: GitOid | null;
  files: Map<string, SnapEntry>;
  arrays: Map<string, ArrayMeta>;
}

export interface DirNode {
  blobs: Map<string, GitOid>;
  large: FileListEntry[];
  dirs: Map<string, DirNode>;
  chunks: ChunkList | null;
  ndim: number;
}

export function newDir(): DirNode {
  return { blobs: new Map(), large: [], dirs: new Map(), chunks: null, ndim: 0 };
}

/**
 * Build and write the snapshot tree of `files` (paths relative to the root).
 * `known`: bytes of some of the files, already in memory (exactly their
 * entries' bytes: `add` passes what it has just staged), read from there.
 */
export async function writeSnapshot(
  repo: Repository,
  files: ReadonlyMap<string, SnapEntry>,
  onKind?: (rel: string, kind: FileKind) => void,
  pack?: ObjectWriter,
  known?: ReadonlyMap<string, Uint8Array>,
): Promise<GitOid> {
  // thousands of arrays make thousands of trees and manifests: one pack, not a file each
  return pack ? writeTrees(repo, files, onKind, pack, known) : repo.git.withPack((p) => writeTrees(repo, files, onKind, p, known));
}

/** `onKind`, when given, is told the kind of every file, in path order (what a commit's summary needs). */
async function writeTrees(
  repo: Repository,
  files: ReadonlyMap<string, SnapEntry>,
  onKind: ((rel: string, kind: FileKind) => void) | undefined,
  pack: ObjectWriter,
  known: ReadonlyMap<string, Uint8Array> | undefined,
): Promise<GitOid> {
  const root = await collectDirs(repo, storedHierarchy(repo, files, true, known), files, files.keys(), onKind);
  return writeDir(repo, root, "", pack);
}

/**
 * The hierarchy of a list of stored files (an index, files about to be
 * snapshotted), read from the object stores; `strict`: invalid metadata
 * throws (a snapshot write fails on it) instead of making a plain folder.
 * Metadata tdv cannot read at all (`unreadable`: an unknown Zarr version,
 * not JSON) always makes a folder of plain files (`add` has warned), and
 * `arrayMetaIn` reads it back so.
 */
export function storedHierarchy(repo: Repository, files: ReadonlyMap<string, Stored>, strict: boolean, known?: ReadonlyMap<string, Uint8Array>): Hierarchy {
  return new Hierarchy(async (rel) => {
    const e = files.get(rel);
    return e ? (known?.get(rel) ?? repo.readStored(e, rel)) : null;
  }, strict);
}

/** The node of folder `dir` (relative to `root`'s folder) in a tree of folder nodes, made with `make` where missing. */
export function folderAt<T extends { dirs: Map<string, T> }>(root: T, dir: string, make: () => T): T {
  let node = root;
  if (dir === "") return node;
  for (const part of dir.split("/")) {
    let next = node.dirs.get(part);
    if (!next) {
      next = make();
      node.dirs.set(part, next);
    }
    node = next;
  }
  return node;
}

/** The folder tree of `paths` (files of `files`): blobs, large-file lists and each array's chunks. */
export async function collectDirs(
  repo: Repository,
  h: Hierarchy,
  files: ReadonlyMap<string, SnapEntry>,
  paths: Iterable<string>,
  /** told the kind of each path, in the order of `paths` */
  onKind?: (rel: string, kind: FileKind) => void,
): Promise<DirNode> {
  const root = newDir();
  const dirAt = (dir: string): DirNode => folderAt(root, dir, newDir);
  // a block of paths at a time (each folder's array looked up once), and the entries read without
  // keeping them: at a million files a kind and an entry object held for each, or a promise chain
  // made for each, were most of a first commit's memory
  const addChunk = (kind: Extract<FileKind, { kind: "chunk" }>, ndim: number, entry: SnapEntry): void => {
    const node = dirAt(kind.array);
    node.ndim = ndim;
    node.chunks ??= new ChunkList(node.ndim);
    node.chunks.push(kind.index, entry.id as ChunkId, entry.size);
  };
  // synchronous but for a chunk staged as a Git blob: a promise a path was most of what this allocated
  await h.classifyEach(paths, (_i, kind, arr, rel) => {
    onKind?.(rel, kind);
    const entry = peekEntry(files, rel) as SnapEntry;
    if (kind.kind === "chunk") {
      const ndim = arr!.meta.shape.length;
      if (entry.store === "git") return blobToChunk(repo, entry.id, rel).then((e) => addChunk(kind, ndim, e));
      addChunk(kind, ndim, entry);
      return;
    }
    const node = dirAt(parentDir(rel));
    if (entry.store === "git") node.blobs.set(baseName(rel), entry.id);
    else node.large.push({ name: baseName(rel), id: entry.id as ChunkId, size: entry.size });
  });
  return root;
}

/** A chunk stored as a Git blob (staged before its array existed) moved to the chunk store. */
export async function blobToChunk(repo: Repository, oid: GitOid, rel: string): Promise<SnapEntry> {
  const bytes = await repo.git.readBlob(oid, rel);
  const id = sha256(bytes);
  await repo.chunks.put(id, bytes);
  return { store: "chunk", id, size: bytes.byteLength };
}

/** Write a folder tree collected by `collectDirs` into `pack`; returns its Git tree id. */
export async function writeDir(repo: Repository, node: DirNode, where: string, pack: ObjectWriter): Promise<GitOid> {
  const entries: TreeEntry[] = [];
  for (const [name, oid] of node.blobs) entries.push({ mode: "100644", name, oid });
  const subdirs = [...node.dirs];
  const oids = await mapLimit(subdirs, 8, ([name, child]) => writeDir(repo, child, joinPath(where, name), pack));
  subdirs.forEach(([name], i) => {
    entries.push({ mode: "040000", name, oid: oids[i]! });
  });
  if (node.large.length > 0) {
    entries.push({ mode: "100644", name: FILE_LIST, oid: await pack.writeBlob(encodeFileList(node.large)) });
  }
  if (node.chunks && node.chunks.length > 0) {
    const list = node.chunks;
    const shards = list.shards();
    const shardOids = await mapLimit(shards, 16, ([, at]) => pack.writeBlob(list.encodeShard(at)));
    const tree = await pack.writeTree(
      shards.map(([name], i) => ({ mode: "100644", name, oid: shardOids[i]! })),
      joinPath(where, MANIFEST_TREE),
    );
    entries.push({ mode: "040000", name: MANIFEST_TREE, oid: tree });
  }
  return pack.writeTree(entries, where);
}

/**
 * Parse the array metadata document among a folder's tree entries, if any.
 * Metadata tdv cannot read at all (`unreadable`) is a folder of plain files
 * (null), as the snapshot writer made it; beside a manifest it is refused
 * (InvalidMetadataError): nothing then says what the manifest's entries are.
 */
export async function arrayMetaIn(repo: Repository<Stores>, entries: TreeEntry[], dir: string): Promise<ArrayMeta | null> {
  try {
    return await parseArrayMetaIn(repo, entries, dir);
  } catch (err) {
    if (!isTdvError(err, "InvalidMetadataError") || !err.unreadable || entries.some((e) => e.name === MANIFEST_TREE && e.mode === "040000")) throw err;
    return null;
  }
}

async function parseArrayMetaIn(repo: Repository<Stores>, entries: TreeEntry[], dir: string): Promise<ArrayMeta | null> {
  const v3 = entries.find((e) => e.name === "zarr.json" && e.mode !== "040000");
  if (v3) {
    const node = parseZarrJson(await repo.git.readBlob(v3.oid, joinPath(dir, "zarr.json")), joinPath(dir, "zarr.json"));
    return node.kind === "array" ? node.meta : null;
  }
  const v2 = entries.find((e) => e.name === ".zarray" && e.mode !== "040000");
  if (v2) return parseZarray(await repo.git.readBlob(v2.oid, joinPath(dir, ".zarray")), joinPath(dir, ".zarray"));
  return null;
}

/** Read a snapshot tree into its flat list of files and its arrays. */
export async function readSnapshot(repo: Repository<Stores>, tree: GitOid | null, prefix = ""): Promise<Snapshot> {
  const snap: Snapshot = { tree, files: new Map(), arrays: new Map() };
  if (tree) await readDir(repo, tree, prefix, snap);
  checkPaths(snap.files);
  return snap;
}

/** Add a file to a snapshot; the same path from two sources (a tree entry and a manifest or file list) is refused. */
function putFile(snap: Snapshot, rel: string, e: SnapEntry): void {
  if (snap.files.has(rel)) throw new UnsafePathError(rel, "two entries for the same path (a file and a manifest or file list entry)");
  snap.files.set(rel, e);
}

/**
 * Paths that cannot all be checked out: two that differ only by case (one
 * overwrites the other on macOS and Windows), or a file that is also a
 * folder of other files. Entries of one tree are checked as they are read;
 * this catches collisions between trees, manifests and file lists.
 */
function checkPaths(files: ReadonlyMap<string, SnapEntry>): void {
  const lower = new Map<string, string>();
  for (const p of files.keys()) {
    const l = p.toLowerCase();
    const other = lower.get(l);
    if (other !== undefined) throw new UnsafePathError(p, `two files whose paths differ only by case ('${other}')`);
    lower.set(l, p);
  }
  for (const p of files.keys()) {
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) {
      const file = lower.get(p.slice(0, i).toLowerCase());
      if (file !== undefined) throw new UnsafePathError(file, `a file that is also a folder of '${p}'`);
    }
  }
}

async function readDir(repo: Repository<Stores>, oid: GitOid, dir: string, snap: Snapshot): Promise<void> {
  // the folder read and checked as every reader reads it (folder-read.ts)
  const folder = await readFolder(repo, oid, dir);
  // metadata that is not an array's: a group, or invalid metadata (refused, as a snapshot write refuses it)
  const meta = folder.array?.meta ?? (await arrayMetaIn(repo, folder.entries, dir));
  if (meta) snap.arrays.set(dir, meta);
  const subdirs: Promise<void>[] = [];
  for (const e of folder.entries) {
    const rel = joinPath(dir, e.name);
    if (e.mode === "040000") {
      if (e.name !== MANIFEST_TREE) subdirs.push(readDir(repo, e.oid, rel, snap));
    } else if (e.name !== FILE_LIST) {
      putFile(snap, rel, { store: "git", id: e.oid, size: -1 });
    }
  }
  for (const f of folder.large.values()) putFile(snap, joinPath(dir, f.name), { store: "chunk", id: f.id as ChunkId, size: f.size });
  const array = folder.array;
  if (array) {
    const lists = await mapLimit([...array.shardOids.keys()], 16, (name) => readShard(repo, folder, name));
    for (const list of lists) for (const chunk of list) putFile(snap, joinPath(dir, formatChunkKey(array.meta.keyEncoding, chunk.index)), { store: "chunk", id: chunk.id, size: chunk.size });
  }
  await Promise.all(subdirs);
}

/** All chunk entries of the manifest subtree of the array in `dir`, each shard checked by checkShard. */
export async function readManifest(repo: Repository<Stores>, oid: GitOid, dir: string, meta: ArrayMeta, siblings: readonly TreeEntry[]): Promise<ManifestEntry[]> {
  const where = joinPath(dir, MANIFEST_TREE);
  const shards = await repo.git.readTree(oid, where);
  const out: ManifestEntry[] = [];
  const lists = await mapLimit(shards, 16, async (s) => {
    checkEntryName(s.name, where);
    const shard = decodeShard(await repo.git.readBlob(s.oid, `${where}/${s.name}`), `${where}/${s.name}`);
    checkShard(dir, s.name, shard, meta, siblings);
    return shard.entries;
  });
  for (const l of lists) out.push(...l);
  return out;
}

/** Snapshot of a commit's tree. */
export async function readCommitSnapshot(repo: Repository<Stores>, commit: GitOid | null): Promise<Snapshot> {
  if (!commit) return readSnapshot(repo, null);
  const c = await repo.git.readCommit(commit);
  return readSnapshot(repo, c.tree);
}

/** The tree of commit `head` (null before the first commit). */
export async function headTree(repo: Repository<Stores>, head: GitOid | null): Promise<GitOid | null> {
  return head ? (await repo.git.readCommit(head)).tree : null;
}

/** Bytes of one snapshot entry, verified against its id. */
export async function readEntry(repo: Repository<Stores>, rel: string, e: SnapEntry): Promise<Uint8Array> {
  if (e.store === "chunk") return repo.chunks.get(e.id, rel);
  const bytes = await repo.git.readBlob(e.id, rel);
  if (GitStore.blobOid(bytes) !== e.id) throw new CorruptObjectError(e.id, `blob for ${rel} does not match its id`);
  return bytes;
}
