/**
 * The element-wise rules on one decoded chunk: NaN fraction and range, over
 * the elements inside the array's shape (an edge chunk's padding is not data).
 */
import type { DecodedChunk } from "../zarr/decode.js";

export interface ChunkStats {
  /** elements inside the array's shape */
  count: number;
  nan: number;
  /** array index of the first NaN */
  firstNan: number[] | null;
  /** values outside the range (NaN excluded) */
  outside: number;
  firstOutside: { index: number[]; value: number } | null;
  /** false when the data is not numbers (strings, structures): NaN and range do not apply */
  numeric: boolean;
}

/** Count NaN and out-of-range values of `chunk`, inside `arrayShape`. */
export function chunkStats(chunk: DecodedChunk, arrayShape: readonly number[], range: readonly [number, number] | null): ChunkStats {
  const data = chunk.data as unknown;
  const stats: ChunkStats = { count: 0, nan: 0, firstNan: null, outside: 0, firstOutside: null, numeric: false };
  if (!ArrayBuffer.isView(data) || data instanceof DataView) return stats;
  stats.numeric = true;
  const values = data as unknown as ArrayLike<number | bigint>;
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const floats = data instanceof Float32Array || data instanceof Float64Array || (typeof (globalThis as { Float16Array?: unknown }).Float16Array === "function" && data instanceof (globalThis as unknown as { Float16Array: new () => object }).Float16Array);
  const ndim = arrayShape.length;
  const ext = chunk.shape.map((s, d) => Math.max(0, Math.min(s, (arrayShape[d] as number) - (chunk.origin[d] as number))));
  const total = ext.reduce((a, b) => a * b, 1);
  if (total === 0) return stats;
  const [lo, hi] = range ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const at = (offset: number, idx: readonly number[]) => {
    const raw = values[offset] as number | bigint;
    const v = big ? Number(raw) : (raw as number);
    if (floats && Number.isNaN(v)) {
      stats.nan++;
      if (!stats.firstNan) stats.firstNan = idx.map((k, d) => k + (chunk.origin[d] as number));
    } else if (range && (v < lo || v > hi)) {
      stats.outside++;
      if (!stats.firstOutside) stats.firstOutside = { index: idx.map((k, d) => k + (chunk.origin[d] as number)), value: v };
    }
  };
  stats.count = total;
  if (ndim === 0) {
    at(0, []);
    return stats;
  }
  // an odometer over the inside extent; offsets through the chunk's strides
  const idx = new Array<number>(ndim).fill(0);
  const last = ndim - 1;
  const innerStride = chunk.stride[last] as number;
  const innerExt = ext[last] as number;
  for (;;) {
    let base = 0;
    for (let d = 0; d < last; d++) base += (idx[d] as number) * (chunk.stride[d] as number);
    for (let k = 0; k < innerExt; k++) {
      idx[last] = k;
      // the fast path: no NaN and nothing outside so far needs no index copy
      const raw = values[base + k * innerStride] as number | bigint;
      const v = big ? Number(raw) : (raw as number);
      if ((floats && Number.isNaN(v)) || (range !== null && (v < lo || v > hi))) at(base + k * innerStride, idx);
    }
    idx[last] = 0;
    let d = last - 1;
    while (d >= 0) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (ext[d] as number)) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return stats;
}

/** The values of a 1-D chunk inside the array's length, as numbers (null when not numeric). */
export function vectorOf(chunk: DecodedChunk, length: number): number[] | null {
  const data = chunk.data as unknown;
  if (!ArrayBuffer.isView(data) || data instanceof DataView) return null;
  const values = data as unknown as ArrayLike<number | bigint>;
  const n = Math.max(0, Math.min(chunk.shape[0] as number, length - (chunk.origin[0] as number)));
  const stride = chunk.stride[0] ?? 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number(values[i * stride]));
  return out;
}
