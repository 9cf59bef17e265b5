/**
 * fsck: is every object the repository needs present and intact?
 *
 * What the repository needs is everything reachable from its roots: every ref
 * (branches, tags, remote-tracking refs, anything under refs/), HEAD, every
 * reflog entry (old and new value), MERGE_HEAD and the other *_HEAD files, the
 * ids named by an in-progress operation's state file (MERGE_STATE.json), and
 * the index (staged objects and its cached tree). `collectRoots`
 * (repo/reachability.ts) finds them; gc keeps exactly what they reach.
 *
 * A missing or corrupt object is reported with the path it was met at, the
 * commit whose snapshot needs it and the refs that reach that commit. Lock
 * files are reported with their age; unreachable objects and temp files left
 * by killed commands are garbage (for `tdv gc`), not errors. fsck never
 * writes anything.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { inflateSync } from "node:zlib";
import { isTdvError } from "../errors.js";
import { formatChunkKey, type KeyEncoding } from "../format/chunk-key.js";
import { checkGitObject } from "../format/git-object.js";
import { type ChunkId, type GitOid, sha256 } from "../format/hash.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import { type ArrayMeta, gridShape, isInGrid } from "../format/zarr-meta.js";
import { collectRoots, listObjectFiles, type ObjectListing, type Root, type Roots } from "../repo/reachability.js";
import type { Repository } from "../repo/repository.js";
import { arrayMetaIn, checkEntries, checkFileList, checkManifestHasArray, checkShard, chunkPathRivals } from "../repo/snapshot.js";
import { walkReachable } from "../repo/walk.js";
import { mapLimit } from "../store/atomic.js";
import { filesUnder } from "../store/files-under.js";
import type { CommitObject, TreeEntry } from "../format/git-object.js";
import { describeOwner } from "../store/owner.js";
import { WORKTREE_LOCK, worktreeLockHolder } from "../store/worktree-lock.js";
import { STALE_LOCK_SECONDS } from "../store/lock.js";
import { formatAge } from "../format/display.js";

// ---- locks and loose objects ----------------------------------------------

export interface LockInfo {
  /** the lock file, absolute */
  file: string;
  ageSeconds: number;
  /** older than STALE_LOCK_SECONDS: its command was killed; safe to delete when no tdv runs */
  stale: boolean;
}

/** Lock files in the repository (ref locks, index locks) with their age. */
export async function listLocks(repo: Repository, now = Date.now()): Promise<LockInfo[]> {
  const out: LockInfo[] = [];
  const skip = (abs: string) => abs === path.join(repo.refs.gitdir, "objects") || abs === repo.chunks.dir;
  for (const { abs: file, ent } of await filesUnder(repo.tdvDir, skip)) {
    if (!ent.name.endsWith(".lock") || file === path.join(repo.tdvDir, WORKTREE_LOCK)) continue; // the working-copy lock: its owner tells (below)
    const st = await fsp.lstat(file).catch(() => null);
    if (!st) continue;
    const ageSeconds = Math.max(0, (now - st.mtimeMs) / 1000);
    out.push({ file, ageSeconds, stale: ageSeconds > STALE_LOCK_SECONDS });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : 1));
}

/** Inflate a loose Git object file and check it: its SHA-1 is its name, its header is well formed. */
export function verifyLooseObject(oid: string, raw: Buffer): string | null {
  let full: Buffer;
  try {
    full = inflateSync(raw);
  } catch {
    return "does not inflate (zlib)";
  }
  const checked = checkGitObject(full, oid);
  return typeof checked === "string" ? checked : null;
}

// ---- fsck -----------------------------------------------------------------

export type FsckProblemKind = "missing" | "corrupt" | "unsafe" | "bad-ref" | "stale-lock";

