/**
 * One folder of a commit's snapshot tree, read as a reader of a possibly
 * hostile repository must read it: what checkout refuses in a folder, every
 * reader refuses when it reads the folder. The read session (cat, serve,
 * export, the terminal UI), the diff's commit side and the merge's snapshot
 * reads all read folders here, so a hostile tree is refused the same way,
 * with the same error, whichever command reads it.
 *
 * A folder is read alone (its tree, its array metadata document, its file
 * list, the names of its manifest shards); a shard is read only when asked
 * (`readShard`), and checked then. The stores may be local or a remote's.
 */
import { UnsafePathError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { checkEntryName, type TreeEntry } from "../format/git-object.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE, type FileListEntry, type ManifestEntry } from "../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../format/zarr-meta.js";
import { joinPath } from "./hierarchy.js";
import type { Repository, Stores } from "./repository.js";
import { checkEntries, checkFileList, checkManifestHasArray, checkShard } from "./snapshot.js";

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
