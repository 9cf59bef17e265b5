/**
 * Encode one chunk of a Zarr array with the array's own codecs, through
 * zarrita's codec pipeline: what a merge needs to write a chunk it merged
 * element by element.
 *
 * zarrita 0.7 decodes gzip, zlib and crc32c but cannot encode them. Rather
 * than swapping zarrita's registry entries (which other code relies on), the
 * one-chunk array built here names its codecs `tdv.gzip`, `tdv.zlib`,
 * `tdv.crc32c`: codecs registered under those new names that both encode
 * (fflate, gzip with mtime 0 so the bytes are reproducible) and decode.
 *
 * How: a throwaway array whose shape is the chunk's shape, in a Map store,
 * with the array's metadata otherwise unchanged; `zarr.set` writes its one
 * chunk, whose bytes are the encoded chunk. Every encoded chunk is decoded
 * again and compared with the input (floats by their bits): a codec that does not
 * round-trip is an error, never a silently changed value.
 */
import type * as Fflate from "fflate";
import type * as zarr from "zarrita";
import { crc32With } from "../format/crc.js";
import { bitsOf, sameElement } from "./bits.js";
import { bloscCompress, type BloscSettings, type StreamCompressor } from "./blosc.js";
import { describeRefusal, forZarrita, refusal, TDV_SHUFFLE } from "./support.js";
import { loadZarrita } from "./zarrita.js";
import { ChunkEncodeError } from "./errors.js";

/** Decoded chunk data as zarrita returns and accepts it. */
export interface ChunkData {
  data: ArrayLike<unknown> & { length: number };
  shape: number[];
  stride: number[];
}

type Json = Record<string, unknown>;
type CodecLoader = Parameters<typeof zarr.registry.set>[1];

// ---- encoders zarrita lacks --------------------------------------------------

function levelOf(config: unknown, fallback: number): number {
  const level = (config as { level?: unknown } | undefined)?.level;
  return typeof level === "number" && Number.isInteger(level) && level >= 0 && level <= 9 ? level : fallback;
}

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

class GzipCodec {
  readonly kind = "bytes_to_bytes" as const;
  constructor(readonly level: number) {}
  static fromConfig(config: unknown): GzipCodec {
    return new GzipCodec(levelOf(config, 5));
  }
  encode(bytes: Uint8Array): Uint8Array {
    return ff().gzipSync(bytes, { level: this.level as Level, mtime: 0 });
  }
  decode(bytes: Uint8Array): Uint8Array {
    return ff().gunzipSync(bytes);
  }
}

class ZlibCodec {
  readonly kind = "bytes_to_bytes" as const;
  constructor(readonly level: number) {}
  static fromConfig(config: unknown): ZlibCodec {
    return new ZlibCodec(levelOf(config, 1));
  }
  encode(bytes: Uint8Array): Uint8Array {
    return ff().zlibSync(bytes, { level: this.level as Level });
  }
  decode(bytes: Uint8Array): Uint8Array {
    return ff().unzlibSync(bytes);
  }
}

/** CRC-32C (Castagnoli), as Zarr's `crc32c` codec appends it. */
export const crc32c: (bytes: Uint8Array) => number = crc32With(0x82f63b78);

class Crc32cCodec {
  readonly kind = "bytes_to_bytes" as const;
  static fromConfig(): Crc32cCodec {
    return new Crc32cCodec();
  }
  encode(bytes: Uint8Array): Uint8Array {
    const out = new Uint8Array(bytes.length + 4);
    out.set(bytes);
    new DataView(out.buffer).setUint32(bytes.length, crc32c(bytes), true);
    return out;
  }
  decode(bytes: Uint8Array): Uint8Array {
    const body = bytes.subarray(0, bytes.length - 4);
    const stored = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
    if (stored !== crc32c(body)) throw new Error("crc32c checksum mismatch");
    return body;
  }
}

