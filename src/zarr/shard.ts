/**
 * A shard of a sharded v3 array (codec `sharding_indexed`) read as its inner
 * chunks, per the Zarr v3 sharding spec: the index is a uint64 array of
 * shape [...chunksPerShard, 2] (offset, nbytes per inner chunk, C order),
 * encoded with the index codecs (`bytes`, then optionally `crc32c`), stored
 * at the end of the file (default) or at its start. An inner chunk whose
 * offset and nbytes are both 2^64-1 is absent: it reads as the fill value.
 *
 *   const s = shardingOf(doc);                  // null: not sharded, or an index tdv does not read
 *   const inner = innerChunks(s, shardBytes, [0, 0]); // per inner chunk (C order): bytes, or null
 *   innerDoc(doc, s);                           // an unsharded document whose chunks are the inner chunks
 *
 *   writeShard(s, inner);                       // the shard file back, index where and as `s` says
 *
 * Pure: bytes in, values out.
 */
import { crc32c } from "./encode.js";
import { ChunkDecodeError } from "../errors.js";

type Json = Record<string, unknown>;

export interface Sharding {
  /** the inner chunk shape */
  inner: number[];
  /** inner chunks per shard, per dimension */
  perShard: number[];
  /** the inner codecs, as the document writes them */
  codecs: unknown[];
  indexLocation: "start" | "end";
  littleEndian: boolean;
  checksum: boolean;
}

/**
 * The sharding of a v3 array document whose only array-to-bytes codec is
 * `sharding_indexed` with index codecs tdv reads (`bytes`, optional `crc32c`);
 * null otherwise (not sharded, or a configuration left to the whole-shard path).
 */
export function shardingOf(doc: Json): Sharding | null {
  if (doc.zarr_format !== 3 || !Array.isArray(doc.codecs) || doc.codecs.length !== 1) return null;
  const c = doc.codecs[0] as Json;
  if (c?.name !== "sharding_indexed") return null;
  const cfg = (c.configuration ?? {}) as Json;
  const grid = (doc.chunk_grid as { configuration?: { chunk_shape?: unknown } } | undefined)?.configuration?.chunk_shape;
  const inner = cfg.chunk_shape;
  if (!isShape(grid) || !isShape(inner) || grid.length !== inner.length || grid.some((n, d) => n % (inner[d] as number) !== 0)) return null;
  const location = cfg.index_location ?? "end";
  if (location !== "start" && location !== "end") return null;
  if (!Array.isArray(cfg.codecs)) return null;
  const index = Array.isArray(cfg.index_codecs) ? (cfg.index_codecs as unknown[]).map((x) => (typeof x === "string" ? { name: x } : (x as Json))) : null;
  if (!index || index.length < 1 || index.length > 2) return null;
  const [bytes, check] = index as [Json, Json | undefined];
  if (bytes?.name !== "bytes") return null;
  const endian = (bytes.configuration as Json | undefined)?.endian ?? "little";
  if (endian !== "little" && endian !== "big") return null;
  if (check !== undefined && (check.name !== "crc32c" || Object.keys((check.configuration as Json | undefined) ?? {}).length > 0)) return null;
  return {
    inner,
    perShard: grid.map((n, d) => n / (inner[d] as number)),
    codecs: cfg.codecs as unknown[],
    indexLocation: location,
    littleEndian: endian === "little",
    checksum: check !== undefined,
  };
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === "number" && Number.isInteger(n) && n > 0);
}

/** The array document with the inner chunks as its chunks: chunk grid = the inner chunk shape, codecs = the inner codecs. */
export function innerDoc(doc: Json, s: Sharding): Json {
  return { ...doc, chunk_grid: { name: "regular", configuration: { chunk_shape: s.inner } }, codecs: s.codecs };
}

const ABSENT = 0xffffffffffffffffn;

/**
 * The stored bytes of every inner chunk of a shard, in C order of the inner
 * chunk coordinates inside the shard (null: absent). `shardIndex` names the
 * shard in errors. A missing shard file (`bytes` null) has every inner chunk absent.
 */
export function innerChunks(s: Sharding, bytes: Uint8Array | null, shardIndex: readonly number[]): (Uint8Array | null)[] {
  const n = s.perShard.reduce((a, b) => a * b, 1);
  if (!bytes) return new Array<Uint8Array | null>(n).fill(null);
  const fail = (detail: string) => new ChunkDecodeError([...shardIndex], "sharding_indexed", detail);
  const size = 16 * n + (s.checksum ? 4 : 0);
  if (bytes.byteLength < size) throw fail(`the shard is ${bytes.byteLength} bytes, shorter than its ${size}-byte index`);
  const at = s.indexLocation === "end" ? bytes.byteLength - size : 0;
  const index = bytes.subarray(at, at + size);
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  if (s.checksum) {
    const body = index.subarray(0, 16 * n);
    if (view.getUint32(16 * n, true) !== crc32c(body)) throw fail("the shard index fails its crc32c checksum");
  }
  const out: (Uint8Array | null)[] = [];
  for (let i = 0; i < n; i++) {
    const offset = view.getBigUint64(16 * i, s.littleEndian);
    const nbytes = view.getBigUint64(16 * i + 8, s.littleEndian);
    if (offset === ABSENT && nbytes === ABSENT) {
      out.push(null);
      continue;
    }
    const end = offset + nbytes;
    if (end > BigInt(bytes.byteLength)) throw fail(`inner chunk ${i} lies outside the shard (bytes ${offset}..${end} of ${bytes.byteLength})`);
    out.push(bytes.subarray(Number(offset), Number(end)));
  }
  return out;
}

/**
 * A shard file per the spec from its inner chunks (C order; null: absent),
 * the index where `s` puts it, encoded as `s` says (`bytes` in its byte
 * order, then `crc32c` when `s` has it).
 */
export function writeShard(s: Sharding, chunks: readonly (Uint8Array | null)[]): Uint8Array {
  const n = chunks.length;
  const size = 16 * n + (s.checksum ? 4 : 0);
  const body = chunks.reduce((a, c) => a + (c?.byteLength ?? 0), 0);
  const out = new Uint8Array(body + size);
  const at = s.indexLocation === "start" ? 0 : body;
  const view = new DataView(out.buffer, at, size);
  let pos = s.indexLocation === "start" ? size : 0;
  chunks.forEach((c, k) => {
    if (!c) {
      view.setBigUint64(16 * k, ABSENT, s.littleEndian);
      view.setBigUint64(16 * k + 8, ABSENT, s.littleEndian);
      return;
    }
    out.set(c, pos);
    view.setBigUint64(16 * k, BigInt(pos), s.littleEndian);
    view.setBigUint64(16 * k + 8, BigInt(c.byteLength), s.littleEndian);
    pos += c.byteLength;
  });
  if (s.checksum) view.setUint32(16 * n, crc32c(out.subarray(at, at + 16 * n)), true);
  return out;
}
