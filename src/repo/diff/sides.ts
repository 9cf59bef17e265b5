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
import { compareIndex, encodeFileList, encodeShard, FILE_LIST, MANIFEST_TREE, regionName, splitIntoShards, type FileListEntry, type ManifestEntry } from "../../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../../format/zarr-meta.js";
import { asAccessError } from "../../store/atomic.js";
import { GitStore } from "../../store/git.js";
import type { TreeEntry } from "../../format/git-object.js";
import type { IndexState } from "../../store/index-file.js";
import { baseName, classifyWith, joinPath, parentDir, storeFor } from "../hierarchy.js";
import type { Repository, Stores } from "../repository.js";
import { checkShardEntries, decodeCheckedShard, readFolder, readShardBytes, type CheckedFolder, type FolderArray } from "../folder-read.js";
import { folderAt } from "../snapshot.js";

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

/** A chunk a committed manifest names: read from the chunk store (a class: one shape, no closure per chunk). */
class StoredChunk implements ChunkRef {
  readonly #repo: Repository<Stores>;

  constructor(
    readonly index: number[],
    readonly id: ChunkId,
    readonly size: number,
    repo: Repository<Stores>,
  ) {
    this.#repo = repo;
  }

  read(): Promise<Uint8Array> {
    return this.#repo.chunks.get(this.id);
  }
}

export interface ShardRef {
  oid: GitOid | null;
  entries(): Promise<ChunkRef[]>;
  /** a committed shard: its bytes, so that a diff builds only the entries that differ */
  stored?: StoredShard;
}

