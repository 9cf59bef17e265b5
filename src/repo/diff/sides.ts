/**
 * The two sides of a diff as folders listed on demand. A side is a commit's
 * snapshot tree (read lazily from Git: a folder is listed, a manifest shard
 * decoded, only when the walk needs it) or the working copy (the index with
 * the working tree's changes laid over it, built in memory).
 *
 * Every folder, manifest and shard carries its Git id when it is known: the
 * working copy's ids are computed exactly as `writeSnapshot` would write them,
 * so an unchanged subtree has the same id on both sides and the walk skips it
 * without reading anything.
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { isTdvError } from "../../errors.js";
import { formatChunkKey } from "../../format/chunk-key.js";
import { sha256, type ChunkId, type GitOid } from "../../format/hash.js";
import {
  decodeFileList,
  decodeShard,
  encodeFileList,
  encodeShard,
  splitIntoShards,
  type FileListEntry,
  type ManifestEntry,
} from "../../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../../format/zarr-meta.js";
import { asAccessError } from "../../store/atomic.js";
import { checkEntryName, GitStore, type TreeEntry } from "../../store/git.js";
import { readIndex } from "../../store/index-file.js";
import { baseName, classifyWith, joinPath, parentDir, storeFor } from "../hierarchy.js";
import type { Repository } from "../repository.js";
import { FILE_LIST, MANIFEST_TREE } from "../snapshot.js";
import { compareWorktree } from "../work-state.js";

/** A metadata document or plain file of a folder. */
export interface FileRef {
  store: "git" | "chunk";
  /** Git blob id or chunk id; null when not hashed yet (new working files) */
  id: string | null;
  /** bytes; -1 when unknown without reading (Git blobs of a commit) */
  size: number;
  read(): Promise<Uint8Array>;
}

/** One chunk (or shard file) of an array. */
export interface ChunkRef {
  index: number[];
  /** null when not hashed yet (new working files) */
  id: ChunkId | null;
  size: number;
  read(): Promise<Uint8Array>;
}

export interface ShardRef {
  oid: GitOid | null;
  entries(): Promise<ChunkRef[]>;
}

export interface ManifestRef {
  oid: GitOid | null;
  shards: Map<string, ShardRef>;
}

export interface Listing {
  /** by name: metadata documents, small and large plain files */
  files: Map<string, FileRef>;
  manifest: ManifestRef | null;
  dirs: Map<string, Folder>;
}

export interface Folder {
  oid: GitOid | null;
  list(): Promise<Listing>;
}

export interface Side {
  /** what the user named: a revision, or null for the working copy */
  rev: string | null;
  commit: GitOid | null;
  root: Folder | null;
  warnings: string[];
}

// ---- a commit ---------------------------------------------------------------------

/** The snapshot of `commit` (null: the empty tree of an unborn branch). */
export async function commitSide(repo: Repository, rev: string, commit: GitOid | null): Promise<Side> {
  const tree = commit ? (await repo.git.readCommit(commit)).tree : null;
  return { rev, commit, root: tree ? gitFolder(repo, tree, "") : null, warnings: [] };
}

function gitFolder(repo: Repository, oid: GitOid, dir: string): Folder {
  let listing: Promise<Listing> | undefined;
  return {
    oid,
    list: () => (listing ??= listGit(repo, oid, dir)),
  };
}

async function listGit(repo: Repository, oid: GitOid, dir: string): Promise<Listing> {
  const entries = await repo.git.readTree(oid, dir || "root tree");
  const out: Listing = { files: new Map(), manifest: null, dirs: new Map() };
  for (const e of entries) {
    checkEntryName(e.name, dir);
    const rel = joinPath(dir, e.name);
    if (e.mode === "040000") {
      if (e.name === MANIFEST_TREE) out.manifest = gitManifest(repo, e.oid, rel, await repo.git.readTree(e.oid, rel));
      else out.dirs.set(e.name, gitFolder(repo, e.oid, rel));
    } else if (e.mode === "100644" || e.mode === "100755") {
      if (e.name === FILE_LIST) {
        for (const f of decodeFileList(await repo.git.readBlob(e.oid, rel), rel)) {
          checkEntryName(f.name, dir);
          out.files.set(f.name, { store: "chunk", id: f.id, size: f.size, read: () => repo.chunks.get(f.id) });
        }
      } else {
        out.files.set(e.name, { store: "git", id: e.oid, size: -1, read: () => repo.git.readBlob(e.oid, rel) });
      }
    }
    // symlinks and submodules are never written by tdv: not part of a snapshot
  }
  return out;
}

function gitManifest(repo: Repository, oid: GitOid, where: string, shards: TreeEntry[]): ManifestRef {
  const map = new Map<string, ShardRef>();
  for (const s of shards) {
    checkEntryName(s.name, where);
    let entries: Promise<ChunkRef[]> | undefined;
    const what = `${where}/${s.name}`;
    map.set(s.name, {
      oid: s.oid,
      entries: () =>
        (entries ??= repo.git.readBlob(s.oid, what).then((bytes) =>
          decodeShard(bytes, what).entries.map((e) => ({ ...e, read: () => repo.chunks.get(e.id) })),
        )),
    });
  }
  return { oid, shards: map };
}

