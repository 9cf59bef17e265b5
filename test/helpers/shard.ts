/**
 * Sharded v3 arrays for tests: inner chunks encoded by zarrita (an unsharded
 * one-chunk array with the inner codecs), shard files assembled and read per
 * the v3 sharding spec (index: bytes little endian, + crc32c unless `checksum` is false), as
 * fixtures/make-v3.mjs does (zarrita cannot write shards).
 */
import * as zarr from "zarrita";
import { crc32c, encodingGzipCodec } from "../../src/zarr/encode.js";

/** zarrita's gzip decodes only: tdv's encoding gzip codec stands in while the tests run (v3 `gzip`, v2 `numcodecs.gzip`). */
export function registerGzip(): void {
  for (const name of ["gzip", "numcodecs.gzip"]) zarr.registry.set(name, encodingGzipCodec as unknown as Parameters<typeof zarr.registry.set>[1]);
}

const ABSENT = 0xffffffffffffffffn;

/** One inner chunk encoded by zarrita with the inner codecs: a one-chunk unsharded array in a Map store. */
export async function encodeInner(innerShape: number[], dataType: string, codecs: unknown[], fill: unknown, data: Float32Array | Int32Array): Promise<Uint8Array> {
  const store = new Map<string, Uint8Array>();
  const doc = { zarr_format: 3, node_type: "array", shape: innerShape, data_type: dataType, chunk_grid: { name: "regular", configuration: { chunk_shape: innerShape } }, chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, codecs, fill_value: fill, attributes: {} };
  store.set("/zarr.json", new TextEncoder().encode(JSON.stringify(doc)));
  const arr = await zarr.open.v3(zarr.root(store), { kind: "array" });
  await zarr.set(arr, null, { data, shape: innerShape, stride: [innerShape[1] as number, 1] } as never);
  const key = [...store.keys()].find((k) => k !== "/zarr.json");
  return store.get(key!)!;
}

/** The inner chunks of a shard file (index: bytes little endian, + crc32c unless `checksum` is false), null when absent. */
export function readShard(bytes: Uint8Array, n: number, location: "start" | "end", checksum = true): (Uint8Array | null)[] {
  const size = 16 * n + (checksum ? 4 : 0);
  const at = location === "end" ? bytes.length - size : 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, size);
  return Array.from({ length: n }, (_, k) => {
    const off = view.getBigUint64(16 * k, true);
    const len = view.getBigUint64(16 * k + 8, true);
    return off === ABSENT ? null : bytes.slice(Number(off), Number(off + len));
  });
}

/** A shard file per the spec: inner chunks in order, then (or before them) the index, with its crc32c unless `checksum` is false. */
export function writeShard(chunks: (Uint8Array | null)[], location: "start" | "end", checksum = true): Uint8Array {
  const size = 16 * chunks.length + (checksum ? 4 : 0);
  const body = chunks.reduce((a, c) => a + (c?.length ?? 0), 0);
  const out = new Uint8Array(body + size);
  const index = new DataView(new ArrayBuffer(16 * chunks.length));
  let pos = location === "start" ? size : 0;
  chunks.forEach((c, k) => {
    if (!c) {
      index.setBigUint64(16 * k, ABSENT, true);
      index.setBigUint64(16 * k + 8, ABSENT, true);
      return;
    }
    out.set(c, pos);
    index.setBigUint64(16 * k, BigInt(pos), true);
    index.setBigUint64(16 * k + 8, BigInt(c.length), true);
    pos += c.length;
  });
  const indexBytes = new Uint8Array(index.buffer);
  const at = location === "start" ? 0 : body;
  out.set(indexBytes, at);
  if (checksum) new DataView(out.buffer).setUint32(at + 16 * chunks.length, crc32c(indexBytes), true);
  return out;
}

