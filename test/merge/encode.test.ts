import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { ChunkEncodeError, decodeWithCodecs, encodeChunk, sameValue, type ChunkData } from "../../src/zarr/encode.js";
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
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) throw new Error(`element ${i}: ${String(a[i])} != ${String(b[i])}`);
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