// ---- the working copy -----------------------------------------------------------

interface WorkEntry {
  store: "git" | "chunk";
  id: string | null;
  size: number;
}

/**
 * The files on disk as the next `tdv commit -a` would see them: the index,
 * with tracked files' changes and deletions, plus new files inside tracked
 * arrays (appended chunks). Other untracked files are left out, as `git diff`
 * leaves them out: `tdv add` a new array or file to see it here.
 */
export async function workingSide(repo: Repository, paths: readonly string[] | undefined): Promise<Side> {
  const index = await readIndex(repo.indexFile);
  const ws = await compareWorktree(repo, index, { under: paths });
  const warnings = ws.scan.skipped.map((s) => `${s.path}: ${s.reason}`);
  const files = new Map<string, WorkEntry>();
  for (const [p, e] of index.entries) files.set(p, { store: e.store, id: e.id, size: e.size });
  for (const [p, e] of ws.modified) files.set(p, { store: e.store, id: e.id, size: e.size });
  for (const p of ws.deleted) files.delete(p);

  const read = (rel: string) => readWorkFile(repo, rel, index.entries.get(rel));
  const trackedArrays = await arraysOf(new Map([...index.entries].filter(([p]) => isArrayDoc(p))), read, warnings);
  const arrays = ws.modified.size === 0 && ws.deleted.length === 0 ? trackedArrays : await arraysOf(files, read, warnings);
  let appended = 0;
  for (const p of ws.untracked) {
    const k = classifyWith(arrays, p);
    if (k.array === null || !trackedArrays.has(k.array)) continue;
    const size = ws.scan.files.get(p)?.size ?? 0;
    // ids are computed only if the other side has the same path (a new chunk needs no hash to be "added")
    files.set(p, { store: storeFor(k, size), id: null, size });
    appended++;
  }
  // nothing changed on disk: the working copy is the index, whose snapshot tree is known
  if (index.tree && ws.modified.size === 0 && ws.deleted.length === 0 && appended === 0) {
    return { rev: null, commit: null, root: gitFolder(repo, index.tree, ""), warnings };
  }
  const root = buildTree(repo, files, arrays, read);
  return { rev: null, commit: null, root, warnings };
}

function isArrayDoc(p: string): boolean {
  const b = baseName(p);
  return b === "zarr.json" || b === ".zarray";
}

/** The arrays among `files`: folder → metadata (invalid documents are warned about; the folder is then plain files). */
async function arraysOf(files: ReadonlyMap<string, unknown>, read: (rel: string) => Promise<Uint8Array>, warnings: string[]): Promise<Map<string, ArrayMeta>> {
  const arrays = new Map<string, ArrayMeta>();
  const docs = [...files.keys()].filter(isArrayDoc).sort();
  for (const p of docs) {
    const dir = parentDir(p);
    if (arrays.has(dir)) continue; // zarr.json wins over .zarray, as in Hierarchy
    const v3 = joinPath(dir, "zarr.json");
    try {
      if (files.has(v3)) {
        const node = parseZarrJson(await read(v3), v3);
        if (node.kind === "array") arrays.set(dir, node.meta);
      } else {
        arrays.set(dir, parseZarray(await read(p), p));
      }
    } catch (err) {
      if (!isTdvError(err, "InvalidMetadataError")) throw err;
      if (!warnings.includes(err.message)) warnings.push(err.message);
    }
  }
  return arrays;
}

/** A working file's bytes: from disk, or from the stored object when it is gone from disk. */
async function readWorkFile(repo: Repository, rel: string, stored: { store: "git" | "chunk"; id: string } | undefined): Promise<Uint8Array> {
  const abs = path.join(repo.root, ...rel.split("/"));
  try {
    return await fsp.readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code !== "ENOENT" && code !== "ENOTDIR") || !stored) throw asAccessError(err, abs);
  }
  return stored.store === "git" ? repo.git.readBlob(stored.id as GitOid, rel) : repo.chunks.get(stored.id as ChunkId);
}

interface WorkDir {
  files: Map<string, WorkEntry>;
  dirs: Map<string, WorkDir>;
  chunks: (ManifestEntry & { known: boolean })[] | null;
  ndim: number;
  meta: ArrayMeta | null;
}

/** The working copy laid out as `writeSnapshot` would write it, with every id it can know without reading. */
function buildTree(repo: Repository, files: ReadonlyMap<string, WorkEntry>, arrays: ReadonlyMap<string, ArrayMeta>, read: (rel: string) => Promise<Uint8Array>): Folder | null {
  if (files.size === 0) return null;
  const root: WorkDir = { files: new Map(), dirs: new Map(), chunks: null, ndim: 0, meta: null };
  const dirAt = (dir: string): WorkDir => {
    let node = root;
    if (dir === "") return node;
    for (const part of dir.split("/")) {
      let next = node.dirs.get(part);
      if (!next) {
        next = { files: new Map(), dirs: new Map(), chunks: null, ndim: 0, meta: null };
        node.dirs.set(part, next);
      }
      node = next;
    }
    return node;
  };
  for (const [rel, e] of files) {
    const k = classifyWith(arrays, rel);
    if (k.kind === "chunk") {
      const node = dirAt(k.array);
      const meta = arrays.get(k.array) as ArrayMeta;
      node.ndim = meta.shape.length;
      node.meta = meta;
      // a chunk staged as a Git blob is re-hashed as a chunk object by writeSnapshot: its chunk id is not known here
      const known = e.store === "chunk" && e.id !== null;
      (node.chunks ??= []).push({ index: k.index, id: (known ? e.id : "") as ChunkId, size: e.size, known });
      continue;
    }
    dirAt(parentDir(rel)).files.set(baseName(rel), e);
  }
  return workFolder(repo, root, "", read);
}

