/**
 * The chunk grid of a changed array as the heatmap draws it: which chunks were
 * added, removed or changed (from the diff's chunk boxes), a 2-D window of a
 * possibly n-D grid, and buckets of max |Δ| for the values view. Pure.
 */
import type { ArrayDiff, Box } from "../../../src/index.js";

export type CellKind = "unchanged" | "added" | "removed" | "modified";

/** Chunks per dimension for a shape and chunk shape. */
export function gridOf(shape: readonly number[], chunkShape: readonly number[]): number[] {
  return shape.map((n, d) => Math.ceil(n / Math.max(1, chunkShape[d] ?? 1)));
}

/**
 * The chunk grid changed (a rechunk: another chunk shape, or another number of
 * dimensions): chunk [0,0,0] before and after are different regions, so no
 * chunk is compared with the chunk of the same index; the heatmap shows the
 * new grid and says so. Null when the grid is the same on both sides.
 */
export function regrid(a: Pick<ArrayDiff, "before" | "after">): { before: number[]; after: number[] } | null {
  if (!a.before || !a.after) return null;
  const same = a.before.chunkShape.length === a.after.chunkShape.length && a.before.chunkShape.every((n, d) => n === a.after?.chunkShape[d]);
  return same ? null : { before: a.before.chunkShape, after: a.after.chunkShape };
}

/** The grid the heatmap shows: the larger of both sides' grids (an array that grew shows its new chunks); after a rechunk, the new grid. */
export function arrayGrid(a: Pick<ArrayDiff, "before" | "after">): number[] {
  const sides = (regrid(a) ? [a.after] : [a.before, a.after]).filter((s): s is NonNullable<typeof s> => s !== null);
  const nd = a.after?.shape.length ?? a.before?.shape.length ?? 0;
  const grids = sides.filter((s) => s.shape.length === nd).map((s) => gridOf(s.shape, s.chunkShape));
  return Array.from({ length: nd }, (_, d) => Math.max(1, ...grids.map((g) => g[d] ?? 0)));
}

/**
 * The chunk changes as the heatmap draws them. After a rechunk the diff's
 * sets pair keys of two grids (its "modified" chunk [0,0,0] is not the same
 * region before and after): every chunk of the new grid is then a new chunk
 * (`+`), and the old grid's removed chunks are not drawn on the new one.
 */
export function gridChanges(a: Pick<ArrayDiff, "before" | "after" | "chunks">): Pick<ArrayDiff, "chunks"> {
  if (!regrid(a)) return a;
  const c = a.chunks;
  const none = { count: 0, bytes: 0, boxes: [] };
  return {
    chunks: {
      added: { count: c.added.count + c.modified.count, bytes: c.added.bytes + c.modified.bytes, boxes: [...c.modified.boxes, ...c.added.boxes] },
      removed: none,
      modified: { ...none, bytesBefore: 0 },
    },
  };
}

/** The chunk shape used to map a chunk index to array coordinates (the new side's, else the old). */
export function chunkShapeOf(a: Pick<ArrayDiff, "before" | "after">): number[] {
  return (a.after ?? a.before)?.chunkShape ?? [];
}

/** The two dimensions drawn as rows and columns (-1: none), for an n-D grid. */
export function shownDims(ndim: number): { rowDim: number; colDim: number } {
  if (ndim === 0) return { rowDim: -1, colDim: -1 };
  if (ndim === 1) return { rowDim: -1, colDim: 0 };
  return { rowDim: ndim - 2, colDim: ndim - 1 };
}

export function inBox(box: Box, index: readonly number[]): boolean {
  return box.every(([lo, hi], d) => (index[d] as number) >= lo && (index[d] as number) <= hi);
}

export function key(index: readonly number[]): string {
  return index.join(",");
}

/**
 * The kind of every changed chunk in a window of the grid: the slice through
 * `at` (its row and column dimensions vary) with rows [r0, r1) and columns
 * [c0, c1). Cost follows the number of boxes, not the grid's size.
 */
export function windowKinds(
  a: Pick<ArrayDiff, "chunks">,
  at: readonly number[],
  dims: { rowDim: number; colDim: number },
  rows: [number, number],
  cols: [number, number],
): Map<string, CellKind> {
  const out = new Map<string, CellKind>();
  const sets: [CellKind, Box[]][] = [
    ["added", a.chunks.added.boxes],
    ["removed", a.chunks.removed.boxes],
    ["modified", a.chunks.modified.boxes],
  ];
  for (const [kind, boxes] of sets) {
    for (const box of boxes) {
      if (box.length !== at.length) continue;
      let fits = true;
      for (let d = 0; d < box.length; d++) {
        if (d === dims.rowDim || d === dims.colDim) continue;
        const [lo, hi] = box[d] as [number, number];
        if ((at[d] as number) < lo || (at[d] as number) > hi) fits = false;
      }
      if (!fits) continue;
      const [rlo, rhi] = dims.rowDim < 0 ? [0, 0] : (box[dims.rowDim] as [number, number]);
      const [clo, chi] = dims.colDim < 0 ? [0, 0] : (box[dims.colDim] as [number, number]);
      for (let r = Math.max(rlo, rows[0]); r <= Math.min(rhi, rows[1] - 1); r++) {
        for (let c = Math.max(clo, cols[0]); c <= Math.min(chi, cols[1] - 1); c++) {
          const idx = at.slice();
          if (dims.rowDim >= 0) idx[dims.rowDim] = r;
          if (dims.colDim >= 0) idx[dims.colDim] = c;
          out.set(key(idx), kind);
        }
      }
    }
  }
  return out;
}

/** The kind of one chunk. */
export function kindAt(a: Pick<ArrayDiff, "chunks">, index: readonly number[]): CellKind {
  if (a.chunks.modified.boxes.some((b) => inBox(b, index))) return "modified";
  if (a.chunks.added.boxes.some((b) => inBox(b, index))) return "added";
  if (a.chunks.removed.boxes.some((b) => inBox(b, index))) return "removed";
  return "unchanged";
}

/** Buckets of max |Δ| (1..4, on a log scale up to `max`); 0 for no change in values. */
export function deltaBucket(delta: number, max: number): number {
  if (!(delta > 0)) return 0;
  if (!(max > 0) || delta >= max) return 4;
  const f = Math.log1p(delta) / Math.log1p(max);
  return Math.min(4, Math.max(1, Math.ceil(f * 4)));
}

/** Move `first` so that `pos` is inside a window of `size` cells over `total`. */
export function follow(first: number, pos: number, size: number, total: number): number {
  if (size <= 0) return 0;
  let f = first;
  if (pos < f) f = pos;
  if (pos >= f + size) f = pos - size + 1;
  return Math.max(0, Math.min(f, Math.max(0, total - size)));
}
