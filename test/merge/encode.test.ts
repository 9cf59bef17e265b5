import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { sameElement } from "../../src/zarr/bits.js";
import { decodeWithCodecs, encodeChunk, type ChunkData } from "../../src/zarr/encode.js";
import { ChunkEncodeError } from "../../src/zarr/errors.js";
import { ShuffleCodec } from "../../src/zarr/support.js";
import { makeFixture } from "../helpers/fixture.js";

async function openAt(store: string, name: string, v: 2 | 3) {
  const loc = zarr.root(new FileSystemStore(store)).resolve(name);
  return v === 2 ? zarr.open.v2(loc, { kind: "array" }) : zarr.open.v3(loc, { kind: "array" });
}

function values(c: ChunkData | number): unknown[] {
  if (typeof c !== "object") return [c]; // zarr.get of a 0-d array gives the scalar
  const d = c.data as { get?: (i: number) => unknown } & ArrayLike<unknown>;
  return Array.from({ length: c.data.length }, (_, i) => (typeof d.get === "function" ? d.get(i) : d[i]));
}

function expectSame(a: unknown[], b: unknown[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!sameElement(a[i], b[i])) throw new Error(`element ${i}: ${String(a[i])} != ${String(b[i])}`);
}

const CASES: [string, string, 2 | 3, string, number[]][] = [
  ["v3/ocean.zarr", "sst", 3, "zarr.json", [1, 0, 2]], // bytes + gzip, NaN
  ["v3/ocean.zarr", "salinity", 3, "zarr.json", [1, 1, 1]], // big endian, v2 key encoding
  ["v3/ocean.zarr", "depth", 3, "zarr.json", [2]], // partial edge chunk
  ["v3/ocean.zarr", "reference_density", 3, "zarr.json", []], // 0-d
  ["v2/weather.zarr", "temperature", 2, ".zarray", [0, 1, 1]], // blosc lz4, NaN
  ["v2/weather.zarr", "precip", 2, ".zarray", [1, 0, 2]], // zlib, "/" separator
  ["v2/weather.zarr", "station_id", 2, ".zarray", [2]], // gzip int64, partial
  ["v2/weather.zarr", "mask", 2, ".zarray", [1, 2]], // bool, no compressor
  ["v2/weather.zarr", "sub/elevation", 2, ".zarray", [1, 1]], // blosc zstd bitshuffle int16
];

describe("encodeChunk", () => {
  for (const [fixture, name, v, doc, index] of CASES) {
    it(`re-encodes ${fixture}/${name} chunk [${index}] so that zarrita reads the same values`, async () => {
      const store = await makeFixture(fixture);
      const arr = await openAt(store, name, v);
      const chunk = (await arr.getChunk(index)) as ChunkData;
      const metaDoc = await fsp.readFile(path.join(store, name, doc));
      const bytes = await encodeChunk(metaDoc, index, chunk);
      expectSame(values(await decodeWithCodecs(metaDoc, bytes)), values(chunk));

      // write the encoded bytes in place of the original chunk: zarrita (its own decoders) reads the same array
      const before = await zarr.get(arr);
      const key = chunkKey(v, doc === ".zarray" ? JSON.parse(metaDoc.toString()).dimension_separator : null, JSON.parse(metaDoc.toString()), index);
      await fsp.writeFile(path.join(store, name, key), bytes);
      const after = await zarr.get(await openAt(store, name, v));
      expectSame(values(after as ChunkData), values(before as ChunkData));
    });
  }

  it("refuses data of the wrong shape and sharded arrays", async () => {
    const store = await makeFixture("v3/sharded.zarr");
    const metaDoc = await fsp.readFile(path.join(store, "temperature", "zarr.json"));
    const data = { data: new Float32Array(64), shape: [8, 8], stride: [8, 1] };
    await expect(encodeChunk(metaDoc, [0, 0], data)).rejects.toBeInstanceOf(ChunkEncodeError);
    const ocean = await makeFixture("v3/ocean.zarr");
    const sst = await fsp.readFile(path.join(ocean, "sst", "zarr.json"));
    await expect(encodeChunk(sst, [0, 0, 0], { data: new Float32Array(4), shape: [2, 2], stride: [2, 1] })).rejects.toThrow(/shape/);
  });

  it("leaves zarrita's own gzip codec in its registry", () => {
    expect(zarr.registry.has("gzip")).toBe(true);
    expect(zarr.registry.has("tdv.gzip")).toBe(true);
  });
});

function chunkKey(v: 2 | 3, sep: string | null | undefined, doc: Record<string, unknown>, index: number[]): string {
  if (v === 2) return index.length ? index.join(sep ?? ".") : "0";
  const enc = doc.chunk_key_encoding as { name: string; configuration?: { separator?: string } };
  if (enc.name === "v2") return index.length ? index.join(enc.configuration?.separator ?? ".") : "0";
  return ["c", ...index].join(enc.configuration?.separator ?? "/");
}

describe("encodeChunk: codec settings", () => {
  const v3 = (codecs: unknown[], dataType = "float64") => ({
    zarr_format: 3,
    node_type: "array",
    shape: [8],
    data_type: dataType,
    chunk_grid: { name: "regular", configuration: { chunk_shape: [8] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs,
    attributes: {},
  });
  const chunk = () => ({ data: Float64Array.from([0.5, -0, 0, Number.NaN, 1e300, -2.5, 3, 7]), shape: [8], stride: [1] });

  it("re-encodes v3 numcodecs.zlib (as v2 zlib) and numcodecs.shuffle with its elementsize", async () => {
    const doc = v3([{ name: "bytes", configuration: { endian: "little" } }, { name: "numcodecs.shuffle", configuration: { elementsize: 4 } }, { name: "numcodecs.zlib", configuration: { level: 1 } }]);
    const bytes = await encodeChunk(doc, [0], chunk());
    const { unzlibSync } = await import("fflate");
    const raw = new Uint8Array(chunk().data.buffer);
    expect(Buffer.from(unzlibSync(bytes)).toString("hex")).toBe(Buffer.from(new ShuffleCodec(4).encode(raw)).toString("hex"));
    const back = await decodeWithCodecs(doc, bytes);
    expect(Buffer.from(new Uint8Array((back.data as Float64Array).buffer)).toString("hex")).toBe(Buffer.from(raw).toString("hex"));
  });

  it("refuses to encode what it could not read back faithfully", async () => {
    const delta = v3([{ name: "numcodecs.delta", configuration: { dtype: "<f8", astype: "<f4" } }, { name: "bytes", configuration: { endian: "little" } }]);
    await expect(encodeChunk(delta, [0], chunk())).rejects.toThrow(/codec 'numcodecs.delta' with astype="<f4"/);
  });

  it("sameElement: -0 is not 0, NaN equals NaN", () => {
    expect(sameElement(0, -0)).toBe(false);
    expect(sameElement(-0, -0)).toBe(true);
    expect(sameElement(Number.NaN, Number.NaN)).toBe(true);
    expect(sameElement(1n, 1n)).toBe(true);
  });
});
