/**
 * Manifests on random input: random chunk grids (0 to 4 dimensions), indices,
 * chunk ids and sizes, given in any order as the API takes them. Splitting
 * into shards, encoding and decoding gives the same entries back, each in the
 * shard its region names; the encoding is canonical (re-encoding what decodes
 * gives the same bytes). Random corruptions (truncation, flipped bytes,
 * inserted or removed bytes) are refused with the project's errors, or, when
 * the damaged bytes still read, they are exactly what the encoder writes for
 * what they read as: nothing else ever comes out.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTdvError } from "../../src/errors.js";
import type { ChunkId } from "../../src/format/hash.js";
import {
  compareIndex,
  decodeFileList,
  decodeShard,
  diffShards,
  encodeFileList,
  encodeShard,
  type FileListEntry,
  type ManifestEntry,
  regionName,
  regionShape,
  splitIntoShards,
} from "../../src/format/manifest.js";

const RUNS = { numRuns: 40 };

const chunkId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex") as ChunkId);
const size = fc.oneof(fc.nat({ max: 5000 }), fc.maxSafeNat());
/** An index in a grid of `ndim` dimensions: small, near a region edge, or huge. */
const coord = fc.oneof({ arbitrary: fc.nat({ max: 40 }), weight: 4 }, { arbitrary: fc.integer({ min: 4090, max: 4100 }), weight: 1 }, { arbitrary: fc.maxSafeNat(), weight: 1 });

/** A manifest: ndim, then unique indices with ids and sizes, in random order. */
const manifest = fc.nat({ max: 4 }).chain((ndim) =>
  fc
    .uniqueArray(fc.record({ index: fc.array(coord, { minLength: ndim, maxLength: ndim }), id: chunkId, size }), {
      selector: (e) => e.index.join(","),
      maxLength: ndim === 0 ? 1 : 40,
    })
    .map((entries) => ({ ndim, entries: entries as ManifestEntry[] })),
);

const key = (index: readonly number[]) => index.join(",");

/** Decoding either gives entries that re-encode to exactly these bytes, or throws a tdv error saying the object is corrupt or newer. */
function decodesCanonicallyOrRefuses(bytes: Uint8Array): void {
  let decoded: ReturnType<typeof decodeShard>;
  try {
    decoded = decodeShard(bytes, "obj");
  } catch (err) {
    expect(isTdvError(err, "CorruptObjectError") || isTdvError(err, "UnsupportedFormatError"), String(err)).toBe(true);
    return;
  }
  expect(Buffer.from(encodeShard(decoded.ndim, decoded.entries)).equals(Buffer.from(bytes))).toBe(true);
}

/** A random damage to `bytes`: truncated, a byte changed, a byte inserted or removed. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), to: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
);
function apply(bytes: Uint8Array, d: { kind: "truncate" | "flip" | "insert" | "remove"; at: number; to?: number }): Uint8Array {
  const b = Array.from(bytes);
  const at = d.at % (b.length + (d.kind === "insert" ? 1 : 0));
  if (d.kind === "truncate") return Uint8Array.from(b.slice(0, at));
  if (d.kind === "flip") b[at] = (b[at]! ^ d.to!) & 0xff;
  else if (d.kind === "insert") b.splice(at, 0, d.to!);
  else b.splice(at, 1);
  return Uint8Array.from(b);
}

/** The shard format as its comment in manifest.ts documents it, written here independently: header | ndim | count | entries. */
function modelShard(ndim: number, entries: readonly ManifestEntry[]): Uint8Array {
  const out: number[] = [0x54, 0x44, 0x56, 1, 1]; // "TDV", format version 1, file type 1 (manifest shard)
  const varint = (n: number) => {
    for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
    out.push(n);
  };
  varint(ndim);
  varint(entries.length);
  for (const e of entries) {
    for (const i of e.index) varint(i);
    out.push(...Buffer.from(e.id, "hex"));
    varint(e.size);
  }
  return Uint8Array.from(out);
}