export interface FsckProblem {
  kind: FsckProblemKind;
  /** commit, tree, blob, tag, chunk; ref, index, lock for the others */
  type: string;
  /** the object id, or the ref/file name */
  id: string;
  message: string;
  /** where it was met, as a path in the snapshot ("era5.zarr/t2m/c/0/0") */
  path: string | null;
  /** the commit whose snapshot needs it (the first one met) */
  commit: GitOid | null;
  /** refs, reflogs and other roots that reach that commit (or hold the object) */
  neededBy: string[];
}

export interface FsckOptions {
  /** re-hash every chunk object and verify every loose Git object's SHA-1 */
  full?: boolean;
  /** a lazy clone: ask its remote whether it really has every promised chunk (one HEAD request each) */
  checkPromised?: boolean;
  /** for lock ages (tests) */
  now?: Date;
}

export interface FsckResult {
  ok: boolean;
  full: boolean;
  roots: Roots["counts"];
  reachable: { commits: number; trees: number; blobs: number; tags: number; chunks: number; chunkBytes: number };
  /** objects whose bytes were hashed again (--full) */
  verified: { gitObjects: number; chunks: number };
  /** garbage: present but needed by nothing (tdv gc removes it after the grace period) */
  unreachable: { gitObjects: number; chunks: number; bytes: number };
  tempFiles: { count: number; bytes: number };
  locks: LockInfo[];
  problems: FsckProblem[];
  warnings: string[];
  /**
   * A lazy clone's chunks not downloaded yet that its remote promises (those
   * its branches and tags reach, as git's promisor remote): not problems.
   * `checked`: the remote was asked (checkPromised) and has them all but the
   * ones reported as missing. Null in a repository that is no lazy clone.
   */
  promised: { remote: string; url: string; chunks: number; bytes: number; checked: boolean } | null;
}

interface Need {
  commit: GitOid | null;
  label: string;
}

/** An entry of a manifest shard or file list that names a chunk with a size. */
interface Claim {
  size: number;
  /** the snapshot path of the chunk */
  path: string;
  need: Need;
  /** the manifest shard or file list that holds the entry (absent for the index and state files) */
  in?: { type: "manifest shard" | "file list"; oid: GitOid; where: string; entry: string };
}

/** The array a manifest subtree belongs to: its folder, metadata and the folder's other entries. */
interface ArrayContext {
  dir: string;
  meta: ArrayMeta;
  siblings: TreeEntry[];
  /**
   * What checkShard's verdict on a shard depends on besides its bytes and name:
   * the dimensionality, and the folder itself when it has entries a chunk
   * path could collide with (rare: otherwise a shard shared by many versions
   * of an array is checked once)
   */
  key: string;
}

/** Check the repository; never modifies it. `ok` is false when anything needs repair. */
export async function fsck(repo: Repository, { full = false, checkPromised = false, now = new Date() }: FsckOptions = {}): Promise<FsckResult> {
  repo.git.dropCache(); // check what is on disk, not what this process read before
  return new Checker(repo, full, checkPromised).run(now);
}

class Checker {
  private readonly seen = new Set<string>();
  private readonly problems: FsckProblem[] = [];
  private readonly problemIds = new Set<string>();
  /** every chunk a root reaches: its first claim, and the claims that record another size */
  private readonly chunkNeeds = new Map<string, Claim>();
  private readonly otherSizes = new Map<string, Claim[]>();
  /** --full: per array folder, manifest entries outside the chunk grid (data tdv keeps, reported as warnings) */
  private readonly outOfGrid = new Map<string, { count: number; example: string; grid: number[] }>();
  /** parent → children links and root labels, to name the refs that reach a commit */
  private readonly children = new Map<string, string[]>();
  private readonly rootLabels = new Map<string, Set<string>>();
  private readonly commitTrees: { commit: GitOid; tree: GitOid }[] = [];
  private readonly commitSeen = new Set<string>();
  private readonly counts = { commits: 0, trees: 0, blobs: 0, tags: 0, chunks: 0, chunkBytes: 0 };
  /** needed chunk objects that are not here: missing, or a lazy clone's promised ones (settled by settleAbsent) */
  private readonly absent: [ChunkId, Claim][] = [];
  private promised: FsckResult["promised"] = null;