/** numcodecs.js modules for blosc (decoding, and lz4/zstd streams inside frames) */
type Wasm = { encode(b: Uint8Array): Promise<Uint8Array>; decode(b: Uint8Array): Promise<Uint8Array> };
let wasm: { blosc: Wasm; lz4: (accel: number) => Wasm; zstd: (level: number) => Wasm } | undefined;

/** The stream compressors c-blosc uses, as far as this machine has them (src/zarr/blosc.ts). */
const STREAMS: Record<string, StreamCompressor> = {
  // LZ4_compress_fast(acceleration 10 - clevel); numcodecs.js prefixes the block with its 4-byte length
  lz4: async (b, clevel) => (await loadedWasm().lz4(10 - clevel).encode(b)).subarray(4),
  // ZSTD_compress at 2·clevel - 1, the maximum (22) at 9
  // LZ4HC writes the LZ4 block format (blosc names both format 1): LZ4's fast compressor, other bytes, same format
  lz4hc: async (b) => (await loadedWasm().lz4(1).encode(b)).subarray(4),
  zstd: async (b, clevel) => loadedWasm().zstd(clevel < 9 ? clevel * 2 - 1 : 22).encode(b),
  zlib: async (b, clevel) => ff().zlibSync(b, { level: clevel as Level }),
};

function loadedWasm(): NonNullable<typeof wasm> {
  if (!wasm) throw new Error("internal: blosc used before the encoders were loaded");
  return wasm;
}

const SHUFFLES: Record<string, 0 | 1 | 2> = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };

/**
 * Blosc that honours typesize (zarrita's encoder, numcodecs.js, always
 * shuffles by 4 bytes): frames written by src/zarr/blosc.ts, read by
 * numcodecs.js (a frame describes itself). `typesize` is the v3
 * configuration's, or for v2 the one tdv puts in from the dtype and filters
 * (numcodecs takes it from the buffer it is given).
 */
class BloscCodec {
  readonly kind = "bytes_to_bytes" as const;
  constructor(readonly settings: BloscSettings) {}
  static fromConfig(config: Json): BloscCodec {
    const typesize = typeof config.typesize === "number" && config.typesize > 0 ? config.typesize : 1;
    const raw = config.shuffle ?? 1;
    let shuffle = typeof raw === "string" ? (SHUFFLES[raw] ?? 1) : raw === -1 ? (typesize === 1 ? 2 : 1) : (raw as 0 | 1 | 2);
    if (shuffle !== 0 && shuffle !== 1 && shuffle !== 2) shuffle = 1;
    return new BloscCodec({
      cname: typeof config.cname === "string" ? config.cname : "lz4",
      clevel: typeof config.clevel === "number" ? config.clevel : 5,
      shuffle,
      typesize,
      blocksize: typeof config.blocksize === "number" ? config.blocksize : 0,
    });
  }
  encode(bytes: Uint8Array): Promise<Uint8Array> {
    return bloscCompress(bytes, this.settings, STREAMS);
  }
  decode(bytes: Uint8Array): Promise<Uint8Array> {
    return loadedWasm().blosc.decode(bytes);
  }
}

/** zarrita codec names (v3, and numcodecs ids as zarrita maps v2 compressors) → our encoding codec. */
const RENAMED: Record<string, { name: string; codec: unknown }> = {
  gzip: { name: "tdv.gzip", codec: GzipCodec },
  zlib: { name: "tdv.zlib", codec: ZlibCodec },
  crc32c: { name: "tdv.crc32c", codec: Crc32cCodec },
  blosc: { name: "tdv.blosc", codec: BloscCodec },
};

// fflate and zarrita load with the first encode (most commands never encode)
let fflate: typeof Fflate | undefined;
let ready: Promise<typeof zarr> | undefined;

function ff(): typeof Fflate {
  if (!fflate) throw new Error("internal: fflate used before the encoders were loaded");
  return fflate;
}

