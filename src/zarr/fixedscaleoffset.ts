/**
 * numcodecs' FixedScaleOffset (0.11) with numpy 1.x's arithmetic, as
 * tdv's own array-to-array codec (`tdv.fixedscaleoffset`): zarrita decodes
 * the v2 filter through its own scale_offset + cast_value pair, which cannot
 * encode, so merged chunks of such arrays could not be written.
 *
 *   encode: enc = around((arr - offset) * scale).astype(astype)
 *           computed in the array's float type (numpy casts the Python
 *           scalars to float32 for a float32 array); around is round half
 *           to even
 *   decode: dec = (enc / scale + offset).astype(dtype)
 *           computed in float64 for an integer astype (numpy's true
 *           division of integers), else in astype's float type
 *
 * What is allowed (src/zarr/support.ts checks it first): a little-endian
 * float32/float64 array, astype a float of either width or an integer of at
 * most 32 bits, stored little-endian. A value that does not fit astype
 * (numpy's cast of it is undefined) is an encoding error, never wrapped.
 */

type Json = Record<string, unknown>;
type Ctr = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** numpy type letters+size → zarrita's (v3) data type name and its range. */
export const FSO_ASTYPES: Record<string, { name: string; min: number; max: number; float: boolean }> = {
  f4: { name: "float32", min: -Infinity, max: Infinity, float: true },
  f8: { name: "float64", min: -Infinity, max: Infinity, float: true },
  i1: { name: "int8", min: -128, max: 127, float: false },
  u1: { name: "uint8", min: 0, max: 255, float: false },
  i2: { name: "int16", min: -32768, max: 32767, float: false },
  u2: { name: "uint16", min: 0, max: 65535, float: false },
  i4: { name: "int32", min: -2147483648, max: 2147483647, float: false },
  u4: { name: "uint32", min: 0, max: 4294967295, float: false },
};

const CTORS: Record<string, new (n: number) => Ctr> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
};

/** "<u2", "|u1", "u2" → "u2"; null when not one of FSO_ASTYPES. */
export function fsoType(s: unknown): string | null {
  const m = typeof s === "string" ? /^[<|=]?([fiu]\d)$/.exec(s) : null;
  return m && FSO_ASTYPES[m[1] as string] ? (m[1] as string) : null;
}

/** numpy's rint: round half to even. */
export function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

interface Chunk {
  data: ArrayLike<number>;
  shape: number[];
  stride: number[];
}

export class FixedScaleOffsetCodec {
  readonly kind = "array_to_array" as const;
  constructor(
    readonly offset: number,
    readonly scale: number,
    /** the array's type: "float32" | "float64" */
    readonly dtype: string,
    /** the stored type, zarrita's name */
    readonly astype: string,
  ) {}

  static fromConfig(config: Json, meta: { dataType: string }): FixedScaleOffsetCodec {
    const astype = fsoType(config.astype ?? config.dtype);
    if (!astype) throw new Error(`fixedscaleoffset: astype ${JSON.stringify(config.astype)} is not supported`);
    if (meta.dataType !== "float32" && meta.dataType !== "float64") throw new Error(`fixedscaleoffset: data type ${meta.dataType} is not supported`);
    return new FixedScaleOffsetCodec(Number(config.offset), Number(config.scale), meta.dataType, (FSO_ASTYPES[astype] as { name: string }).name);
  }

  /** The stored type and fill value the codecs after this one see. */
  getEncodedMeta<M extends { dataType: string; fillValue?: unknown }>(meta: M): M {
    const fill = typeof meta.fillValue === "number" ? this.encodeValue(meta.fillValue, true) : meta.fillValue;
    return { ...meta, dataType: this.astype, fillValue: fill };
  }

  private encodeValue(v: number, lenient = false): number {
    const f32 = this.dtype === "float32";
    const r = f32 ? Math.fround : (x: number) => x;
    const e = rint(r(r(v - r(this.offset)) * r(this.scale)));
    const info = Object.values(FSO_ASTYPES).find((t) => t.name === this.astype) as { min: number; max: number; float: boolean };
    if (info.float) return e;
    if (!Number.isFinite(e) || e < info.min || e > info.max) {
      if (lenient) return 0;
      throw new Error(`fixedscaleoffset: ${v} encodes to ${e}, outside ${this.astype} (numpy's cast of it is undefined)`);
    }
    return e === 0 ? 0 : e; // -0 → 0, as the integer cast does
  }

  encode(chunk: Chunk): Chunk {
    const Out = CTORS[this.astype] as new (n: number) => Ctr;
    const out = new Out(chunk.data.length);
    for (let i = 0; i < chunk.data.length; i++) out[i] = this.encodeValue(chunk.data[i] as number);
    return { data: out as unknown as ArrayLike<number>, shape: chunk.shape, stride: chunk.stride };
  }

  decode(chunk: Chunk): Chunk {
    const Out = CTORS[this.dtype] as new (n: number) => Ctr;
    const out = new Out(chunk.data.length);
    // integer astype: float64 arithmetic; float astype: its own width
    const r = this.astype === "float32" ? Math.fround : (x: number) => x;
    const scale = r(this.scale);
    const offset = r(this.offset);
    for (let i = 0; i < chunk.data.length; i++) out[i] = r(r((chunk.data[i] as number) / scale) + offset);
    return { data: out as unknown as ArrayLike<number>, shape: chunk.shape, stride: chunk.stride };
  }
}