  constructor(
    private readonly repo: Repository,
    private readonly full: boolean,
    private readonly checkPromised = false,
  ) {}

  async run(now: Date): Promise<FsckResult> {
    const roots = await collectRoots(this.repo);
    for (const p of roots.problems) this.add({ kind: "bad-ref", type: p.file === "index" ? "index" : "ref", id: p.file, message: p.message, path: null, commit: null, neededBy: [] });

    // 1. commits (and tags) from every root, recording who reaches what
    const treeRoots: { oid: GitOid; need: Need; path: string }[] = [];
    for (const r of roots.objects) {
      if (r.path === undefined) await this.visitRoot(r, treeRoots);
    }
    // 2. every snapshot, each tree and blob once; then what only the index holds
    for (const { commit, tree } of this.commitTrees) {
      await this.tree(tree, "", { commit, label: "" }, null);
    }
    for (const r of roots.objects) {
      if (r.path !== undefined) await this.visitRoot(r, treeRoots);
    }
    for (const t of treeRoots) await this.tree(t.oid, t.path, t.need, null);
    for (const c of roots.chunks) this.needChunk(c.id as ChunkId, { size: -1, path: c.path, need: { commit: null, label: c.label } });
    // 3. chunk objects: present, right size, and (--full) right bytes
    const listing = await listObjectFiles(this.repo);
    const verified = { gitObjects: 0, chunks: 0 };
    await this.checkChunks(listing, verified);
    await this.settleAbsent();
    // 4. --full: every loose Git object, reachable or not
    if (this.full) {
      await mapLimit(listing.git, 16, async (o) => {
        const raw = await fsp.readFile(o.file).catch(() => null);
        if (!raw) return;
        verified.gitObjects++;
        const bad = verifyLooseObject(o.id, raw);
        if (bad && !this.problemIds.has(o.id)) {
          const reachable = this.seen.has(o.id);
          this.add({
            kind: "corrupt",
            type: "object",
            id: o.id,
            message: `Git object ${o.id} is corrupt: ${bad}${reachable ? "" : " (unreachable, but a later write of the same object would trust it)"}`,
            path: null,
            commit: null,
            neededBy: [],
          });
        }
      });
    }
    // 5. garbage, temp files, locks
    const unreachable = { gitObjects: 0, chunks: 0, bytes: 0 };
    for (const o of listing.git) {
      if (this.seen.has(o.id)) continue;
      unreachable.gitObjects++;
      unreachable.bytes += (await fsp.lstat(o.file).catch(() => null))?.size ?? 0;
    }
    for (const o of listing.chunks) {
      if (this.chunkNeeds.has(o.id)) continue;
      unreachable.chunks++;
      unreachable.bytes += (await fsp.lstat(o.file).catch(() => null))?.size ?? 0;
    }
    let tempBytes = 0;
    for (const f of listing.temp) tempBytes += (await fsp.lstat(f).catch(() => null))?.size ?? 0;
    const locks = await listLocks(this.repo, now.getTime());
    for (const l of locks) {
      if (!l.stale) continue;
      this.add({
        kind: "stale-lock",
        type: "lock",
        id: l.file,
        message: `stale lock file ${l.file} (${formatAge(l.ageSeconds)} old): a tdv command was killed while it held it, and it blocks updates of ${lockTarget(this.repo, l.file)}`,
        path: null,
        commit: null,
        neededBy: [],
      });
    }
    this.fillNeededBy();
    const warnings = [...roots.warnings];
    for (const [dir, { count, example, grid }] of this.outOfGrid) {
      warnings.push(`array ${dir || "."}: ${count === 1 ? "1 manifest entry lies" : `${count} manifest entries lie`} outside its chunk grid [${grid}], e.g. ${example}: chunk files tdv stores as they are (a Zarr reader ignores them)`);
    }
    for (const l of locks) {
      if (!l.stale) warnings.push(`lock file ${l.file} (${formatAge(l.ageSeconds)} old): a tdv command is updating ${lockTarget(this.repo, l.file)}, or was killed while it did`);
    }
    const holder = worktreeLockHolder(this.repo.tdvDir);
    if (holder) {
      warnings.push(
        holder.running
          ? `the working copy is locked by ${describeOwner(holder.owner)}, which is running`
          : `${describeOwner(holder.owner)} was killed while it held the working-copy lock ${holder.file}; the next command that writes the working copy replaces it`,
      );
    }
    if (listing.other.length > 0) warnings.push(`${listing.other.length} unexpected ${listing.other.length === 1 ? "file" : "files"} in the object folders, e.g. ${listing.other[0]}`);
    return {
      ok: this.problems.length === 0,
      full: this.full,
      roots: roots.counts,
      reachable: this.counts,
      verified,
      unreachable,
      tempFiles: { count: listing.temp.length, bytes: tempBytes },
      locks,
      problems: this.problems,
      warnings,
      promised: this.promised,
    };
  }

