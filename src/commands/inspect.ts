/** Reading commands: show a commit, list arrays, cat one file of a revision. */
import { PathNotFoundError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { gridShape } from "../format/zarr-meta.js";
import type { CommitObject } from "../format/git-object.js";
import { groupChanges, type GroupedChanges } from "../repo/changes.js";
import { readSnapshot, type Snapshot } from "../repo/snapshot.js";
import { classifyWith, joinPath } from "../repo/hierarchy.js";
import { openSession } from "../session/read.js";
import type { Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import { diffTrees } from "../repo/tree-diff.js";

export interface ShowResult {
  commit: CommitObject;
  changes: GroupedChanges;
}

async function snapshotOf(repo: Repository, rev: string): Promise<{ oid: GitOid; commit: CommitObject; snap: Snapshot }> {
  const oid = await resolveRevision(repo, rev);
  const commit = await repo.git.readCommit(oid);
  return { oid, commit, snap: await readSnapshot(repo, commit.tree) };
}

/** A commit and what it changed relative to its first parent. */
export async function show(repo: Repository, { rev = "HEAD" }: { rev?: string } = {}): Promise<ShowResult> {
  const oid = await resolveRevision(repo, rev);
  const commit = await repo.git.readCommit(oid);
  const parent = commit.parents[0];
  const before = parent ? (await repo.git.readCommit(parent)).tree : null;
  return { commit, changes: groupChanges(await diffTrees(repo, before, commit.tree)) };
}

export interface ArrayInfo {
  path: string;
  zarrFormat: 2 | 3;
  shape: number[];
  dtype: string;
  chunkShape: number[];
  innerChunkShape: number[] | null;
  codecs: string[];
  dimensionNames: (string | null)[] | null;
  /** chunk files stored (missing chunks read as the fill value) */
  chunks: number;
  /** chunk files the grid could hold */
  gridChunks: number;
  bytes: number;
}

/** The arrays of a revision (under `path`, when given). */
export async function ls(repo: Repository, { rev = "HEAD", path = "" }: { rev?: string; path?: string } = {}): Promise<ArrayInfo[]> {
  const { snap } = await snapshotOf(repo, rev);
  const under = (p: string) => path === "" || p === path || p.startsWith(`${path}/`);
  const out = new Map<string, ArrayInfo>();
  for (const [dir, meta] of snap.arrays) {
    if (!under(dir)) continue;
    out.set(dir, {
      path: dir || ".",
      zarrFormat: meta.zarrFormat,
      shape: meta.shape,
      dtype: meta.dtype,
      chunkShape: meta.chunkShape,
      innerChunkShape: meta.innerChunkShape,
      codecs: meta.codecs,
      dimensionNames: meta.dimensionNames,
      chunks: 0,
      gridChunks: gridShape(meta).reduce((a, b) => a * b, 1),
      bytes: 0,
    });
  }
  for (const [p, e] of snap.files) {
    const k = classifyWith(snap.arrays, p);
    if (k.kind !== "chunk") continue;
    const info = out.get(k.array);
    if (!info) continue;
    info.chunks++;
    info.bytes += e.size;
  }
  if (out.size === 0 && path !== "" && ![...snap.files.keys()].some(under)) throw new PathNotFoundError(path, `in ${rev}`);
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The raw bytes of one file (metadata document, chunk or plain file) at a revision, read through a session (only the folders and the manifest shard on its path). */
export async function cat(repo: Repository, { rev, path }: { rev: string; path: string }): Promise<Uint8Array> {
  const session = await openSession(repo, rev);
  const clean = path.replace(/^\.\/+/, "").replace(/\/+$/, "");
  const f = await session.file(clean);
  if (!f) {
    const meta = (await session.array(clean))?.meta;
    const hint = meta ? ` (an array: name a file in it, e.g. ${joinPath(clean, meta.zarrFormat === 3 ? "zarr.json" : ".zarray")})` : "";
    throw new PathNotFoundError(path, `in ${rev}${hint}`);
  }
  return session.read(f);
}
