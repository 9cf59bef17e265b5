/**
 * Decode one stored unit of an array (a chunk file, or a whole shard file of a
 * sharded v3 array) into its values, with zarrita itself: an in-memory store
 * holds the array's metadata document and that one file, zarrita opens the
 * array from it and reads the chunk. Whatever zarrita reads, tdv decodes the
 * same way (codecs, byte order, memory order, fill values).
 *
 *   const c = await decodeChunk(zarrJsonBytes, null, [0, 1, 2], chunkBytes);
 *   c.shape;                 // the chunk shape (the shard shape when sharded)
 *   elementAt(c.data, 17);   // number | bigint | boolean | string | unknown
 *
 * A missing file reads as the fill value everywhere: `fillChunk`.
 * A data type, codec or codec setting tdv cannot decode faithfully (the
 * allow-list in src/zarr/support.ts, checked before zarrita sees the array)
 * is a CodecUnavailableError, raised for every chunk of that array and never
 * turned into values; bytes the codecs reject (a truncated or corrupt file)
 * are a ChunkDecodeError.
 */
import type * as zarr from "zarrita";
import { loadZarrita, zarrita } from "./zarrita.js";
import { ChunkDecodeError, TdvError } from "../errors.js";
import { formatChunkKey } from "../format/chunk-key.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../format/zarr-meta.js";
import { replaceNonFinite } from "../format/non-finite.js";
import { forZarrita, refusal, type Refusal } from "./support.js";
import { elementAt } from "./bits.js";
import { CodecUnavailableError } from "./errors.js";
import { innerChunks, innerDoc, shardingOf, type Sharding } from "./shard.js";

/** The values of a chunk as zarrita returns them: a typed array, a BoolArray, a string array, ... */
export type ChunkData = zarr.Chunk<zarr.DataType>["data"];

export interface DecodedChunk {
  data: ChunkData;
  /** extent of the stored unit (chunk or shard shape; edge chunks are not clipped) */
  shape: number[];
  /** element strides of `data` (C order unless the array is stored in F order or transposed) */
  stride: number[];
  /** array coordinates of element [0, 0, ...]: chunk index × chunk shape */
  origin: number[];
}

/** Decode `chunkBytes`, the stored file of chunk (or shard) `chunkIndex` of the array described by `metaDoc`. */
export async function decodeChunk(
  metaDoc: Uint8Array,
  zattrs: Uint8Array | null,
  chunkIndex: number[],
  chunkBytes: Uint8Array,
): Promise<DecodedChunk> {
  return read(metaDoc, zattrs, chunkIndex, chunkBytes);
}

/** A chunk (or shard) whose file is missing: the fill value everywhere, with the chunk's shape. */
export async function fillChunk(metaDoc: Uint8Array, chunkIndex: number[]): Promise<DecodedChunk> {
  return read(metaDoc, null, chunkIndex, null);
}

/** Parsed metadata (normalized by tdv's parser), from a zarr.json or .zarray document. */
export function arrayMetaOf(metaDoc: Uint8Array): ArrayMeta {
  const v = JSON.parse(normalizeJson(new TextDecoder().decode(metaDoc))) as { zarr_format?: unknown };
  if (v.zarr_format === 2) return parseZarray(metaDoc, ".zarray");
  const node = parseZarrJson(metaDoc, "zarr.json");
  if (node.kind !== "array") throw new CodecUnavailableError("group", "the metadata document describes a group, not an array");
  return node.meta;
}

/**
 * Parse a metadata document as Zarr implementations write it: bare NaN,
 * Infinity and -Infinity (zarr-python) become the strings "NaN", "Infinity",
 * "-Infinity", as the Zarr specs spell those fill values.
 */
export function readJson(bytes: Uint8Array): unknown {
  return JSON.parse(normalizeJson(new TextDecoder().decode(bytes)));
}

// ---------------------------------------------------------------------------

type AnyArray = zarr.Array<zarr.DataType, MemoryStore>;

/** The smallest store zarrita reads from: fixed keys → bytes, ranges (for shards), and a one-call slot. */
class MemoryStore {
  private slotKey: string | null = null;
  private slotBytes: Uint8Array | null = null;

  constructor(private readonly files: ReadonlyMap<string, Uint8Array>) {}

  /** Offer `bytes` under `key` to the next get of that key only (null bytes: a missing chunk). */
  arm(key: string | null, bytes: Uint8Array | null): void {
    this.slotKey = bytes ? key : null;
    this.slotBytes = bytes;
  }

  armed(): boolean {
    return this.slotKey !== null;
  }

