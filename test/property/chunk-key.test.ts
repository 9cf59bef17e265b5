/**
 * Chunk keys against a model of the Zarr specs, on random grid indices: the
 * v2 encoding ("0.1" / "0/1", "0" for a 0-d array) and v3's "default"
 * ("c/0/1" / "c.0.1", "c" for 0-d) and "v2" encodings. format then parse
 * gives the index back; parse then format gives the key back (only canonical
 * spellings parse); anything else is refused (null), never misread.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatChunkKey, type KeyEncoding, parseChunkKey } from "../../src/format/chunk-key.js";

const RUNS = { numRuns: 300 };

const encoding: fc.Arbitrary<KeyEncoding> = fc.record({ kind: fc.constantFrom("default" as const, "v2" as const), separator: fc.constantFrom("." as const, "/" as const) });
/** Mostly small indices (real grids), some up to 2^53 - 1 (the largest a key may name). */
const index1 = fc.oneof({ arbitrary: fc.nat({ max: 40 }), weight: 4 }, { arbitrary: fc.maxSafeNat(), weight: 1 });
const gridIndex = fc.array(index1, { maxLength: 6 });

/** The key the specs give for `index` (written independently of the code). */
function modelKey(enc: KeyEncoding, index: number[]): string {
  const body = index.map((i) => i.toString(10));
  if (enc.kind === "default") return ["c", ...body].join(enc.separator);
  return index.length === 0 ? "0" : body.join(enc.separator);
}

describe("chunk keys (property)", () => {
  it("format is the specs' key, and parse gives the index back", () => {
    fc.assert(
      fc.property(encoding, gridIndex, (enc, index) => {
        const key = formatChunkKey(enc, index);
        expect(key).toBe(modelKey(enc, index));
        expect(parseChunkKey(enc, key, index.length)).toEqual(index);
      }),
      RUNS,
    );
  });

  it("a key parses only as its own spelling: parse then format is the identity, for any string", () => {
    // strings shaped like keys (digit runs, leading zeros included, between separators, maybe a "c"), some with noise
    const digits = fc.oneof(fc.stringMatching(/^[0-9]{1,3}$/), fc.constantFrom("0", "00", "007", "9007199254740991", "9007199254740992"));
    const noise = fc.constantFrom("", "", "", "-", "+", "e", " ", "x", "c", ".", "/");
    const keyish = fc
      .tuple(fc.constantFrom("", "c", "c.", "c/"), fc.array(digits, { maxLength: 4 }), fc.constantFrom(".", "/"), noise, fc.nat({ max: 12 }))
      .map(([prefix, parts, sep, extra, at]) => {
        const key = prefix + parts.join(sep);
        const i = at % (key.length + 1);
        return { key: key.slice(0, i) + extra + key.slice(i), ndim: parts.length };
      });
    fc.assert(
      fc.property(encoding, keyish, fc.integer({ min: -1, max: 1 }), (enc, { key, ndim: n }, off) => {
        const ndim = Math.max(0, n + off);
        const index = parseChunkKey(enc, key, ndim);
        if (index === null) return;
        expect(index).toHaveLength(ndim);
        expect(formatChunkKey(enc, index)).toBe(key);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a key of another encoding, another separator or another number of dimensions", () => {
    fc.assert(
      fc.property(encoding, encoding, gridIndex, fc.nat({ max: 6 }), (enc, other, index, ndim) => {
        const key = formatChunkKey(other, index);
        const parsed = parseChunkKey(enc, key, ndim);
        if (parsed === null) return;
        // read at all: it names the same chunk in `enc` spelled the same way (e.g. a 1-d v2 key with either separator)
        expect(formatChunkKey(enc, parsed)).toBe(key);
        expect(parsed.length).toBe(ndim);
      }),
      RUNS,
    );
  });

  it("refuses malformed keys: leading zeros, signs, empty parts, other characters, numbers past 2^53 - 1", () => {
    const malform = fc.constantFrom(
      (p: string) => `0${p}`, // a leading zero (0 itself becomes "00")
      (p: string) => `-${p}`,
      (p: string) => `+${p}`,
      (p: string) => `${p}e0`,
      (p: string) => ` ${p}`,
      () => "",
      () => "9007199254740992", // 2^53
      () => "99999999999999999",
      (p: string) => `${p}x`,
    );
    fc.assert(
      fc.property(encoding, fc.array(index1, { minLength: 1, maxLength: 5 }), fc.nat(), malform, (enc, index, which, bad) => {
        const at = which % index.length;
        const parts = index.map((i, d) => (d === at ? bad(String(i)) : String(i)));
        const key = enc.kind === "default" ? ["c", ...parts].join(enc.separator) : parts.join(enc.separator);
        expect(parseChunkKey(enc, key, index.length), key).toBeNull();
      }),
      RUNS,
    );
  });

  it("refuses to format what is not a grid index", () => {
    const notIndex = fc.oneof(fc.integer({ max: -1 }), fc.double().filter((x) => !Number.isSafeInteger(x) || x < 0), fc.constant(2 ** 53));
    fc.assert(
      fc.property(encoding, gridIndex, notIndex, fc.nat(), (enc, index, bad, at) => {
        const i = [...index];
        i.splice(at % (i.length + 1), 0, bad);
        expect(() => formatChunkKey(enc, i)).toThrow(RangeError);
      }),
      RUNS,
    );
  });
});