  /**
   * Needed chunk objects that are not here. In a lazy clone, those the lazy
   * remote's branches and tags (refs/remotes/NAME/*, refs/tags/*) reach are
   * promised: the remote has them (its push stored every chunk before moving
   * a ref), and a read downloads them. With checkPromised the remote is asked
   * for each; one it lacks is missing. Anything else absent is missing.
   */
  private async settleAbsent(): Promise<void> {
    const source = this.repo.chunks.fallback;
    const missing = (id: ChunkId, c: Claim, why = "") =>
      this.add({ kind: "missing", type: "chunk", id, path: c.path, commit: c.need.commit, neededBy: c.need.label ? [c.need.label] : [], message: `chunk object ${id} is missing${why}` });
    if (!source) {
      for (const [id, c] of this.absent) missing(id, c);
      return;
    }
    this.promised = { remote: source.remote, url: source.url, chunks: 0, bytes: 0, checked: this.checkPromised };
    if (this.absent.length === 0) return;
    const roots = new Set<GitOid>();
    for (const prefix of [`refs/remotes/${source.remote}/`, "refs/tags/"]) for (const oid of (await this.repo.refs.list(prefix)).values()) roots.add(oid);
    const reach = new Set<string>();
    await walkReachable(this.repo, { roots: [...roots] }, { chunk: (id) => void reach.add(id) }).catch(() => {}); // a broken object there is reported above
    const promised = this.absent.filter(([id]) => reach.has(id));
    for (const [id, c] of this.absent) if (!reach.has(id)) missing(id, c, ` (the lazy clone's remote '${source.remote}' promises only what its branches and tags reach)`);
    const has = this.checkPromised ? await mapLimit(promised, 16, ([id]) => source.has(id)) : promised.map(() => true);
    promised.forEach(([id, c], i) => {
      if (has[i]) {
        this.promised!.chunks++;
        this.promised!.bytes += Math.max(0, c.size);
      } else missing(id, c, `: not downloaded yet, and the lazy clone's remote '${source.remote}' (${source.url}) does not have it either`);
    });
  }

  /** Record a problem, once per object (`key`: once per entry of an object). */
  private add(p: FsckProblem, key = p.id): void {
    if (p.kind !== "bad-ref" && p.kind !== "stale-lock") {
      if (this.problemIds.has(key)) return;
      this.problemIds.add(key);
    }
    this.problems.push(p);
  }

