/**
 * A 2-D slice of an array read from one side of a review: the chunks the
 * slice crosses and no other (each side with its own chunk grid, so a
 * rechunked array compares element by element), decoded through the read
 * session, copied into a row-major Float64Array. Values that are not numbers
 * (strings, structured types) have no value map.
 */
import type { ArrayAt, DecodedChunk } from "../../../src/index.js";
import { elementAt } from "../../../src/index.js";

/** Which slice: the two dimensions drawn (rows, columns; -1 for a 1-D array's rows) and the index along every other. */
export interface SliceSpec {
  rowDim: number;
  colDim: number;
  /** an index per dimension; those of rowDim and colDim are ignored */
  at: readonly number[];
}

/** The most elements a slice may hold (per side): beyond it the map would cost more memory than a terminal can show. */
export const MAX_SLICE = 1 << 24;

export class SliceTooLargeError extends Error {}
export class NotNumericError extends Error {}

/** The slice's size for an array shape. */
export function sliceSize(shape: readonly number[], spec: Pick<SliceSpec, "rowDim" | "colDim">): { rows: number; cols: number } {
  return { rows: spec.rowDim < 0 ? 1 : (shape[spec.rowDim] ?? 1), cols: spec.colDim < 0 ? 1 : (shape[spec.colDim] ?? 1) };
}

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new NotNumericError("the values are not numbers: no value map (the chunk grid and `v` still compare them)");
}

/**
 * Read one side's part of a slice of `rows × cols` (the larger of both sides'
 * extents): `values` NaN where the side has no element, `has` 1 where it has.
 * `onChunk` counts chunks read, for progress.
 */
export async function readSide(
  arr: ArrayAt,
  spec: SliceSpec,
  rows: number,
  cols: number,
  run: <T>(fn: () => Promise<T>) => Promise<T>,
  onChunk?: () => void,
): Promise<{ values: Float64Array; has: Uint8Array }> {
  const { shape, chunkShape } = arr.meta;
  const nd = shape.length;
  if (rows * cols > MAX_SLICE) throw new SliceTooLargeError(`the slice has ${rows}×${cols} elements; the value map reads at most ${MAX_SLICE}`);
  const values = new Float64Array(rows * cols).fill(Number.NaN);
  const has = new Uint8Array(rows * cols);
  // outside this side's shape along a fixed dimension: no element at all
  for (let d = 0; d < nd; d++) {
    if (d === spec.rowDim || d === spec.colDim) continue;
    if ((spec.at[d] ?? 0) >= (shape[d] as number)) return { values, has };
  }
  const rowsHere = spec.rowDim < 0 ? 1 : (shape[spec.rowDim] as number);
  const colsHere = spec.colDim < 0 ? 1 : (shape[spec.colDim] as number);
  const chunkIdx = (d: number, i: number) => Math.floor(i / (chunkShape[d] as number));
  const rowChunks = spec.rowDim < 0 ? 1 : Math.ceil(rowsHere / (chunkShape[spec.rowDim] as number));
  const colChunks = spec.colDim < 0 ? 1 : Math.ceil(colsHere / (chunkShape[spec.colDim] as number));
  const jobs: Promise<void>[] = [];
  for (let rc = 0; rc < rowChunks; rc++) {
    for (let cc = 0; cc < colChunks; cc++) {
      const index = Array.from({ length: nd }, (_, d) => (d === spec.rowDim ? rc : d === spec.colDim ? cc : chunkIdx(d, spec.at[d] ?? 0)));
      jobs.push(
        run(async () => {
          const chunk = await arr.chunk(index);
          onChunk?.();
          if (chunk) copy(chunk, spec, nd, shape, cols, values, has);
        }),
      );
    }
  }
  await Promise.all(jobs);
  return { values, has };
}

/** Copy the slice's elements of one decoded chunk. */
function copy(chunk: DecodedChunk, spec: SliceSpec, nd: number, shape: readonly number[], cols: number, values: Float64Array, has: Uint8Array): void {
  const data = chunk.data as unknown;
  const typed = ArrayBuffer.isView(data) && !(data instanceof DataView) ? (data as unknown as ArrayLike<number | bigint>) : null;
  let base = 0;
  for (let d = 0; d < nd; d++) {
    if (d === spec.rowDim || d === spec.colDim) continue;
    base += ((spec.at[d] ?? 0) - (chunk.origin[d] as number)) * (chunk.stride[d] as number);
  }
  const r0 = spec.rowDim < 0 ? 0 : (chunk.origin[spec.rowDim] as number);
  const c0 = spec.colDim < 0 ? 0 : (chunk.origin[spec.colDim] as number);
  const r1 = spec.rowDim < 0 ? 1 : Math.min(r0 + (chunk.shape[spec.rowDim] as number), shape[spec.rowDim] as number);
  const c1 = spec.colDim < 0 ? 1 : Math.min(c0 + (chunk.shape[spec.colDim] as number), shape[spec.colDim] as number);
  const rs = spec.rowDim < 0 ? 0 : (chunk.stride[spec.rowDim] as number);
  const cs = spec.colDim < 0 ? 0 : (chunk.stride[spec.colDim] as number);
  for (let r = r0; r < r1; r++) {
    for (let c = c0; c < c1; c++) {
      const off = base + (r - r0) * rs + (c - c0) * cs;
      const v = typed ? typed[off] : elementAt(chunk.data, off);
      const i = r * cols + c;
      values[i] = toNumber(v);
      has[i] = 1;
    }
  }
}
