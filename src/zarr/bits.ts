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

/**
 * The one equality of two element values, for merges, diffs, the encoder's
 * round-trip check and the terminal UI: numbers as Object.is (-0 is not 0),
 * any NaN equals any NaN, a bigint equals only the same bigint, structured
 * elements (objects) by their JSON.
 */
export function sameElement(a: unknown, b: unknown): boolean {
  if (a === b) return a !== 0 || Object.is(a, b);
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (a && b && typeof a === "object" && typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** Element `i` (flat index into `data`) as a plain value. */
export function elementAt(data: unknown, i: number): unknown {
  const d = data as { get?: (i: number) => unknown } & ArrayLike<unknown>;
  return typeof d.get === "function" && !ArrayBuffer.isView(d) ? d.get(i) : d[i];
}
