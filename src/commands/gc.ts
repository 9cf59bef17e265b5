/**
 * gc: delete the objects nothing needs. An object is kept when it is
 * reachable from any root (`collectRoots`: refs, HEAD, every reflog entry,
 * MERGE_HEAD and operation state, the index) or when its file is younger than
 * the grace period.
 *
 * gc and the commands that write objects exclude each other (store/writers.ts):
 * gc announces itself, waits until no writer runs, and writers that start
 * meanwhile wait for it. So no command can find an object present, or write
 * it, while gc decides to delete it: an object a command reuses is named by
 * its ref or index before gc looks, or is looked at only after gc ended. This
 * holds for every `--prune`, `now` included; the grace period is git's policy
 * for keeping recent garbage around, not what makes gc safe.
 *
 * gc refuses to run when a root cannot be read or a reachable object (Git
 * object or chunk) is missing or corrupt: with part of the graph unknown, it
 * cannot tell which objects are still needed. The reachable loose Git
 * objects, when there are 64 or more, are moved into one new pack, written
 * durably before any loose copy is deleted. A pack older than the grace
 * period that holds unreachable objects is rewritten without them (`repackStale`).
 */
import { promises as fsp } from "node:fs";
import { GcRefusedError, MissingObjectError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { PACK_MIN } from "../store/git.js";
import { enterGc } from "../store/writers.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import { collectRoots, listObjectFiles, type StoredObject } from "../repo/reachability.js";
import type { Repository } from "../repo/repository.js";
import { DEFAULT_PRUNE, parsePrune, peelObject } from "../repo/revision.js";
import { walkReachable } from "../repo/walk.js";

export interface GcOptions {
  /**
   * Delete unreachable objects older than this: a Date, a date as `@{DATE}`
   * takes it ("2.weeks.ago", "2026-01-31", "now"), or "never" to delete
   * nothing but report. Default two weeks ago.
   */
  prune?: Date | string;
  /** report what would be deleted, delete nothing */
  dryRun?: boolean;
  now?: Date;
}

export interface GcResult {
  dryRun: boolean;
  /** unreachable objects older than this were deleted (ISO time); null with --prune=never */
  cutoff: string | null;
  removed: { gitObjects: number; chunks: number; tempFiles: number; bytes: number };
  /** unreachable objects kept because they are younger than the cutoff */
  recent: { gitObjects: number; chunks: number; tempFiles: number; bytes: number };
  reachable: { gitObjects: number; chunks: number };
  /** ids of the objects removed (or that would be, with dryRun), and temp file paths */
  removedIds: { git: string[]; chunks: string[]; tempFiles: string[] };
  /** reachable loose Git objects moved into one pack (or that would be): reading history then opens one file, not one per object */
  packed: { gitObjects: number; bytes: number };
}

export async function gc(repo: Repository, opts: GcOptions = {}): Promise<GcResult> {
  const cutoff = parsePrune(opts.prune ?? DEFAULT_PRUNE, opts.now);
  if (opts.dryRun) return collect(repo, cutoff, true); // deletes nothing: writers may go on
  const announced = await enterGc(repo.tdvDir, { onWait: repo.onNotice, waitMs: repo.waits.writersMs });
  try {
    return await collect(repo, cutoff, false);
  } finally {
    announced.release();
  }
}

async function collect(repo: Repository, cutoff: Date | null, dryRun: boolean): Promise<GcResult> {
  repo.git.dropCache(); // the reachable graph as it is on disk
  const keep = await markReachable(repo);
  const listing = await listObjectFiles(repo);
  if (!repo.config.lazy) {
    // a chunk a ref needs and the store lacks: the graph is damaged, and gc deletes nothing (a lazy clone fetches them when read)
    const stored = new Set(listing.chunks.map((c) => c.id));
    for (const id of keep) if (id.length === 64 && !stored.has(id)) throw new MissingObjectError(id, "chunk object needed by a ref (gc deletes nothing while one is missing; `tdv fsck` lists what needs it)");
  }
  const result: GcResult = {
    dryRun,
    cutoff: cutoff ? cutoff.toISOString() : null,
    removed: { gitObjects: 0, chunks: 0, tempFiles: 0, bytes: 0 },
    recent: { gitObjects: 0, chunks: 0, tempFiles: 0, bytes: 0 },
    reachable: { gitObjects: 0, chunks: 0 },
    removedIds: { git: [], chunks: [], tempFiles: [] },
    packed: { gitObjects: 0, bytes: 0 },
  };

  const sweep = async (objects: StoredObject[], kind: "gitObjects" | "chunks", ids: string[]) => {
    for (const o of objects) {
      if (keep.has(o.id)) {
        result.reachable[kind]++;
        continue;
      }
      await sweepFile(o.file, kind, () => ids.push(o.id));
    }
  };
  const sweepFile = async (file: string, kind: "gitObjects" | "chunks" | "tempFiles", record: () => void) => {
    // stat right before deleting: a writer that reused the object since the walk made it young again
    const st = await fsp.lstat(file).catch(() => null);
    if (!st) return;
    if (cutoff === null || st.mtimeMs >= cutoff.getTime()) {
      result.recent[kind]++;
      result.recent.bytes += st.size;
      return;
    }
    if (!dryRun) {
      try {
        await fsp.rm(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
    }
    result.removed[kind]++;
    result.removed.bytes += st.size;
    record();
  };

  await sweep(listing.git, "gitObjects", result.removedIds.git);
  await sweep(listing.chunks, "chunks", result.removedIds.chunks);
  for (const f of listing.temp) await sweepFile(f, "tempFiles", () => result.removedIds.tempFiles.push(f));

  // the reachable loose Git objects: a copy a pack already holds goes (a gc killed while it packed
  // leaves such copies), and the rest, when they are many, into one pack (git gc packs too)
  const reachableLoose = listing.git.filter((o) => keep.has(o.id)).map((o) => o.id as GitOid);
  const loose: GitOid[] = [];
  for (const oid of reachableLoose) {
    if (!repo.git.hasPacked(oid)) loose.push(oid);
    else if (!dryRun) await repo.git.dropLooseCopy(oid);
  }
  if (loose.length >= PACK_MIN) {
    if (dryRun) result.packed.gitObjects = loose.length;
    else result.packed = (({ objects, bytes }) => ({ gitObjects: objects, bytes }))(await repo.git.packLoose(loose));
  }
  await repackStale(repo, keep, cutoff, dryRun, result);
  // one verified-tree marker per commit would grow without end: keep those of the tips
  if (!dryRun) await repo.pruneVerifiedTrees(await tipTrees(repo));
  return result;
}

/**
 * Packs older than the cutoff that hold unreachable objects: their reachable
 * objects go into one new pack, written durably, and then the old packs go.
 * A pack younger than the cutoff is kept whole: writers that reuse a packed
 * object freshen its pack, so a command in progress keeps what it reuses
 * (each pack's age is looked at again right before it is deleted).
 */
async function repackStale(repo: Repository, keep: ReadonlySet<string>, cutoff: Date | null, dryRun: boolean, result: GcResult): Promise<void> {
  if (cutoff === null) return;
  const old = async (file: string) => {
    const st = await fsp.stat(file).catch(() => null);
    return st !== null && st.mtimeMs < cutoff.getTime() ? st.size : null;
  };
  const stale: { idx: string; dead: string[]; bytes: number }[] = [];
  const live = new Set<GitOid>();
  for (const { idx, pack } of repo.git.listPacks()) {
    const size = await old(pack.file);
    if (size === null) continue;
    const oids = [...pack.oids()];
    const dead = oids.filter((o) => !keep.has(o));
    if (dead.length === 0) continue;
    stale.push({ idx, dead, bytes: size });
    for (const o of oids) if (keep.has(o)) live.add(o);
  }
  if (stale.length === 0) return;
  let written = 0;
  if (!dryRun && live.size > 0) written = (await repo.git.packObjects([...live], "packed object")).bytes;
  let freed = -written;
  for (const s of stale) {
    if (!dryRun) {
      if ((await old(s.idx.replace(/\.idx$/, ".pack"))) === null) continue; // reused meanwhile: young again
      await repo.git.dropPack(s.idx);
    }
    result.removed.gitObjects += s.dead.length;
    result.removedIds.git.push(...s.dead);
    freed += s.bytes;
  }
  result.removed.bytes += Math.max(0, freed);
}

/** The snapshot trees of HEAD, every branch and tag tip, and the index. */
async function tipTrees(repo: Repository): Promise<Set<string>> {
  const tips = [...(await repo.refs.list("refs/")).values()];
  const head = (await repo.refs.head()).oid;
  if (head) tips.push(head);
  const trees = new Set<string>();
  for (const oid of new Set(tips)) {
    const tree = await repo.git.readCommit(oid).then((c) => c.tree, () => null); // an annotated tag or a foreign object: no tree to keep
    if (tree) trees.add(tree);
  }
  const indexTree = (await repo.readIndex()).tree;
  if (indexTree) trees.add(indexTree);
  return trees;
}

/**
 * Every Git object id and chunk id the repository needs. Throws when a root
 * is unreadable or a reachable object is missing or corrupt.
 */
export async function markReachable(repo: Repository): Promise<Set<string>> {
  const roots = await collectRoots(repo);
  const bad = roots.problems[0];
  if (bad) throw new GcRefusedError(bad.file, bad.message);
  const keep = new Set<string>();
  const commits: GitOid[] = [];
  const visited = new Set<string>();
  for (const r of roots.objects) {
    if (visited.has(r.oid)) continue; // reflogs name most commits twice (old and new value)
    visited.add(r.oid);
    // a tag chain of any depth, every tag kept; one that cannot be followed throws: gc deletes nothing
    const { oid, type } = await peelObject(repo, r.oid, (tag) => void keep.add(tag));
    if (type === null) throw new MissingObjectError(oid, `object named by ${r.label}${r.path ? ` (${r.path})` : ""}`);
    if (type === "commit") commits.push(oid);
    else if (type === "tree") await markTree(repo, oid, r.path ?? "", keep);
    else keep.add(oid);
  }
  await walkReachable(repo, { roots: commits }, { git: (oid) => void keep.add(oid), chunk: (id) => void keep.add(id) });
  for (const c of roots.chunks) keep.add(c.id);
  return keep;
}

/** Mark a tree that no commit holds (the index's cached tree, a merge in progress) and all it names. */
async function markTree(repo: Repository, oid: GitOid, where: string, keep: Set<string>, inManifest = false): Promise<void> {
  const key = inManifest ? `${oid}:manifest` : `${oid}:tree`;
  if (keep.has(key)) return;
  keep.add(key);
  keep.add(oid);
  for (const e of await repo.git.readTree(oid, where || "root tree")) {
    const rel = where ? `${where}/${e.name}` : e.name;
    if (e.mode === "160000") continue;
    if (e.mode === "040000") {
      await markTree(repo, e.oid, rel, keep, e.name === MANIFEST_TREE);
      continue;
    }
    keep.add(e.oid);
    if (inManifest) for (const c of decodeShard(await repo.git.readBlob(e.oid, rel), rel).entries) keep.add(c.id);
    else if (e.name === FILE_LIST) for (const f of decodeFileList(await repo.git.readBlob(e.oid, rel), rel)) keep.add(f.id);
  }
}
