/**
 * What tdv can decode faithfully: an allow-list per data type, codec and
 * codec parameter, checked on an array's metadata document before zarrita
 * sees it. zarrita reads some configurations differently from numcodecs
 * (it shuffles with the dtype's itemsize whatever `elementsize` says, and
 * its delta ignores `astype`): decoding those gives wrong values without an
 * error. Anything not on the list is refused with what and why, so callers
 * fall back to bytes (diff) and whole chunks (merge), never to wrong values.
 *
 *   const r = refusal(doc);          // null, or { codec, setting } / { dtype }
 *   const d = forZarrita(doc);       // the document zarrita opens: tdv's own codecs swapped in
 *
 * Settings tdv implements itself rather than refuses: numcodecs `shuffle`
 * with any `elementsize` (a plain byte shuffle, `tdv.shuffle`), numcodecs
 * `fixedscaleoffset` on float arrays (`tdv.fixedscaleoffset`), and a
 * numeric fill value of a fixed-length unicode array (numpy reads `0` as "0").
 */

import { fsoType } from "./fixedscaleoffset.js";

type Json = Record<string, unknown>;

/** Why an array's values cannot be decoded: its data type, or one codec and one of its settings. */
export type Refusal = { kind: "dtype"; dtype: string; detail: string } | { kind: "codec"; codec: string; setting: string; detail: string };

/** A parameter check: null when the value is honoured, else what is wrong with it. */
type Check = (value: unknown, ctx: Ctx) => string | null;

interface Ctx {
  /** the array's data type as numpy spells it ("<f8"), when it has one */
  numpy: string | null;
  itemsize: number | null;
  order: "C" | "F";
  v3: boolean;
}

const any: Check = () => null;
const oneOf =
  (...ok: unknown[]): Check =>
  (v) =>
    ok.includes(v) ? null : `${JSON.stringify(v)} is not one of ${ok.map((x) => JSON.stringify(x)).join(", ")}`;
const int: Check = (v) => (typeof v === "number" && Number.isInteger(v) ? null : `${JSON.stringify(v)} is not an integer`);
const positiveInt: Check = (v) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? null : `${JSON.stringify(v)} is not a positive integer`);
/** numcodecs' delta `dtype`/`astype`: must be the array's own data type, else the stored bytes are another type */
const arrayDtype: Check = (v, ctx) => {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || ctx.numpy === null || normalizeNumpy(v) !== normalizeNumpy(ctx.numpy)) {
    return `${JSON.stringify(v)} differs from the array's data type ${JSON.stringify(ctx.numpy)} (tdv's delta decodes in the array's type only)`;
  }
  return null;
};

const finite: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? null : `${JSON.stringify(v)} is not a finite number`);
const nonZero: Check = (v, ctx) => finite(v, ctx) ?? (v === 0 ? "0 divides by zero" : null);
/** fixedscaleoffset applies to little-endian float32/float64 arrays only (tdv.fixedscaleoffset) */
const fsoArray = (ctx: Ctx): string | null =>
  /^<f[48]$/.test(ctx.numpy ?? "") ? null : `tdv's fixedscaleoffset decodes little-endian float32/float64 arrays only, not ${JSON.stringify(ctx.numpy)}`;
/** fixedscaleoffset's dtype: the array's own */
const fsoDtype: Check = (v, ctx) => fsoArray(ctx) ?? arrayDtype(v, ctx);
/** fixedscaleoffset's astype: a float, or an integer of at most 32 bits, stored little-endian */
const fsoAstype: Check = (v, ctx) =>
  fsoArray(ctx) ?? (v === undefined || v === null || fsoType(v) ? null : `${JSON.stringify(v)} is not a little-endian float or integer of at most 32 bits`);

const BLOSC_CNAMES = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"];