  async get(key: zarr.AbsolutePath): Promise<Uint8Array | undefined> {
    if (this.slotKey !== null && key === this.slotKey) {
      const bytes = this.slotBytes ?? undefined;
      this.slotKey = null;
      this.slotBytes = null;
      return bytes;
    }
    return this.files.get(key);
  }

  async getRange(key: zarr.AbsolutePath, range: zarr.RangeQuery): Promise<Uint8Array | undefined> {
    const bytes = this.files.get(key);
    if (!bytes) return undefined;
    if ("suffixLength" in range) return bytes.subarray(Math.max(0, bytes.byteLength - range.suffixLength));
    return bytes.subarray(range.offset, range.offset + range.length);
  }
}

/**
 * What decoding needs from one metadata document, kept while the document's
 * bytes object lives (a diff passes the same object for every chunk of an
 * array): the parsed metadata and, for unsharded arrays, one zarrita array
 * whose codec pipeline is reused, so codecs (blosc's WebAssembly, ...) are
 * set up once per array rather than once per chunk.
 */
interface Decoder {
  meta: ArrayMeta;
  /** why the array cannot be decoded faithfully (every chunk is refused), or null */
  refused: Refusal | null;
  files: Map<string, Uint8Array>;
  reusable: Promise<{ arr: AnyArray; store: MemoryStore } | null> | null;
  /** shards zarrita does not read (index at the start): read by tdv, inner chunk by inner chunk */
  ownShards: { s: Sharding; inner: Uint8Array } | null;
}

const decoders = new WeakMap<Uint8Array, Decoder>();

function decoderFor(metaDoc: Uint8Array, zattrs: Uint8Array | null): Decoder {
  const cached = decoders.get(metaDoc);
  if (cached) return cached;
  const meta = arrayMetaOf(metaDoc);
  const doc = readJson(metaDoc) as Record<string, unknown>;
  const refused = refusal(doc);
  const files = new Map<string, Uint8Array>();
  files.set(meta.zarrFormat === 2 ? "/.zarray" : "/zarr.json", new TextEncoder().encode(JSON.stringify(refused ? doc : forZarrita(doc))));
  if (zattrs && meta.zarrFormat === 2) files.set("/.zattrs", new TextEncoder().encode(normalizeJson(new TextDecoder().decode(zattrs))));
  const sharding = refused ? null : shardingOf(doc);
  const ownShards = sharding && sharding.indexLocation === "start" ? { s: sharding, inner: new TextEncoder().encode(JSON.stringify(innerDoc(doc, sharding))) } : null;
  const dec: Decoder = { meta, refused, files, reusable: null, ownShards };
  if (!meta.innerChunkShape && !refused) {
    const store = new MemoryStore(new Map(files));
    dec.reusable = open(meta, store).then(
      (arr) => ({ arr, store }),
      () => null, // the error is raised again, typed, by the one-off path
    );
  }
  decoders.set(metaDoc, dec);
  return dec;
}

async function open(meta: ArrayMeta, store: MemoryStore): Promise<AnyArray> {
  try {
    const z = await loadZarrita();
    return meta.zarrFormat === 2 ? await z.open.v2(store, { kind: "array" }) : await z.open.v3(store, { kind: "array" });
  } catch (err) {
    throw unavailable(meta, err);
  }
}

async function read(metaDoc: Uint8Array, zattrs: Uint8Array | null, index: number[], bytes: Uint8Array | null): Promise<DecodedChunk> {
  const dec = decoderFor(metaDoc, zattrs);
  const { meta } = dec;
  if (dec.refused) throw CodecUnavailableError.of(dec.refused);
  if (dec.ownShards) return readShardAtStart(dec.ownShards, index, bytes);
  if (index.length !== meta.shape.length || index.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new RangeError(`chunk index [${index}] does not fit a ${meta.shape.length}-d array`);
  }
  const key = `/${formatChunkKey(meta.keyEncoding, index)}` as zarr.AbsolutePath;
  const origin = index.map((n, d) => n * (meta.chunkShape[d] as number));
  try {
    const reused = dec.reusable ? await dec.reusable : null;
    if (reused) {
      // zarrita asks the store for the chunk synchronously inside getChunk: the bytes wait in a
      // one-call slot. Should a zarrita version ask later, the slot is withdrawn and this decoder
      // falls back to one array per chunk for good, so no call can ever read another's bytes.
      reused.store.arm(key, bytes);
      const pending = reused.arr.getChunk(index);
      if (reused.store.armed()) {
        reused.store.arm(null, null);
        dec.reusable = null;
        pending.catch(() => {});
      } else {
        const c = await pending;
        return { data: c.data, shape: c.shape, stride: c.stride, origin };
      }
    }
    const files = new Map(dec.files);
    if (bytes) files.set(key, bytes);
    const arr = await open(meta, new MemoryStore(files));
    if (!meta.innerChunkShape) {
      const c = await arr.getChunk(index);
      return { data: c.data, shape: c.shape, stride: c.stride, origin };
    }
    return { ...(await readShard(arr, meta, index, meta.innerChunkShape)), origin };
  } catch (err) {
    if (err instanceof TdvError) throw err;
    throw decodeFailure(meta, index, err);
  }
}

