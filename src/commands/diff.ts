/**
 * `diff`: what changed between two states of the dataset, said in arrays,
 * chunks and values.
 *
 *   diff(repo)                          working copy vs HEAD
 *   diff(repo, { from: "v1" })          working copy vs v1
 *   diff(repo, { from: "v1", to: "v2" })
 *   diff(repo, { from: null, to: "v1" }) v1 against no base (the empty snapshot: a root commit's change)
 *   diff(repo, { values: true })        ... and decode changed chunks
 *   diff(await remoteRepository(url), { from: "v1", to: "v2" })   two revisions of a remote, read in place
 *
 * Structure and chunks come from the snapshot trees (structure.ts, sides.ts),
 * metadata from the documents (metadata.ts), values from decoding the changed
 * chunks with zarrita (values.ts). Nothing is decoded unless `values` is set.
 * A revision's folders are read and checked as every reader reads them
 * (repo/folder-read.ts), in a local repository or a remote's stores; the
 * working copy and the index exist only in a local one.
 */
import { UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { Repository, Stores } from "../repo/repository.js";
import { GitStore } from "../store/git.js";
import { resolveRevision } from "../repo/revision.js";
import { attributeChanges, metadataChanges, summarize } from "../repo/diff/metadata.js";
import { toBoxes } from "../repo/diff/ranges.js";
import { commitSide, indexSide, workingSide, type ChunkRef, type Side } from "../repo/diff/sides.js";
import { compareWorktree } from "../worktree/work-state.js";
import { Scope, walk, type RawArrayDiff } from "../repo/diff/structure.js";
import type { ArrayDiff, ChunkSet, DiffOptions, DiffResult, DiffSummary } from "../repo/diff/types.js";
import { compareValues, type ValuesOutcome } from "../repo/diff/values.js";
import { coordinateRanges } from "../repo/diff/coords.js";

export async function diff(repo: Repository<Stores>, opts: DiffOptions = {}): Promise<DiffResult> {
  const { from = "HEAD", to, staged = false, paths, values = false, concurrency = 4, onProgress } = opts;
  if (staged && to !== undefined) throw new UsageError("diff: 'staged' compares with the index: leave 'to' out", { hint: "`tdv diff --cached [REV]` compares REV (default HEAD) with the index" });
  if (from !== null && (typeof from !== "string" || from === "")) throw new UsageError("diff: 'from' must name a revision, or be null for no base", { hint: "e.g. HEAD, main, v1.0, HEAD~2" });
  if (to !== undefined && (typeof to !== "string" || to === "")) throw new UsageError("diff: 'to' must name a revision, or be left out for the working copy");
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new UsageError(`diff: concurrency must be a positive whole number, got ${concurrency}`);
  const scopePaths = paths === undefined ? null : [...new Set(paths.map(normalizePath))].sort();
  if (staged || to === undefined) localRepository(repo, staged ? "index" : "working copy");
  return _diff(repo, { from, to, staged, paths: scopePaths, values, concurrency, onProgress });
}

async function _diff(
  repo: Repository<Stores>,
  o: { from: string | null; to: string | undefined; staged: boolean; paths: string[] | null; values: boolean; concurrency: number; onProgress: DiffOptions["onProgress"] },
): Promise<DiffResult> {
  const scope = new Scope(o.paths === null || o.paths.includes("") ? null : o.paths);
  const [a, b] = await Promise.all([
    o.from === null ? noBase() : revisionSide(repo, o.from),
    o.staged ? indexSide(localRepository(repo, "index")) : o.to === undefined ? workingCopySide(localRepository(repo, "working copy"), scope.paths ?? undefined) : revisionSide(repo, o.to),
  ]);
  const raw = await walk(a.root, b.root, scope);
  const valueOutcomes = o.values ? await compareValues(raw.arrays, { concurrency: o.concurrency, onProgress: o.onProgress }) : new Map<RawArrayDiff, ValuesOutcome>();
  const arrays = raw.arrays.map((r) => arrayDiff(r, o.values ? (valueOutcomes.get(r) ?? { values: null, note: null }) : null));
  // changed regions in coordinate values (time, lat, ...), read from the side after the change
  await Promise.all(
    raw.arrays.map(async (r, k) => {
      const v = arrays[k]?.values;
      if (!v?.bbox || !r.after) return;
      const coords = await coordinateRanges(b.root, r.path, r.after, v.bbox);
      if (coords) v.coords = coords;
    }),
  );
  const summary = summarize_(arrays, raw);
  return {
    from: { rev: a.rev, commit: a.commit },
    to: o.staged ? { rev: null, commit: null, index: true } : { rev: b.rev, commit: b.commit },
    paths: o.paths,
    values: o.values,
    arrays,
    groups: raw.groups,
    files: raw.files,
    summary,
    different: arrays.length + raw.groups.length + raw.files.length > 0,
    warnings: [...new Set([...a.warnings, ...b.warnings, ...raw.warnings])],
  };
}

/** `repo` as a repository on disk, which alone has a working copy and an index; a remote's is refused (name both revisions). */
function localRepository(repo: Repository<Stores>, what: "index" | "working copy"): Repository {
  if (!(repo.git instanceof GitStore)) {
    throw new UsageError(`diff: a remote has no ${what} to compare: name both revisions`, { hint: "e.g. `tdv diff --remote origin main~1 main`" });
  }
  return repo as Repository;
}

/** No base: the empty snapshot, so everything on the other side is added. */
function noBase(): Side {
  return { rev: null, commit: null, root: null, warnings: [] };
}

/** A revision's side; HEAD of an unborn branch is the empty snapshot. */
async function revisionSide(repo: Repository<Stores>, rev: string): Promise<Side> {
  if (rev === "HEAD" || rev === "@") {
    const head = await repo.refs.head();
    if (head.oid === null) return commitSide(repo, rev, null);
  }
  return commitSide(repo, rev, (await resolveRevision(repo, rev)) as GitOid);
}

function normalizePath(p: string): string {
  if (typeof p !== "string") throw new UsageError(`diff: paths must be strings, got ${typeof p}`);
  const clean = p.replace(/\\/g, "/").replace(/^(\.\/)+/, "").replace(/\/+$/, "").replace(/\/{2,}/g, "/");
  if (clean === ".") return "";
  if (clean.split("/").includes("..") || clean.startsWith("/")) {
    throw new UsageError(`diff: path '${p}' must be relative to the repository root and stay inside it`);
  }
  return clean;
}

function chunkSet(refs: readonly ChunkRef[]): ChunkSet {
  return { count: refs.length, bytes: refs.reduce((n, c) => n + c.size, 0), boxes: toBoxes(refs.map((c) => c.index)) };
}

function arrayDiff(r: RawArrayDiff, v: ValuesOutcome | null): ArrayDiff {
  const status = r.oldPath !== null ? "renamed" : !r.before ? "added" : !r.after ? "removed" : "modified";
  const modified = r.modified.map(([, b]) => b);
  return {
    path: r.path,
    status,
    oldPath: r.oldPath,
    before: r.before ? summarize(r.before) : null,
    after: r.after ? summarize(r.after) : null,
    metadata: r.before && r.after ? metadataChanges(r.before, r.after) : [],
    attributes: r.before && r.after ? attributeChanges(r.before.attributes, r.after.attributes) : [],
    chunks: {
      added: chunkSet(r.added),
      removed: chunkSet(r.removed),
      modified: { ...chunkSet(modified), bytesBefore: r.modified.reduce((n, [x]) => n + x.size, 0) },
    },
    values: v?.values ?? null,
    valuesNote: v?.note ?? null,
  };
}

function summarize_(arrays: readonly ArrayDiff[], raw: { groups: DiffResult["groups"]; files: DiffResult["files"] }): DiffSummary {
  const s: DiffSummary = {
    arrays: { added: 0, removed: 0, modified: 0, renamed: 0 },
    groups: { added: 0, removed: 0, modified: 0 },
    files: { added: 0, removed: 0, modified: 0 },
    chunks: { added: 0, removed: 0, modified: 0 },
    bytesAdded: 0,
    bytesRemoved: 0,
  };
  for (const a of arrays) {
    s.arrays[a.status]++;
    s.chunks.added += a.chunks.added.count;
    s.chunks.removed += a.chunks.removed.count;
    s.chunks.modified += a.chunks.modified.count;
    s.bytesAdded += a.chunks.added.bytes + a.chunks.modified.bytes;
    s.bytesRemoved += a.chunks.removed.bytes + a.chunks.modified.bytesBefore;
  }
  for (const g of raw.groups) s.groups[g.status]++;
  for (const f of raw.files) s.files[f.status]++;
  return s;
}

/** The working copy's side: the index with what the working tree changed laid over it. */
async function workingCopySide(repo: Repository, paths: readonly string[] | undefined): Promise<Side> {
  const index = await repo.readIndex();
  return workingSide(repo, index, await compareWorktree(repo, index, { under: paths }));
}
