/**
 * The value map: one 2-D slice of an array before and after a change, drawn
 * as a picture (before, after, Δ, or the three side by side), a cursor on an
 * element, and the slice's place along the other dimensions. Pure.
 */
import type { ArrayDiff } from "../../../src/index.js";
import { sampling, type Sampling } from "../data/pixels.js";
import type { SliceSpec } from "../data/slice.js";
import type { SliceData } from "../data/source.js";
import type { Load } from "./review.js";

export type MapView = "before" | "after" | "delta" | "all";

export interface MapState {
  seq: number;
  from: string | null;
  to: string;
  array: ArrayDiff | null;
  /** per dimension, the larger of both sides' lengths */
  shape: number[];
  rowDim: number;
  colDim: number;
  /** an index per dimension: along the others, where the slice lies; along rowDim and colDim, the cursor's element */
  at: number[];
  /** the dimension `,` and `.` move along (-1: none) */
  sliceDim: number;
  view: MapView;
  /** the cells the picture may take (each cell two pixels high) */
  area: { rows: number; cols: number };
  /** the slice read, for the spec named by `key` */
  data: { key: string; load: Load<SliceData> } | null;
  progress: { done: number; total: number } | null;
  /** per dimension, a label per index from its coordinate array (null: none; the whole: not read yet) */
  coords: (string[] | null)[] | null;
}

export type MapAction =
  | { type: "open"; from: string | null; to: string; array: ArrayDiff; at?: readonly number[] }
  | { type: "resize"; rows: number; cols: number }
  | { type: "loading"; key: string }
  | { type: "progress"; key: string; done: number; total: number }
  | { type: "loaded"; key: string; data: SliceData }
  | { type: "failed"; key: string; error: string }
  | { type: "move"; rows: number; cols: number }
  | { type: "slice"; by: number }
  | { type: "sliceDim" }
  | { type: "dims" }
  | { type: "view"; view: MapView }
  | { type: "coords"; seq: number; coords: (string[] | null)[] };

/** Columns between the pictures side by side. */
export const GAP = 2;

export function initialMap(): MapState {
  return { seq: 0, from: null, to: "", array: null, shape: [], rowDim: -1, colDim: -1, at: [], sliceDim: -1, view: "delta", area: { rows: 10, cols: 60 }, data: null, progress: null, coords: null };
}

function shapeOf(a: ArrayDiff): number[] {
  const sides = [a.before, a.after].filter((s): s is NonNullable<typeof s> => s !== null);
  const nd = a.after?.shape.length ?? a.before?.shape.length ?? 0;
  return Array.from({ length: nd }, (_, d) => Math.max(1, ...sides.filter((s) => s.shape.length === nd).map((s) => s.shape[d] ?? 0)));
}

function others(s: Pick<MapState, "shape" | "rowDim" | "colDim">): number[] {
  return s.shape.map((_, d) => d).filter((d) => d !== s.rowDim && d !== s.colDim);
}

/** The slice a state asks for. */
export function specOf(s: MapState): SliceSpec {
  return { rowDim: s.rowDim, colDim: s.colDim, at: s.at.map((x, d) => (d === s.rowDim || d === s.colDim ? 0 : x)) };
}

/** What identifies the slice read: the array, the sides, the dimensions and the index along the others. */
export function specKey(s: MapState): string {
  const sp = specOf(s);
  return `${s.seq}|${s.array?.path}|${sp.rowDim},${sp.colDim}|${sp.at.join(",")}`;
}

/** The columns of one picture: the whole area, or a third of it side by side. */
export function pictureCols(s: Pick<MapState, "view" | "area">): number {
  return s.view === "all" ? Math.max(1, Math.floor((s.area.cols - 2 * GAP) / 3)) : s.area.cols;
}

/** How the loaded slice maps to pixels, or null before it is read. */
export function mapSampling(s: MapState): Sampling | null {
  const v = readySlice(s);
  return v ? sampling(v.rows, v.cols, s.area.rows * 2, pictureCols(s)) : null;
}

