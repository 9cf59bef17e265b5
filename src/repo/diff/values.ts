/**
 * How the data changed: decode each changed chunk on both sides (a missing
 * chunk is the fill value) and compare element by element, inside the array's
 * shape. Floats compare as their bits do: -0 differs from 0, a NaN equals a
 * NaN of the same bits. Chunks stream through a fixed number of slots, so memory stays at
 * about `concurrency` × 2 decoded chunks whatever the size of the change.
 */
import { isTdvError } from "../../errors.js";
import { mapLimit } from "../../store/atomic.js";
import { bitsOf, sameElement } from "../../zarr/bits.js";
import { boxIndices, decodeChunk, fillChunk, ndindex, readJson, type ChunkData, type DecodedChunk } from "../../zarr/decode.js";
import { innerChunks, innerDoc, shardingOf, type Sharding } from "../../zarr/shard.js";
import type { ArrayNodeDocs } from "./metadata.js";
import { toBoxes, type Box } from "./ranges.js";
import type { ChunkRef } from "./sides.js";
import type { RawArrayDiff } from "./structure.js";
import type { ValueDiff, ValueRange } from "./types.js";

export interface ValuesOutcome {
  values: ValueDiff | null;
  note: string | null;
}

interface Task {
  acc: Accumulator;
  index: number[];
  before: ChunkRef | null;
  after: ChunkRef | null;
  /** the chunk grid changed: the old side of new chunk `index` is assembled from the old chunks it overlaps */
  regrid?: Map<string, ChunkRef>;
  /** a sharded array: shard `index` is compared inner chunk by inner chunk */
  shards?: { before: Sharding; after: Sharding };
}

/** Values of every array in `arrays` (modified ones; others get a note), chunks at most `concurrency` at a time. */
export async function compareValues(
  arrays: readonly RawArrayDiff[],
  { concurrency = 4, onProgress }: { concurrency?: number; onProgress?: (p: { phase: string; done: number; total: number; bytes: number }) => void },
): Promise<Map<RawArrayDiff, ValuesOutcome>> {
  const out = new Map<RawArrayDiff, ValuesOutcome>();
  const tasks: Task[] = [];
  const accs: [RawArrayDiff, Accumulator][] = [];
  for (const a of arrays) {
    const reason = notComparable(a);
    if (reason !== undefined) {
      out.set(a, { values: null, note: reason });
      continue;
    }
    const shards = gridChanged(a) ? null : shardsOf(a);
    const acc = shards ? new Accumulator(innerNode(a.before!, shards.before), innerNode(a.after!, shards.after), shards.after.inner) : new Accumulator(a.before!, a.after!);
    accs.push([a, acc]);
    if (!shards && gridChanged(a)) {
      tasks.push(...regridTasks(a, acc));
      continue;
    }
    const more = shards ? { shards } : {};
    for (const [x, y] of a.modified) tasks.push({ acc, index: x.index, before: x, after: y, ...more });
    for (const y of a.added) tasks.push({ acc, index: y.index, before: null, after: y, ...more });
    for (const x of a.removed) tasks.push({ acc, index: x.index, before: x, after: null, ...more });
  }
  let done = 0;
  let bytes = 0;
  const total = tasks.length;
  await mapLimit(tasks, Math.max(1, concurrency), async (t) => {
    await compareChunk(t, (n) => (bytes += n));
    onProgress?.({ phase: "comparing values", done: ++done, total, bytes });
  });
  for (const [a, acc] of accs) out.set(a, acc.result());
  return out;
}

/** Why an array's values are not compared, or undefined when they are. */
function notComparable(a: RawArrayDiff): string | null | undefined {
  if (!a.before && !a.after) return null;
  if (a.oldPath !== null) return null; // renamed: same chunks, same values
  if (!a.before) return "new array: no earlier values to compare";
  if (!a.after) return "array removed: no values to compare";
  if (a.added.length + a.removed.length + a.modified.length === 0) return null;
  const [m, n] = [a.before.meta, a.after.meta];
  if (m.shape.length !== n.shape.length) return `values not compared: the number of dimensions changed (${m.shape.length} → ${n.shape.length})`;
  return undefined;
}