  /** Record a read failure as a problem; anything but a missing/corrupt object is rethrown. */
  private failed(err: unknown, id: string, type: string, where: string | null, need: Need): void {
    if (isTdvError(err, "MissingObjectError")) {
      this.add({ kind: "missing", type, id, message: `${type} ${id} is missing`, path: where, commit: need.commit, neededBy: need.label ? [need.label] : [] });
    } else if (isTdvError(err, "UnsafePathError")) {
      this.add({ kind: "unsafe", type, id, message: (err as Error).message, path: where, commit: need.commit, neededBy: need.label ? [need.label] : [] });
    } else if (isTdvError(err, "CorruptObjectError") || isTdvError(err, "UnsupportedFormatError")) {
      this.add({ kind: "corrupt", type, id, message: (err as Error).message, path: where, commit: need.commit, neededBy: need.label ? [need.label] : [] });
    } else if (isTdvError(err, "FileAccessError")) {
      this.add({ kind: "corrupt", type, id, message: `${type} ${id} cannot be read: ${(err as Error).message}`, path: where, commit: need.commit, neededBy: need.label ? [need.label] : [] });
    } else {
      throw err;
    }
  }

  private async visitRoot(r: Root, treeRoots: { oid: GitOid; need: Need; path: string }[]): Promise<void> {
    let oid = r.oid;
    if (this.commitSeen.has(oid)) {
      // a commit another root (a reflog entry, mostly) already reached: only note who needs it
      addTo(this.rootLabels, oid, r.label);
      return;
    }
    const need: Need = { commit: null, label: r.label };
    // a tag chain of any depth (as peelObject follows it); a tag met twice cannot be followed
    const tags = new Set<string>();
    for (;;) {
      let type: string | null;
      if (r.path !== undefined && this.seen.has(oid)) return; // a staged blob the snapshots already hold
      try {
        type = await this.repo.git.typeOf(oid);
      } catch (err) {
        this.failed(err, oid, r.path !== undefined ? "blob" : "object", r.path ?? null, need);
        return;
      }
      if (type === null) {
        this.add({ kind: "missing", type: "object", id: oid, message: `object ${oid} named by ${r.label} is missing`, path: r.path ?? null, commit: null, neededBy: [r.label] });
        return;
      }
      if (type === "tag") {
        if (tags.has(oid)) {
          this.add({ kind: "corrupt", type: "tag", id: oid, message: `tag chain loops back to tag ${oid} after ${tags.size} tags`, path: null, commit: null, neededBy: [r.label] });
          return;
        }
        tags.add(oid);
        if (!this.seen.has(oid)) {
          this.seen.add(oid);
          this.counts.tags++;
        }
        try {
          oid = (await this.repo.git.readTag(oid)).object;
        } catch (err) {
          this.failed(err, oid, "tag", null, need);
          return;
        }
        continue;
      }
      if (type === "commit") {
        addTo(this.rootLabels, oid, r.label);
        await this.commits(oid, need);
      } else if (type === "tree") {
        treeRoots.push({ oid, need, path: r.path ?? "" });
      } else if (!this.seen.has(oid)) {
        this.seen.add(oid);
        this.counts.blobs++;
        try {
          await this.repo.git.readBlob(oid, r.path ?? r.label);
        } catch (err) {
          this.failed(err, oid, "blob", r.path ?? null, need);
        }
      }
      return;
    }
  }

  /** Every commit reachable from `start` through parents, depth first. */
  private async commits(start: GitOid, need: Need): Promise<void> {
    const stack: { oid: GitOid; child: GitOid | null }[] = [{ oid: start, child: null }];
    while (stack.length > 0) {
      const { oid, child } = stack.pop() as { oid: GitOid; child: GitOid | null };
      if (child) addChild(this.children, oid, child);
      if (this.seen.has(oid)) continue;
      this.seen.add(oid);
      this.counts.commits++;
      let c: CommitObject;
      try {
        c = await this.repo.git.readCommit(oid);
      } catch (err) {
        this.failed(err, oid, "commit", child ? `parent of ${child}` : null, { commit: child, label: child ? "" : need.label });
        continue;
      }
      this.commitTrees.push({ commit: oid, tree: c.tree });
      this.commitSeen.add(oid);
      for (const p of [...c.parents].reverse()) stack.push({ oid: p, child: oid });
    }
  }

