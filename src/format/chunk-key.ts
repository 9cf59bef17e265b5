/**
 * Zarr chunk keys ⇄ chunk grid indices.
 *
 * v3 "default" encoding: "c" + sep + indices joined by sep ("c" for a 0-d array).
 * v3 "v2" encoding and Zarr v2 arrays: indices joined by sep ("0" for a 0-d array).
 * Parsing accepts only the canonical spelling, so format(parse(key)) === key.
 */
export type KeyEncoding = { kind: "default" | "v2"; separator: "." | "/" };

const CANONICAL_INDEX = /^(?:0|[1-9][0-9]{0,15})$/; // 2^53 - 1 has 16 digits

export function formatChunkKey(enc: KeyEncoding, index: readonly number[]): string {
  for (const i of index) {
    if (!Number.isSafeInteger(i) || i < 0) {
      throw new RangeError(`chunk index must be an integer in 0..2^53-1, got ${i}`);
    }
  }
  if (enc.kind === "default") {
    return index.length === 0 ? "c" : `c${enc.separator}${index.join(enc.separator)}`;
  }
  return index.length === 0 ? "0" : index.join(enc.separator);
}

/** The chunk index named by `key`, or null if `key` is not a canonical chunk key of an ndim-D array. */
export function parseChunkKey(enc: KeyEncoding, key: string, ndim: number): number[] | null {
  let body = key;
  if (enc.kind === "default") {
    if (ndim === 0) return key === "c" ? [] : null;
    const prefix = `c${enc.separator}`;
    if (!key.startsWith(prefix)) return null;
    body = key.slice(prefix.length);
  } else if (ndim === 0) {
    return key === "0" ? [] : null;
  }
  const parts = body.split(enc.separator);
  if (parts.length !== ndim) return null;
  const index: number[] = [];
  for (const part of parts) {
    if (!CANONICAL_INDEX.test(part)) return null;
    const n = Number(part);
    if (n > Number.MAX_SAFE_INTEGER) return null;
    index.push(n);
  }
  return index;
}