/**
 * The Zarr `gzip` codec that also encodes (fflate, mtime 0: reproducible
 * bytes), as a zarrita codec registry entry returns it: for a writer of new
 * Zarr data (the demo's dataset) to register under "gzip" while it writes.
 */
export async function encodingGzipCodec(): Promise<unknown> {
  fflate ??= await import("fflate");
  return GzipCodec;
}

function loadEncoders(): Promise<typeof zarr> {
  ready ??= Promise.all([loadZarrita(), import("fflate"), import("numcodecs/blosc"), import("numcodecs/lz4"), import("numcodecs/zstd")]).then(([z, f, blosc, lz4, zstd]) => {
    fflate = f;
    const B = blosc.default;
    wasm = {
      blosc: new B() as unknown as Wasm,
      lz4: (accel) => new lz4.default(accel) as unknown as Wasm,
      zstd: (level) => new zstd.default(level) as unknown as Wasm,
    };
    for (const { name, codec } of Object.values(RENAMED)) {
      // v3 metadata names the codec itself; zarrita prefixes v2 compressor ids with "numcodecs."
      for (const key of [name, `numcodecs.${name}`]) z.registry.set(key, (() => codec) as unknown as CodecLoader);
    }
    return z;
  });
  return ready;
}

// ---- metadata of the one-chunk array ----------------------------------------------