  private async tree(oid: GitOid, where: string, need: Need, array: ArrayContext | null, inManifest = false): Promise<void> {
    // the same tree (or blob) can be a plain folder in one place and a manifest in another: visit each role once
    // (a manifest's checks depend on its array too: once per ArrayContext.key)
    const key = inManifest ? `${oid}:manifest:${array?.key ?? "-"}` : oid;
    if (this.seen.has(key)) return;
    if (!this.seen.has(oid)) this.counts.trees++;
    this.seen.add(key);
    this.seen.add(oid);
    let entries: TreeEntry[];
    try {
      entries = await this.repo.git.readTree(oid, where || "root tree");
    } catch (err) {
      this.failed(err, oid, "tree", where || "(root)", need);
      return;
    }
    if (!inManifest) this.checkNames(oid, entries, where, need);
    const here = inManifest ? null : await this.arrayIn(oid, entries, where, need);
    await mapLimit(entries, 8, async (e) => {
      const rel = where ? `${where}/${e.name}` : e.name;
      if (e.mode === "160000") return;
      if (e.mode === "040000") return this.tree(e.oid, rel, need, e.name === MANIFEST_TREE ? here : null, e.name === MANIFEST_TREE);
      // a shard is checked against its name and array, a file list against its folder: once per such role
      const role = inManifest ? `:shard:${array?.key ?? "-"}:${e.name}` : e.name === FILE_LIST ? `:files:${oid}` : "";
      if (this.seen.has(e.oid + role)) return;
      if (!this.seen.has(e.oid)) this.counts.blobs++;
      this.seen.add(e.oid + role);
      this.seen.add(e.oid);
      let bytes: Uint8Array;
      try {
        bytes = await this.repo.git.readBlob(e.oid, rel);
      } catch (err) {
        this.failed(err, e.oid, "blob", rel, need);
        return;
      }
      if (!inManifest && e.name !== FILE_LIST) return;
      const type = inManifest ? "manifest shard" : "file list";
      try {
        if (inManifest) {
          const shard = decodeShard(bytes, rel);
          for (const c of shard.entries) {
            const chunkKey = array ? safeKey(array.meta.keyEncoding, c.index) : null;
            const path = chunkKey ? (array?.dir ? `${array.dir}/${chunkKey}` : chunkKey) : `${rel} [${c.index.join(",")}]`;
            this.needChunk(c.id, { size: c.size, path, need, in: { type, oid: e.oid, where: rel, entry: `[${c.index.join(",")}]` } });
            if (this.full && array && !isInGrid(array.meta, c.index)) this.noteOutOfGrid(array, e.name, c.index);
          }
          // what checkout checks before it writes a chunk of this shard (after the chunks are noted as needed)
          if (array) checkShard(array.dir, e.name, shard, array.meta, array.siblings);
        } else {
          const list = decodeFileList(bytes, rel);
          for (const f of list) this.needChunk(f.id, { size: f.size, path: where ? `${where}/${f.name}` : f.name, need, in: { type, oid: e.oid, where: rel, entry: `'${f.name}'` } });
          checkFileList(where, list, entries);
        }
      } catch (err) {
        this.failed(err, e.oid, type, rel, need);
      }
    });
  }

  /** Names that a checkout would refuse: a hostile or broken tree (checkout's own check, checkEntries). */
  private checkNames(oid: GitOid, entries: TreeEntry[], where: string, need: Need): void {
    try {
      checkEntries(entries, where);
    } catch (err) {
      if (!isTdvError(err, "UnsafePathError")) throw err;
      this.add({ kind: "unsafe", type: "tree", id: oid, message: `tree ${oid}: ${(err as Error).message}`, path: where || "(root)", commit: need.commit, neededBy: need.label ? [need.label] : [] });
    }
  }