/** numcodecs codecs (v2 filter/compressor ids; v3 `numcodecs.<id>`): parameter → check. */
const NUMCODECS: Record<string, Record<string, Check>> = {
  zlib: { level: int },
  gzip: { level: int },
  // blosc frames describe themselves (typesize, shuffle, compressor): decoding honours any setting
  blosc: { cname: oneOf(...BLOSC_CNAMES), clevel: int, shuffle: oneOf(-1, 0, 1, 2), blocksize: int, typesize: any },
  lz4: { acceleration: int },
  zstd: { level: int, checksum: oneOf(true, false) },
  shuffle: { elementsize: positiveInt }, // tdv.shuffle
  delta: { dtype: arrayDtype, astype: arrayDtype },
  bitround: { keepbits: int }, // decoding is the identity, in numcodecs too
  fixedscaleoffset: { offset: finite, scale: nonZero, dtype: fsoDtype, astype: fsoAstype }, // tdv.fixedscaleoffset
  "vlen-utf8": {},
  json2: { encoding: any, skipkeys: any, ensure_ascii: any, check_circular: any, allow_nan: any, sort_keys: any, indent: any, separators: any, strict: any },
};

/** Codecs of the Zarr v3 spec (and zarrita's v3 names): parameter → check. */
const V3: Record<string, Record<string, Check>> = {
  bytes: { endian: oneOf("little", "big") },
  transpose: { order: any },
  gzip: { level: int },
  zlib: { level: int },
  zstd: { level: int, checksum: oneOf(true, false) },
  blosc: { cname: oneOf(...BLOSC_CNAMES), clevel: int, shuffle: oneOf("noshuffle", "shuffle", "bitshuffle"), typesize: any, blocksize: int },
  lz4: { acceleration: int },
  crc32c: {},
  "vlen-utf8": {},
  // zarrita reads the shard index at the end only; tdv reads one at the start itself (decode.ts readShard, index codecs bytes ± crc32c)
  sharding_indexed: { chunk_shape: any, codecs: any, index_codecs: any, index_location: oneOf("end", "start") },
};