/**
 * Both sides sharded alike (same shard and inner chunk shapes, an index tdv
 * reads): shards are compared inner chunk by inner chunk. Otherwise null, and
 * a shard is compared as one block (zarrita decodes it whole).
 */
function shardsOf(a: RawArrayDiff): { before: Sharding; after: Sharding } | null {
  const before = shardingOf(a.before!.raw);
  const after = shardingOf(a.after!.raw);
  if (!before || !after || before.inner.some((n, d) => n !== after.inner[d])) return null;
  return { before, after };
}

/** The array seen as unsharded, its chunks the inner chunks: what decodes one inner chunk. */
function innerNode(node: ArrayNodeDocs, s: Sharding): ArrayNodeDocs {
  const doc = new TextEncoder().encode(JSON.stringify(innerDoc(readJson(node.doc) as Record<string, unknown>, s)));
  return { ...node, meta: { ...node.meta, chunkShape: [...s.inner], innerChunkShape: null }, doc };
}

function gridChanged(a: RawArrayDiff): boolean {
  const [m, n] = [a.before!.meta, a.after!.meta];
  return m.chunkShape.some((c, d) => c !== n.chunkShape[d]);
}

/**
 * The chunk grid changed (a rechunk): compare region by region over both
 * grids. Each new chunk that is stored, or that overlaps a stored old chunk,
 * is compared with the old values of its region, assembled from the old
 * chunks it overlaps (a missing one is the fill value). Chunks stored with the
 * same bytes on both sides are not in the diff: their region is taken as
 * unchanged (the same bytes under two chunk shapes decode to different
 * shapes, so this is all but impossible).
 */
function regridTasks(a: RawArrayDiff, acc: Accumulator): Task[] {
  const [m, n] = [a.before!.meta, a.after!.meta];
  const before = new Map<string, ChunkRef>();
  const after = new Map<string, ChunkRef>();
  for (const x of a.removed) before.set(x.index.join(","), x);
  for (const y of a.added) after.set(y.index.join(","), y);
  for (const [x, y] of a.modified) {
    before.set(x.index.join(","), x);
    after.set(y.index.join(","), y);
  }
  const wanted = new Map<string, number[]>();
  for (const y of after.values()) wanted.set(y.index.join(","), y.index);
  for (const x of before.values()) {
    // the new chunks the old chunk x overlaps
    const lo = x.index.map((k, d) => Math.floor((k * (m.chunkShape[d] as number)) / (n.chunkShape[d] as number)));
    const hi = x.index.map((k, d) => Math.floor((Math.min((k + 1) * (m.chunkShape[d] as number), m.shape[d] as number) - 1) / (n.chunkShape[d] as number)));
    for (const o of boxIndices(hi.map((h, d) => h - (lo[d] as number) + 1))) {
      const idx = o.map((v, d) => v + (lo[d] as number));
      wanted.set(idx.join(","), idx);
    }
  }
  return [...wanted.values()].map((index) => ({ acc, index, before: null, after: after.get(index.join(",")) ?? null, regrid: before }));
}

