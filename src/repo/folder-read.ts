/**
 * One folder of a commit's snapshot tree, read as a reader of a possibly
 * hostile repository must read it: what checkout refuses in a folder, every
 * reader refuses when it reads the folder. The read session (cat, serve,
 * export, the terminal UI), the diff's commit side and the snapshot reads
 * of checkout and merge (snapshot.ts readSnapshot) all read folders here, so
 * a hostile tree is refused the same way, with the same error, whichever
 * command reads it. fsck reports what the same checks refuse.
 *
 * A folder is read alone (its tree, its array metadata document, its file
 * list, the names of its manifest shards); a shard is read only when asked
 * (`readShard`), and checked then. The stores may be local or a remote's.
 */
import { CorruptObjectError, UnsafePathError } from "../errors.js";
import { formatChunkKey } from "../format/chunk-key.js";
import type { GitOid } from "../format/hash.js";
import { checkEntryName, type TreeEntry } from "../format/git-object.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE, regionName, type FileListEntry, type ManifestEntry } from "../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../format/zarr-meta.js";
import { joinPath } from "./hierarchy.js";
import type { Repository, Stores } from "./repository.js";

const DIR = "040000";

/** A folder of a snapshot tree, its entries checked. */
export interface CheckedFolder {
  /** its path in the tree ("" for the root) */
  path: string;
  entries: TreeEntry[];
  /** the array whose metadata the folder holds, or null */
  array: FolderArray | null;
  /** the folder's large plain files (its `.tdv-files` list), by name */
  large: Map<string, FileListEntry>;
}

/** The array of a folder: its metadata and the names of its manifest shards. */
export interface FolderArray extends ArrayDoc {
  /** the manifest subtree's id, null when the array has no chunks stored */
  manifestOid: GitOid | null;
  /** the manifest subtree's path ("era5.zarr/t2m/.tdv-manifest") */
  manifestPath: string;
  /** shard name → its blob, every name checked to be a shard of an array of this many dimensions */
  shardOids: Map<string, GitOid>;
}

/** An array's metadata document, parsed. */
export interface ArrayDoc {
  meta: ArrayMeta;
  doc: Uint8Array;
  docName: string;
}

/** Read and check the folder whose tree is `oid` at `path` (UnsafePathError, CorruptObjectError, InvalidMetadataError). */
export async function readFolder(repo: Repository<Stores>, oid: GitOid, path: string): Promise<CheckedFolder> {
  const git = repo.git;
  const entries = await git.readTree(oid, path || "root tree");
  checkEntries(entries, path);
  const manifest = entries.find((e) => e.name === MANIFEST_TREE && e.mode === DIR);
  // beside a manifest, metadata that does not parse is an error (elsewhere it is a plain file)
  const found = await arrayDocIn(repo, entries, path, manifest !== undefined);
  const listEntry = entries.find((e) => e.name === FILE_LIST && e.mode !== DIR);
  const where = path ? `${path}/${FILE_LIST}` : FILE_LIST;
  const list = listEntry ? decodeFileList(await git.readBlob(listEntry.oid, where), where) : [];
  checkFileList(path, list, entries);
  const large = new Map(list.map((f) => [f.name, f]));
  if (manifest) checkManifestHasArray(path, found?.meta ?? null);
  if (!found) return { path, entries, array: null, large };
  const mpath = path ? `${path}/${MANIFEST_TREE}` : MANIFEST_TREE;
  const shardList = manifest ? await git.readTree(manifest.oid, mpath) : [];
  checkShardNames(shardList, mpath, found.meta.shape.length);
  const shardOids = new Map(shardList.map((e) => [e.name, e.oid]));
  return { path, entries, array: { ...found, manifestOid: manifest?.oid ?? null, manifestPath: mpath, shardOids }, large };
}

/** The entries of a manifest tree are shard blobs named after a grid region of an array of `ndim` dimensions. */
function checkShardNames(shards: readonly TreeEntry[], mpath: string, ndim: number): void {
  for (const e of shards) {
    checkEntryName(e.name, mpath);
    const parts = e.name.split(".");
    if (e.mode === DIR || !parts.every((p) => /^(0|[1-9][0-9]*)$/.test(p)) || parts.length !== Math.max(1, ndim)) {
      throw new UnsafePathError(`${mpath}/${e.name}`, `'${e.name}' is no manifest shard of an array of ${ndim} dimension${ndim === 1 ? "" : "s"}`);
    }
  }
}

/** The bytes of shard `name` of the folder's array (undefined when the manifest has no such shard), unchecked: see `checkShardBytes`. */
export function readShardBytes(repo: Repository<Stores>, folder: CheckedFolder, name: string): Promise<Uint8Array> | undefined {
  const a = folder.array;
  const oid = a?.shardOids.get(name);
  return a && oid ? repo.git.readBlob(oid, `${a.manifestPath}/${name}`) : undefined;
}

/** The entries of shard `name` of the folder's array, decoded and checked (checkShard); none when the manifest has no such shard. */
export async function readShard(repo: Repository<Stores>, folder: CheckedFolder, name: string): Promise<ManifestEntry[]> {
  const bytes = readShardBytes(repo, folder, name);
  return bytes ? decodeCheckedShard(folder, name, await bytes) : [];
}

/** The bytes of shard `name` of the folder's array decoded, and checked as `readShard` checks them. */
export function decodeCheckedShard(folder: CheckedFolder, name: string, bytes: Uint8Array): ManifestEntry[] {
  const a = folder.array;
  if (!a) throw new UnsafePathError(joinPath(folder.path, MANIFEST_TREE), "a manifest in a folder that holds no array metadata");
  const decoded = decodeShard(bytes, `${a.manifestPath}/${name}`);
  checkShard(folder.path, name, decoded, a.meta, folder.entries);
  return decoded.entries;
}

/**
 * Check some entries of shard `name` as `readShard` checks all of them: for a
 * reader that compares shards as bytes and builds only the entries that
 * differ (the diff), the entries it reports.
 */
export function checkShardEntries(folder: CheckedFolder, name: string, entries: readonly ManifestEntry[]): void {
  const a = folder.array;
  if (!a || entries.length === 0) return;
  checkShard(folder.path, name, { ndim: (entries[0] as ManifestEntry).index.length, entries }, a.meta, folder.entries);
}

/**
 * The metadata of the array whose folder lists `entries`, or null (a group,
 * plain files, a document tdv cannot parse). `strict`: a document that does
 * not parse is an error (beside a manifest nothing else says what the
 * manifest's entries are).
 */
export async function arrayDocIn(repo: Repository<Stores>, entries: readonly TreeEntry[], path: string, strict = false): Promise<ArrayDoc | null> {
  const blob = (name: string) => entries.find((e) => e.name === name && e.mode !== DIR);
  const docEntry = blob("zarr.json") ?? blob(".zarray");
  if (!docEntry) return null;
  const where = path ? `${path}/${docEntry.name}` : docEntry.name;
  const doc = await repo.git.readBlob(docEntry.oid, where);
  try {
    if (docEntry.name === ".zarray") return { meta: parseZarray(doc, where), doc, docName: docEntry.name };
    const node = parseZarrJson(doc, where);
    return node.kind === "array" ? { meta: node.meta, doc, docName: docEntry.name } : null;
  } catch (err) {
    if (strict) throw err;
    return null;
  }
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

