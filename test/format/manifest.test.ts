import { describe, expect, it } from "vitest";
import { CorruptObjectError, InvalidManifestEntryError, UnsupportedFormatError } from "../../src/errors.js";
import { type ChunkId, sha256 } from "../../src/format/hash.js";
import {
  ChunkList,
  type FileListEntry,
  type ManifestEntry,
  compareIndex,
  decodeFileList,
  decodeShard,
  diffShards,
  encodeFileList,
  encodeShard,
  patchShard,
  regionName,
  regionShape,
  splitIntoShards,
} from "../../src/format/manifest.js";
import { encodeVarint } from "../../src/format/varint.js";

const id = (s: string): ChunkId => sha256(new TextEncoder().encode(s));
const entry = (index: number[], size = 100): ManifestEntry => ({ index, id: id(index.join(",")), size });

/** The problem text of the CorruptObjectError that fn throws. */
function corrupt(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptObjectError);
    expect((err as CorruptObjectError).id).toBe("obj");
    return (err as Error).message;
  }
  throw new Error("expected a CorruptObjectError");
}

function bytesOf(...parts: (number | number[] | Uint8Array)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => (typeof p === "number" ? [p] : Array.from(p))));
}

const HEADER_SHARD = [0x54, 0x44, 0x56, 1, 1];
const HEADER_FILES = [0x54, 0x44, 0x56, 1, 2];