  /**
   * The array a folder holds, read as checkout reads it (arrayMetaIn): invalid
   * metadata, and a manifest without metadata, are problems (checkout refuses
   * both); unreadable metadata (an unknown version, not JSON) without a
   * manifest is a folder of plain files. Null when the folder holds no array or its metadata is unusable.
   */
  private async arrayIn(folder: GitOid, entries: TreeEntry[], where: string, need: Need): Promise<ArrayContext | null> {
    const at = { commit: need.commit, neededBy: need.label ? [need.label] : [] };
    let meta: ArrayMeta | null;
    try {
      meta = await arrayMetaIn(this.repo, entries, where);
    } catch (err) {
      const doc = entries.find((e) => (e.name === "zarr.json" || e.name === ".zarray") && e.mode !== "040000");
      const rel = doc ? (where ? `${where}/${doc.name}` : doc.name) : where;
      if (isTdvError(err, "InvalidMetadataError")) this.add({ kind: "corrupt", type: "metadata", id: doc?.oid ?? rel, message: err.message, path: rel, ...at });
      else this.failed(err, doc?.oid ?? rel, "blob", rel, need);
      return null;
    }
    if (!entries.some((e) => e.name === MANIFEST_TREE && e.mode === "040000")) return null;
    try {
      checkManifestHasArray(where, meta);
    } catch (err) {
      if (!isTdvError(err, "UnsafePathError")) throw err;
      this.add({ kind: "unsafe", type: "tree", id: `${where}/${MANIFEST_TREE}`, message: (err as Error).message, path: where ? `${where}/${MANIFEST_TREE}` : MANIFEST_TREE, ...at });
      return null;
    }
    const ndim = meta.shape.length;
    return { dir: where, meta, siblings: entries, key: chunkPathRivals(entries).size === 0 ? `${ndim}` : `${ndim}:${folder}` };
  }

  private noteOutOfGrid(array: ArrayContext, shard: string, index: number[]): void {
    const known = this.outOfGrid.get(array.dir);
    if (known) known.count++;
    else this.outOfGrid.set(array.dir, { count: 1, example: `entry [${index}] of shard ${shard}`, grid: gridShape(array.meta) });
  }

  private needChunk(id: ChunkId, claim: Claim): void {
    const first = this.chunkNeeds.get(id);
    if (!first) {
      this.chunkNeeds.set(id, claim);
      return;
    }
    if (first.size < 0) first.size = claim.size;
    else if (claim.size >= 0 && claim.size !== first.size) {
      // another entry records another size for the same bytes: one of them cannot be true
      const others = this.otherSizes.get(id) ?? [];
      if (!others.some((o) => o.size === claim.size && o.in?.oid === claim.in?.oid)) others.push(claim);
      this.otherSizes.set(id, others);
    }
  }