function workFolder(repo: Repository, node: WorkDir, dir: string, read: (rel: string) => Promise<Uint8Array>): Folder {
  const listing: Listing = { files: new Map(), manifest: null, dirs: new Map() };
  const treeEntries: TreeEntry[] = [];
  let known = true;
  const large: FileListEntry[] = [];
  for (const [name, e] of node.files) {
    const rel = joinPath(dir, name);
    listing.files.set(name, { ...e, read: () => read(rel) });
    if (e.id === null) known = false;
    else if (e.store === "git") treeEntries.push({ mode: "100644", name, oid: e.id as GitOid });
    else large.push({ name, id: e.id as ChunkId, size: e.size });
  }
  if (large.length > 0 && known) treeEntries.push({ mode: "100644", name: FILE_LIST, oid: GitStore.blobOid(encodeFileList(large)) });
  for (const [name, child] of node.dirs) {
    const f = workFolder(repo, child, joinPath(dir, name), read);
    listing.dirs.set(name, f);
    if (f.oid === null) known = false;
    else treeEntries.push({ mode: "040000", name, oid: f.oid });
  }
  if (node.chunks && node.chunks.length > 0 && node.meta) {
    listing.manifest = workManifest(node.chunks, node.ndim, node.meta, dir, read);
    if (listing.manifest.oid === null) known = false;
    else treeEntries.push({ mode: "040000", name: MANIFEST_TREE, oid: listing.manifest.oid });
  }
  return { oid: known ? treeOid(treeEntries) : null, list: async () => listing };
}

function workManifest(
  chunks: (ManifestEntry & { known: boolean })[],
  ndim: number,
  meta: ArrayMeta,
  dir: string,
  read: (rel: string) => Promise<Uint8Array>,
): ManifestRef {
  const shards = new Map<string, ShardRef>();
  const treeEntries: TreeEntry[] = [];
  let known = true;
  for (const [name, list] of splitIntoShards(ndim, chunks)) {
    const allKnown = list.every((c) => (c as { known?: boolean }).known !== false);
    const oid = allKnown ? GitStore.blobOid(encodeShard(ndim, list)) : null;
    if (oid === null) known = false;
    else treeEntries.push({ mode: "100644", name, oid });
    const refs: ChunkRef[] = list.map((c) => {
      const rel = joinPath(dir, formatChunkKey(meta.keyEncoding, c.index));
      const isKnown = (c as { known?: boolean }).known !== false;
      return { index: c.index, id: isKnown ? c.id : null, size: c.size, read: () => read(rel) };
    });
    shards.set(name, { oid, entries: async () => refs });
  }
  return { oid: known ? treeOid(treeEntries) : null, shards };
}

/** The Git id of a tree of `entries`, as GitStore.writeTree would write it. */
export function treeOid(entries: readonly TreeEntry[]): GitOid {
  const key = (e: TreeEntry) => Buffer.from(e.mode === "040000" ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
  const parts: Buffer[] = [];
  for (const e of sorted) parts.push(Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex"));
  const content = Buffer.concat(parts);
  return createHash("sha1").update(`tree ${content.byteLength}\0`).update(content).digest("hex") as GitOid;
}

// ---- content ids computed on demand ------------------------------------------------

/** The chunk id of a chunk, hashing its bytes when it was not hashed yet. */
export async function chunkIdOf(c: ChunkRef): Promise<ChunkId> {
  return c.id ?? sha256(await c.read());
}

/** Whether two files hold the same bytes, reading only what the ids cannot answer. */
export async function sameFile(a: FileRef, b: FileRef): Promise<boolean> {
  if (a.store === b.store && a.id !== null && b.id !== null) return a.id === b.id;
  if (a.size >= 0 && b.size >= 0 && a.size !== b.size) return false;
  const scheme = a.id !== null ? a.store : b.store;
  const [x, y] = await Promise.all([idAs(a, scheme), idAs(b, scheme)]);
  return x === y;
}

async function idAs(f: FileRef, scheme: "git" | "chunk"): Promise<string> {
  if (f.store === scheme && f.id !== null) return f.id;
  const bytes = await f.read();
  return scheme === "git" ? GitStore.blobOid(bytes) : sha256(bytes);
}

/** Size of a file, reading it when the side does not record it. */
export async function sizeOf(f: FileRef): Promise<number> {
  return f.size >= 0 ? f.size : (await f.read()).byteLength;
}