/** A whole shard: every inner chunk decoded by zarrita and copied into one C-order block of the shard's shape. */
async function readShard(arr: AnyArray, meta: ArrayMeta, shard: number[], inner: number[]): Promise<Omit<DecodedChunk, "origin">> {
  const shape = meta.chunkShape;
  const perShard = shape.map((n, d) => n / (inner[d] as number));
  const stride = cStrides(shape);
  const size = shape.reduce((a, b) => a * b, 1);
  const innerIndices = [...ndindex(perShard)];
  const chunks = await Promise.all(innerIndices.map((k) => arr.getChunk(k.map((n, d) => (shard[d] as number) * (perShard[d] as number) + n))));
  const first = chunks[0];
  if (!first) return { data: emptyLike(arr, 0), shape, stride };
  const data = emptyLike(arr, size, first.data);
  innerIndices.forEach((k, c) => {
    const chunk = chunks[c]!;
    const offset = k.reduce((acc, n, d) => acc + n * (inner[d] as number) * (stride[d] as number), 0);
    copyBox(chunk.data, chunk.stride, data, stride, offset, inner);
  });
  return { data, shape, stride };
}

/** A new container of `size` elements of the array's type (same kind as `like` when given). */
function emptyLike(arr: AnyArray, size: number, like?: ChunkData): ChunkData {
  if (like && (like as unknown) instanceof zarrita().UnicodeStringArray) {
    return new (zarrita().UnicodeStringArray)(size, (like as zarr.UnicodeStringArray).chars);
  }
  if (like && (like as unknown) instanceof zarrita().ByteStringArray) {
    return new (zarrita().ByteStringArray)(size, (like as zarr.ByteStringArray).chars);
  }
  if (like && Array.isArray(like)) return new Array<unknown>(size) as ChunkData;
  if (like) return new (like.constructor as new (n: number) => ChunkData)(size);
  return arr.dtype === "bool" ? new (zarrita().BoolArray)(size) : ([] as unknown as ChunkData);
}

/** Copy a box of `shape` from `src` (strides `srcStride`, from 0) into `dst` (strides `dstStride`, from `dstOffset`). */
function copyBox(src: ChunkData, srcStride: readonly number[], dst: ChunkData, dstStride: readonly number[], dstOffset: number, shape: readonly number[]): void {
  const nd = shape.length;
  if (nd === 0) {
    copyRun(src, 0, 1, dst, dstOffset, 1, 1);
    return;
  }
  const last = nd - 1;
  const outer = shape.slice(0, last);
  const n = shape[last] as number;
  for (const idx of ndindex(outer)) {
    let s = 0;
    let t = dstOffset;
    for (let d = 0; d < last; d++) {
      s += (idx[d] as number) * (srcStride[d] as number);
      t += (idx[d] as number) * (dstStride[d] as number);
    }
    copyRun(src, s, srcStride[last] as number, dst, t, dstStride[last] as number, n);
  }
}

function copyRun(src: ChunkData, s: number, ss: number, dst: ChunkData, t: number, ts: number, n: number): void {
  const plain = (x: ChunkData) => ArrayBuffer.isView(x) || Array.isArray(x);
  if (plain(src) && plain(dst)) {
    const a = src as unknown as ArrayLike<unknown>;
    const b = dst as unknown as Record<number, unknown>;
    for (let i = 0; i < n; i++) b[t + i * ts] = a[s + i * ss];
    return;
  }
  const set = (dst as unknown as { set: (i: number, v: unknown) => void }).set.bind(dst);
  for (let i = 0; i < n; i++) set(t + i * ts, elementAt(src, s + i * ss));
}

function cStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) stride[d] = (stride[d + 1] as number) * (shape[d + 1] as number);
  return stride;
}

/**
 * Every index of a box of `shape`, in C order (one empty index for 0-d), in
 * one array updated in place: copy an index to keep it (ndindex does).
 */