const V2_DTYPE = /^[<>|]?(b1|i1|u1|i2|u2|i4|u4|i8|u8|f4|f8|U\d+|S\d+)$/;
const V3_DTYPES = new Set(["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "string"]);
const V3_NUMPY: Record<string, string> = {
  bool: "|b1",
  int8: "|i1",
  uint8: "|u1",
  int16: "<i2",
  uint16: "<u2",
  int32: "<i4",
  uint32: "<u4",
  int64: "<i8",
  uint64: "<u8",
  float16: "<f2",
  float32: "<f4",
  float64: "<f8",
};

function float16(): boolean {
  return typeof (globalThis as { Float16Array?: unknown }).Float16Array === "function";
}

/** "f8" and "<f8" name the same type; "|u1", "u1" and "<u1" too; a v3 name ("float64") its numpy spelling. */
function normalizeNumpy(s: string): string {
  if (V3_NUMPY[s]) return V3_NUMPY[s] as string;
  const m = /^([<>|=]?)([a-zA-Z]\d*)$/.exec(s);
  if (!m) return s;
  const [, endian, rest] = m as unknown as [string, string, string];
  const size = Number(/\d+$/.exec(rest)?.[0] ?? "0");
  return `${size <= 1 ? "|" : endian === ">" ? ">" : "<"}${rest}`;
}

function itemsizeOf(numpy: string | null): number | null {
  if (numpy === null) return null;
  const m = /^[<>|]?([biuf])(\d+)$/.exec(numpy);
  return m ? Number(m[2]) : null;
}

/** Why the array described by `doc` (a parsed .zarray or zarr.json) cannot be decoded faithfully, or null. */
export function refusal(doc: Json): Refusal | null {
  if (doc.zarr_format === 2) return refusalV2(doc);
  return refusalV3(doc);
}

function refusalV2(doc: Json): Refusal | null {
  const dtype = doc.dtype;
  const name = typeof dtype === "string" ? dtype : JSON.stringify(dtype);
  const filters = Array.isArray(doc.filters) ? (doc.filters as Json[]) : [];
  const compressor = doc.compressor && typeof doc.compressor === "object" ? (doc.compressor as Json) : null;
  const objectCodec = filters.some((f) => f?.id === "vlen-utf8" || f?.id === "json2");
  const ok = typeof dtype === "string" && (V2_DTYPE.test(dtype) || (/^[<>|]?f2$/.test(dtype) && float16()) || (dtype === "|O" && objectCodec));
  if (!ok) return { kind: "dtype", dtype: name, detail: dtypeDetail(name) };
  const numpy = typeof dtype === "string" && dtype !== "|O" ? dtype : null;
  const ctx: Ctx = { numpy, itemsize: itemsizeOf(numpy), order: doc.order === "F" ? "F" : "C", v3: false };
  for (const c of [...filters, ...(compressor ? [compressor] : [])]) {
    const r = checkCodec(String(c?.id), NUMCODECS[String(c?.id)], withoutKey(c, "id"), ctx);
    if (r) return r;
  }
  return null;
}

function refusalV3(doc: Json): Refusal | null {
  const dt = doc.data_type;
  const name = typeof dt === "string" ? dt : JSON.stringify(dt);
  const ok = typeof dt === "string" && (V3_DTYPES.has(dt) || (dt === "float16" && float16()));
  if (!ok) return { kind: "dtype", dtype: name, detail: dtypeDetail(name) };
  const numpy = V3_NUMPY[dt] ?? null;
  const ctx: Ctx = { numpy, itemsize: itemsizeOf(numpy), order: "C", v3: true };
  return checkV3List(doc.codecs, ctx);
}

function checkV3List(list: unknown, ctx: Ctx): Refusal | null {
  if (!Array.isArray(list)) return null; // the metadata parser reports a malformed list
  for (const c of list as unknown[]) {
    const o = typeof c === "string" ? { name: c } : (c as Json);
    const name = String(o?.name);
    const config = (o?.configuration ?? {}) as Json;
    const table = name.startsWith("numcodecs.") ? NUMCODECS[name.slice("numcodecs.".length)] : V3[name];
    const r = checkCodec(name, table, config, ctx);
    if (r) return r;
    if (name === "sharding_indexed") {
      const inner = checkV3List(config.codecs, ctx) ?? checkV3List(config.index_codecs, { ...ctx, numpy: "<u8", itemsize: 8 });
      if (inner) return inner;
    }
  }
  return null;
}

function checkCodec(name: string, table: Record<string, Check> | undefined, config: Json, ctx: Ctx): Refusal | null {
  if (!table) return { kind: "codec", codec: name, setting: "", detail: "tdv has no decoder for this codec" };
  for (const [key, value] of Object.entries(config ?? {})) {
    const check = table[key];
    if (!check) return { kind: "codec", codec: name, setting: `${key}=${JSON.stringify(value)}`, detail: `tdv's decoder does not honour '${key}'` };
    const why = check(value, ctx);
    if (why) return { kind: "codec", codec: name, setting: `${key}=${JSON.stringify(value)}`, detail: why };
  }
  const id = name.replace(/^numcodecs\./, "");
  if (id === "fixedscaleoffset") {
    const why = fsoArray(ctx);
    if (why) return { kind: "codec", codec: name, setting: `dtype=${JSON.stringify(ctx.numpy)}`, detail: why };
  }
  if (id === "delta" && ctx.order === "F") {
    return { kind: "codec", codec: name, setting: "order=F", detail: "delta over a Fortran-ordered chunk is not checked against numcodecs" };
  }
  return null;
}

function dtypeDetail(name: string): string {
  if (/M8|m8|datetime|timedelta/.test(name)) return "datetime64 and timedelta64 are not decoded (zarrita has no such type)";
  if (/c8|c16|complex/.test(name)) return "complex numbers are not decoded (zarrita has no such type)";
  if (/f2|float16/.test(name)) return "float16 needs Float16Array, which this Node.js lacks";
  if (name.startsWith("[") || name.startsWith("{")) return "structured data types are not decoded";
  return "zarrita cannot decode this data type";
}

function withoutKey(o: Json, key: string): Json {
  const { [key]: _drop, ...rest } = o ?? {};
  return rest;
}

/** A refusal as one line: what is unsupported and what still works. */
export function describeRefusal(r: Refusal): string {
  const what = r.kind === "dtype" ? `data type '${r.dtype}'` : `codec '${r.codec}'${r.setting ? ` with ${r.setting}` : ""}`;
  return `${what}: ${r.detail}`;
}

// ---- the document zarrita opens -----------------------------------------------

/** The name tdv's own shuffle codec is registered under (zarrita prefixes v2 ids with "numcodecs."). */
export const TDV_SHUFFLE = "tdv.shuffle";
/** The name of tdv's numcodecs FixedScaleOffset (src/zarr/fixedscaleoffset.ts). */
export const TDV_FIXEDSCALEOFFSET = "tdv.fixedscaleoffset";

/**
 * `doc` as zarrita must see it to decode as numcodecs does: numcodecs'
 * shuffle becomes tdv.shuffle with an explicit elementsize (v2 default 4;
 * v3 `numcodecs.shuffle` default the itemsize, as numcodecs.zarr3 does), and
 * a number as the fill value of a unicode array becomes the string numpy
 * makes of it. Call after `refusal(doc)` returned null.
 */
export function forZarrita(doc: Json): Json {
  if (doc.zarr_format === 2) {
    const out: Json = { ...doc };
    if (Array.isArray(doc.filters)) {
      out.filters = (doc.filters as Json[]).map((f) =>
        f?.id === "shuffle" ? { id: TDV_SHUFFLE, elementsize: f.elementsize ?? 4 } : f?.id === "fixedscaleoffset" ? { ...f, id: TDV_FIXEDSCALEOFFSET } : f,
      );
    }
    if (typeof doc.dtype === "string" && /^[<>|]?U\d+$/.test(doc.dtype) && typeof doc.fill_value === "number" && Number.isInteger(doc.fill_value)) {
      out.fill_value = String(doc.fill_value);
    }
    return out;
  }
  const itemsize = itemsizeOf(V3_NUMPY[String(doc.data_type)] ?? null) ?? 1;
  return { ...doc, codecs: renameV3(doc.codecs, itemsize) };
}

function renameV3(list: unknown, itemsize: number): unknown {
  if (!Array.isArray(list)) return list;
  return (list as unknown[]).map((c) => {
    if (typeof c !== "object" || c === null) return c;
    const o = c as Json;
    const config = (o.configuration ?? {}) as Json;
    if (o.name === "numcodecs.shuffle") return { name: TDV_SHUFFLE, configuration: { elementsize: config.elementsize ?? itemsize } };
    if (o.name === "sharding_indexed") return { ...o, configuration: { ...config, codecs: renameV3(config.codecs, itemsize), index_codecs: renameV3(config.index_codecs, 8) } };
    return o;
  });
}

// ---- tdv's shuffle ------------------------------------------------------------------

/**
 * numcodecs' Shuffle: byte `b` of element `i` goes to `b * count + i`, with
 * `count = length / elementsize`; a length that is not a multiple of
 * elementsize is an error (numcodecs refuses it too).
 */
export class ShuffleCodec {
  readonly kind = "bytes_to_bytes" as const;
  constructor(readonly elementsize: number) {}
  static fromConfig(config: { elementsize?: number } | undefined): ShuffleCodec {
    return new ShuffleCodec(config?.elementsize ?? 4);
  }
  encode(bytes: Uint8Array): Uint8Array {
    return this.move(bytes, true);
  }
  decode(bytes: Uint8Array): Uint8Array {
    return this.move(bytes, false);
  }
  private move(src: Uint8Array, forward: boolean): Uint8Array {
    const size = this.elementsize;
    if (size <= 1) return src.slice();
    if (src.length % size !== 0) throw new Error(`shuffle: ${src.length} bytes are not a multiple of elementsize ${size}`);
    const count = src.length / size;
    const out = new Uint8Array(src.length);
    for (let i = 0; i < count; i++) {
      for (let b = 0; b < size; b++) {
        if (forward) out[b * count + i] = src[i * size + b] as number;
        else out[i * size + b] = src[b * count + i] as number;
      }
    }
    return out;
  }
}
