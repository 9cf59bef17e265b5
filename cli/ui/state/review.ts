/**
 * The review screen: the arrays changed between two commits, one selected
 * with its metadata, chunk and (on request) value statistics; Enter opens its
 * chunk grid as a heatmap with a cursor on one chunk and, for more than two
 * dimensions, a slice position along the others. Pure.
 */
import type { ArrayDiff, DiffResult, ValueDiff } from "../../../src/index.js";
import { arrayGrid, follow, key, shownDims } from "../data/grid.js";
import type { ChunkComparison } from "../data/values.js";

export type Load<T> = { status: "loading" } | { status: "ready"; value: T } | { status: "error"; error: string };

export interface GridState {
  path: string;
  /** chunks per dimension */
  shape: number[];
  rowDim: number;
  colDim: number;
  /** the chunk under the cursor (all dimensions) */
  cursor: number[];
  /** the dimension `,` and `.` move along (-1: none, a 2-D or smaller grid) */
  sliceDim: number;
  top: number;
  left: number;
}

export interface ReviewState {
  /** bumped by each start: the diff is read again for a new review */
  seq: number;
  from: string | null;
  to: string;
  title: string;
  status: "loading" | "ready" | "error";
  error: string | null;
  diff: DiffResult | null;
  selected: number;
  top: number;
  focus: "list" | "grid";
  /** values on: value statistics per array, max |Δ| per chunk in the heatmap */
  values: boolean;
  arrayValues: Record<string, Load<{ values: ValueDiff | null; note: string | null }>>;
  grid: GridState | null;
  /** chunk comparisons by chunkKey(path, index) */
  chunks: Record<string, Load<ChunkComparison>>;
  /** per array path, a label per index of each dimension from its coordinate array (null: none) */
  coords: Record<string, Load<(string[] | null)[]>>;
  /** `i` pressed while the diff was computed (typed ahead): the value map opens once it is ready */
  mapAsked: boolean;
  /** with values on, what colours a changed chunk: its max |Δ| (log scale) or the fraction of its elements changed */
  metric: "delta" | "fraction";
  /** rows of the array list, and the heatmap's window in cells */
  view: { listRows: number; gridRows: number; gridCols: number };
}

export type ReviewAction =
  | { type: "start"; from: string | null; to: string; title: string }
  | { type: "loaded"; diff: DiffResult }
  | { type: "failed"; error: string }
  | { type: "resize"; listRows: number; gridRows: number; gridCols: number }
  | { type: "move"; by: number }
  | { type: "openGrid" }
  | { type: "closeGrid" }
  | { type: "gridMove"; rows: number; cols: number }
  | { type: "slice"; by: number }
  | { type: "sliceDim" }
  | { type: "toggleValues" }
  | { type: "arrayValues"; path: string; load: ReviewState["arrayValues"][string] }
  | { type: "chunk"; key: string; load: Load<ChunkComparison> }
  | { type: "coords"; path: string; load: Load<(string[] | null)[]> }
  | { type: "metric" }
  | { type: "askMap"; on: boolean };

export function chunkKey(path: string, index: readonly number[]): string {
  return `${path}|${key(index)}`;
}

export function initialReview(): ReviewState {
  return {
    seq: 0,
    from: null,
    to: "",
    title: "",
    status: "loading",
    error: null,
    diff: null,
    selected: 0,
    top: 0,
    focus: "list",
    values: false,
    arrayValues: {},
    grid: null,
    chunks: {},
    coords: {},
    mapAsked: false,
    metric: "delta",
    view: { listRows: 8, gridRows: 10, gridCols: 24 },
  };
}

export function selectedArray(s: ReviewState): ArrayDiff | null {
  return s.diff?.arrays[s.selected] ?? null;
}

/** The first changed chunk of an array (modified, then added, then removed), or the origin. */
function firstChange(a: ArrayDiff, nd: number): number[] {
  const box = a.chunks.modified.boxes[0] ?? a.chunks.added.boxes[0] ?? a.chunks.removed.boxes[0];
  return box && box.length === nd ? box.map(([lo]) => lo) : new Array<number>(nd).fill(0);
}

function otherDims(g: Pick<GridState, "shape" | "rowDim" | "colDim">): number[] {
  return g.shape.map((_, d) => d).filter((d) => d !== g.rowDim && d !== g.colDim);
}

