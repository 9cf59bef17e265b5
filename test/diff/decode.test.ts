/** decodeChunk / fillChunk against zarrita reading the real fixture stores. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { describe, expect, it } from "vitest";
import { formatChunkKey } from "../../src/format/chunk-key.js";
import { gridShape } from "../../src/format/zarr-meta.js";
import { arrayMetaOf, decodeChunk, fillChunk, ndindex, type DecodedChunk } from "../../src/zarr/decode.js";
import { elementAt } from "../../src/zarr/bits.js";
import { refusal, ShuffleCodec } from "../../src/zarr/support.js";
import { shardingOf, writeShard } from "../../src/zarr/shard.js";
import { FIXTURES_DIR, listFiles } from "../helpers/fixture.js";

interface FixtureArray {
  store: string;
  dir: string;
  metaName: string;
}

async function fixtureArrays(): Promise<FixtureArray[]> {
  const out: FixtureArray[] = [];
  for (const store of ["v2/weather.zarr", "v2/single.zarr", "v3/ocean.zarr", "v3/sharded.zarr", "v3/consolidated.zarr"]) {
    const files = await listFiles(path.join(FIXTURES_DIR, store));
    for (const [rel, bytes] of files) {
      const base = path.posix.basename(rel);
      const dir = path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel);
      if (base === ".zarray" || (base === "zarr.json" && JSON.parse(bytes.toString("utf8")).node_type === "array")) {
        out.push({ store, dir, metaName: base });
      }
    }
  }
  return out;
}

const arrays = await fixtureArrays();

/** The value of element `e` (coordinates inside the chunk) of a decoded chunk. */
function at(c: { data: DecodedChunk["data"]; stride: number[] }, e: number[]): unknown {
  return elementAt(
    c.data,
    e.reduce((acc, n, d) => acc + n * (c.stride[d] as number), 0),
  );
}

function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || a === b;
}