/** The old values of new chunk `index`'s region, in the new chunk's shape (C order); null when the region lies outside the old shape. */
async function assembleOld(node: ArrayNodeDocs, chunkShape: readonly number[], index: number[], refs: Map<string, ChunkRef>, read: (n: number) => void): Promise<DecodedChunk | null> {
  const m = node.meta;
  const origin = index.map((k, d) => k * (chunkShape[d] as number));
  if (origin.some((o, d) => o >= (m.shape[d] as number))) return null;
  const end = origin.map((o, d) => Math.min(o + (chunkShape[d] as number), m.shape[d] as number));
  const stride = strides(chunkShape);
  let data: { [i: number]: unknown } | null = null;
  const lo = origin.map((o, d) => Math.floor(o / (m.chunkShape[d] as number)));
  const hi = end.map((e, d) => Math.floor((e - 1) / (m.chunkShape[d] as number)));
  for (const o of boxIndices(hi.map((h, d) => h - (lo[d] as number) + 1))) {
    const oldIndex = o.map((v, d) => v + (lo[d] as number));
    const ref = refs.get(oldIndex.join(",")) ?? null;
    const old = ref ? await decodeChunk(node.doc, node.zattrs, oldIndex, await ref.read().then((b) => {
      read(b.byteLength);
      return b;
    })) : await fillChunk(node.doc, oldIndex);
    if (!ArrayBuffer.isView(old.data)) throw new RegridUnsupported();
    const typed = old.data as unknown as { [i: number]: unknown; constructor: new (n: number) => { [i: number]: unknown } };
    data ??= new typed.constructor(stride.length === 0 ? 1 : (stride[0] as number) * (chunkShape[0] as number));
    // floats are copied by their bits (a NaN keeps its payload), as merges copy them
    const src = (bitsOf(old.data) ?? typed) as { [i: number]: unknown };
    const dst = (bitsOf(data) ?? data) as { [i: number]: unknown };
    // the intersection of the old chunk and the new chunk's region, inside the old shape
    const from = origin.map((x, d) => Math.max(x, (old.origin[d] as number)));
    const to = end.map((x, d) => Math.min(x, (old.origin[d] as number) + (m.chunkShape[d] as number)));
    for (const p of boxIndices(to.map((t, d) => t - (from[d] as number)))) {
      let si = 0;
      let di = 0;
      for (let d = 0; d < p.length; d++) {
        const g = (p[d] as number) + (from[d] as number);
        si += (g - (old.origin[d] as number)) * (old.stride[d] as number);
        di += (g - (origin[d] as number)) * (stride[d] as number);
      }
      dst[di] = src[si];
    }
  }
  return { data: data as unknown as ChunkData, shape: [...chunkShape], stride, origin };
}

class RegridUnsupported extends Error {}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d] as number;
  }
  return out;
}

async function compareChunk(t: Task, read: (n: number) => void): Promise<void> {
  const { acc } = t;
  if (acc.unavailable !== null) {
    acc.skip();
    return;
  }
  try {
    if (t.shards) {
      await compareShard(t, t.shards, read);
      return;
    }
    const [a, b] = await Promise.all([
      t.regrid ? assembleOld(acc.beforeNode, acc.afterNode.meta.chunkShape, t.index, t.regrid, read) : side(acc.beforeNode, t.index, t.before, read),
      side(acc.afterNode, t.index, t.after, read),
    ]);
    acc.add(t.index, a, b);
  } catch (err) {
    if (err instanceof RegridUnsupported) {
      acc.unavailable ??= "the chunk grid changed and the data type is not a numeric one, whose regions tdv can assemble across grids";
      acc.skip();
    } else if (isTdvError(err, "CodecUnavailableError")) {
      acc.unavailable ??= err.message;
      acc.skip();
    } else if (isTdvError(err)) {
      // ChunkDecodeError, a missing or corrupt chunk object (lazy clone, damaged repository)
      acc.failures.push(err.message);
      acc.skip();
    } else {
      throw err;
    }
  }
}

/**
 * Shard `t.index`, inner chunk by inner chunk: both shard files are read and
 * their indexes parsed; an inner chunk stored with the same bytes on both
 * sides (or absent on both) is unchanged, any other is decoded on both sides
 * (absent: the fill value) and compared. A shard that does not parse is
 * skipped whole, with a note.
 */
