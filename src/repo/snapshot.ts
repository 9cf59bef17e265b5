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
  decodeFileList,
  decodeShard,
  encodeFileList,
  encodeShard,
  FILE_LIST,
  MANIFEST_TREE,
  regionName,
  splitIntoShards,
  type FileListEntry,
  type ManifestEntry,
} from "../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../format/zarr-meta.js";
import { mapLimit } from "../store/atomic.js";
import { GitStore } from "../store/git.js";
import { checkEntryName, type TreeEntry } from "../format/git-object.js";
import type { Stored } from "../store/index-file.js";
import type { ObjectWriter } from "../store/types.js";
import { Hierarchy, joinPath, parentDir, baseName, type FileKind } from "./hierarchy.js";
import type { Repository } from "./repository.js";

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
  chunks: ManifestEntry[] | null;
  ndim: number;
}

export function newDir(): DirNode {
  return { blobs: new Map(), large: [], dirs: new Map(), chunks: null, ndim: 0 };
}

/** Build and write the snapshot tree of `files` (paths relative to the root). */
export async function writeSnapshot(repo: Repository, files: ReadonlyMap<string, SnapEntry>, classified?: Map<string, FileKind>, pack?: ObjectWriter): Promise<GitOid> {
  // thousands of arrays make thousands of trees and manifests: one pack, not a file each
  return pack ? writeTrees(repo, files, classified, pack) : repo.git.withPack((p) => writeTrees(repo, files, classified, p));
}

