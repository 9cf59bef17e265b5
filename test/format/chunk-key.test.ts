import { describe, expect, it } from "vitest";
import { type KeyEncoding, formatChunkKey, parseChunkKey } from "../../src/format/chunk-key.js";

const v3: KeyEncoding = { kind: "default", separator: "/" };
const v3dot: KeyEncoding = { kind: "default", separator: "." };
const v2: KeyEncoding = { kind: "v2", separator: "." };
const v2slash: KeyEncoding = { kind: "v2", separator: "/" };

describe("formatChunkKey", () => {
  it("follows the Zarr v3 default and v2 encodings", () => {
    expect(formatChunkKey(v3, [1, 23, 0])).toBe("c/1/23/0");
    expect(formatChunkKey(v3dot, [1, 23])).toBe("c.1.23");
    expect(formatChunkKey(v3, [])).toBe("c");
    expect(formatChunkKey(v2, [1, 23, 0])).toBe("1.23.0");
    expect(formatChunkKey(v2slash, [1, 23])).toBe("1/23");
    expect(formatChunkKey(v2, [])).toBe("0");
    expect(formatChunkKey(v2, [7])).toBe("7");
  });

  it("refuses indices that are not non-negative safe integers", () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
      expect(() => formatChunkKey(v3, [0, bad])).toThrow(RangeError);
    }
  });
});

describe("parseChunkKey", () => {
  it("parses canonical keys", () => {
    expect(parseChunkKey(v3, "c/1/23/0", 3)).toEqual([1, 23, 0]);
    expect(parseChunkKey(v3dot, "c.4", 1)).toEqual([4]);
    expect(parseChunkKey(v3, "c", 0)).toEqual([]);
    expect(parseChunkKey(v2, "1.2", 2)).toEqual([1, 2]);
    expect(parseChunkKey(v2slash, "1/2", 2)).toEqual([1, 2]);
    expect(parseChunkKey(v2, "0", 0)).toEqual([]);
    expect(parseChunkKey(v2, "0", 1)).toEqual([0]);
    expect(parseChunkKey(v2, String(Number.MAX_SAFE_INTEGER), 1)).toEqual([Number.MAX_SAFE_INTEGER]);
  });

  it("rejects every non-canonical spelling", () => {
    const bad: [KeyEncoding, string, number][] = [
      [v2, "01.2", 2],
      [v2, "1..2", 2],
      [v2, "1.2.", 2],
      [v2, ".1.2", 2],
      [v2, "c/1", 1],
      [v2, "-1", 1],
      [v2, "+1", 1],
      [v2, "1e3", 1],
      [v2, "1.0", 1],
      [v2, " 1", 1],
      [v2, "0x1", 1],
      [v2, "١", 1], // Arabic-Indic digit one
      [v2, "1.2", 3],
      [v2, "1.2.3", 2],
      [v2, "1/2", 2],
      [v2, "", 1],
      [v2, "", 0],
      [v2, "c", 0],
      [v2, "9007199254740992", 1],
      [v2, "12345678901234567", 1],
      [v3, "c/1", 2],
      [v3, "c/01/2", 2],
      [v3, "1/2", 2],
      [v3, "c.1.2", 2],
      [v3, "c/", 1],
      [v3, "c//1", 2],
      [v3, "C/1", 1],
      [v3, "c/1", 0],
      [v3, "0", 0],
      [v3dot, "c/1", 1],
    ];
    for (const [enc, key, ndim] of bad) {
      expect(parseChunkKey(enc, key, ndim), `${enc.kind}${enc.separator} ${key} ndim ${ndim}`).toBeNull();
    }
  });

  it("agrees with the spelling rule written as a pattern, on keys made to be near it", () => {
    // the rule as the specs' canonical form: "c" + sep (v3 default), then ndim indices joined by sep
    const reference = (enc: KeyEncoding, key: string, ndim: number): number[] | null => {
      const idx = "(0|[1-9][0-9]{0,15})";
      const s = enc.separator === "." ? "\\." : "/";
      const body = ndim === 0 ? (enc.kind === "default" ? "" : "0") : Array(ndim).fill(idx).join(s);
      const m = new RegExp(`^${enc.kind === "default" ? (ndim === 0 ? "c" : `c${s}`) : ""}${body}$`).exec(key);
      if (!m) return null;
      const out = m.slice(1).map(Number);
      return out.some((n) => n > Number.MAX_SAFE_INTEGER) ? null : out;
    };
    const pieces = ["0", "1", "9", "10", "007", "c", ".", "/", "", "x", "99", "9007199254740991", "9007199254740992", "1234567890123456", "12345678901234567", "٣"];
    let seed = 7;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return pieces[Math.floor(seed / 65_536) % pieces.length] as string;
    };
    let checked = 0;
    for (let k = 0; k < 20_000; k++) {
      const key = Array.from({ length: 1 + (k % 6) }, pick).join("");
      for (const enc of [v3, v3dot, v2, v2slash]) {
        for (let ndim = 0; ndim <= 3; ndim++) {
          expect(parseChunkKey(enc, key, ndim), `${enc.kind}${enc.separator} ${key} ndim ${ndim}`).toEqual(reference(enc, key, ndim));
          checked++;
        }
      }
    }
    expect(checked).toBe(320_000);
  });

  it("round-trips byte-exactly in both directions", () => {
    const indices = [[], [0], [5], [0, 0], [10, 200, 3000], [Number.MAX_SAFE_INTEGER, 0, 1, 2]];
    for (const enc of [v3, v3dot, v2, v2slash]) {
      for (const index of indices) {
        const key = formatChunkKey(enc, index);
        expect(parseChunkKey(enc, key, index.length)).toEqual(index);
        expect(formatChunkKey(enc, parseChunkKey(enc, key, index.length) as number[])).toBe(key);
      }
    }
  });
});
