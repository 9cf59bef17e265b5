/**
 * Walk two snapshots side by side and find what differs: arrays and groups
 * added, removed, renamed or modified, chunk by chunk, and plain files.
 *
 * Cheap where nothing changed: folders, manifests and manifest shards with the
 * same Git id on both sides are skipped unread, so the cost follows the size of
 * the change, not of the dataset. Chunk bytes are never read here (except to
 * hash a new working file the other side also has).
 */
import { formatChunkKey } from "../../format/chunk-key.js";
import { compareIndex, diffShards } from "../../format/manifest.js";
import { mapLimit } from "../../store/atomic.js";
import { joinPath } from "../hierarchy.js";
import { isUnder } from "../../format/paths.js";
import { attributeChanges, canonical, NODE_FILES, readNode, type ArrayNodeDocs, type NodeDocs } from "./metadata.js";
import { chunkIdOf, sameFile, sizeOf, type ChunkRef, type Folder, type Listing, type ManifestRef } from "./sides.js";
import type { FileDiff, GroupDiff } from "./types.js";

/** An array that differs, before values and rendering. */
export interface RawArrayDiff {
  path: string;
  oldPath: string | null;
  before: ArrayNodeDocs | null;
  after: ArrayNodeDocs | null;
  /** the manifests' ids, to recognise a renamed array */
  manifestIds: [string | null, string | null];
  added: ChunkRef[];
  removed: ChunkRef[];
  modified: [ChunkRef, ChunkRef][];
}

export interface WalkResult {
  arrays: RawArrayDiff[];
  groups: GroupDiff[];
  files: FileDiff[];
  warnings: string[];
}

/** Which paths the diff covers. */
export class Scope {
  constructor(readonly paths: readonly string[] | null) {}

  /** The whole of `p` is in scope. */
  covers(p: string): boolean {
    return this.paths === null || this.paths.some((s) => isUnder(p, s));
  }

  /** Something at or below folder `dir` is in scope. */
  touches(dir: string): boolean {
    return this.paths === null || this.paths.some((s) => isUnder(dir, s) || isUnder(s, dir));
  }
}

const EMPTY: Listing = { files: new Map(), manifest: null, dirs: new Map() };

export async function walk(a: Folder | null, b: Folder | null, scope: Scope): Promise<WalkResult> {
  const res: WalkResult = { arrays: [], groups: [], files: [], warnings: [] };
  await walkDir(a, b, "", scope, res);
  detectRenames(res);
  res.arrays.sort((x, y) => cmp(x.path, y.path));
  res.groups.sort((x, y) => cmp(x.path, y.path));
  res.files.sort((x, y) => cmp(x.path, y.path));
  return res;
}

async function walkDir(a: Folder | null, b: Folder | null, dir: string, scope: Scope, res: WalkResult): Promise<void> {
  if (a && b && a.oid !== null && a.oid === b.oid) return;
  if (!scope.touches(dir)) return;
  const [la, lb] = await Promise.all([a ? a.list() : EMPTY, b ? b.list() : EMPTY]);
  const [na, nb] = await Promise.all([readNode(la, dir, res.warnings), readNode(lb, dir, res.warnings)]);

  await diffNode(na, nb, la.manifest, lb.manifest, dir, scope, res);

  const nodeFiles = (na !== null || nb !== null) ? NODE_FILES : new Set<string>();
  const names = union(la.files.keys(), lb.files.keys());
  await mapLimit(names, 16, async (name) => {
    if (nodeFiles.has(name)) return;
    const rel = joinPath(dir, name);
    if (!scope.covers(rel)) return;
    const fa = la.files.get(name);
    const fb = lb.files.get(name);
    if (fa && fb) {
      if (await sameFile(fa, fb)) return;
      res.files.push({ path: rel, status: "modified", bytesBefore: await sizeOf(fa), bytesAfter: await sizeOf(fb) });
    } else if (fa) {
      res.files.push({ path: rel, status: "removed", bytesBefore: await sizeOf(fa), bytesAfter: null });
    } else if (fb) {
      res.files.push({ path: rel, status: "added", bytesBefore: null, bytesAfter: await sizeOf(fb) });
    }
  });

  const dirs = union(la.dirs.keys(), lb.dirs.keys());
  await Promise.all(dirs.map((name) => walkDir(la.dirs.get(name) ?? null, lb.dirs.get(name) ?? null, joinPath(dir, name), scope, res)));
}