function parseDoc(metaDoc: Uint8Array | string | Json): Json {
  if (typeof metaDoc === "object" && !(metaDoc instanceof Uint8Array)) return metaDoc;
  const text = typeof metaDoc === "string" ? metaDoc : new TextDecoder().decode(metaDoc);
  try {
    return JSON.parse(text) as Json;
  } catch {
    // zarr-python may write bare NaN/Infinity: as strings, which zarrita reads as those fill values
    return JSON.parse(text.replace(/(?<=[:[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, '"$1"')) as Json;
  }
}

/** Our encoding codec for a v3 codec name: `gzip` and `numcodecs.gzip` alike (zarr-python 3 writes the latter for numcodecs codecs). */
function renamedV3(name: string): { name: string } | undefined {
  return RENAMED[name] ?? (name.startsWith("numcodecs.") ? RENAMED[name.slice("numcodecs.".length)] : undefined);
}

function renameCodec(c: unknown, itemsize: number): unknown {
  if (typeof c === "string") return renamedV3(c)?.name ?? c;
  if (typeof c !== "object" || c === null) return c;
  const o = c as Json;
  if (o.name === "sharding_indexed") throw new ChunkEncodeError("the array is sharded; zarrita cannot write shards");
  const r = typeof o.name === "string" ? renamedV3(o.name) : undefined;
  if (r && r.name === RENAMED.blosc?.name) {
    // the spec's typesize; numcodecs' wrapper may leave it out and use the data type's
    const config = (o.configuration ?? {}) as Json;
    return { ...o, name: r.name, configuration: { ...config, typesize: config.typesize ?? itemsize } };
  }
  return r ? { ...o, name: r.name } : o;
}

function renameV2(c: unknown, typesize: number): unknown {
  if (typeof c !== "object" || c === null) return c;
  const o = c as Json;
  if (o.id === "blosc") return { ...o, id: RENAMED.blosc?.name, typesize };
  return typeof o.id === "string" && RENAMED[o.id] ? { ...o, id: RENAMED[o.id].name } : o;
}

/** The bytes of one element of a v3 data type ("float64" 8), 1 when not fixed. */
function v3Itemsize(dt: unknown): number {
  const m = typeof dt === "string" ? /(\d+)$/.exec(dt) : null;
  return m ? Math.max(1, Number(m[1]) / 8) : 1;
}

/** numpy's itemsize of a v2 dtype string ("<f8" 8, "<U3" 12, "|S5" 5), 1 when unknown. */
function itemsizeV2(dtype: unknown): number {
  const m = typeof dtype === "string" ? /^[<>|=]?([a-zA-Z])(\d+)$/.exec(dtype) : null;
  if (!m) return 1;
  return m[1] === "U" ? Number(m[2]) * 4 : Number(m[2]);
}

/**
 * The itemsize of the buffer numcodecs hands a v2 compressor: the dtype's,
 * changed by the filters before it (shuffle and the object codecs give bytes,
 * an `astype` its own type).
 */
function compressorTypesize(doc: Json): number {
  let size = doc.dtype === "|O" ? 1 : itemsizeV2(doc.dtype);
  for (const f of Array.isArray(doc.filters) ? (doc.filters as Json[]) : []) {
    const id = String(f?.id);
    if (id === "shuffle" || id === TDV_SHUFFLE || id.startsWith("vlen-") || id === "json2" || id === "pickle" || id === "msgpack2") size = 1;
    else if (typeof f?.astype === "string") size = itemsizeV2(f.astype);
  }
  return size;
}

/** The chunk shape of a v2 (.zarray) or v3 (zarr.json) array document. */
export function chunkShapeOf(doc: Json): number[] {
  if (doc.zarr_format === 2) return doc.chunks as number[];
  const grid = doc.chunk_grid as { configuration?: { chunk_shape?: number[] } };
  return grid.configuration?.chunk_shape ?? [];
}

/** A one-chunk array document: the shape is the chunk shape, bytes codecs renamed to encoding ones. */
function oneChunkDoc(raw: Json): Json {
  const refused = refusal(raw);
  if (refused) throw new ChunkEncodeError(`cannot re-encode ${describeRefusal(refused)}`);
  const doc = forZarrita(raw);
  const shape = chunkShapeOf(doc);
  if (doc.zarr_format === 2) {
    return {
      ...doc,
      shape,
      compressor: renameV2(doc.compressor ?? null, compressorTypesize(doc)),
      filters: Array.isArray(doc.filters) ? doc.filters.map((f) => renameV2(f, 1)) : (doc.filters ?? null),
    };
  }
  if (doc.zarr_format !== 3 || doc.node_type !== "array") throw new ChunkEncodeError("not a Zarr array document");
  return { ...doc, shape, codecs: (doc.codecs as unknown[]).map((c) => renameCodec(c, v3Itemsize(doc.data_type))), attributes: {} };
}

async function openOneChunk(doc: Json): Promise<{ arr: zarr.Array<zarr.DataType, Map<string, Uint8Array>>; store: Map<string, Uint8Array>; z: typeof zarr }> {
  const store = new Map<string, Uint8Array>();
  const v2 = doc.zarr_format === 2;
  const text = JSON.stringify(oneChunkDoc(doc));
  store.set(v2 ? "/.zarray" : "/zarr.json", new TextEncoder().encode(text));
  const z = await loadEncoders();
  const loc = z.root(store);
  const arr = v2 ? await z.open.v2(loc, { kind: "array" }) : await z.open.v3(loc, { kind: "array" });
  return { arr, store, z };
}

function chunkKeyOf(store: Map<string, Uint8Array>): string | undefined {
  return [...store.keys()].find((k) => k !== "/.zarray" && k !== "/zarr.json" && k !== "/.zattrs");
}

// ---- encode and check -------------------------------------------------------------

/** Element `i` of decoded chunk data (typed arrays index, zarrita's bool/string arrays `get`). */
export function elementAt(data: ChunkData["data"], i: number): unknown {
  const d = data as { get?: (i: number) => unknown } & ArrayLike<unknown>;
  return typeof d.get === "function" ? d.get(i) : d[i];
}

/** Offsets of every element of a chunk in C order of its coordinates. */
function* offsets(shape: readonly number[], stride: readonly number[]): Generator<number> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const idx = shape.map(() => 0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += (idx[d] as number) * (stride[d] as number);
    yield off;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
    }
  }
}

/**
 * Encode a whole chunk (its full chunk shape, edge chunks included) with the
 * codecs of the array described by `metaDoc` (a `zarr.json` or `.zarray`
 * document, as bytes, text or parsed JSON). `chunkIndex` is the chunk's grid
 * position (used to name the chunk in errors). The result decodes back to
 * exactly `data`, or ChunkEncodeError is thrown.
 */
export async function encodeChunk(metaDoc: Uint8Array | string | Json, chunkIndex: readonly number[], data: ChunkData): Promise<Uint8Array> {
  const where = `chunk [${chunkIndex.join(",")}]`;
  const doc = parseDoc(metaDoc);
  const shape = chunkShapeOf(doc);
  if (data.shape.length !== shape.length || data.shape.some((n, i) => n !== shape[i])) {
    throw new ChunkEncodeError(`${where}: data of shape [${data.shape}] for chunks of shape [${shape}]`);
  }
  const { arr, store, z } = await openOneChunk(doc);
  try {
    if (shape.length === 0) await z.set(arr, null, elementAt(data.data, 0) as never);
    else await z.set(arr, null, data as never);
  } catch (cause) {
    if (cause instanceof ChunkEncodeError) throw cause;
    throw new ChunkEncodeError(`${where}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
  const key = chunkKeyOf(store);
  const bytes = key === undefined ? undefined : store.get(key);
  if (!bytes) throw new ChunkEncodeError(`${where}: zarrita wrote no chunk`);

  // the check: decode what was written and compare element by element
  const back = (await arr.getChunk(shape.map(() => 0))) as ChunkData;
  const a = [...offsets(data.shape, data.stride)];
  const b = [...offsets(back.shape, back.stride)];
  // floats by their bits: a codec that turned -0 into 0, or changed a NaN's payload, is caught
  const bitsIn = bitsOf(data.data);
  const bitsBack = bitsOf(back.data);
  if (bitsIn && bitsBack && bitsIn.constructor === bitsBack.constructor) {
    for (let k = 0; k < a.length; k++) {
      if (bitsIn[a[k] as number] !== bitsBack[b[k] as number]) {
        throw new ChunkEncodeError(`${where}: the encoded chunk decodes to ${String(elementAt(back.data, b[k] as number))} where ${String(elementAt(data.data, a[k] as number))} was written`);
      }
    }
    return bytes;
  }
  for (let k = 0; k < a.length; k++) {
    const x = elementAt(data.data, a[k] as number);
    const y = elementAt(back.data, b[k] as number);
    if (!sameElement(x, y)) throw new ChunkEncodeError(`${where}: the encoded chunk decodes to ${String(y)} where ${String(x)} was written`);
  }
  return bytes;
}

/** Decode a chunk with the same codecs (for checks and tests; merges decode through src/zarr/decode.ts). */
export async function decodeWithCodecs(metaDoc: Uint8Array | string | Json, bytes: Uint8Array): Promise<ChunkData> {
  const doc = parseDoc(metaDoc);
  const { arr, store } = await openOneChunk(doc);
  store.set(`/${originKey(doc)}`, bytes);
  return (await arr.getChunk(chunkShapeOf(doc).map(() => 0))) as ChunkData;
}

/** The key of chunk (0, 0, ...) of an array document. */
function originKey(doc: Json): string {
  const ndim = chunkShapeOf(doc).length;
  if (doc.zarr_format === 2) return ndim ? Array(ndim).fill("0").join(String(doc.dimension_separator ?? ".")) : "0";
  const enc = doc.chunk_key_encoding as { name?: string; configuration?: { separator?: string } } | string | undefined;
  const name = typeof enc === "string" ? enc : (enc?.name ?? "default");
  const sep = (typeof enc === "object" ? enc.configuration?.separator : undefined) ?? (name === "v2" ? "." : "/");
  if (name === "v2") return ndim ? Array(ndim).fill("0").join(sep) : "0";
  return ["c", ...Array(ndim).fill("0")].join(sep);
}