describe.concurrent("decodeChunk reads every fixture chunk as zarrita does", () => {
  it("finds the fixture arrays", () => {
    expect(arrays.length).toBeGreaterThanOrEqual(20);
  });

  it.each(arrays.map((a) => [`${a.store}/${a.dir}`, a] as const))("%s", async (_name, a) => {
    const root = path.join(FIXTURES_DIR, a.store, a.dir);
    const metaDoc = await fsp.readFile(path.join(root, a.metaName));
    const zattrs = await fsp.readFile(path.join(root, ".zattrs")).catch(() => null);
    const meta = arrayMetaOf(metaDoc);
    const real = await zarr.open(new FileSystemStore(root), { kind: "array" });
    let decoded = 0;
    for (const idx of ndindex(gridShape(meta))) {
      const key = formatChunkKey(meta.keyEncoding, idx);
      const bytes = await fsp.readFile(path.join(root, ...key.split("/"))).catch(() => null);
      const got = bytes ? await decodeChunk(metaDoc, zattrs, idx, bytes) : await fillChunk(metaDoc, idx);
      if (bytes) decoded++;
      expect(got.shape).toEqual(meta.chunkShape);
      expect(got.origin).toEqual(idx.map((n, d) => n * (meta.chunkShape[d] as number)));
      // zarrita over the real store: the region of the array this chunk covers
      const region = idx.map((n, d) => zarr.slice(n * (meta.chunkShape[d] as number), Math.min((n + 1) * (meta.chunkShape[d] as number), meta.shape[d] as number)));
      const want = meta.shape.length === 0 ? await real.getChunk([]) : await zarr.get(real, region);
      for (const e of ndindex(want.shape)) {
        const a1 = at(got, e);
        const b1 = at(want as DecodedChunk, e);
        if (!same(a1, b1)) expect([e, a1]).toEqual([e, b1]);
      }
      // a regular chunk is exactly what zarrita's getChunk returns on the real store, padding included
      if (!meta.innerChunkShape) {
        const chunk = await real.getChunk(idx);
        expect(got.stride).toEqual(chunk.stride);
        expect([...(got.data as Iterable<unknown>)].map(String)).toEqual([...(chunk.data as Iterable<unknown>)].map(String));
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});

describe("decode errors are typed", () => {
  const sst = path.join(FIXTURES_DIR, "v3/ocean.zarr/sst");

  it("an unknown codec is a CodecUnavailableError naming it", async () => {
    const doc = JSON.parse(await fsp.readFile(path.join(sst, "zarr.json"), "utf8"));
    doc.codecs.push({ name: "nonexistent", configuration: {} });
    const metaDoc = new TextEncoder().encode(JSON.stringify(doc));
    const bytes = await fsp.readFile(path.join(sst, "c/0/0/0"));
    const err = await decodeChunk(metaDoc, null, [0, 0, 0], bytes).catch((e: unknown) => e);
    expect(err).toMatchObject({ _tag: "CodecUnavailableError", codec: "nonexistent" });
    expect((err as Error).message).toContain("nonexistent");
    expect((err as { hint: string }).hint).toBeTruthy();
  });

  it("corrupt bytes are a ChunkDecodeError naming the chunk", async () => {
    const metaDoc = await fsp.readFile(path.join(sst, "zarr.json"));
    const bytes = new Uint8Array(await fsp.readFile(path.join(sst, "c/1/0/1")));
    bytes.fill(7, 10);
    const err = await decodeChunk(metaDoc, null, [1, 0, 1], bytes).catch((e: unknown) => e);
    expect(err).toMatchObject({ _tag: "ChunkDecodeError", chunk: [1, 0, 1] });
  });

  it("metadata with bare NaN (as zarr-python writes) decodes", async () => {
    const root = path.join(FIXTURES_DIR, "v2/weather.zarr/temperature");
    const text = (await fsp.readFile(path.join(root, ".zarray"), "utf8")).replace('"NaN"', "NaN");
    const got = await fillChunk(new TextEncoder().encode(text), [0, 0, 0]);
    expect(Number.isNaN(elementAt(got.data, 5))).toBe(true);
    const bytes = await fsp.readFile(path.join(root, "0.0.0"));
    const c = await decodeChunk(new TextEncoder().encode(text), null, [0, 0, 0], bytes);
    expect(c.shape).toEqual([4, 10, 10]);
  });
});

describe("decoding many chunks of one array at once", () => {
  it("concurrent decodes with the same metadata bytes each get their own chunk", async () => {
    const root = path.join(FIXTURES_DIR, "v3/ocean.zarr/sst");
    const metaDoc = await fsp.readFile(path.join(root, "zarr.json"));
    const meta = arrayMetaOf(metaDoc);
    const indices = [...ndindex(gridShape(meta))];
    const files = await Promise.all(indices.map((i) => fsp.readFile(path.join(root, "c", ...i.map(String)))));
    const together = await Promise.all(indices.map((i, k) => decodeChunk(metaDoc, null, i, files[k]!)));
    for (const [k, i] of indices.entries()) {
      const alone = await decodeChunk(new Uint8Array(metaDoc), null, i, files[k]!);
      expect([...(together[k]!.data as Float32Array)].map(String)).toEqual([...(alone.data as Float32Array)].map(String));
      expect(together[k]!.origin).toEqual(i.map((n, d) => n * (meta.chunkShape[d] as number)));
    }
    // a missing chunk in between reads as the fill value
    const [x, fill, y] = await Promise.all([decodeChunk(metaDoc, null, [0, 0, 0], files[0]!), fillChunk(metaDoc, [0, 0, 1]), decodeChunk(metaDoc, null, [0, 0, 1], files[1]!)]);
    expect(Number.isNaN(elementAt(fill.data, 0))).toBe(true);
    expect(String(elementAt(x.data, 100))).toBe(String(elementAt(together[0]!.data, 100)));
    expect(String(elementAt(y.data, 100))).toBe(String(elementAt(together[1]!.data, 100)));
  });
});

describe("the allow-list: arrays tdv cannot decode faithfully are refused by name", () => {
  const v3 = (dataType: string, codecs: unknown[]) =>
    new TextEncoder().encode(
      JSON.stringify({
        zarr_format: 3,
        node_type: "array",
        shape: [8],
        data_type: dataType,
        chunk_grid: { name: "regular", configuration: { chunk_shape: [8] } },
        chunk_key_encoding: { name: "default" },
        fill_value: 0,
        codecs,
      }),
    );
  const v2 = (dtype: string, filters: unknown[] | null, compressor: unknown) =>
    new TextEncoder().encode(JSON.stringify({ zarr_format: 2, shape: [8], chunks: [8], dtype, fill_value: 0, order: "C", filters, compressor }));
  const bytes = { name: "bytes", configuration: { endian: "little" } };

  it.each([
    ["v3 complex64", v3("complex64", [bytes]), { codec: "complex64", setting: null }, /data type 'complex64': complex/],
    ["v3 numpy.datetime64", v3("numpy.datetime64", [bytes]), { codec: "numpy.datetime64" }, /datetime64/],
    ["v3 numcodecs.delta astype", v3("int64", [{ name: "numcodecs.delta", configuration: { dtype: "<i8", astype: "<i4" } }, bytes]), { codec: "numcodecs.delta", setting: 'astype="<i4"' }, /astype/],
    ["v3 shard index in the middle", v3("int32", [{ name: "sharding_indexed", configuration: { chunk_shape: [4], codecs: [bytes], index_codecs: [bytes], index_location: "middle" } }]), { codec: "sharding_indexed", setting: 'index_location="middle"' }, /index_location/],
    ["v3 unknown parameter", v3("int32", [bytes, { name: "gzip", configuration: { level: 5, window: 3 } }]), { codec: "gzip", setting: "window=3" }, /does not honour 'window'/],
    ["v2 delta astype", v2("<i8", [{ id: "delta", dtype: "<i8", astype: "<i4" }], null), { codec: "delta", setting: 'astype="<i4"' }, /codec 'delta' with astype="<i4"/],
    ["v2 fixedscaleoffset astype i8", v2("<f8", [{ id: "fixedscaleoffset", scale: 10, offset: 0, dtype: "<f8", astype: "<i8" }], null), { codec: "fixedscaleoffset", setting: 'astype="<i8"' }, /at most 32 bits/],
    ["v2 fixedscaleoffset on an integer array", v2("<i4", [{ id: "fixedscaleoffset", scale: 10, offset: 0, dtype: "<i4", astype: "<i2" }], null), { codec: "fixedscaleoffset" }, /float32\/float64 arrays only/],
    ["v2 fixedscaleoffset scale 0", v2("<f8", [{ id: "fixedscaleoffset", scale: 0, offset: 0, dtype: "<f8", astype: "<i2" }], null), { codec: "fixedscaleoffset", setting: "scale=0" }, /divides by zero/],
    ["v2 datetime64", v2("<M8[ns]", null, { id: "zlib", level: 1 }), { codec: "<M8[ns]" }, /datetime64/],
    ["v2 structured", v2('[["a","<i4"]]', null, null), {}, /data type/],
  ])("%s", async (_name, doc, fields, message) => {
    for (const err of [await fillChunk(doc, [0]).catch((e: unknown) => e), await decodeChunk(doc, null, [0], new Uint8Array(64)).catch((e: unknown) => e)]) {
      expect(err).toMatchObject({ _tag: "CodecUnavailableError", ...fields });
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain("changed chunks are still reported");
    }
  });

  it("a shard with its index at the start (which zarrita does not read) decodes inner chunk by inner chunk, a crc32c-checked index too", async () => {
    for (const checksum of [false, true]) {
      const indexCodecs = checksum ? [bytes, { name: "crc32c" }] : [bytes];
      const doc = v3("int32", [{ name: "sharding_indexed", configuration: { chunk_shape: [2], codecs: [bytes], index_codecs: indexCodecs, index_location: "start" } }]);
      const s = shardingOf(JSON.parse(new TextDecoder().decode(doc)))!;
      const inner = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
      const file = writeShard(s, [inner([1, 2]), null, inner([5, -6]), inner([7, 8])]);
      const c = await decodeChunk(doc, null, [0], file);
      expect([...(c.data as Int32Array)]).toEqual([1, 2, 0, 0, 5, -6, 7, 8]);
      expect(c.shape).toEqual([8]);
    }
  });

  it("settings decoded faithfully are accepted", () => {
    const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;
    for (const doc of [
      v3("float64", [{ name: "numcodecs.delta", configuration: { dtype: "float64" } }, bytes]),
      v3("float64", [{ name: "numcodecs.delta", configuration: { dtype: "<f8", astype: "<f8" } }, bytes, { name: "numcodecs.zlib", configuration: { level: 1 } }]),
      v3("int16", [bytes, { name: "blosc", configuration: { cname: "zstd", clevel: 5, shuffle: "bitshuffle", typesize: 2, blocksize: 0 } }, { name: "crc32c" }]),
      v3("int32", [{ name: "sharding_indexed", configuration: { chunk_shape: [4], codecs: [bytes, { name: "numcodecs.shuffle", configuration: {} }], index_codecs: [bytes, { name: "crc32c" }], index_location: "end" } }]),
      v2("|u1", [{ id: "delta", dtype: "u1" }], { id: "zstd", level: 3, checksum: false }),
      v2("<f4", [{ id: "shuffle", elementsize: 2 }], { id: "blosc", cname: "lz4", clevel: 5, shuffle: -1, blocksize: 0 }),
      v2("|O", [{ id: "vlen-utf8" }], { id: "gzip", level: 1 }),
      v2("<f4", [{ id: "fixedscaleoffset", scale: 2, offset: 1.5, dtype: "<f4", astype: "|u1" }], { id: "zlib", level: 1 }),
    ]) {
      expect(refusal(json(doc))).toBeNull();
    }
  });

  it("v2 shuffle without elementsize is numcodecs' default, 4; a numeric fill of a unicode array reads as numpy's string", async () => {
    const raw = Float64Array.from([0.5, 1.5, -0, 3.5, 4.5, 5.5, 6.5, 7.5]);
    const doc = v2("<f8", [{ id: "shuffle" }], null);
    const c = await decodeChunk(doc, null, [0], new ShuffleCodec(4).encode(new Uint8Array(raw.buffer)));
    expect([...(c.data as Float64Array)].map((x) => Object.is(x, -0) ? "-0" : String(x))).toEqual(["0.5", "1.5", "-0", "3.5", "4.5", "5.5", "6.5", "7.5"]);
    const u = await fillChunk(v2("<U4", null, null), [0]);
    expect(elementAt(u.data, 3)).toBe("0");
  });
});