async function diffNode(
  na: NodeDocs | null,
  nb: NodeDocs | null,
  ma: ManifestRef | null,
  mb: ManifestRef | null,
  dir: string,
  scope: Scope,
  res: WalkResult,
): Promise<void> {
  const aArr = na?.kind === "array" ? na : null;
  const bArr = nb?.kind === "array" ? nb : null;
  if (aArr || bArr) {
    const whole = scope.covers(dir);
    // a path inside the array's folder selects the chunks (and documents) under it
    const inScope = (n: ArrayNodeDocs | null) => (c: ChunkRef) => whole || (n !== null && scope.covers(joinPath(dir, formatChunkKey(n.meta.keyEncoding, c.index))));
    const chunks = await diffManifests(aArr ? ma : null, bArr ? mb : null);
    const added = chunks.added.filter(inScope(bArr));
    const removed = chunks.removed.filter(inScope(aArr));
    const modified = chunks.modified.filter(([, c]) => inScope(bArr)(c));
    const docsInScope = whole || ["zarr.json", ".zarray", ".zattrs"].some((n) => scope.covers(joinPath(dir, n)));
    const metaChanged = docsInScope && (!aArr || !bArr || aArr.ids !== bArr.ids);
    if (metaChanged || added.length > 0 || removed.length > 0 || modified.length > 0) {
      res.arrays.push({
        path: dir,
        oldPath: null,
        before: aArr,
        after: bArr,
        manifestIds: [aArr ? manifestId(ma) : null, bArr ? manifestId(mb) : null],
        added,
        removed,
        modified,
      });
    }
  }
  const aGrp = na?.kind === "group" ? na : null;
  const bGrp = nb?.kind === "group" ? nb : null;
  if ((aGrp || bGrp) && scope.covers(dir)) {
    const attributes = attributeChanges(aGrp?.attributes ?? {}, bGrp?.attributes ?? {});
    const consolidatedChanged = (aGrp?.consolidated ?? null) !== (bGrp?.consolidated ?? null) && aGrp !== null && bGrp !== null;
    const status = !aGrp ? "added" : !bGrp ? "removed" : "modified";
    if (status !== "modified" || attributes.length > 0 || consolidatedChanged) {
      res.groups.push({ path: dir, status, zarrFormat: (bGrp ?? aGrp)!.zarrFormat, attributes: status === "modified" ? attributes : [], consolidatedChanged });
    }
  }
}

/** An id for the whole chunk map: the manifest tree id, "" for no chunks, null when unknown. */
function manifestId(m: ManifestRef | null): string | null {
  if (!m) return "";
  return m.oid;
}

