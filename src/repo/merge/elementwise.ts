/**
 * Element-wise merge of one chunk changed on both sides: decode base, ours
 * and theirs (a missing chunk is the fill value), take each element from the
 * side that changed it, and re-encode with the array's codecs. An element is
 * in conflict only when both sides changed it to different values. Floats
 * compare and copy by their bits: -0 is not 0, a NaN equals a NaN of the
 * same bits, payloads survive. Elements outside a side's shape (an array grown on the other
 * side) are "absent" there: growing is a change, absence is not a value.
 */
import type * as zarr from "zarrita";
import { zarrita } from "../../zarr/zarrita.js";
import { decodeChunk, fillChunk, ndindex, readJson, type DecodedChunk } from "../../zarr/decode.js";
import { innerChunks, innerDoc, shardingOf, writeShard, type Sharding } from "../../zarr/shard.js";
import { encodeChunk } from "../../zarr/encode.js";
import { bitsOf, elementAt, sameElement } from "../../zarr/bits.js";
import type { ElementConflict, ElementValue, Side, Sides } from "./types.js";

/** What each side has for the chunk: the array's metadata document and the chunk file (null: missing). */
export interface ChunkSide {
  metaDoc: Uint8Array;
  /** `.zattrs` of a v2 array (zarrita reads dimension names from it), else null */
  zattrs: Uint8Array | null;
  /** the array's shape on that side */
  shape: number[];
  bytes: Uint8Array | null;
}

export interface ChunkMergeInput {
  chunk: number[];
  sides: Sides<ChunkSide>;
  /** the merged array's metadata document (codecs to encode with) and shape */
  merged: { metaDoc: Uint8Array; shape: number[] };
  /** the side whose value conflicting elements take; null: ours, and they stay conflicts */
  prefer: Side | null;
  /** how many conflicting elements to keep as examples */
  examples?: number;
}

export type ChunkMergeResult = {
  /** the merged chunk: one side's file unchanged, or new bytes ("delete": all fill and one side has no file) */
  result: { kind: "side"; side: Side } | { kind: "bytes"; bytes: Uint8Array };
  /** elements both sides changed to different values */
  conflicts: { count: number; examples: ElementConflict[] };
  /** elements taken from theirs (changed by theirs only, or conflicts settled for theirs) */
  fromTheirs: number;
  /** a sharded array: the inner chunks (array-wide inner chunk indices) holding conflicting elements */
  innerChunks?: number[][];
};

const ABSENT: unique symbol = Symbol("absent");
type Value = unknown;

/**
 * How to compare and copy the elements of three sides: by their bits when
 * all three are float arrays of one width, else by value.
 */
function comparer(b: DecodedChunk, o: DecodedChunk, t: DecodedChunk) {
  const bits = [bitsOf(b.data), bitsOf(o.data), bitsOf(t.data)];
  const [bb, bo, bt] = bits;
  if (bb && bo && bt && bits.every((x) => x?.constructor === bo.constructor)) {
    return { b: (i: number): Value => bb[i], o: (i: number): Value => bo[i], t: (i: number): Value => bt[i], same: (x: Value, y: Value) => x === y, bits: bt };
  }
  return { b: (i: number) => elementAt(b.data, i), o: (i: number) => elementAt(o.data, i), t: (i: number) => elementAt(t.data, i), same: sameElement, bits: null };
}

/** A value as conflict records hold it: JSON-safe. */
export function plainValue(v: Value): ElementValue {
  if (v === ABSENT || v === undefined || v === null) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean" || typeof v === "string") return v;
  return String(v);
}

async function decodeSide(s: ChunkSide, chunk: number[]): Promise<DecodedChunk> {
  return s.bytes ? decodeChunk(s.metaDoc, s.zattrs, chunk, s.bytes) : fillChunk(s.metaDoc, chunk);
}

