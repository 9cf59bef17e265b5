/**
 * Float elements compared and copied by their bits: -0 is not 0, a NaN
 * equals a NaN of the same bits, and a copied NaN keeps its payload. Merges,
 * diffs and the encoder's round-trip check all compare this way.
 *
 *   const v = bitsOf(chunk.data);   // Uint32Array over a Float32Array's bytes, ...; null for other data
 */

/** An unsigned integer view over the same bytes as float data; null when `data` is not a float typed array. */
export function bitsOf(data: unknown): Uint16Array | Uint32Array | BigUint64Array | null {
  if (data instanceof Float64Array) return new BigUint64Array(data.buffer, data.byteOffset, data.length);
  if (data instanceof Float32Array) return new Uint32Array(data.buffer, data.byteOffset, data.length);
  const f16 = (globalThis as { Float16Array?: new (...a: never[]) => ArrayBufferView & { length: number } }).Float16Array;
  if (f16 && data instanceof f16) {
    const v = data as ArrayBufferView & { length: number };
    return new Uint16Array(v.buffer, v.byteOffset, v.length);
  }
  return null;
}

/** True when two element values are the same: numbers as Object.is (-0 is not 0), any NaN equals any NaN. */
export function sameNumberish(a: unknown, b: unknown): boolean {
  return a === b ? a !== 0 || Object.is(a, b) : Number.isNaN(a) && Number.isNaN(b);
}