/** Chunks only in a, only in b, and in both with different bytes; shards with equal ids are skipped. */
export async function diffManifests(
  ma: ManifestRef | null,
  mb: ManifestRef | null,
): Promise<{ added: ChunkRef[]; removed: ChunkRef[]; modified: [ChunkRef, ChunkRef][] }> {
  const out = { added: [] as ChunkRef[], removed: [] as ChunkRef[], modified: [] as [ChunkRef, ChunkRef][] };
  if (ma && mb && ma.oid !== null && ma.oid === mb.oid) return out;
  const names = union(ma?.shards.keys() ?? [], mb?.shards.keys() ?? []);
  const parts = await mapLimit(names, 16, async (name) => {
    const sa = ma?.shards.get(name);
    const sb = mb?.shards.get(name);
    if (sa && sb && sa.oid !== null && sa.oid === sb.oid) return null;
    const [ra, rb] = [sa?.stored, sb?.stored];
    if ((!sa || ra) && (!sb || rb)) {
      // two committed shards (or one): compared as bytes
      const [ba, bb] = await Promise.all([ra ? ra.bytes() : null, rb ? rb.bytes() : null]);
      const d = diffShards(ba, bb, ra?.what ?? "", rb?.what ?? "");
      // the entries the diff reports are checked as a reader checks a whole shard
      ra?.check([...d.removed, ...d.modified.map(([x]) => x)]);
      rb?.check([...d.added, ...d.modified.map(([, y]) => y)]);
      return {
        added: d.added.map((e) => rb!.ref(e)),
        removed: d.removed.map((e) => ra!.ref(e)),
        modified: d.modified.map(([x, y]): [ChunkRef, ChunkRef] => [ra!.ref(x), rb!.ref(y)]),
      };
    }
    const [ea, eb] = await Promise.all([sa ? sa.entries() : [], sb ? sb.entries() : []]);
    return mergeJoin(ea, eb);
  });
  for (const p of parts) {
    if (!p) continue;
    out.added.push(...p.added);
    out.removed.push(...p.removed);
    out.modified.push(...p.modified);
  }
  const byIndex = (x: ChunkRef, y: ChunkRef) => compareIndex(x.index, y.index);
  out.added.sort(byIndex);
  out.removed.sort(byIndex);
  out.modified.sort((x, y) => byIndex(x[0], y[0]));
  return out;
}

async function mergeJoin(ea: ChunkRef[], eb: ChunkRef[]) {
  const added: ChunkRef[] = [];
  const removed: ChunkRef[] = [];
  const both: [ChunkRef, ChunkRef][] = [];
  let i = 0;
  let j = 0;
  while (i < ea.length || j < eb.length) {
    const x = ea[i];
    const y = eb[j];
    const c = !x ? 1 : !y ? -1 : compareIndex(x.index, y.index);
    if (c < 0) {
      removed.push(x!);
      i++;
    } else if (c > 0) {
      added.push(y!);
      j++;
    } else {
      both.push([x!, y!]);
      i++;
      j++;
    }
  }
  // ids and sizes answer almost every pair at once; only new working files are hashed
  const modified: [ChunkRef, ChunkRef][] = [];
  const unknown: [ChunkRef, ChunkRef][] = [];
  for (const pair of both) {
    const [x, y] = pair;
    if (x.id !== null && y.id !== null) {
      if (x.id !== y.id) modified.push(pair);
    } else if (x.size !== y.size) modified.push(pair);
    else unknown.push(pair);
  }
  if (unknown.length > 0) {
    const differs = await mapLimit(unknown, 16, async ([x, y]) => (await chunkIdOf(x)) !== (await chunkIdOf(y)));
    modified.push(...unknown.filter((_, k) => differs[k])); // diffManifests sorts
  }
  return { added, removed, modified };
}

/** A removed and an added array with the same metadata documents and the same chunks: one renamed array. */
function detectRenames(res: WalkResult): void {
  const key = (a: RawArrayDiff, side: 0 | 1): string | null => {
    const node = side === 0 ? a.before : a.after;
    const m = a.manifestIds[side];
    return node && m !== null ? `${node.ids}|${m}|${canonical(node.attributes)}` : null;
  };
  const removed = new Map<string, RawArrayDiff[]>();
  for (const a of res.arrays) {
    if (a.after !== null || a.before === null) continue;
    const k = key(a, 0);
    if (k !== null) removed.set(k, [...(removed.get(k) ?? []), a]);
  }
  const gone = new Set<RawArrayDiff>();
  for (const a of res.arrays) {
    if (a.before !== null || a.after === null) continue;
    const k = key(a, 1);
    const match = k === null ? undefined : removed.get(k)?.shift();
    if (!match) continue;
    gone.add(match);
    a.before = match.before;
    a.oldPath = match.path;
    a.added = [];
    a.removed = [];
  }
  res.arrays = res.arrays.filter((a) => !gone.has(a));
}

function union(a: Iterable<string>, b: Iterable<string>): string[] {
  return [...new Set([...a, ...b])].sort(cmp);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