  private async checkChunks(listing: ObjectListing, verified: { chunks: number }): Promise<void> {
    const store = this.repo.chunks;
    await mapLimit([...this.chunkNeeds], 32, async ([id, first]) => {
      const { size, path: where, need } = first;
      this.counts.chunks++;
      const file = store.pathOf(id as ChunkId);
      const st = await fsp.lstat(file).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : err));
      const base = { type: "chunk", id, path: where, commit: need.commit, neededBy: need.label ? [need.label] : [] };
      if (st === null) {
        this.absent.push([id as ChunkId, first]); // missing, or promised by a lazy clone's remote (settleAbsent)
        return;
      }
      if (st instanceof Error) {
        this.add({ kind: "corrupt", ...base, message: `chunk object ${id} cannot be read (${st.code})` });
        return;
      }
      this.counts.chunkBytes += st.size;
      // every size recorded for these bytes must be theirs: diff, progress and transfers trust it
      const claims = [first, ...(this.otherSizes.get(id) ?? [])].filter((c) => c.size >= 0);
      const wrong = claims.filter((c) => c.size !== st.size);
      if (wrong.length > 0 && wrong.length === claims.length) {
        // no entry agrees with the object: the object is what changed (truncated, replaced)
        this.add({ kind: "corrupt", ...base, message: `chunk object ${id} has ${st.size} bytes, its manifest says ${size}${first.in ? ` (${describeClaim(first)})` : ""}` });
        return;
      }
      for (const c of wrong) {
        // the object agrees with another entry: this entry records a size its chunk cannot have
        const at = c.in as NonNullable<Claim["in"]>;
        this.add(
          {
            kind: "corrupt",
            type: at.type,
            id: at.oid,
            message: `${describeClaim(c)} records ${c.size} bytes for chunk ${id}, which has ${st.size}`,
            path: at.where,
            commit: c.need.commit,
            neededBy: c.need.label ? [c.need.label] : [],
          },
          `${at.oid} ${at.entry}`,
        );
      }
      if (this.full) {
        const bytes = await fsp.readFile(file).catch(() => null);
        verified.chunks++;
        const actual = bytes ? sha256(bytes) : "(unreadable)";
        if (actual !== id) this.add({ kind: "corrupt", ...base, message: `chunk object ${id} is corrupt: its bytes hash to ${actual}` });
      }
    });
    if (!this.full) return;
    // unreachable chunk objects too: a later add of the same bytes would trust a corrupt one
    const rest = listing.chunks.filter((o) => !this.chunkNeeds.has(o.id));
    await mapLimit(rest, 32, async (o) => {
      const bytes = await fsp.readFile(o.file).catch(() => null);
      if (!bytes) return;
      verified.chunks++;
      const actual = sha256(bytes);
      if (actual !== o.id) {
        this.add({
          kind: "corrupt",
          type: "chunk",
          id: o.id,
          message: `chunk object ${o.id} is corrupt: its bytes hash to ${actual} (unreachable, but a later add of the same bytes would trust it)`,
          path: null,
          commit: null,
          neededBy: [],
        });
      }
    });
  }

  /** For each problem met in a commit's snapshot: the refs (roots) that reach that commit. */
  private fillNeededBy(): void {
    for (const p of this.problems) {
      if (!p.commit) continue;
      const labels = new Set<string>(p.neededBy);
      const queue = [p.commit as string];
      const visited = new Set(queue);
      while (queue.length > 0) {
        const c = queue.shift() as string;
        for (const l of this.rootLabels.get(c) ?? []) labels.add(l);
        for (const child of this.children.get(c) ?? []) {
          if (!visited.has(child)) {
            visited.add(child);
            queue.push(child);
          }
        }
      }
      p.neededBy = [...labels].filter((l) => l !== "");
    }
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function addChild(map: Map<string, string[]>, parent: string, child: string): void {
  const list = map.get(parent);
  if (!list) map.set(parent, [child]);
  else if (!list.includes(child)) list.push(child);
}

/** "entry [1] of manifest shard data.zarr/a/.tdv-manifest/0 (array data.zarr/a)", or of a file list. */
function describeClaim(c: Claim): string {
  if (!c.in) return c.path;
  if (c.in.type === "file list") return `entry ${c.in.entry} of file list ${c.in.where}`;
  const dir = c.in.where.slice(0, Math.max(0, c.in.where.lastIndexOf(`/${MANIFEST_TREE}/`)));
  return `entry ${c.in.entry} of manifest shard ${c.in.where} (array ${dir || "."})`;
}

function safeKey(enc: KeyEncoding, index: number[]): string | null {
  try {
    return formatChunkKey(enc, index);
  } catch {
    return null;
  }
}

/** "refs/heads/main" for …/git/refs/heads/main.lock. */
function lockTarget(repo: Repository, file: string): string {
  const rel = path.relative(repo.refs.gitdir, file.replace(/\.lock$/, ""));
  return rel.startsWith("..") ? path.basename(file, ".lock") : rel.split(path.sep).join("/");
}