/** Flat offsets of a chunk's elements in C order of their coordinates, and those coordinates. */
function* elements(shape: readonly number[], stride: readonly number[]): Generator<{ off: number; idx: number[] }> {
  if (shape.some((n) => n === 0)) return;
  const idx = shape.map(() => 0);
  for (;;) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += (idx[d] as number) * (stride[d] as number);
    yield { off, idx };
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** A writable copy of decoded data (typed arrays and zarrita's BoolArray). */
function copyOf(data: DecodedChunk["data"]): { data: DecodedChunk["data"]; set: (i: number, v: unknown) => void } {
  if (ArrayBuffer.isView(data)) {
    const copy = (data as unknown as { slice: () => DecodedChunk["data"] }).slice();
    const w = copy as unknown as Record<number, unknown>;
    return {
      data: copy,
      set: (i, v) => {
        w[i] = v;
      },
    };
  }
  if ((data as unknown) instanceof zarrita().BoolArray) {
    const d = data as unknown as zarr.BoolArray;
    const copy = new (zarrita().BoolArray)(d.length);
    for (let i = 0; i < d.length; i++) copy.set(i, d.get(i));
    return { data: copy as unknown as DecodedChunk["data"], set: (i, v) => copy.set(i, v as boolean) };
  }
  throw new ElementwiseUnsupported(`element-wise merge supports numeric and boolean data types, not ${(data as object).constructor.name}`);
}

/** The chunk cannot be merged element by element (data type, sharding, codec); `message` says why. */
export class ElementwiseUnsupported extends Error {}

export async function mergeChunk(input: ChunkMergeInput): Promise<ChunkMergeResult> {
  const sharding = shardingShared(input);
  if (sharding) return mergeShard(input, sharding);
  const { chunk, sides, merged, prefer, examples: maxExamples = 5 } = input;
  const [b, o, t] = await Promise.all([decodeSide(sides.base, chunk), decodeSide(sides.ours, chunk), decodeSide(sides.theirs, chunk)]);
  const shape = o.shape;
  for (const x of [b, t]) {
    if (x.shape.length !== shape.length || x.shape.some((n, d) => n !== shape[d])) {
      throw new ElementwiseUnsupported(`the chunk shape differs between the sides ([${x.shape}] and [${shape}])`);
    }
  }
  const origin = o.origin;
  const inBounds = (s: readonly number[], idx: readonly number[]) => idx.every((n, d) => (origin[d] as number) + n < (s[d] as number));
  const fullyOutside = origin.some((n, d) => n >= (merged.shape[d] as number));

  const out = copyOf(o.data);
  const cmp = comparer(b, o, t);
  const outBits = cmp.bits ? bitsOf(out.data) : null;
  /** element `i` of the result takes theirs' element `j` (bits and all) */
  const takeTheirs = (i: number, j: number) => {
    if (outBits && cmp.bits) outBits[i] = cmp.bits[j] as never;
    else out.set(i, elementAt(t.data, j));
  };
  const same = cmp.same;
  let count = 0;
  let fromTheirs = 0;
  let differsFromOurs = false;
  let differsFromTheirs = false;
  const examples: ElementConflict[] = [];
  const sameLayout = [b, t].every((x) => x.stride.every((n, d) => n === o.stride[d]));
  const inside = (s: readonly number[]) => origin.every((n, d) => n + (shape[d] as number) <= (s[d] as number));
  if (sameLayout && !fullyOutside && [sides.base.shape, sides.ours.shape, sides.theirs.shape, merged.shape].every(inside)) {
    // the common case, an interior chunk with one memory layout: a flat loop, coordinates only for examples
    const n = (o.data as { length: number }).length;
    for (let i = 0; i < n; i++) {
      const vo = cmp.o(i);
      const vt = cmp.t(i);
      if (same(vo, vt)) continue;
      const vb = cmp.b(i);
      if (same(vo, vb)) {
        takeTheirs(i, i);
        fromTheirs++;
        differsFromOurs = true;
      } else if (same(vt, vb)) {
        differsFromTheirs = true;
      } else {
        count++;
        if (examples.length < maxExamples) {
          const values = { base: plainValue(elementAt(b.data, i)), ours: plainValue(elementAt(o.data, i)), theirs: plainValue(elementAt(t.data, i)) };
          examples.push({ coords: coordsOf(i, o.stride, shape).map((c, d) => (origin[d] as number) + c), values });
        }
        if (prefer === "theirs") {
          takeTheirs(i, i);
          fromTheirs++;
          differsFromOurs = true;
        } else differsFromTheirs = true;
      }
    }
    return finish();
  }
  const it = { b: elements(b.shape, b.stride), o: elements(o.shape, o.stride), t: elements(t.shape, t.stride) };
  for (let eo = it.o.next(); !eo.done; eo = it.o.next()) {
    const eb = it.b.next().value as { off: number };
    const et = it.t.next().value as { off: number };
    const idx = eo.value.idx;
    const inO = inBounds(sides.ours.shape, idx);
    const inT = inBounds(sides.theirs.shape, idx);
    const inB = inBounds(sides.base.shape, idx);
    const vo: Value = inO ? cmp.o(eo.value.off) : ABSENT;
    const vt: Value = inT ? cmp.t(et.off) : ABSENT;
    const vb: Value = inB ? cmp.b(eb.off) : ABSENT;
    const eq = (x: Value, y: Value) => (x === ABSENT || y === ABSENT ? x === y : same(x, y));
    let take: Side = "ours";
    const relevant = !fullyOutside && inBounds(merged.shape, idx);
    if (!relevant) take = vo === ABSENT && vt !== ABSENT ? "theirs" : "ours";
    else if (eq(vo, vt)) take = "ours";
    else if (eq(vo, vb)) take = "theirs"; // only theirs changed it
    else if (eq(vt, vb)) take = "ours"; // only ours changed it
    else {
      count++;
      if (examples.length < maxExamples) {
        const shown = (inside: boolean, data: DecodedChunk["data"], off: number) => plainValue(inside ? elementAt(data, off) : ABSENT);
        examples.push({ coords: idx.map((n, d) => (origin[d] as number) + n), values: { base: shown(inB, b.data, eb.off), ours: shown(inO, o.data, eo.value.off), theirs: shown(inT, t.data, et.off) } });
      }
      take = prefer ?? "ours";
    }
    const value = take === "theirs" ? cmp.t(et.off) : cmp.o(eo.value.off);
    if (take === "theirs") {
      takeTheirs(eo.value.off, et.off);
      if (relevant) fromTheirs++;
    }
    if (relevant && !eq(value, vo)) differsFromOurs = true;
    if (relevant && !eq(value, vt)) differsFromTheirs = true;
  }
  return finish();

  async function finish(): Promise<ChunkMergeResult> {
    const conflicts = { count, examples };
    if (fullyOutside) {
      // outside the merged array: keep no file when a side has none
      const side: Side = sides.ours.bytes === null || sides.theirs.bytes !== null ? "ours" : "theirs";
      return { result: { kind: "side", side }, conflicts, fromTheirs: 0 };
    }
    if (!differsFromOurs) return { result: { kind: "side", side: "ours" }, conflicts, fromTheirs };
    if (!differsFromTheirs) return { result: { kind: "side", side: "theirs" }, conflicts, fromTheirs };
    const bytes = await encodeChunk(merged.metaDoc, chunk, { data: out.data as never, shape: o.shape, stride: o.stride });
    return { result: { kind: "bytes", bytes }, conflicts, fromTheirs };
  }
}

// ---- sharded arrays: a shard is its inner chunks ----------------------------------

/** The sharding of the merged array when all three sides shard the same way (same configuration), else null. */
function shardingShared(input: ChunkMergeInput): Sharding | null {
  const docs = [input.merged.metaDoc, input.sides.base.metaDoc, input.sides.ours.metaDoc, input.sides.theirs.metaDoc].map((d) => readJson(d) as Record<string, unknown>);
  const s = shardingOf(docs[0]!);
  if (!s) return null;
  const config = (d: Record<string, unknown>) => JSON.stringify((d.codecs as unknown[] | undefined)?.[0]) + JSON.stringify(d.chunk_grid);
  return docs.every((d) => config(d) === config(docs[0]!)) ? s : null;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A shard changed on both sides, merged inner chunk by inner chunk: an inner
 * chunk only one side changed (by its stored bytes) is taken from that side
 * as it is; one both changed is merged element by element as a chunk of the
 * array seen unsharded (chunk shape = inner shape, codecs = the inner
 * codecs). The merged shard is written with the array's index codecs and
 * index location; when every inner chunk comes from one side, that side's
 * shard file is kept.
 */
async function mergeShard(input: ChunkMergeInput, s: Sharding): Promise<ChunkMergeResult> {
  const { chunk, sides, merged, prefer, examples: maxExamples = 5 } = input;
  const lists = {
    base: innerChunks(s, sides.base.bytes, chunk),
    ours: innerChunks(s, sides.ours.bytes, chunk),
    theirs: innerChunks(s, sides.theirs.bytes, chunk),
  };
  const asInner = (doc: Uint8Array) => new TextEncoder().encode(JSON.stringify(innerDoc(readJson(doc) as Record<string, unknown>, s)));
  const docs = { base: asInner(sides.base.metaDoc), ours: asInner(sides.ours.metaDoc), theirs: asInner(sides.theirs.metaDoc), merged: asInner(merged.metaDoc) };
  const out: (Uint8Array | null)[] = [];
  const examples: ElementConflict[] = [];
  const conflicting: number[][] = [];
  let count = 0;
  let fromTheirs = 0;
  let allOurs = true;
  let allTheirs = true;
  let k = 0;
  for (const local of ndindex(s.perShard)) {
    const [b, o, t] = [lists.base[k] ?? null, lists.ours[k] ?? null, lists.theirs[k] ?? null];
    k++;
    const index = local.map((n, d) => (chunk[d] as number) * (s.perShard[d] as number) + n);
    if (sameBytes(o, t)) {
      out.push(o);
      continue;
    }
    if (sameBytes(b, o)) {
      out.push(t);
      allOurs = false;
      continue;
    }
    if (sameBytes(b, t)) {
      out.push(o);
      allTheirs = false;
      continue;
    }
    const side = (doc: Uint8Array, from: ChunkSide, bytes: Uint8Array | null): ChunkSide => ({ metaDoc: doc, zattrs: null, shape: from.shape, bytes });
    const r = await mergeChunk({
      chunk: index,
      sides: { base: side(docs.base, sides.base, b), ours: side(docs.ours, sides.ours, o), theirs: side(docs.theirs, sides.theirs, t) },
      merged: { metaDoc: docs.merged, shape: merged.shape },
      prefer,
      examples: Math.max(0, maxExamples - examples.length),
    });
    count += r.conflicts.count;
    examples.push(...r.conflicts.examples);
    if (r.conflicts.count > 0) conflicting.push(index);
    fromTheirs += r.fromTheirs;
    if (r.result.kind === "side") {
      out.push(r.result.side === "ours" ? o : t);
      if (r.result.side === "ours") allTheirs = false;
      else allOurs = false;
    } else {
      out.push(r.result.bytes);
      allOurs = false;
      allTheirs = false;
    }
  }
  const conflicts = { count, examples };
  const extra = conflicting.length > 0 ? { innerChunks: conflicting } : {};
  if (allOurs) return { result: { kind: "side", side: "ours" }, conflicts, fromTheirs, ...extra };
  if (allTheirs) return { result: { kind: "side", side: "theirs" }, conflicts, fromTheirs, ...extra };
  return { result: { kind: "bytes", bytes: writeShard(s, out) }, conflicts, fromTheirs, ...extra };
}

/** Chunk coordinates of flat offset `off` for strides that are a permutation of a contiguous layout. */
function coordsOf(off: number, stride: readonly number[], shape: readonly number[]): number[] {
  const dims = shape.map((_, d) => d).sort((x, y) => (stride[y] as number) - (stride[x] as number));
  const out = shape.map(() => 0);
  let rest = off;
  for (const d of dims) {
    const st = stride[d] as number;
    out[d] = st > 0 ? Math.floor(rest / st) : 0;
    rest -= (out[d] as number) * st;
  }
  return out;
}
