/**
 * Chunk files wholly outside the merged array's chunk grid: one side shrank
 * the array while the other wrote past the new end, or a strategy took one
 * side's shape while the other side's growth left chunks beyond it. Kept, they
 * would be stale values that reappear when the array grows again; they are
 * left out of the merge and reported. Edge chunks that still overlap the
 * shape keep their bytes. A file ours already held outside its own grid is
 * not the merge's doing and stays.
 */
import { parseChunkKey } from "../../format/chunk-key.js";
import { isInGrid, parseZarray, parseZarrJson, type ArrayMeta } from "../../format/zarr-meta.js";
import { baseName, parentDir } from "../hierarchy.js";
import type { Snapshot, SnapEntry } from "../snapshot.js";
import type { ReadFn } from "./assemble.js";
import type { DroppedChunk } from "./types.js";

/** The arrays described by the metadata documents among `files` (`written` overrides stored bytes). */
export async function arraysOf(
  files: ReadonlyMap<string, SnapEntry>,
  written: ReadonlyMap<string, Uint8Array>,
  read: ReadFn,
  only?: ReadonlySet<string>,
): Promise<Map<string, ArrayMeta>> {
  const arrays = new Map<string, ArrayMeta>();
  for (const [p, e] of files) {
    const name = baseName(p);
    if (name !== "zarr.json" && name !== ".zarray") continue;
    const dir = parentDir(p);
    if (only && !only.has(dir)) continue;
    if (name === ".zarray" && files.has(`${p.slice(0, -".zarray".length)}zarr.json`)) continue;
    try {
      const bytes = written.get(p) ?? (await read(p, e));
      if (name === ".zarray") arrays.set(dir, parseZarray(bytes, p));
      else {
        const node = parseZarrJson(bytes, p);
        if (node.kind === "array") arrays.set(dir, node.meta);
      }
    } catch {
      // not valid metadata: a plain folder, as the snapshot reader treats it
    }
  }
  return arrays;
}

/**
 * Remove from `files` every chunk wholly outside its merged array's grid, in
 * the arrays `consider` accepts (not those with open conflicts: their shape is
 * provisional), except files ours holds outside its own grid already.
 * Returns what was removed.
 */
export async function dropOutsideGrid(
  files: Map<string, SnapEntry>,
  written: ReadonlyMap<string, Uint8Array>,
  sides: { ours: Snapshot; theirs: Snapshot },
  read: ReadFn,
  consider: (array: string) => boolean = () => true,
): Promise<DroppedChunk[]> {
  // only folders holding a file the merge changed relative to ours can hold a chunk the merge left outside
  const touched = new Set<string>();
  const touch = (p: string) => {
    for (let dir = parentDir(p); !touched.has(dir); dir = parentDir(dir)) {
      touched.add(dir);
      if (dir === "") break;
    }
  };
  for (const [p, e] of files) if (sides.ours.files.get(p)?.id !== e.id || written.has(p)) touch(p);
  for (const p of sides.ours.files.keys()) if (!files.has(p)) touch(p);
  const arrays = await arraysOf(files, written, read, touched);
  const owner = (p: string): string | null => {
    for (let dir = parentDir(p); ; dir = parentDir(dir)) {
      if (arrays.has(dir)) return dir;
      if (dir === "") return null;
    }
  };
  const dropped: DroppedChunk[] = [];
  for (const [p, e] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const a = owner(p);
    if (a === null || !consider(a)) continue;
    const meta = arrays.get(a) as ArrayMeta;
    const index = parseChunkKey(meta.keyEncoding, a ? p.slice(a.length + 1) : p, meta.shape.length);
    if (!index || isInGrid(meta, index)) continue;
    const o = sides.ours.files.get(p);
    const t = sides.theirs.files.get(p);
    const oursMeta = sides.ours.arrays.get(a);
    if (o?.id === e.id && oursMeta && !isInGrid(oursMeta, index)) continue; // ours' own, outside its grid already
    files.delete(p);
    dropped.push({ array: a, chunk: index, path: p, from: o?.id === e.id ? (t?.id === e.id ? "both" : "ours") : t?.id === e.id ? "theirs" : "merged" });
  }
  return dropped;
}