async function compareShard(t: Task, s: { before: Sharding; after: Sharding }, read: (n: number) => void): Promise<void> {
  const { acc } = t;
  const load = async (ref: ChunkRef | null) => {
    if (!ref) return null;
    const bytes = await ref.read();
    read(bytes.byteLength);
    return bytes;
  };
  const [x, y] = await Promise.all([load(t.before), load(t.after)]);
  const olds = innerChunks(s.before, x, t.index);
  const news = innerChunks(s.after, y, t.index);
  const perShard = s.after.perShard;
  const pending: [number[], DecodedChunk | null, DecodedChunk | null][] = [];
  let k = 0;
  for (const local of ndindex(perShard)) {
    const [p, q] = [olds[k] ?? null, news[k] ?? null];
    k++;
    if (p === null ? q === null : q !== null && sameBytes(p, q)) continue;
    const index = local.map((n, d) => (t.index[d] as number) * (perShard[d] as number) + n);
    pending.push([index, await innerSide(acc.beforeNode, index, p), await innerSide(acc.afterNode, index, q)]);
  }
  // added only once every inner chunk decoded: a shard is compared whole or skipped whole
  acc.shardCompared();
  for (const [index, a, b] of pending) acc.add(index, a, b);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One side of an inner chunk: decoded, the fill value when absent, null when outside the shape. */
async function innerSide(node: ArrayNodeDocs, index: number[], bytes: Uint8Array | null): Promise<DecodedChunk | null> {
  const m = node.meta;
  if (index.some((k, d) => k * (m.chunkShape[d] as number) >= (m.shape[d] as number))) return null;
  return bytes ? decodeChunk(node.doc, node.zattrs, index, bytes) : fillChunk(node.doc, index);
}

/** One side of a chunk: decoded, the fill value when the file is missing, null when the chunk lies outside the shape. */
async function side(node: ArrayNodeDocs, index: number[], ref: ChunkRef | null, read: (n: number) => void): Promise<DecodedChunk | null> {
  const m = node.meta;
  if (index.some((k, d) => k * (m.chunkShape[d] as number) >= (m.shape[d] as number))) return null;
  if (!ref) return fillChunk(node.doc, index);
  const bytes = await ref.read();
  read(bytes.byteLength);
  return decodeChunk(node.doc, node.zattrs, index, bytes);
}

type Kind = "number" | "bigint" | "other";

const EMPTY_NUMBERS = new Float64Array(0);

/** The data as an indexable array of numbers (typed arrays other than 64-bit integers), else null. */
function numbers(data: ChunkData): ArrayLike<number> | null {
  return ArrayBuffer.isView(data) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array) ? (data as unknown as ArrayLike<number>) : null;
}

function kindOf(data: ChunkData): Kind {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return "bigint";
  if (ArrayBuffer.isView(data)) return "number";
  return "other";
}

/** Element reader: direct indexing for typed arrays, get() for zarrita's BoolArray and string arrays. */
function reader(data: ChunkData): (i: number) => unknown {
  if (ArrayBuffer.isView(data) || Array.isArray(data)) {
    const d = data as unknown as ArrayLike<unknown>;
    return (i) => d[i];
  }
  const g = data as unknown as { get(i: number): unknown };
  return (i) => g.get(i);
}

class Accumulator {
  unavailable: string | null = null;
  failures: string[] = [];
  private numeric = true;
  private chunks = 0;
  private skipped = 0;
  private compared = 0;
  private changed = 0;
  private maxAbs = -1;
  private sumDelta = 0;
  private deltas = 0;
  private nanIn = 0;
  private nanOut = 0;
  private rangeBefore: ValueRange | null = null;
  private rangeAfter: ValueRange | null = null;
  private lo: number[] | null = null;
  private hi: number[] | null = null;
  private appended = 0;
  private appendedNan = 0;
  private appendedRange: ValueRange | null = null;
  private truncated = 0;

  /** sharded arrays compared by inner chunk: the inner chunks whose values differ */
  private readonly innerChanged: number[][] = [];
  private shards = 0;

  constructor(
    readonly beforeNode: ArrayNodeDocs,
    readonly afterNode: ArrayNodeDocs,
    /** the inner chunk shape, when `add` is given inner chunks of a sharded array */
    private readonly inner: number[] | null = null,
  ) {}

  skip(): void {
    this.skipped++;
  }

  /** A shard was compared (its changed inner chunks, possibly none, are `add`ed). */
  shardCompared(): void {
    this.shards++;
  }

  /** Compare chunk `index`: `a` on the old side, `b` on the new (null: outside that side's shape). */
  add(index: number[], a: DecodedChunk | null, b: DecodedChunk | null): void {
    const seen = this.changed + this.appended + this.truncated;
    this.compare(index, a, b);
    if (this.inner && this.changed + this.appended + this.truncated !== seen) this.innerChanged.push(index.slice());
  }