describe("manifest shards (property)", () => {
  it("the bytes are the documented format; a list out of order or with a repeated index is refused when read", () => {
    fc.assert(
      fc.property(manifest, fc.nat(), fc.boolean(), ({ ndim, entries }, at, repeat) => {
        const sorted = [...entries].sort((a, b) => compareIndex(a.index, b.index));
        expect(Buffer.from(encodeShard(ndim, sorted)).equals(Buffer.from(modelShard(ndim, sorted)))).toBe(true);
        if (sorted.length === 0 || (sorted.length < 2 && !repeat)) return;
        const bad = [...sorted];
        const i = at % bad.length;
        if (repeat) bad.splice(i, 0, { ...bad[i]!, size: 3 }); // the same index twice
        else bad.reverse();
        let err: unknown = null;
        try {
          decodeShard(modelShard(ndim, bad), "obj");
        } catch (e) {
          err = e;
        }
        expect(isTdvError(err, "CorruptObjectError"), String(err)).toBe(true);
      }),
      RUNS,
    );
  });

  it("split, encode, decode: the same entries, sorted, each in the shard its region names", () => {
    fc.assert(
      fc.property(manifest, ({ ndim, entries }) => {
        const shards = splitIntoShards(ndim, entries);
        const seen = new Map<string, ManifestEntry>();
        const names = [...shards.keys()];
        expect(names).toEqual([...names].sort());
        for (const [name, list] of shards) {
          const bytes = encodeShard(ndim, list);
          const back = decodeShard(bytes, "shard");
          expect(back.ndim).toBe(ndim);
          expect(back.entries).toEqual(list);
          for (let i = 1; i < back.entries.length; i++) expect(compareIndex(back.entries[i - 1]!.index, back.entries[i]!.index)).toBeLessThan(0);
          const extent = regionShape(ndim);
          for (const e of back.entries) {
            expect(regionName(e.index, ndim)).toBe(name);
            expect(name).toBe(ndim === 0 ? "0" : e.index.map((n, d) => Math.floor(n / extent[d]!)).join("."));
            seen.set(key(e.index), e);
          }
          // canonical: the same entries give the same bytes
          expect(Buffer.from(encodeShard(ndim, back.entries)).equals(Buffer.from(bytes))).toBe(true);
        }
        expect(seen.size).toBe(entries.length);
        for (const e of entries) expect(seen.get(key(e.index))).toEqual(e);
      }),
      RUNS,
    );
  });

  it("refuses unsorted or duplicated entries when encoding, and duplicates when splitting", () => {
    fc.assert(
      fc.property(
        manifest.filter((m) => m.entries.length >= 2),
        fc.nat(),
        ({ ndim, entries }, at) => {
          const sorted = [...entries].sort((a, b) => compareIndex(a.index, b.index));
          const i = 1 + (at % (sorted.length - 1));
          const swapped = [...sorted];
          [swapped[i - 1], swapped[i]] = [swapped[i]!, swapped[i - 1]!];
          expect(() => encodeShard(ndim, swapped)).toThrow(/sorted and unique/);
          const dup = [...sorted];
          dup.splice(i, 0, { ...sorted[i]!, size: sorted[i]!.size === 0 ? 1 : 0 });
          expect(() => encodeShard(ndim, dup)).toThrow(/sorted and unique/);
          expect(() => splitIntoShards(ndim, [...entries, { ...entries[at % entries.length]! }])).toThrow(/duplicate chunk index/);
        },
      ),
      RUNS,
    );
  });

  it("diffShards finds what a map of index -> (id, size) says changed", () => {
    const edits = fc.array(fc.record({ op: fc.constantFrom("drop", "resize", "rehash", "add"), at: fc.nat(), id: chunkId, index: fc.array(coord, { minLength: 2, maxLength: 2 }) }), { maxLength: 12 });
    fc.assert(
      fc.property(
        manifest.filter((m) => m.ndim === 2),
        edits,
        ({ entries }, ops) => {
          const before = new Map(entries.map((e) => [key(e.index), e]));
          const after = new Map(before);
          for (const op of ops) {
            const keys = [...after.keys()];
            const k = keys[op.at % Math.max(1, keys.length)];
            const e = k === undefined ? undefined : after.get(k);
            if (op.op === "add") after.set(key(op.index), { index: op.index, id: op.id, size: 7 });
            else if (!e || k === undefined) continue;
            else if (op.op === "drop") after.delete(k);
            else if (op.op === "resize") after.set(k, { ...e, size: e.size === 0 ? 1 : e.size - 1 });
            else after.set(k, { ...e, id: op.id });
          }
          const sorted = (m: Map<string, ManifestEntry>) => [...m.values()].sort((a, b) => compareIndex(a.index, b.index));
          const a = before.size ? encodeShard(2, sorted(before)) : null;
          const b = after.size ? encodeShard(2, sorted(after)) : null;
          const d = diffShards(a, b, "a", "b");
          expect(d.removed).toEqual(sorted(before).filter((e) => !after.has(key(e.index))));
          expect(d.added).toEqual(sorted(after).filter((e) => !before.has(key(e.index))));
          const changed = sorted(before).filter((e) => {
            const x = after.get(key(e.index));
            return x !== undefined && (x.id !== e.id || x.size !== e.size);
          });
          expect(d.modified).toEqual(changed.map((e) => [e, after.get(key(e.index))]));
        },
      ),
      RUNS,
    );
  });

  it("a damaged shard is refused with CorruptObjectError (or UnsupportedFormatError), or reads as exactly what it encodes", () => {
    fc.assert(
      fc.property(manifest, fc.array(damage, { minLength: 1, maxLength: 3 }), ({ ndim, entries }, damages) => {
        const list = [...entries].sort((a, b) => compareIndex(a.index, b.index));
        let bytes = encodeShard(ndim, list);
        for (const d of damages) bytes = apply(bytes, d);
        decodesCanonicallyOrRefuses(bytes);
        // the diff reads with the same checks
        try {
          diffShards(encodeShard(ndim, list), bytes, "a", "obj");
        } catch (err) {
          expect(isTdvError(err, "CorruptObjectError") || isTdvError(err, "UnsupportedFormatError"), String(err)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("random bytes after a valid header are refused or canonical", () => {
    const header = [0x54, 0x44, 0x56, 1, 1];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (tail) => decodesCanonicallyOrRefuses(Uint8Array.from([...header, ...tail]))),
      { numRuns: 100 },
    );
  });
});

describe("file lists (property)", () => {
  const name = fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter((n) => n !== "." && n !== ".." && !n.includes("/") && !n.includes("\0") && Buffer.from(n, "utf8").toString("utf8") === n); // no lone surrogate
  const fileList = fc.uniqueArray(fc.record({ name, id: chunkId, size }), { selector: (e) => e.name, maxLength: 20 });

  it("encode then decode: the same entries, sorted by the UTF-8 bytes of their names", () => {
    fc.assert(
      fc.property(fileList, (entries: FileListEntry[]) => {
        const bytes = encodeFileList(entries);
        const back = decodeFileList(bytes, "list");
        const utf8 = (s: string) => Buffer.from(s, "utf8");
        expect(back).toEqual([...entries].sort((a, b) => Buffer.compare(utf8(a.name), utf8(b.name))));
        expect(Buffer.from(encodeFileList(back)).equals(Buffer.from(bytes))).toBe(true);
      }),
      RUNS,
    );
  });

  it("a damaged file list is refused with CorruptObjectError (or UnsupportedFormatError), or reads as exactly what it encodes", () => {
    fc.assert(
      fc.property(fileList, fc.array(damage, { minLength: 1, maxLength: 3 }), (entries, damages) => {
        let bytes = encodeFileList(entries);
        for (const d of damages) bytes = apply(bytes, d);
        let back: FileListEntry[];
        try {
          back = decodeFileList(bytes, "obj");
        } catch (err) {
          expect(isTdvError(err, "CorruptObjectError") || isTdvError(err, "UnsupportedFormatError"), String(err)).toBe(true);
          return;
        }
        expect(Buffer.from(encodeFileList(back)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
