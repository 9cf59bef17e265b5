/**
 * Writing a snapshot from the one before it (git's cache-tree, for Zarr): when
 * the files differ from a known snapshot only at some paths, only the folders
 * on the way to those paths, the manifest shards that list changed chunks and
 * the file lists that name changed files are read and rewritten. Every other
 * subtree keeps its Git id, so a commit costs what changed, not the size of
 * the dataset. The result is the same tree `writeSnapshot` would write for the
 * same files (tested), since both encodings are canonical.
 */
import type { ChunkId, GitOid } from "../format/hash.js";
import { compareIndex, decodeFileList, encodeFileList, FILE_LIST, MANIFEST_TREE, patchShard, regionName, type FileListEntry, type ManifestEntry } from "../format/manifest.js";
import type { ArrayMeta } from "../format/zarr-meta.js";
import type { TreeEntry } from "../format/git-object.js";
import type { ObjectWriter } from "../store/types.js";
import { baseName, joinPath, parentDir, type Hierarchy } from "./hierarchy.js";
import type { Repository } from "./repository.js";
import {
  arrayMetaIn,
  blobToChunk,
  collectDirs,
  folderAt,
  newDir,
  storedHierarchy,
  writeDir,
  writeSnapshot,
  type SnapEntry,
} from "./snapshot.js";

/** What changes in one folder of the tree. */
interface Edit {
  /** files directly in the folder (metadata, plain files): the new entry, or null when deleted */
  files: Map<string, SnapEntry | null>;
  /** chunks of the array whose folder this is, by index: the new entry, or null when deleted */
  chunks: Map<string, { index: number[]; entry: ManifestEntry | null }>;
  dirs: Map<string, Edit>;
  /** the folder's tree written anew from the files under it (null: no files remain) */
  rebuilt?: GitOid | null;
}

const newEdit = (): Edit => ({ files: new Map(), chunks: new Map(), dirs: new Map() });

/**
 * The snapshot of `files`, given that `base` is the snapshot of the same files
 * except at `changed` (paths added, modified or deleted since).
 */
export async function updateSnapshot(repo: Repository, base: GitOid, files: ReadonlyMap<string, SnapEntry>, changed: Iterable<string>, pack?: ObjectWriter): Promise<GitOid> {
  if (!pack) return repo.git.withPack((p) => updateSnapshot(repo, base, files, changed, p));
  const h = storedHierarchy(repo, files, true);
  const paths = [...new Set(changed)];
  const roots = await rebuildRoots(repo, h, base, paths);
  if (roots.includes("")) return writeSnapshot(repo, files, undefined, pack);

  const top = newEdit();
  const editAt = (dir: string): Edit => folderAt(top, dir, newEdit);
  const underRoot = (p: string) => roots.some((r) => p.startsWith(`${r}/`));
  for (const p of paths) {
    if (underRoot(p)) continue;
    const kind = await h.classify(p);
    const entry = files.get(p) ?? null;
    if (kind.kind === "chunk") {
      const id = entry && (entry.store === "git" ? (await blobToChunk(repo, entry.id, p)).id : entry.id);
      const chunk = entry ? { index: kind.index, id: id as ChunkId, size: entry.size } : null;
      editAt(kind.array).chunks.set(kind.index.join(","), { index: kind.index, entry: chunk });
    } else {
      editAt(parentDir(p)).files.set(baseName(p), entry);
    }
  }
  const all = roots.length > 0 ? [...files.keys()] : [];
  for (const r of roots) {
    const under = all.filter((p) => p.startsWith(`${r}/`));
    const node = folderAt(await collectDirs(repo, h, files, under), r, newDir);
    const empty = node.blobs.size === 0 && node.large.length === 0 && node.dirs.size === 0 && !node.chunks?.length;
    editAt(r).rebuilt = empty ? null : await writeDir(repo, node, r, pack);
  }
  return (await apply(repo, h, base, "", top, pack)) as GitOid;
}

/**
 * Folders whose array changed identity (became or stopped being an array, or
 * changed its number of dimensions or chunk key encoding): every file under
 * them may now be classified differently, and files that were chunks of an
 * enclosing array may now be another array's, or the other way round. Such a
 * folder is written anew from its files, from its nearest enclosing array's
 * folder when it has one (before or after). Sorted, none inside another.
 */
async function rebuildRoots(repo: Repository, h: Hierarchy, base: GitOid, paths: readonly string[]): Promise<string[]> {
  const dirs = new Set<string>();
  for (const p of paths) {
    const name = baseName(p);
    if (name === "zarr.json" || name === ".zarray") dirs.add(parentDir(p));
  }
  const roots: string[] = [];
  for (const dir of dirs) {
    const before = await baseArrays(repo, base, dir);
    const after = await h.arrayAt(dir);
    if (sameIdentity(before.at, after?.meta ?? null)) continue;
    const enclosing = dir === "" ? null : await h.arrayOf(dir); // the nearest array above `dir`, after
    const outer = [dir, before.above, enclosing?.dir].filter((d): d is string => d !== null && d !== undefined);
    roots.push(outer.reduce((a, b) => (b.length < a.length ? b : a)));
  }
  return roots.filter((r) => !roots.some((o) => o !== r && (o === "" || r.startsWith(`${o}/`)))).sort();
}