  private compare(index: number[], a: DecodedChunk | null, b: DecodedChunk | null): void {
    this.chunks++;
    const shapeA = this.beforeNode.meta.shape;
    const shapeB = this.afterNode.meta.shape;
    const chunk = this.afterNode.meta.chunkShape;
    const nd = chunk.length;
    const origin = index.map((k, d) => k * (chunk[d] as number));
    const kinds = [a && kindOf(a.data), b && kindOf(b.data)].filter((k): k is Kind => k !== null);
    if (kinds.includes("other")) this.numeric = false;
    const getA = a ? reader(a.data) : null;
    const getB = b ? reader(b.data) : null;
    // a side absent (outside its shape) imposes nothing: the fast loop needs only the present sides to be numbers
    const fastA = a ? numbers(a.data) : EMPTY_NUMBERS;
    const fastB = b ? numbers(b.data) : EMPTY_NUMBERS;
    // NaNs compare by their bits (read only when both elements are NaN)
    const bitsA = a ? bitsOf(a.data) : null;
    const bitsB = b ? bitsOf(b.data) : null;
    const nanBits = bitsA !== null && bitsB !== null && bitsA.constructor === bitsB.constructor;
    const strideA = a?.stride ?? [];
    const strideB = b?.stride ?? [];
    // the part of the chunk inside either shape
    const extent = chunk.map((c, d) => Math.max(0, Math.min(c, Math.max(shapeA[d] as number, shapeB[d] as number) - (origin[d] as number))));
    if (nd === 0) {
      this.element([], getA ? getA(0) : ABSENT, getB ? getB(0) : ABSENT);
      return;
    }
    const last = nd - 1;
    const outer = extent.slice(0, last);
    const pos = new Array<number>(nd).fill(0);
    for (const o of boxIndices(outer)) {
      let inA = a !== null;
      let inB = b !== null;
      let baseA = 0;
      let baseB = 0;
      for (let d = 0; d < last; d++) {
        const g = (origin[d] as number) + (o[d] as number);
        pos[d] = g;
        if (g >= (shapeA[d] as number)) inA = false;
        if (g >= (shapeB[d] as number)) inB = false;
        baseA += (o[d] as number) * (strideA[d] ?? 0);
        baseB += (o[d] as number) * (strideB[d] ?? 0);
      }
      const o0 = origin[last] as number;
      const lenA = inA ? Math.max(0, Math.min(extent[last] as number, (shapeA[last] as number) - o0)) : 0;
      const lenB = inB ? Math.max(0, Math.min(extent[last] as number, (shapeB[last] as number) - o0)) : 0;
      const n = Math.max(lenA, lenB);
      const sA = strideA[last] ?? 0;
      const sB = strideB[last] ?? 0;
      if (fastA && fastB) {
        // the common case, typed arrays of numbers on both sides: a tight loop, per-element work only for changes
        const common = Math.min(lenA, lenB);
        this.compared += common;
        for (let j = 0; j < common; j++) {
          const x = fastA[baseA + j * sA] as number;
          const y = fastB[baseB + j * sB] as number;
          if (x === y ? x !== 0 || Object.is(x, y) : Number.isNaN(x) && Number.isNaN(y) && (!nanBits || bitsA[baseA + j * sA] === bitsB[baseB + j * sB])) continue;
          pos[last] = o0 + j;
          this.numberChanged(pos, x, y);
        }
        for (let j = common; j < lenB; j++) this.appendedValue(fastB[baseB + j * sB] as number);
        if (lenA > common) this.truncated += lenA - common;
        continue;
      }
      for (let j = 0; j < n; j++) {
        pos[last] = o0 + j;
        this.element(pos, j < lenA ? getA!(baseA + j * sA) : ABSENT, j < lenB ? getB!(baseB + j * sB) : ABSENT);
      }
    }
  }

  /** A changed element, `a` before and `b` after; `delta` is b - a but for bigints, whose exact difference is taken before it becomes a number. */
  private numberChanged(pos: number[], a: number, b: number, delta = b - a): void {
    this.mark(pos);
    const nanA = Number.isNaN(a);
    const nanB = Number.isNaN(b);
    if (nanA) this.nanOut++;
    else this.rangeBefore = widen(this.rangeBefore, a);
    if (nanB) this.nanIn++;
    else this.rangeAfter = widen(this.rangeAfter, b);
    if (!nanA && !nanB) {
      if (Number.isFinite(delta)) {
        this.sumDelta += delta;
        this.deltas++;
        if (Math.abs(delta) > this.maxAbs) this.maxAbs = Math.abs(delta);
      }
    }
  }

