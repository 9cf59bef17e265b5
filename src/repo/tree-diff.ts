/**
 * What changed between two snapshot trees, file by file, reading only what
 * differs: equal subtrees (unchanged arrays, folders) and equal manifest
 * shards are skipped by their Git ids. Commit and show summaries use it, so
 * their cost follows the size of the change, not of the dataset.
 */
import { formatChunkKey } from "../format/chunk-key.js";
import type { GitOid } from "../format/hash.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import type { ArrayMeta } from "../format/zarr-meta.js";
import type { TreeEntry } from "../format/git-object.js";
import type { Change, ChangeKind } from "./changes.js";
import { classifyWith, joinPath, META_NAMES } from "./hierarchy.js";
import type { Repository } from "./repository.js";
import { arrayMetaIn, readSnapshot, type SnapEntry } from "./snapshot.js";

/**
 * `after`, when given, receives the entry of every file added or modified
 * (what a checkout of `b` over `a` writes); `before`, of every file deleted
 * or modified.
 */
export async function diffTrees(
  repo: Repository,
  a: GitOid | null,
  b: GitOid | null,
  after?: Map<string, SnapEntry>,
  before?: Map<string, SnapEntry>,
): Promise<Change[]> {
  const out: Change[] = [];
  const emit = (path: string, change: ChangeKind, kind: Change["kind"], array: string | null, prev?: SnapEntry, next?: SnapEntry) => {
    out.push({ path, change, kind, array, bytes: next?.size ?? 0, oldBytes: prev?.size ?? 0 });
    if (after && next) after.set(path, next);
    if (before && prev) before.set(path, prev);
  };

  /**
   * A whole subtree present on one side only: every file in it is added or
   * deleted. `outer` is the array folder the subtree lies in, if any: a plain
   * file no array inside the subtree holds is that array's.
   */
  const whole = async (oid: GitOid, dir: string, change: "added" | "deleted", outer: string | null) => {
    const snap = await readSnapshot(repo, oid, dir);
    for (const [p, e] of snap.files) {
      const k = classifyWith(snap.arrays, p);
      const array = k.array === null && k.kind === "plain" ? outer : k.array;
      emit(p, change, k.kind, array, change === "deleted" ? e : undefined, change === "added" ? e : undefined);
    }
  };

  const chunkMap = async (oid: GitOid | undefined, dir: string, meta: ArrayMeta | null, name: string) => {
    const m = new Map<string, SnapEntry>();
    if (!oid || !meta) return m;
    const where = `${joinPath(dir, MANIFEST_TREE)}/${name}`;
    for (const c of decodeShard(await repo.git.readBlob(oid, where), where).entries) {
      m.set(joinPath(dir, formatChunkKey(meta.keyEncoding, c.index)), { store: "chunk", id: c.id, size: c.size });
    }
    return m;
  };

  const compareMaps = (before: Map<string, SnapEntry>, after: Map<string, SnapEntry>, kind: Change["kind"], array: string | null) => {
    for (const [p, e] of before) {
      const n = after.get(p);
      if (!n) emit(p, "deleted", kind, array, e);
      else if (n.id !== e.id) emit(p, "modified", kind, array, e, n);
    }
    for (const [p, n] of after) if (!before.has(p)) emit(p, "added", kind, array, undefined, n);
  };

  const walk = async (ta: GitOid | null, tb: GitOid | null, dir: string, enclosing: string | null): Promise<void> => {
    const ea: TreeEntry[] = ta ? await repo.git.readTree(ta, dir || "root tree") : [];
    const eb: TreeEntry[] = tb ? await repo.git.readTree(tb, dir || "root tree") : [];
    const ma = ta ? await arrayMetaIn(repo, ea, dir) : null;
    const mb = tb ? await arrayMetaIn(repo, eb, dir) : null;
    const array = ma || mb ? dir : enclosing;
    const byA = new Map(ea.map((e) => [e.name, e]));
    const byB = new Map(eb.map((e) => [e.name, e]));
    for (const name of new Set([...byA.keys(), ...byB.keys()])) {
      const x = byA.get(name);
      const y = byB.get(name);
      if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
      const rel = joinPath(dir, name);
      if (name === MANIFEST_TREE) {
        // chunk keys follow each side's own key encoding; compare shard by shard
        const sa = x ? await repo.git.readTree(x.oid, rel) : [];
        const sb = y ? await repo.git.readTree(y.oid, rel) : [];
        const shardA = new Map(sa.map((e) => [e.name, e.oid]));
        const shardB = new Map(sb.map((e) => [e.name, e.oid]));
        const sameEncoding = JSON.stringify(ma?.keyEncoding) === JSON.stringify(mb?.keyEncoding);
        const before = new Map<string, SnapEntry>();
        const after = new Map<string, SnapEntry>();
        for (const s of new Set([...shardA.keys(), ...shardB.keys()])) {
          if (sameEncoding && shardA.get(s) === shardB.get(s)) continue;
          for (const [p, e] of await chunkMap(shardA.get(s), dir, ma, s)) before.set(p, e);
          for (const [p, e] of await chunkMap(shardB.get(s), dir, mb, s)) after.set(p, e);
        }
        compareMaps(before, after, "chunk", dir);
      } else if (name === FILE_LIST) {
        const list = async (e: TreeEntry | undefined) =>
          new Map(e ? decodeFileList(await repo.git.readBlob(e.oid, rel), rel).map((f) => [joinPath(dir, f.name), { store: "chunk" as const, id: f.id, size: f.size }]) : []);
        compareMaps(await list(x), await list(y), "plain", array);
      } else if (x?.mode === "040000" && y?.mode === "040000") {
        await walk(x.oid, y.oid, rel, array);
      } else {
        const kind = META_NAMES.has(name) ? "meta" : "plain";
        const owner = kind === "meta" ? (ma || mb ? dir : null) : array;
        if (x?.mode === "040000") await whole(x.oid, rel, "deleted", ma ? dir : enclosing);
        else if (x && (!y || y.mode === "040000")) emit(rel, "deleted", kind, owner, { store: "git", id: x.oid, size: -1 });
        if (y?.mode === "040000") await whole(y.oid, rel, "added", mb ? dir : enclosing);
        else if (y && (!x || x.mode === "040000")) emit(rel, "added", kind, owner, undefined, { store: "git", id: y.oid, size: -1 });
        if (x && y && x.mode !== "040000" && y.mode !== "040000") emit(rel, "modified", kind, owner, { store: "git", id: x.oid, size: -1 }, { store: "git", id: y.oid, size: -1 });
      }
    }
  };

  if (a !== b) await walk(a, b, "", null);
  out.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
  return out;
}