function sameIdentity(a: ArrayMeta | null, b: ArrayMeta | null): boolean {
  if (!a || !b) return a === b;
  return a.shape.length === b.shape.length && a.keyEncoding.kind === b.keyEncoding.kind && a.keyEncoding.separator === b.keyEncoding.separator;
}

/** In the snapshot tree `base`: the array metadata of folder `dir` (or null) and the nearest array folder above it. */
async function baseArrays(repo: Repository, base: GitOid, dir: string): Promise<{ at: ArrayMeta | null; above: string | null }> {
  let above: string | null = null;
  let where = "";
  let entries: TreeEntry[] | null = await repo.git.readTree(base, "root tree");
  const parts = dir ? dir.split("/") : [];
  for (const part of parts) {
    if (await arrayMetaIn(repo, entries, where)) above = where;
    const e: TreeEntry | undefined = entries.find((x) => x.name === part && x.mode === "040000");
    where = joinPath(where, part);
    entries = e ? await repo.git.readTree(e.oid, where) : null;
    if (!entries) return { at: null, above };
  }
  return { at: await arrayMetaIn(repo, entries, dir), above };
}

/** The tree of folder `dir` (`oid` before, or null) with `edit` applied; null when nothing remains in it. */
async function apply(repo: Repository, h: Hierarchy, oid: GitOid | null, dir: string, edit: Edit, pack: ObjectWriter): Promise<GitOid | null> {
  if (edit.rebuilt !== undefined) return edit.rebuilt;
  const entries = new Map<string, TreeEntry>();
  if (oid) for (const e of await repo.git.readTree(oid, dir || "root tree")) entries.set(e.name, e);
  if (edit.files.size > 0) await applyFiles(repo, entries, dir, edit.files, pack);
  const subdirs = [...edit.dirs];
  const next = await Promise.all(
    subdirs.map(([name, child]) => {
      const cur = entries.get(name);
      return apply(repo, h, cur?.mode === "040000" ? cur.oid : null, joinPath(dir, name), child, pack);
    }),
  );
  subdirs.forEach(([name], i) => {
    const oid = next[i];
    if (oid) entries.set(name, { mode: "040000", name, oid });
    else if (entries.get(name)?.mode === "040000") entries.delete(name);
  });
  if (edit.chunks.size > 0) await applyChunks(repo, h, entries, dir, edit.chunks, pack);
  if (entries.size === 0 && dir !== "") return null;
  return pack.writeTree([...entries.values()], dir);
}

/** Metadata and plain files of one folder: small ones are blobs in the tree, large ones in its file list. */
async function applyFiles(repo: Repository, entries: Map<string, TreeEntry>, dir: string, files: Map<string, SnapEntry | null>, pack: ObjectWriter): Promise<void> {
  const listEntry = entries.get(FILE_LIST);
  const where = joinPath(dir, FILE_LIST);
  const large = new Map<string, FileListEntry>();
  if (listEntry) for (const f of decodeFileList(await repo.git.readBlob(listEntry.oid, where), where)) large.set(f.name, f);
  const hadLarge = large.size;
  let largeChanged = false;
  for (const [name, e] of files) {
    if (entries.get(name)?.mode !== "040000") entries.delete(name);
    largeChanged = large.delete(name) || largeChanged;
    if (!e) continue;
    if (e.store === "git") entries.set(name, { mode: "100644", name, oid: e.id });
    else {
      large.set(name, { name, id: e.id as ChunkId, size: e.size });
      largeChanged = true;
    }
  }
  if (!largeChanged && large.size === hadLarge) return;
  if (large.size === 0) entries.delete(FILE_LIST);
  else entries.set(FILE_LIST, { mode: "100644", name: FILE_LIST, oid: await pack.writeBlob(encodeFileList([...large.values()])) });
}

/** The manifest of the array at `dir`: only the shards that list a changed chunk are rewritten. */
async function applyChunks(
  repo: Repository,
  h: Hierarchy,
  entries: Map<string, TreeEntry>,
  dir: string,
  chunks: Edit["chunks"],
  pack: ObjectWriter,
): Promise<void> {
  const ndim = (await h.arrayAt(dir))!.meta.shape.length;
  const where = joinPath(dir, MANIFEST_TREE);
  const manifest = entries.get(MANIFEST_TREE);
  const shards = new Map<string, TreeEntry>();
  if (manifest) for (const s of await repo.git.readTree(manifest.oid, where)) shards.set(s.name, s);
  const byRegion = new Map<string, Edit["chunks"]>();
  for (const [key, c] of chunks) {
    const region = regionName(c.index, ndim);
    let m = byRegion.get(region);
    if (!m) {
      m = new Map();
      byRegion.set(region, m);
    }
    m.set(key, c);
  }
  await Promise.all(
    [...byRegion].map(async ([region, edits]) => {
      const cur = shards.get(region);
      const what = `${where}/${region}`;
      // the shard's bytes patched: the entries no edit touches are copied, never decoded into objects
      const sorted = [...edits.values()].sort((a, b) => compareIndex(a.index, b.index));
      const next = patchShard(ndim, cur ? await repo.git.readBlob(cur.oid, what) : null, sorted, what);
      if (next) shards.set(region, { mode: "100644", name: region, oid: await pack.writeBlob(next) });
      else shards.delete(region);
    }),
  );
  if (shards.size === 0) entries.delete(MANIFEST_TREE);
  else entries.set(MANIFEST_TREE, { mode: "040000", name: MANIFEST_TREE, oid: await pack.writeTree([...shards.values()], where) });
}