/** `classified`, when given, receives the kind of every file (what a commit's summary needs). */
async function writeTrees(repo: Repository, files: ReadonlyMap<string, SnapEntry>, classified: Map<string, FileKind> | undefined, pack: ObjectWriter): Promise<GitOid> {
  const root = await collectDirs(repo, storedHierarchy(repo, files, true), files, [...files.keys()], classified);
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
export function storedHierarchy(repo: Repository, files: ReadonlyMap<string, Stored>, strict: boolean): Hierarchy {
  return new Hierarchy(async (rel) => {
    const e = files.get(rel);
    return e ? repo.readStored(e, rel) : null;
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
  paths: readonly string[],
  classified?: Map<string, FileKind>,
): Promise<DirNode> {
  const root = newDir();
  const dirAt = (dir: string): DirNode => folderAt(root, dir, newDir);
  const kinds = await mapLimit(paths, 64, (p) => h.classify(p));
  if (classified) {
    paths.forEach((p, i) => {
      classified.set(p, kinds[i]!);
    });
  }
  for (let i = 0; i < paths.length; i++) {
    const rel = paths[i] as string;
    const kind = kinds[i]!;
    let entry = files.get(rel) as SnapEntry;
    if (kind.kind === "chunk") {
      if (entry.store === "git") entry = await blobToChunk(repo, entry.id, rel);
      const node = dirAt(kind.array);
      const arr = await h.arrayAt(kind.array);
      node.ndim = arr!.meta.shape.length;
      node.chunks ??= [];
      node.chunks.push({ index: kind.index, id: entry.id as ChunkId, size: entry.size });
      continue;
    }
    const node = dirAt(parentDir(rel));
    if (entry.store === "git") node.blobs.set(baseName(rel), entry.id);
    else node.large.push({ name: baseName(rel), id: entry.id as ChunkId, size: entry.size });
  }
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
    const shards = [...splitIntoShards(node.ndim, node.chunks)];
    const shardOids = await mapLimit(shards, 16, ([, list]) => pack.writeBlob(encodeShard(node.ndim, list)));
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
export async function arrayMetaIn(repo: Repository, entries: TreeEntry[], dir: string): Promise<ArrayMeta | null> {
  try {
    return await parseArrayMetaIn(repo, entries, dir);
  } catch (err) {
    if (!isTdvError(err, "InvalidMetadataError") || !err.unreadable || entries.some((e) => e.name === MANIFEST_TREE && e.mode === "040000")) throw err;
    return null;
  }
}

async function parseArrayMetaIn(repo: Repository, entries: TreeEntry[], dir: string): Promise<ArrayMeta | null> {
  const v3 = entries.find((e) => e.name === "zarr.json" && e.mode !== "040000");
  if (v3) {
    const node = parseZarrJson(await repo.git.readBlob(v3.oid, joinPath(dir, "zarr.json")), joinPath(dir, "zarr.json"));
    return node.kind === "array" ? node.meta : null;
  }
  const v2 = entries.find((e) => e.name === ".zarray" && e.mode !== "040000");
  if (v2) return parseZarray(await repo.git.readBlob(v2.oid, joinPath(dir, ".zarray")), joinPath(dir, ".zarray"));
  return null;
}

/** Validate a folder's tree entries as coming from a possibly hostile repository (checkout and fsck). */
export function checkEntries(entries: TreeEntry[], dir: string): void {
  const lower = new Set<string>();
  for (const e of entries) {
    checkEntryName(e.name, dir);
    if (e.mode !== "100644" && e.mode !== "100755" && e.mode !== "040000") {
      throw new UnsafePathError(joinPath(dir, e.name), `tree entry mode ${e.mode} (symlinks and submodules are not allowed)`);
    }
    const l = e.name.toLowerCase();
    if (lower.has(l)) throw new UnsafePathError(joinPath(dir, e.name), "two entries whose names differ only by case");
    lower.add(l);
    if ((e.name === MANIFEST_TREE && e.mode !== "040000") || (e.name === FILE_LIST && e.mode === "040000")) {
      throw new UnsafePathError(joinPath(dir, e.name), `'${e.name}' is reserved for tdv's ${e.name === MANIFEST_TREE ? "manifest tree" : "file list"}`);
    }
  }
}

/** Read a snapshot tree into its flat list of files and its arrays. */
export async function readSnapshot(repo: Repository, tree: GitOid | null, prefix = ""): Promise<Snapshot> {
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

async function readDir(repo: Repository, oid: GitOid, dir: string, snap: Snapshot): Promise<void> {
  const entries = await repo.git.readTree(oid, dir || "root tree");
  checkEntries(entries, dir);
  const meta = await arrayMetaIn(repo, entries, dir);
  if (meta) snap.arrays.set(dir, meta);
  const subdirs: Promise<void>[] = [];
  for (const e of entries) {
    const rel = joinPath(dir, e.name);
    if (e.name === MANIFEST_TREE && e.mode === "040000") {
      checkManifestHasArray(dir, meta);
      for (const chunk of await readManifest(repo, e.oid, dir, meta, entries)) {
        putFile(snap, joinPath(dir, formatChunkKey(meta.keyEncoding, chunk.index)), { store: "chunk", id: chunk.id, size: chunk.size });
      }
    } else if (e.name === FILE_LIST && e.mode !== "040000") {
      const list = decodeFileList(await repo.git.readBlob(e.oid, rel), rel);
      checkFileList(dir, list, entries);
      for (const f of list) putFile(snap, joinPath(dir, f.name), { store: "chunk", id: f.id as ChunkId, size: f.size });
    } else if (e.mode === "040000") {
      subdirs.push(readDir(repo, e.oid, rel, snap));
    } else {
      putFile(snap, rel, { store: "git", id: e.oid, size: -1 });
    }
  }
  await Promise.all(subdirs);
}

/** All chunk entries of the manifest subtree of the array in `dir`, each shard checked by checkShard. */
export async function readManifest(repo: Repository, oid: GitOid, dir: string, meta: ArrayMeta, siblings: readonly TreeEntry[]): Promise<ManifestEntry[]> {
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

// ---- what a reader relies on: checkout refuses what these refuse, and fsck reports it --------

/** A manifest belongs in an array's folder: without array metadata nothing says what its entries are. */
export function checkManifestHasArray(dir: string, meta: ArrayMeta | null): asserts meta is ArrayMeta {
  if (!meta) throw new UnsafePathError(joinPath(dir, MANIFEST_TREE), "a manifest in a folder that holds no array metadata");
}

/**
 * What a reader checks in one decoded manifest shard (decodeShard has checked
 * the encoding, and that entries are sorted and unique) of the array in
 * `dir`: the shard's name is a safe path component; the shard has the
 * array's dimensionality; every entry lies in the region the shard is named
 * after (a chunk listed in another region's shard could be listed twice, with
 * two ids); and no entry's chunk path is also a tree entry of the array's
 * folder (`siblings`): a file of that name, or a file where the chunk path
 * needs a folder (v3 `c`). Throws UnsafePathError / CorruptObjectError
 * naming the array, the shard and the entry.
 */
export function checkShard(dir: string, name: string, shard: { ndim: number; entries: readonly ManifestEntry[] }, meta: ArrayMeta, siblings: readonly TreeEntry[]): void {
  const where = joinPath(dir, MANIFEST_TREE);
  const what = `${where}/${name}`;
  const array = dir || ".";
  checkEntryName(name, where);
  const ndim = meta.shape.length;
  if (shard.ndim !== ndim) throw new UnsafePathError(what, `manifest shard ${name} of array ${array} has ${shard.ndim} dimensions, the array ${ndim}`);
  for (const c of shard.entries) {
    const region = regionName(c.index, ndim);
    if (region !== name) throw new CorruptObjectError(what, `entry [${c.index}] of array ${array} lies in region ${region}, not in the region of shard ${name}`);
  }
  const clash = chunkPathRivals(siblings);
  if (clash.size === 0) return;
  for (const c of shard.entries) {
    const key = formatChunkKey(meta.keyEncoding, c.index);
    const slash = key.indexOf("/");
    const other = clash.get((slash < 0 ? key : key.slice(0, slash)).toLowerCase());
    if (!other || (slash >= 0 && other.mode === "040000")) continue; // a folder on the way is checked with the paths of the snapshot
    const why = slash < 0 ? `entry [${c.index}] of array ${array} (shard ${name}) and the tree entry '${other.name}' name the same file` : `entry [${c.index}] of array ${array} (shard ${name}) needs a folder where the tree holds the file '${other.name}'`;
    throw new UnsafePathError(joinPath(dir, key), why);
  }
}

/** The entries of an array's folder a chunk path could collide with (chunk paths start with a digit, or "c" in v3), by lower-case name. */
export function chunkPathRivals(siblings: readonly TreeEntry[]): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  for (const e of siblings) if (/^[0-9c]/i.test(e.name)) out.set(e.name.toLowerCase(), e);
  return out;
}

/**
 * What a reader checks in a folder's decoded file list (decodeFileList has
 * checked the encoding, order, uniqueness and that each name is one path
 * component): every name is a safe name, and none is also a tree entry of the
 * folder or another listed name, not even but for case.
 */
export function checkFileList(dir: string, list: readonly FileListEntry[], siblings: readonly TreeEntry[]): void {
  const taken = new Map<string, string>(siblings.map((e) => [e.name.toLowerCase(), `the tree entry '${e.name}'`]));
  for (const f of list) {
    checkEntryName(f.name, dir);
    const l = f.name.toLowerCase();
    const other = taken.get(l);
    if (other !== undefined) throw new UnsafePathError(joinPath(dir, f.name), `file list entry '${f.name}' of ${joinPath(dir, FILE_LIST)} and ${other} name the same file (or differ only by case)`);
    taken.set(l, `the file list entry '${f.name}'`);
  }
}

/** Snapshot of a commit's tree. */
export async function readCommitSnapshot(repo: Repository, commit: GitOid | null): Promise<Snapshot> {
  if (!commit) return readSnapshot(repo, null);
  const c = await repo.git.readCommit(commit);
  return readSnapshot(repo, c.tree);
}

/** The tree of commit `head` (null before the first commit). */
export async function headTree(repo: Repository, head: GitOid | null): Promise<GitOid | null> {
  return head ? (await repo.git.readCommit(head)).tree : null;
}

/** Bytes of one snapshot entry, verified against its id. */
export async function readEntry(repo: Repository, rel: string, e: SnapEntry): Promise<Uint8Array> {
  if (e.store === "chunk") return repo.chunks.get(e.id, rel);
  const bytes = await repo.git.readBlob(e.id, rel);
  if (GitStore.blobOid(bytes) !== e.id) throw new CorruptObjectError(e.id, `blob for ${rel} does not match its id`);
  return bytes;
}
