/**
 * Zarr chunk keys ⇄ chunk grid indices.
 *
 * v3 "default" encoding: "c" + sep + indices joined by sep ("c" for a 0-d array).
 * v3 "v2" encoding and Zarr v2 arrays: indices joined by sep ("0" for a 0-d array).
 * Parsing accepts only the canonical spelling, so format(parse(key)) === key.
 */
export type KeyEncoding = { kind: "default" | "v2"; separator: "." | "/" };

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

/**
 * The chunk index named by `key`, or null if `key` is not a canonical chunk
 * key of an ndim-D array: each index "0" or a digit 1-9 then at most 15
 * digits, and at most 2^53 - 1. Read a character at a time (no split, no
 * pattern): every file of a tree is classified by it.
 */
export function parseChunkKey(enc: KeyEncoding, key: string, ndim: number): number[] | null {
  let i = 0;
  const sep = enc.separator.charCodeAt(0);
  if (enc.kind === "default") {
    if (ndim === 0) return key === "c" ? [] : null;
    if (key.charCodeAt(0) !== 0x63 || key.charCodeAt(1) !== sep) return null; // "c" and the separator
    i = 2;
  } else if (ndim === 0) {
    return key === "0" ? [] : null;
  }
  const index: number[] = [];
  for (;;) {
    const start = i;
    let n = 0;
    for (; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c === sep) break;
      if (c < 0x30 || c > 0x39) return null;
      n = n * 10 + (c - 0x30);
    }
    const digits = i - start;
    if (digits === 0 || digits > 16 || (digits > 1 && key.charCodeAt(start) === 0x30) || n > Number.MAX_SAFE_INTEGER) return null;
    if (index.push(n) > ndim) return null;
    if (i === key.length) return index.length === ndim ? index : null;
    i++; // the separator
  }
}
