/**
 * How the data changed: decode each changed chunk on both sides (a missing
 * chunk is the fill value) and compare element by element, inside the array's
 * shape. Floats compare as their bits do: -0 differs from 0, a NaN equals a
 * NaN of the same bits. Chunks stream through a fixed number of slots, so memory stays at
 * about `concurrency` × 2 decoded chunks whatever the size of the change.
 */
import { isTdvError } from "../../errors.js";
import { mapLimit } from "../../store/atomic.js";
import { bitsOf } from "../../zarr/bits.js";
import { decodeChunk, fillChunk, type ChunkData, type DecodedChunk } from "../../zarr/decode.js";
import type { ArrayNodeDocs } from "./metadata.js";
import type { Box } from "./ranges.js";
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
    const acc = new Accumulator(a.before!, a.after!);
    accs.push([a, acc]);
    for (const [x, y] of a.modified) tasks.push({ acc, index: x.index, before: x, after: y });
    for (const y of a.added) tasks.push({ acc, index: y.index, before: null, after: y });
    for (const x of a.removed) tasks.push({ acc, index: x.index, before: x, after: null });
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
  if (m.chunkShape.some((c, d) => c !== n.chunkShape[d])) {
    return `values not compared: the chunk grid changed ([${m.chunkShape.join(", ")}] → [${n.chunkShape.join(", ")}]), so chunks do not cover the same elements`;
  }
  return undefined;
}

async function compareChunk(t: Task, read: (n: number) => void): Promise<void> {
  const { acc } = t;
  if (acc.unavailable !== null) {
    acc.skip();
    return;
  }
  try {
    const [a, b] = await Promise.all([
      side(acc.beforeNode, t.index, t.before, read),
      side(acc.afterNode, t.index, t.after, read),
    ]);
    acc.add(t.index, a, b);
  } catch (err) {
    if (isTdvError(err, "CodecUnavailableError")) {
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

  constructor(
    readonly beforeNode: ArrayNodeDocs,
    readonly afterNode: ArrayNodeDocs,
  ) {}

  skip(): void {
    this.skipped++;
  }

  /** Compare chunk `index`: `a` on the old side, `b` on the new (null: outside that side's shape). */
  add(index: number[], a: DecodedChunk | null, b: DecodedChunk | null): void {
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
          if (x === y ? x !== 0 || Object.is(x, y) : x !== x && y !== y && (!nanBits || bitsA[baseA + j * sA] === bitsB[baseB + j * sB])) continue;
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

  private numberChanged(pos: number[], a: number, b: number): void {
    this.mark(pos);
    const nanA = a !== a;
    const nanB = b !== b;
    if (nanA) this.nanOut++;
    else this.rangeBefore = widen(this.rangeBefore, a);
    if (nanB) this.nanIn++;
    else this.rangeAfter = widen(this.rangeAfter, b);
    if (!nanA && !nanB) {
      const delta = b - a;
      if (Number.isFinite(delta)) {
        this.sumDelta += delta;
        this.deltas++;
        if (Math.abs(delta) > this.maxAbs) this.maxAbs = Math.abs(delta);
      }
    }
  }

  private appendedValue(v: number): void {
    this.appended++;
    if (v !== v) this.appendedNan++;
    else this.appendedRange = widen(this.appendedRange, v);
  }

  private element(pos: number[], x: unknown, y: unknown): void {
    if (x === ABSENT) {
      if (y === ABSENT) return;
      this.appended++;
      const v = toNumber(y);
      if (v === null) return;
      if (Number.isNaN(v)) this.appendedNan++;
      else this.appendedRange = widen(this.appendedRange, v);
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
      const nanA = Number.isNaN(a);
      const nanB = Number.isNaN(b);
      if (nanA && nanB) return;
      if (a === b && (typeof x === "bigint" || Object.is(a, b))) return;
      this.mark(pos);
      if (nanA) this.nanOut++;
      else this.rangeBefore = widen(this.rangeBefore, a);
      if (nanB) this.nanIn++;
      else this.rangeAfter = widen(this.rangeAfter, b);
      if (!nanA && !nanB) {
        const delta = typeof x === "bigint" && typeof y === "bigint" ? Number(y - x) : b - a;
        if (Number.isFinite(delta)) {
          this.sumDelta += delta;
          this.deltas++;
          if (Math.abs(delta) > this.maxAbs) this.maxAbs = Math.abs(delta);
        }
      }
      return;
    }
    if (equalValues(x, y)) return;
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
    if (this.chunks === 0) return { values: null, note: note ?? "no chunk could be compared" };
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

function equalValues(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x === "number" && typeof y === "number") return Number.isNaN(x) && Number.isNaN(y);
  if (x && y && typeof x === "object" && typeof y === "object") return JSON.stringify(x) === JSON.stringify(y);
  return false;
}

/** Every index of a box of `shape` (one empty index for 0 dimensions). */
function* boxIndices(shape: readonly number[]): Generator<number[]> {
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