export interface StoredShard {
  what: string;
  bytes(): Promise<Uint8Array>;
  ref(e: ManifestEntry): ChunkRef;
  /** check entries built from the bytes (the ones a diff reports) as a reader checks a whole shard */
  check(entries: readonly ManifestEntry[]): void;
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

/**
 * The snapshot of `commit` (null: the empty tree of an unborn branch), in a
 * local repository or a remote's. Each folder is read and checked as every
 * reader reads it (repo/folder-read.ts): a hostile tree is refused here as
 * checkout and the read session refuse it.
 */
export async function commitSide(repo: Repository<Stores>, rev: string, commit: GitOid | null): Promise<Side> {
  const tree = commit ? (await repo.git.readCommit(commit)).tree : null;
  return { rev, commit, root: tree ? gitFolder(repo, tree, "") : null, warnings: [] };
}

function gitFolder(repo: Repository<Stores>, oid: GitOid, dir: string): Folder {
  let listing: Promise<Listing> | undefined;
  return {
    oid,
    list: () => (listing ??= listGit(repo, oid, dir)),
  };
}

async function listGit(repo: Repository<Stores>, oid: GitOid, dir: string): Promise<Listing> {
  const folder = await readFolder(repo, oid, dir);
  const out: Listing = { files: new Map(), manifest: null, dirs: new Map() };
  for (const e of folder.entries) {
    const rel = joinPath(dir, e.name);
    if (e.mode === "040000") {
      if (e.name !== MANIFEST_TREE) out.dirs.set(e.name, gitFolder(repo, e.oid, rel));
    } else if (e.name !== FILE_LIST) {
      out.files.set(e.name, { store: "git", id: e.oid, size: -1, read: () => repo.git.readBlob(e.oid, rel) });
    }
  }
  for (const f of folder.large.values()) out.files.set(f.name, { store: "chunk", id: f.id, size: f.size, read: () => repo.chunks.get(f.id, joinPath(dir, f.name)) });
  if (folder.array?.manifestOid) out.manifest = gitManifest(repo, folder, folder.array);
  return out;
}

function gitManifest(repo: Repository<Stores>, folder: CheckedFolder, array: FolderArray): ManifestRef {
  const map = new Map<string, ShardRef>();
  for (const [name, oid] of array.shardOids) {
    let entries: Promise<ChunkRef[]> | undefined;
    let bytes: Promise<Uint8Array> | undefined;
    const stored: StoredShard = {
      what: `${array.manifestPath}/${name}`,
      bytes: () => (bytes ??= readShardBytes(repo, folder, name) as Promise<Uint8Array>),
      ref: (e) => new StoredChunk(e.index, e.id, e.size, repo),
      check: (list) => checkShardEntries(folder, name, list),
    };
    map.set(name, {
      oid,
      entries: () => (entries ??= stored.bytes().then((b) => decodeCheckedShard(folder, name, b).map(stored.ref))),
      stored,
    });
  }
  return { oid: array.manifestOid, shards: map };
}

// ---- the working copy -----------------------------------------------------------

/** The working tree against the index, as the working copy's comparison (worktree/work-state.ts) reports it. */
export interface WorkingChanges {
  /** tracked files whose bytes differ from the index, with their new ids */
  modified: ReadonlyMap<string, { store: "git" | "chunk"; id: string; size: number }>;
  deleted: readonly string[];
  untracked: readonly string[];
  scan: { files: { get(path: string): { size: number } | undefined }; skipped: readonly { path: string; reason: string }[] };
}

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
export async function workingSide(repo: Repository, index: IndexState, ws: WorkingChanges): Promise<Side> {
  const warnings = ws.scan.skipped.map((s) => `${s.path}: ${s.reason}`);
  const read = (rel: string) => readWorkFile(repo, rel, index.entries.get(rel));
  // the arrays of tracked metadata documents, as they are on disk now
  const arrays = await arraysOf(new Map([...index.entries].filter(([p]) => isArrayDoc(p))), read, warnings);

  const changes = new Map<string, WorkEntry | null>();
  for (const [p, e] of ws.modified) changes.set(p, { store: e.store, id: e.id, size: e.size });
  for (const p of ws.deleted) changes.set(p, null);
  for (const p of ws.untracked) {
    const k = classifyWith(arrays, p);
    if (k.array === null || !arrays.has(k.array)) continue;
    const size = ws.scan.files.get(p)?.size ?? 0;
    // not hashed: a new chunk is "added" whatever its bytes; it is hashed only if the other side has the path
    changes.set(p, { store: storeFor(k, size), id: null, size });
  }

  let root: Folder | null;
  if (index.tree && changes.size === 0) {
    root = gitFolder(repo, index.tree, ""); // the working copy is the index, whose snapshot is known
  } else if (index.tree && (await sameLayout(repo, index.entries, changes, arrays))) {
    root = overlay(gitFolder(repo, index.tree, ""), changes, arrays, read);
  } else {
    const files = new Map<string, WorkEntry>();
    for (const [p, e] of index.entries) files.set(p, { store: e.store, id: e.id, size: e.size });
    for (const [p, e] of changes) {
      if (e === null) files.delete(p);
      else files.set(p, e);
    }
    root = buildTree(repo, files, await arraysOf(files, read, warnings), read);
  }
  return { rev: null, commit: null, root, warnings };
}

// ---- the index ---------------------------------------------------------------------

/** The staged snapshot: what the next `tdv commit` records (`diff --cached`). Nothing on disk is read but the index. */
export async function indexSide(repo: Repository): Promise<Side> {
  const index = await repo.readIndex();
  const warnings: string[] = [];
  if (index.tree) return { rev: null, commit: null, root: gitFolder(repo, index.tree, ""), warnings };
  const files = new Map<string, WorkEntry>();
  for (const [p, e] of index.entries) files.set(p, { store: e.store, id: e.id, size: e.size });
  const read = (rel: string) => repo.readStored(index.entries.get(rel)!, rel);
  const root = buildTree(repo, files, await arraysOf(files, read, warnings), read);
  return { rev: null, commit: null, root, warnings };
}

// ---- the working copy as the index's snapshot with the changes laid over it --------

/**
 * True when the changes keep the snapshot's layout: no array appeared or went
 * away, and no array changed its number of dimensions or chunk key encoding
 * (which would turn files into chunks or chunks into files). A shape change
 * (an append) keeps it.
 */
async function sameLayout(
  repo: Repository,
  entries: ReadonlyMap<string, { store: "git" | "chunk"; id: string }>,
  changes: ReadonlyMap<string, WorkEntry | null>,
  arrays: ReadonlyMap<string, ArrayMeta>,
): Promise<boolean> {
  for (const [p, e] of changes) {
    const b = baseName(p);
    if (b !== "zarr.json" && b !== ".zarray") continue;
    if (e === null || !entries.has(p)) return false;
    const dir = parentDir(p);
    const before = await arraysOf(
      new Map([...["zarr.json", ".zarray"]].map((n) => joinPath(dir, n)).filter((q) => entries.has(q)).map((q) => [q, entries.get(q)!])),
      async (rel) => repo.readStored(entries.get(rel)!, rel),
      [],
    );
    if (layoutOf(before.get(dir)) !== layoutOf(arrays.get(dir))) return false;
  }
  return true;
}

function layoutOf(m: ArrayMeta | undefined): string {
  return m ? `${m.shape.length} ${m.keyEncoding.kind} ${m.keyEncoding.separator}` : "-";
}

/** `base` with `changes` (path → new entry, or null for deleted) applied; only folders on a changed path are listed. */
function overlay(
  base: Folder,
  changes: ReadonlyMap<string, WorkEntry | null>,
  arrays: ReadonlyMap<string, ArrayMeta>,
  read: (rel: string) => Promise<Uint8Array>,
): Folder {
  const files = new Map<string, Map<string, WorkEntry | null>>();
  const chunks = new Map<string, Map<string, { index: number[]; entry: WorkEntry | null }>>();
  const children = new Map<string, Set<string>>();
  const touch = (dir: string) => {
    for (let d = dir; d !== ""; d = parentDir(d)) {
      const parent = parentDir(d);
      const set = children.get(parent) ?? new Set<string>();
      if (set.has(baseName(d))) return;
      set.add(baseName(d));
      children.set(parent, set);
    }
  };
  for (const [p, e] of changes) {
    const k = classifyWith(arrays, p);
    if (k.kind === "chunk") {
      const m = chunks.get(k.array) ?? new Map();
      m.set(k.index.join(","), { index: k.index, entry: e });
      chunks.set(k.array, m);
      touch(k.array);
    } else {
      const dir = parentDir(p);
      const m = files.get(dir) ?? new Map();
      m.set(baseName(p), e);
      files.set(dir, m);
      touch(dir);
    }
  }
  const changed = (dir: string) => files.has(dir) || chunks.has(dir) || children.has(dir);

  const folder = (b: Folder | null, dir: string): Folder => {
    let listing: Promise<Listing> | undefined;
    const list = async (): Promise<Listing> => {
      const bl = b ? await b.list() : { files: new Map(), manifest: null, dirs: new Map() };
      const out: Listing = { files: new Map(bl.files), manifest: bl.manifest, dirs: new Map(bl.dirs) };
      for (const [name, e] of files.get(dir) ?? []) {
        if (e === null) out.files.delete(name);
        else out.files.set(name, { ...e, read: () => read(joinPath(dir, name)) });
      }
      for (const name of children.get(dir) ?? []) out.dirs.set(name, folder(bl.dirs.get(name) ?? null, joinPath(dir, name)));
      const ch = chunks.get(dir);
      const meta = arrays.get(dir);
      if (ch && meta) out.manifest = overlayManifest(bl.manifest, ch, meta, dir, read);
      return out;
    };
    return { oid: null, list: () => (listing ??= list()) };
  };
  const wrap = (b: Folder | null, dir: string): Folder | null => (changed(dir) ? folder(b, dir) : b);
  return wrap(base, "") ?? base;
}

function overlayManifest(
  base: ManifestRef | null,
  changes: ReadonlyMap<string, { index: number[]; entry: WorkEntry | null }>,
  meta: ArrayMeta,
  dir: string,
  read: (rel: string) => Promise<Uint8Array>,
): ManifestRef {
  const ndim = meta.shape.length;
  const byShard = new Map<string, { index: number[]; entry: WorkEntry | null }[]>();
  for (const c of changes.values()) {
    const name = regionName(c.index, ndim);
    byShard.set(name, [...(byShard.get(name) ?? []), c]);
  }
  const shards = new Map(base?.shards ?? []);
  for (const [name, list] of byShard) {
    const before = base?.shards.get(name);
    let entries: Promise<ChunkRef[]> | undefined;
    shards.set(name, {
      oid: null,
      entries: () =>
        (entries ??= (async () => {
          const m = new Map((before ? await before.entries() : []).map((c) => [c.index.join(","), c]));
          for (const { index, entry } of list) {
            const key = index.join(",");
            if (entry === null) m.delete(key);
            else {
              const rel = joinPath(dir, formatChunkKey(meta.keyEncoding, index));
              m.set(key, { index, id: entry.store === "chunk" ? (entry.id as ChunkId | null) : null, size: entry.size, read: () => read(rel) });
            }
          }
          return [...m.values()].sort((x, y) => compareIndex(x.index, y.index));
        })()),
    });
  }
  return { oid: null, shards };
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
  return repo.readStored(stored, rel);
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
  const newDir = (): WorkDir => ({ files: new Map(), dirs: new Map(), chunks: null, ndim: 0, meta: null });
  const root = newDir();
  const dirAt = (dir: string): WorkDir => folderAt(root, dir, newDir);
  for (const [rel, e] of files) {
    const k = classifyWith(arrays, rel);
    if (k.kind === "chunk") {
      const node = dirAt(k.array);
      const meta = arrays.get(k.array) as ArrayMeta;
      node.ndim = meta.shape.length;
      node.meta = meta;
      // a chunk staged as a Git blob is re-hashed as a chunk object by writeSnapshot: its chunk id is not known here
      const known = e.store === "chunk" && e.id !== null;
      node.chunks ??= [];
      node.chunks.push({ index: k.index, id: (known ? e.id : "") as ChunkId, size: e.size, known });
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