function placeWindow(g: GridState, view: ReviewState["view"]): GridState {
  const rows = g.rowDim < 0 ? 1 : (g.shape[g.rowDim] as number);
  const cols = g.colDim < 0 ? 1 : (g.shape[g.colDim] as number);
  return {
    ...g,
    top: g.rowDim < 0 ? 0 : follow(g.top, g.cursor[g.rowDim] as number, view.gridRows, rows),
    left: g.colDim < 0 ? 0 : follow(g.left, g.cursor[g.colDim] as number, view.gridCols, cols),
  };
}

export function reviewReducer(s: ReviewState, a: ReviewAction): ReviewState {
  switch (a.type) {
    case "start":
      return { ...initialReview(), seq: s.seq + 1, view: s.view, values: s.values, metric: s.metric, from: a.from, to: a.to, title: a.title };
    case "loaded":
      return { ...s, status: "ready", diff: a.diff, selected: 0, top: 0 };
    case "failed":
      return { ...s, status: "error", error: a.error };
    case "resize": {
      const view = { listRows: Math.max(1, a.listRows), gridRows: Math.max(1, a.gridRows), gridCols: Math.max(1, a.gridCols) };
      const n = s.diff?.arrays.length ?? 0;
      return { ...s, view, top: follow(s.top, s.selected, view.listRows, n), grid: s.grid ? placeWindow(s.grid, view) : null };
    }
    case "move": {
      const n = s.diff?.arrays.length ?? 0;
      if (n === 0) return s;
      const selected = Math.max(0, Math.min(n - 1, s.selected + a.by));
      return { ...s, selected, top: follow(s.top, selected, s.view.listRows, n) };
    }
    case "openGrid": {
      const arr = selectedArray(s);
      if (!arr) return s;
      const shape = arrayGrid(arr);
      const { rowDim, colDim } = shownDims(shape.length);
      const g: GridState = { path: arr.path, shape, rowDim, colDim, cursor: firstChange(arr, shape.length), sliceDim: -1, top: 0, left: 0 };
      g.sliceDim = otherDims(g)[0] ?? -1;
      return { ...s, focus: "grid", grid: placeWindow(g, s.view) };
    }
    case "closeGrid":
      return { ...s, focus: "list" };
    case "gridMove": {
      const g = s.grid;
      if (!g) return s;
      const cursor = g.cursor.slice();
      if (g.rowDim >= 0) cursor[g.rowDim] = clamp((cursor[g.rowDim] as number) + a.rows, g.shape[g.rowDim] as number);
      if (g.colDim >= 0) cursor[g.colDim] = clamp((cursor[g.colDim] as number) + a.cols, g.shape[g.colDim] as number);
      return { ...s, grid: placeWindow({ ...g, cursor }, s.view) };
    }
    case "slice": {
      const g = s.grid;
      if (!g || g.sliceDim < 0) return s;
      const cursor = g.cursor.slice();
      cursor[g.sliceDim] = clamp((cursor[g.sliceDim] as number) + a.by, g.shape[g.sliceDim] as number);
      return { ...s, grid: { ...g, cursor } };
    }
    case "sliceDim": {
      const g = s.grid;
      if (!g) return s;
      const others = otherDims(g);
      if (others.length === 0) return s;
      const next = others[(others.indexOf(g.sliceDim) + 1) % others.length] as number;
      return { ...s, grid: { ...g, sliceDim: next } };
    }
    case "toggleValues":
      return { ...s, values: !s.values };
    case "arrayValues":
      return { ...s, arrayValues: { ...s.arrayValues, [a.path]: a.load } };
    case "chunk":
      return { ...s, chunks: { ...s.chunks, [a.key]: a.load } };
    case "coords":
      return { ...s, coords: { ...s.coords, [a.path]: a.load } };
    case "askMap":
      return { ...s, mapAsked: a.on };
    case "metric":
      return { ...s, metric: s.metric === "delta" ? "fraction" : "delta" };
  }
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n - 1, v));
}

/** The window of the grid the heatmap shows: rows [r0, r1), cols [c0, c1) in the row and column dimensions. */
export function gridWindow(g: GridState, view: ReviewState["view"]): { rows: [number, number]; cols: [number, number] } {
  const nr = g.rowDim < 0 ? 1 : (g.shape[g.rowDim] as number);
  const nc = g.colDim < 0 ? 1 : (g.shape[g.colDim] as number);
  return { rows: [g.top, Math.min(nr, g.top + view.gridRows)], cols: [g.left, Math.min(nc, g.left + view.gridCols)] };
}

/** The chunk index of a cell of the window. */
export function cellIndex(g: GridState, r: number, c: number): number[] {
  const idx = g.cursor.slice();
  if (g.rowDim >= 0) idx[g.rowDim] = r;
  if (g.colDim >= 0) idx[g.colDim] = c;
  return idx;
}