describe("regions", () => {
  it("has a fixed shape per ndim", () => {
    expect(regionShape(0)).toEqual([]);
    expect(regionShape(1)).toEqual([4096]);
    expect(regionShape(2)).toEqual([64, 64]);
    expect(regionShape(3)).toEqual([16, 16, 16]);
    expect(regionShape(4)).toEqual([8, 8, 8, 8]);
    expect(regionShape(5)).toEqual([5, 5, 5, 5, 5]);
    expect(regionShape(6)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(regionShape(12)).toEqual(new Array(12).fill(2));
    expect(regionShape(13)).toEqual(new Array(13).fill(1));
  });

  it("names the region that holds a chunk, for 0 to 5 dimensions", () => {
    expect(regionName([], 0)).toBe("0");
    expect(regionName([0], 1)).toBe("0");
    expect(regionName([4095], 1)).toBe("0");
    expect(regionName([4096], 1)).toBe("1");
    expect(regionName([63, 64], 2)).toBe("0.1");
    expect(regionName([130, 5], 2)).toBe("2.0");
    expect(regionName([15, 16, 33], 3)).toBe("0.1.2");
    expect(regionName([7, 8, 0, 800], 4)).toBe("0.1.0.100");
    expect(regionName([4, 5, 10, 0, 24], 5)).toBe("0.1.2.0.4");
    expect(regionName([Number.MAX_SAFE_INTEGER], 1)).toBe(String(Math.floor(Number.MAX_SAFE_INTEGER / 4096)));
    expect(() => regionName([1, 2], 3)).toThrow(/expected 3/);
  });

  it("compares indices lexicographically", () => {
    expect(compareIndex([1, 2], [1, 3])).toBeLessThan(0);
    expect(compareIndex([2, 0], [1, 9])).toBeGreaterThan(0);
    expect(compareIndex([1, 2], [1, 2])).toBe(0);
    expect(compareIndex([], [])).toBe(0);
    expect(compareIndex([1], [1, 0])).toBeLessThan(0);
  });

  it("splits entries into sorted shards, ordered by region name", () => {
    const entries = [entry([70, 1]), entry([0, 0]), entry([3, 64]), entry([63, 63]), entry([640, 0]), entry([0, 1])];
    const shards = splitIntoShards(2, entries);
    expect([...shards.keys()]).toEqual(["0.0", "0.1", "1.0", "10.0"]);
    expect(shards.get("0.0")?.map((e) => e.index)).toEqual([[0, 0], [0, 1], [63, 63]]);
    expect(shards.get("0.1")?.map((e) => e.index)).toEqual([[3, 64]]);
    expect(splitIntoShards(2, []).size).toBe(0);
    expect(() => splitIntoShards(2, [entry([1, 1]), entry([1, 1])])).toThrow(/duplicate chunk index \[1,1\]/);
    expect(() => splitIntoShards(2, [entry([1])])).toThrow(Error);
  });

  it("keeps existing shards when the array grows", () => {
    const before = splitIntoShards(1, [entry([0]), entry([4095])]);
    const after = splitIntoShards(1, [entry([0]), entry([4095]), entry([4096])]);
    expect(after.get("0")).toEqual(before.get("0"));
    expect(encodeShard(1, after.get("0") ?? [])).toEqual(encodeShard(1, before.get("0") ?? []));
  });
});

describe("manifest shards", () => {
  it("round-trips for 0 to 4 dimensions, empty shards included", () => {
    const cases: [number, ManifestEntry[]][] = [
      [0, [entry([], 7)]],
      [1, [entry([0], 0), entry([5], 2 ** 40), entry([Number.MAX_SAFE_INTEGER], Number.MAX_SAFE_INTEGER)]],
      [2, [entry([0, 1]), entry([0, 2]), entry([1, 0])]],
      [3, []],
      [4, [entry([1, 2, 3, 4])]],
    ];
    for (const [ndim, entries] of cases) {
      const bytes = encodeShard(ndim, entries);
      expect(decodeShard(bytes, "obj")).toEqual({ ndim, entries });
    }
  });

  it("has the documented layout and is deterministic", () => {
    const e = entry([1, 300], 5);
    const bytes = encodeShard(2, [e]);
    expect(bytes).toEqual(bytesOf(HEADER_SHARD, 2, 1, 1, [0xac, 0x02], Buffer.from(e.id, "hex"), 5));
    expect(encodeShard(2, [{ ...e, index: [1, 300] }])).toEqual(bytes);
  });

  it("refuses unsorted, duplicate or malformed entries when encoding", () => {
    expect(() => encodeShard(1, [entry([2]), entry([1])])).toThrow(/sorted and unique/);
    expect(() => encodeShard(1, [entry([1]), entry([1])])).toThrow(/sorted and unique/);
    expect(() => encodeShard(2, [entry([1])])).toThrow(/expected 2/);
    expect(() => encodeShard(1, [{ index: [0], id: "abc" as ChunkId, size: 1 }])).toThrow(/not a chunk id/);
    expect(() => encodeShard(1, [{ index: [-1], id: id("x"), size: 1 }])).toThrow(/varint must be an integer/);
    expect(() => encodeShard(1, [{ index: [0], id: id("x"), size: 1.5 }])).toThrow(/varint must be an integer/);
    // every refusal is a tdv error (tag, hint), never a plain Error
    for (const bad of [[entry([1]), entry([1])], [entry([1, 2])], [{ index: [0], id: "abc" as ChunkId, size: 1 }], [{ index: [0], id: id("x"), size: -1 }]]) {
      expect(() => encodeShard(1, bad)).toThrow(InvalidManifestEntryError);
    }
    expect(() => splitIntoShards(1, [entry([1]), entry([1])])).toThrow(InvalidManifestEntryError);
    expect(() => regionName([1, 2], 1)).toThrow(InvalidManifestEntryError);
  });

  it("rejects truncated, oversized and garbage shards as corrupt", () => {
    const good = encodeShard(2, [entry([0, 0]), entry([0, 1]), entry([3, 3])]);
    for (let n = 0; n < good.length; n++) {
      expect(() => decodeShard(good.subarray(0, n), "obj"), `truncated to ${n}`).toThrow(CorruptObjectError);
    }
    expect(corrupt(() => decodeShard(bytesOf(good, 0), "obj"))).toMatch(/1 trailing bytes/);
    expect(corrupt(() => decodeShard(bytesOf(HEADER_SHARD, 1, 2, 0, new Array(33).fill(0)), "obj"))).toMatch(
      /claims 2 entries but only 34 bytes follow/,
    );
    const huge: number[] = [];
    encodeVarint(Number.MAX_SAFE_INTEGER, huge);
    expect(corrupt(() => decodeShard(bytesOf(HEADER_SHARD, 1, huge), "obj"))).toMatch(/claims 9007199254740991 entries/);
    expect(corrupt(() => decodeShard(bytesOf(HEADER_SHARD, 1, 0, 5), "obj"))).toMatch(/trailing/);
    expect(corrupt(() => decodeShard(new TextEncoder().encode("hello, world"), "obj"))).toMatch(/bad magic/);
    expect(corrupt(() => decodeShard(encodeFileList([]), "obj"))).toMatch(/expected file type 1/);
    expect(() => decodeShard(bytesOf(0x54, 0x44, 0x56, 2, 1), "obj")).toThrow(UnsupportedFormatError);
  });

  it("rejects unsorted, duplicate and non-canonical encodings", () => {
    const a = entry([1]);
    const b = entry([2]);
    const raw = (e: ManifestEntry) => encodeShard(1, [e]).subarray(HEADER_SHARD.length + 2); // after ndim, count
    expect(corrupt(() => decodeShard(bytesOf(HEADER_SHARD, 1, 2, raw(b), raw(a)), "obj"))).toMatch(
      /out of order or duplicated: \[2\] then \[1\]/,
    );
    expect(corrupt(() => decodeShard(bytesOf(HEADER_SHARD, 1, 2, raw(a), raw(a)), "obj"))).toMatch(
      /out of order or duplicated/,
    );
    expect(decodeShard(bytesOf(HEADER_SHARD, 1, 2, raw(a), raw(b)), "obj").entries).toEqual([a, b]);
    const overlong = bytesOf(HEADER_SHARD, 1, 1, [0x81, 0x00], Buffer.from(a.id, "hex"), 1);
    expect(corrupt(() => decodeShard(overlong, "obj"))).toMatch(/non-minimal varint/);
  });
});

describe("shard patch", () => {
  it("equals encoding the merged entries, for random edits in 1 to 3 dimensions, from nothing to nothing", () => {
    let seed = 23;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const seen = { copied: 0, set: 0, removed: 0, emptied: 0, fromNone: 0 };
    for (let round = 0; round < 120; round++) {
      const ndim = 1 + (round % 3);
      const old = new Map<string, ManifestEntry>();
      const n = round % 10 === 0 ? 0 : rnd(300);
      for (let k = 0; k < n; k++) {
        const index = Array.from({ length: ndim }, () => rnd(1000)); // varints of one and two bytes
        old.set(index.join(","), entry(index, rnd(4) === 0 ? 200 + rnd(100_000) : 10 + rnd(3)));
      }
      const before = [...old.values()].sort((x, y) => compareIndex(x.index, y.index));
      // edits: entries set anew or removed, existing or not; sometimes every entry removed
      const edits = new Map<string, { index: number[]; entry: ManifestEntry | null }>();
      const removeAll = round % 7 === 3;
      for (const e of removeAll ? before : before.filter(() => rnd(6) === 0)) edits.set(e.index.join(","), { index: e.index, entry: removeAll || rnd(2) ? null : entry(e.index, 500 + rnd(9)) });
      for (let k = rnd(20); k > 0; k--) {
        const index = Array.from({ length: ndim }, () => rnd(1000));
        edits.set(index.join(","), { index, entry: rnd(3) ? { index, id: id(`new ${index}`), size: rnd(70_000) } : null });
      }
      const merged = new Map(old);
      for (const [k, e] of edits) {
        if (e.entry) merged.set(k, e.entry);
        else merged.delete(k);
      }
      const want = [...merged.values()].sort((x, y) => compareIndex(x.index, y.index));
      const sorted = [...edits.values()].sort((x, y) => compareIndex(x.index, y.index));
      const got = patchShard(ndim, before.length ? encodeShard(ndim, before) : null, sorted, "obj");
      if (want.length === 0) expect(got).toBeNull();
      else expect(Buffer.from(got as Uint8Array).equals(Buffer.from(encodeShard(ndim, want)))).toBe(true);
      seen.copied += want.filter((e) => old.get(e.index.join(",")) === e).length;
      seen.set += sorted.filter((e) => e.entry).length;
      seen.removed += sorted.filter((e) => !e.entry && old.has(e.index.join(","))).length;
      if (want.length === 0 && before.length) seen.emptied++;
      if (!before.length && want.length) seen.fromNone++;
    }
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
  });

  it("checks the old shard as decodeShard does, and the edits", () => {
    const a = encodeShard(2, [entry([0, 1]), entry([0, 3])]);
    // entries out of order in the stored shard: refused, not copied
    const swapped = bytesOf(HEADER_SHARD, [2], [2], [0, 3], Buffer.from(id("0,3"), "hex"), [100], [0, 1], Buffer.from(id("0,1"), "hex"), [100]);
    expect(corrupt(() => patchShard(2, swapped, [], "obj"))).toMatch(/out of order/);
    expect(corrupt(() => patchShard(3, a, [], "obj"))).toMatch(/2 dimensions where its array has 3/);
    expect(() => patchShard(2, a, [{ index: [0, 2], entry: entry([0, 5]) }], "obj")).toThrow(InvalidManifestEntryError);
    expect(() => patchShard(2, a, [{ index: [0, 9], entry: entry([0, 9]) }, { index: [0, 2], entry: entry([0, 2]) }], "obj")).toThrow(/sorted and unique/);
    expect(() => patchShard(2, a, [{ index: [0, 3], entry: null }, { index: [0, 3], entry: entry([0, 3]) }], "obj")).toThrow(/sorted and unique/);
    expect(() => patchShard(2, a, [{ index: [0, 9], entry: null }, { index: [0, 1], entry: null }], "obj")).toThrow(/sorted and unique/);
  });
});

describe("shard diff", () => {
  /** The diff by decoding both shards whole and joining them: what diffShards must equal. */
  function joined(a: ManifestEntry[], b: ManifestEntry[]) {
    const key = (e: ManifestEntry) => e.index.join(",");
    const inB = new Map(b.map((e) => [key(e), e]));
    const inA = new Map(a.map((e) => [key(e), e]));
    return {
      added: b.filter((e) => !inA.has(key(e))),
      removed: a.filter((e) => !inB.has(key(e))),
      modified: a.flatMap((e): [ManifestEntry, ManifestEntry][] => {
        const o = inB.get(key(e));
        return o && (o.id !== e.id || o.size !== e.size) ? [[e, o]] : [];
      }),
    };
  }

  it("equals a whole decode and join, for random edits in 1 to 3 dimensions", () => {
    let seed = 7;
    const seen = { added: 0, removed: 0, modified: 0, sizeOnly: 0 };
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    for (let round = 0; round < 60; round++) {
      const ndim = 1 + (round % 3);
      const all = new Map<string, ManifestEntry>();
      for (let k = 0; k < 200; k++) {
        const index = Array.from({ length: ndim }, () => rnd(8));
        all.set(index.join(","), entry(index, 10 + rnd(3)));
      }
      const a = [...all.values()].sort((x, y) => compareIndex(x.index, y.index));
      // b: some removed, some with other bytes, some with another size only, some new
      const b = a
        .filter(() => rnd(10) !== 0)
        .map((e) => (rnd(8) === 0 ? { ...e, id: id(`edit${round}:${e.index}`) } : rnd(20) === 0 ? { ...e, size: e.size + 1 } : e));
      for (let k = 0; k < 20; k++) {
        const index = Array.from({ length: ndim }, () => 8 + rnd(4));
        if (!b.some((e) => compareIndex(e.index, index) === 0)) b.push(entry(index));
      }
      b.sort((x, y) => compareIndex(x.index, y.index));
      const got = diffShards(encodeShard(ndim, a), encodeShard(ndim, b), "a", "b");
      expect(got).toEqual(joined(a, b));
      seen.added += got.added.length;
      seen.removed += got.removed.length;
      seen.modified += got.modified.length;
      seen.sizeOnly += got.modified.filter(([x, y]) => x.id === y.id).length;
    }
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(20);
  });

  it("takes a missing side as empty, and finds nothing between equal shards", () => {
    const a = [entry([0, 1]), entry([2, 0])];
    const bytes = encodeShard(2, a);
    expect(diffShards(null, bytes, "a", "b")).toEqual({ added: a, removed: [], modified: [] });
    expect(diffShards(bytes, null, "a", "b")).toEqual({ added: [], removed: a, modified: [] });
    expect(diffShards(bytes, encodeShard(2, a), "a", "b")).toEqual({ added: [], removed: [], modified: [] });
  });

  it("refuses a corrupt shard on either side, even where the other side is equal", () => {
    const good = encodeShard(1, [entry([1]), entry([2]), entry([3])]);
    const raw = (e: ManifestEntry) => encodeShard(1, [e]).subarray(HEADER_SHARD.length + 2);
    const unsorted = bytesOf(HEADER_SHARD, 1, 3, raw(entry([1])), raw(entry([3])), raw(entry([2])));
    const twice = bytesOf(HEADER_SHARD, 1, 3, raw(entry([1])), raw(entry([2])), raw(entry([2])));
    for (const bad of [unsorted, twice, bytesOf(good, 0), good.subarray(0, good.length - 1)]) {
      expect(corrupt(() => diffShards(good, bad, "x", "obj"))).toBeTruthy();
      expect(corrupt(() => diffShards(bad, good, "obj", "x"))).toBeTruthy();
      expect(corrupt(() => diffShards(bad, null, "obj", "x"))).toBeTruthy();
    }
    expect(corrupt(() => diffShards(good, unsorted, "x", "obj"))).toMatch(/out of order or duplicated: \[3\] then \[2\]/);
  });
});

describe("file lists", () => {
  const files: FileListEntry[] = [
    { name: "README.md", id: id("readme"), size: 1234 },
    { name: "a b.txt", id: id("ab"), size: 0 },
    { name: "\ufeffbom", id: id("bom"), size: 1 },
    { name: "émoji-😀.nc", id: id("e"), size: 2 ** 45 },
    { name: "\uffff", id: id("ff"), size: 3 },
    { name: "Zeta", id: id("z"), size: 9 },
  ];

  it("round-trips, sorted by UTF-8 bytes whatever the input order", () => {
    const bytes = encodeFileList(files);
    const names = decodeFileList(bytes, "obj").map((f) => f.name);
    // UTF-8 byte order puts U+FFFF (EF BF BF) before U+1F600 (F0 ...), unlike UTF-16 order
    expect(names).toEqual(["README.md", "Zeta", "a b.txt", "émoji-😀.nc", "\ufeffbom", "\uffff"]);
    expect(decodeFileList(bytes, "obj")).toEqual(expect.arrayContaining(files));
    expect(encodeFileList([...files].reverse())).toEqual(bytes);
    expect(decodeFileList(encodeFileList([]), "obj")).toEqual([]);
  });

  it("has the documented layout", () => {
    const f = { name: "é", id: id("x"), size: 128 };
    expect(encodeFileList([f])).toEqual(bytesOf(HEADER_FILES, 1, 2, [0xc3, 0xa9], Buffer.from(f.id, "hex"), [0x80, 1]));
  });

  it("refuses duplicate and unsafe names when encoding", () => {
    const f = files[0] as FileListEntry;
    expect(() => encodeFileList([f, { ...f, size: 1 }])).toThrow(/duplicate file name "README.md"/);
    for (const name of ["", ".", "..", "a/b", "a\0b"]) {
      expect(() => encodeFileList([{ ...f, name }]), name).toThrow(InvalidManifestEntryError);
    }
    expect(() => encodeFileList([{ ...f, name: "bad\ud800" }])).toThrow(/not valid Unicode/);
    expect(() => encodeFileList([{ ...f, size: 2.5 }])).toThrow(InvalidManifestEntryError);
  });

  it("rejects corrupt file lists", () => {
    const good = encodeFileList(files);
    for (let n = 0; n < good.length; n += 7) {
      expect(() => decodeFileList(good.subarray(0, n), "obj")).toThrow(CorruptObjectError);
    }
    const one = (name: number[]) => bytesOf(HEADER_FILES, 1, name.length, name, new Array(32).fill(0), 1);
    expect(corrupt(() => decodeFileList(one([0x2e, 0x2e]), "obj"))).toMatch(/file name ".." is not a file name/);
    expect(corrupt(() => decodeFileList(one([0x61, 0x2f, 0x62]), "obj"))).toMatch(/must not contain/);
    expect(corrupt(() => decodeFileList(one([0xff]), "obj"))).toMatch(/not valid UTF-8/);
    expect(corrupt(() => decodeFileList(bytesOf(one([0x61]), 0), "obj"))).toMatch(/trailing/);
    expect(corrupt(() => decodeFileList(bytesOf(HEADER_FILES, 2, one([0x61]).subarray(6)), "obj"))).toMatch(/claims 2/);
    const entry = (c: number) => one([c]).subarray(6);
    expect(corrupt(() => decodeFileList(bytesOf(HEADER_FILES, 2, entry(0x62), entry(0x61)), "obj"))).toMatch(
      /out of order or duplicated at entry 1/,
    );
    expect(corrupt(() => decodeFileList(bytesOf(HEADER_FILES, 2, entry(0x61), entry(0x61)), "obj"))).toMatch(
      /out of order or duplicated/,
    );
    expect(corrupt(() => decodeFileList(encodeShard(0, []), "obj"))).toMatch(/expected file type 2/);
  });

  it("a ChunkList groups and sorts as splitIntoShards does, through any entries, and refuses what it refuses", () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const ndim of [0, 1, 2, 3]) {
      for (let round = 0; round < 8; round++) {
        const seen = new Set<string>();
        const entries: ManifestEntry[] = [];
        const n = rand(300);
        for (let i = 0; i < n; i++) {
          // large and small coordinates, some past 2^32, none twice
          const index = Array.from({ length: ndim }, () => (rand(5) === 0 ? 2 ** 40 + rand(100) : rand(200)));
          if (seen.has(index.join(","))) continue;
          seen.add(index.join(","));
          entries.push({ index, id: id(`${ndim}:${round}:${i}`), size: rand(1 << 20) });
        }
        const list = new ChunkList(ndim);
        for (const e of entries) list.push(e.index, e.id, e.size);
        expect(list.length).toBe(entries.length);
        const want = [...splitIntoShards(ndim, entries)];
        const got = list.shards().map(([name, at]) => [name, list.shardEntries(at)]);
        expect(got).toEqual(want);
        for (const [name, shard] of got as [string, ManifestEntry[]][]) expect(encodeShard(ndim, shard)).toEqual(encodeShard(ndim, want.find(([w]) => w === name)![1]));
        // written from the list's arrays: the same bytes as the entries encoded, positions in any order
        for (const [name, at] of list.shards()) {
          const wanted = encodeShard(ndim, want.find(([w]) => w === name)![1]);
          expect(Buffer.from(list.encodeShard(at)).equals(Buffer.from(wanted)), `${ndim} ${name}`).toBe(true);
          expect(Buffer.from(list.encodeShard([...at].reverse())).equals(Buffer.from(wanted))).toBe(true);
        }
      }
    }
    const twice = new ChunkList(2);
    twice.push([1, 2], id("a"), 1);
    twice.push([1, 2], id("b"), 2);
    const [[, at]] = twice.shards() as [[string, number[]]];
    expect(() => twice.shardEntries(at)).toThrow(InvalidManifestEntryError);
    expect(() => twice.encodeShard(at)).toThrow(/duplicate chunk index \[1,2\]/);
    const negative = new ChunkList(1);
    negative.push([-1], id("d"), 1);
    expect(() => negative.encodeShard([0])).toThrow(/varint must be an integer/);
    expect(() => splitIntoShards(2, [entry([1, 2]), entry([1, 2])])).toThrow(InvalidManifestEntryError);
    expect(() => twice.push([1], id("c"), 1)).toThrow(/dimensions/);
    expect(() => twice.push([3, 4], "xyz" as ChunkId, 1)).toThrow(/not a chunk id/);
  });
});