export function* boxIndices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((n) => n <= 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield idx;
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      if (++(idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Every index of a box of `shape`, in C order (one empty index for 0-d), each its own array. */
export function* ndindex(shape: readonly number[]): Generator<number[]> {
  for (const idx of boxIndices(shape)) yield idx.slice();
}

// ---- errors -------------------------------------------------------------------

function unavailable(meta: ArrayMeta, err: unknown): unknown {
  if (zarrita().isZarritaError(err, "UnknownCodecError")) return new CodecUnavailableError(err.codec, "zarrita has no such codec", err);
  if (zarrita().isZarritaError(err, "InvalidMetadataError", "UnsupportedError")) {
    return new CodecUnavailableError(meta.codecs.join(",") || meta.dtype, err.message, err);
  }
  if (err instanceof Error && /unknown|unsupported|not supported|invalid/i.test(err.message)) {
    // zarrita refuses some data types with a plain Error ("Unknown or unsupported dtype")
    return new CodecUnavailableError(meta.dtype, err.message, err);
  }
  return err;
}

function decodeFailure(meta: ArrayMeta, index: number[], err: unknown): unknown {
  if (zarrita().isZarritaError(err, "UnknownCodecError")) return new CodecUnavailableError(err.codec, "zarrita has no such codec", err);
  if (zarrita().isZarritaError(err, "UnsupportedError", "InvalidMetadataError")) return unavailable(meta, err);
  if (zarrita().isZarritaError(err, "CodecPipelineError")) {
    const cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
    // zarrita's codecs that cannot decode a configuration say "not implemented" or "unsupported":
    // the array cannot be decoded here (CodecUnavailableError), which is not a damaged chunk
    if (err.direction === "decode" && /not implemented|unsupported/i.test(cause)) {
      return new CodecUnavailableError(err.codec ?? "?", cause, err);
    }
    return new ChunkDecodeError(index, err.codec ?? null, cause, err);
  }
  if (err instanceof RangeError || err instanceof TypeError || (err instanceof Error && !(err instanceof TdvError))) {
    // a codec that read past the end of its input, a shard index pointing outside the file, ...
    return new ChunkDecodeError(index, null, err.message, err);
  }
  return err;
}

// ---- JSON with bare NaN / Infinity -------------------------------------------------

/**
 * zarr-python writes bare `NaN`, `Infinity` and `-Infinity` in metadata
 * documents; zarrita's JSON.parse rejects them. Outside strings, replace them
 * with the strings the Zarr specs use for those fill values.
 */
function normalizeJson(text: string): string {
  return replaceNonFinite(text, (word) => JSON.stringify(word));
}

/**
 * A whole shard whose index zarrita does not read (at the start of the
 * file), assembled from its inner chunks (src/zarr/shard.ts), each decoded as
 * a chunk of the inner document. Numeric data only (typed arrays).
 */
async function readShardAtStart(own: { s: Sharding; inner: Uint8Array }, index: number[], bytes: Uint8Array | null): Promise<DecodedChunk> {
  const { s } = own;
  const shape = s.inner.map((n, d) => n * (s.perShard[d] as number));
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const total = shape.reduce((a, b) => a * b, 1);
  const parts = innerChunks(s, bytes, index);
  let out: (ArrayLike<unknown> & { [i: number]: unknown }) | null = null;
  for (let k = 0; k < parts.length; k++) {
    // inner chunk k (C order inside the shard) and its array-wide index
    let rest = k;
    const pos = s.perShard.map(() => 0);
    for (let d = s.perShard.length - 1; d >= 0; d--) {
      pos[d] = rest % (s.perShard[d] as number);
      rest = Math.floor(rest / (s.perShard[d] as number));
    }
    const global = pos.map((p, d) => (index[d] as number) * (s.perShard[d] as number) + p);
    const part = parts[k];
    const c = part ? await decodeChunk(own.inner, null, global, part) : await fillChunk(own.inner, global);
    if (!ArrayBuffer.isView(c.data)) throw new CodecUnavailableError("sharding_indexed", "a shard with its index at the start holds non-numeric data, which tdv does not assemble");
    out ??= new (c.data.constructor as new (n: number) => ArrayLike<unknown> & { [i: number]: unknown })(total);
    for (const idx of ndindex(s.inner)) {
      let src = 0;
      let dst = 0;
      for (let d = 0; d < idx.length; d++) {
        src += (idx[d] as number) * (c.stride[d] as number);
        dst += ((pos[d] as number) * (s.inner[d] as number) + (idx[d] as number)) * (stride[d] as number);
      }
      out[dst] = (c.data as unknown as ArrayLike<unknown>)[src];
    }
  }
  return { data: out as unknown as ChunkData, shape, stride, origin: index.map((i, d) => i * (shape[d] as number)) };
}