/** The ready slice of the current spec, or null. */
export function readySlice(s: MapState): SliceData | null {
  const load = s.data?.key === specKey(s) ? s.data.load : null;
  return load?.status === "ready" ? load.value : null;
}

/** The cursor's pixel in the picture. */
export function cursorPixel(s: MapState, smp: Sampling): { r: number; c: number } {
  const r = s.rowDim < 0 ? 0 : (s.at[s.rowDim] as number);
  const c = s.colDim < 0 ? 0 : (s.at[s.colDim] as number);
  return { r: Math.floor(r / smp.per) * smp.zoom, c: Math.floor(c / smp.per) * smp.zoom };
}

const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));

export function mapReducer(s: MapState, a: MapAction): MapState {
  switch (a.type) {
    case "open": {
      const shape = shapeOf(a.array);
      const nd = shape.length;
      const rowDim = nd >= 2 ? nd - 2 : -1;
      const colDim = nd >= 1 ? nd - 1 : -1;
      const at = shape.map((n, d) => clamp(a.at?.[d] ?? 0, n));
      const base = { ...s, seq: s.seq + 1, from: a.from, to: a.to, array: a.array, shape, rowDim, colDim, at, data: null, progress: null, coords: null };
      return { ...base, sliceDim: others(base)[0] ?? -1 };
    }
    case "resize":
      return { ...s, area: { rows: Math.max(1, a.rows), cols: Math.max(1, a.cols) } };
    case "loading":
      return a.key === specKey(s) ? { ...s, data: { key: a.key, load: { status: "loading" } }, progress: null } : s;
    case "progress":
      return a.key === specKey(s) ? { ...s, progress: { done: a.done, total: a.total } } : s;
    case "loaded":
      return a.key === specKey(s) ? { ...s, data: { key: a.key, load: { status: "ready", value: a.data } }, progress: null } : s;
    case "failed":
      return a.key === specKey(s) ? { ...s, data: { key: a.key, load: { status: "error", error: a.error } }, progress: null } : s;
    case "move": {
      const smp = mapSampling(s);
      const step = smp ? smp.per : 1; // one pixel: a block of elements when the slice is reduced
      const at = s.at.slice();
      if (s.rowDim >= 0) at[s.rowDim] = clamp((at[s.rowDim] as number) - ((at[s.rowDim] as number) % step) + a.rows * step, s.shape[s.rowDim] as number);
      if (s.colDim >= 0) at[s.colDim] = clamp((at[s.colDim] as number) - ((at[s.colDim] as number) % step) + a.cols * step, s.shape[s.colDim] as number);
      return { ...s, at };
    }
    case "slice": {
      if (s.sliceDim < 0) return s;
      const at = s.at.slice();
      at[s.sliceDim] = clamp((at[s.sliceDim] as number) + a.by, s.shape[s.sliceDim] as number);
      return { ...s, at };
    }
    case "sliceDim": {
      const o = others(s);
      if (o.length === 0) return s;
      return { ...s, sliceDim: o[(o.indexOf(s.sliceDim) + 1) % o.length] as number };
    }
    case "dims": {
      // the next pair of dimensions drawn as rows × columns, in order (0,1), (0,2), ..., (1,2), ...
      const nd = s.shape.length;
      if (nd < 3) return s;
      const pairs: [number, number][] = [];
      for (let r = 0; r < nd; r++) for (let c = r + 1; c < nd; c++) pairs.push([r, c]);
      const i = pairs.findIndex(([r, c]) => r === s.rowDim && c === s.colDim);
      const [rowDim, colDim] = pairs[(i + 1) % pairs.length] as [number, number];
      const next = { ...s, rowDim, colDim };
      return { ...next, sliceDim: others(next)[0] ?? -1 };
    }
    case "view":
      return { ...s, view: a.view };
    case "coords":
      return a.seq === s.seq ? { ...s, coords: a.coords } : s;
  }
}