  private appendedValue(v: number): void {
    this.appended++;
    if (Number.isNaN(v)) this.appendedNan++;
    else this.appendedRange = widen(this.appendedRange, v);
  }

  private element(pos: number[], x: unknown, y: unknown): void {
    if (x === ABSENT) {
      if (y === ABSENT) return;
      const v = toNumber(y);
      if (v === null) this.appended++;
      else this.appendedValue(v);
      return;
    }
    if (y === ABSENT) {
      this.truncated++;
      return;
    }
    this.compared++;
    if (x === y && (x !== 0 || Object.is(x, y))) return;
    const a = toNumber(x);
    const b = toNumber(y);
    if (a !== null && b !== null) {
      if (Number.isNaN(a) && Number.isNaN(b)) return;
      if (a === b && (typeof x === "bigint" || Object.is(a, b))) return;
      this.numberChanged(pos, a, b, typeof x === "bigint" && typeof y === "bigint" ? Number(y - x) : b - a);
      return;
    }
    if (sameElement(x, y)) return;
    this.mark(pos);
  }

  private mark(pos: number[]): void {
    this.changed++;
    if (this.lo === null || this.hi === null) {
      this.lo = pos.slice();
      this.hi = pos.slice();
      return;
    }
    for (let d = 0; d < pos.length; d++) {
      const p = pos[d] as number;
      if (p < (this.lo[d] as number)) this.lo[d] = p;
      if (p > (this.hi[d] as number)) this.hi[d] = p;
    }
  }

  result(): ValuesOutcome {
    const notes: string[] = [];
    if (this.unavailable) notes.push(`values not compared: ${this.unavailable}`);
    if (this.failures.length > 0) {
      notes.push(`${this.failures.length} ${this.failures.length === 1 ? "chunk" : "chunks"} could not be compared: ${this.failures[0]}${this.failures.length > 1 ? " (and others)" : ""}`);
    }
    const fa = this.beforeNode.raw.fill_value;
    const fb = this.afterNode.raw.fill_value;
    if (JSON.stringify(fa) !== JSON.stringify(fb)) notes.push("the fill value changed: chunks never written read differently too (not counted)");
    const note = notes.length > 0 ? notes.join("; ") : null;
    if (this.chunks === 0 && this.shards === 0) return { values: null, note: note ?? "no chunk could be compared" };
    const numeric = this.numeric;
    const bbox: Box | null = this.lo && this.hi ? this.lo.map((l, d) => [l, this.hi![d] as number] as [number, number]) : null;
    return {
      values: {
        kind: numeric ? "numeric" : "equality",
        chunks: this.chunks,
        chunksSkipped: this.skipped,
        compared: this.compared,
        changed: this.changed,
        maxAbsDelta: numeric && this.deltas > 0 ? this.maxAbs : null,
        meanDelta: numeric && this.deltas > 0 ? this.sumDelta / this.deltas : null,
        nanIntroduced: this.nanIn,
        nanRemoved: this.nanOut,
        before: numeric ? this.rangeBefore : null,
        after: numeric ? this.rangeAfter : null,
        bbox,
        appended: { count: this.appended, nan: this.appendedNan, range: numeric ? this.appendedRange : null },
        truncated: this.truncated,
        ...(this.inner ? { innerChunks: { shape: [...this.inner], count: this.innerChanged.length, boxes: toBoxes(this.innerChanged) } } : {}),
      },
      note,
    };
  }
}

const ABSENT = Symbol("absent");

function toNumber(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return null;
}

/** `r` widened to hold `v` (±Infinity are left out: JSON cannot hold them). */
function widen(r: ValueRange | null, v: number): ValueRange | null {
  if (!Number.isFinite(v)) return r;
  if (!r) return { min: v, max: v };
  if (v < r.min) r.min = v;
  if (v > r.max) r.max = v;
  return r;
}
