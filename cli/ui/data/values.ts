/**
 * Values of decoded chunks, compared element by element: the before/after
 * table of one chunk in the review screen and the base/ours/theirs table of a
 * conflicted chunk. Pure: decoded chunks in, rows out (the library decodes).
 *
 * Equality is the library's (docs/diff-json.md): NaN equals NaN, 0 equals -0.
 * An element outside a side's shape is absent there (`undefined`).
 */
import { sameElement, type DecodedChunk } from "../../../src/index.js";

/** One side of a chunk: decoded (null: the chunk lies wholly outside this side's shape) and the side's array shape. */
export interface ChunkSide {
  chunk: DecodedChunk | null;
  shape: readonly number[];
}

export interface ChangedElement {
  coords: number[];
  /** undefined: outside that side's shape */
  before: unknown;
  after: unknown;
}

export interface ChunkComparison {
  /** elements inside both shapes */
  compared: number;
  /** compared elements whose value differs */
  changed: number;
  /** elements inside the new shape only (an appended chunk: all of them) */
  added: number;
  /** elements inside the old shape only */
  removed: number;
  /** largest |after - before| over changed numbers (null: none) */
  maxAbsDelta: number | null;
  /** the first changed elements, in C order */
  elements: ChangedElement[];
}

export interface ThreeWayRow {
  coords: number[];
  base: unknown;
  ours: unknown;
  theirs: unknown;
  /** both sides changed the element, to different values */
  conflict: boolean;
}

export interface ThreeWayComparison {
  /** elements either side changed */
  changed: number;
  conflicts: number;
  /** conflicting elements first, then the other changes; at most `limit` */
  rows: ThreeWayRow[];
}

type Getter = (coords: readonly number[]) => unknown;

/** Reader of array coordinates inside one decoded chunk; undefined outside the side's shape. */
function getter(side: ChunkSide): Getter {
  const c = side.chunk;
  if (!c) return () => undefined;
  const data = c.data as unknown as ArrayLike<unknown> & { get?: (i: number) => unknown };
  const read = ArrayBuffer.isView(data) || Array.isArray(data) || typeof data.get !== "function" ? (i: number) => data[i] : (i: number) => data.get!(i);
  return (coords) => {
    let off = 0;
    for (let d = 0; d < coords.length; d++) {
      const x = coords[d] as number;
      if (x >= (side.shape[d] as number)) return undefined;
      off += (x - (c.origin[d] as number)) * (c.stride[d] as number);
    }
    return read(off);
  };
}

function toNumber(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return null;
}

/** |after - before| of two numbers, or null (not both numbers, or NaN involved). */
export function absDelta(before: unknown, after: unknown): number | null {
  const a = toNumber(before);
  const b = toNumber(after);
  if (a === null || b === null || Number.isNaN(a) || Number.isNaN(b)) return null;
  const d = typeof before === "bigint" && typeof after === "bigint" ? Number(after - before) : b - a;
  return Number.isFinite(d) ? Math.abs(d) : null;
}

/** Every array coordinate of chunk `index` inside `limits` (per dimension, the larger shape), C order. */
function* coordsOf(index: readonly number[], chunkShape: readonly number[], limits: readonly number[]): Generator<number[]> {
  const origin = index.map((k, d) => k * (chunkShape[d] as number));
  const end = origin.map((o, d) => Math.min(o + (chunkShape[d] as number), limits[d] as number));
  if (end.some((e, d) => e <= (origin[d] as number))) return;
  const pos = origin.slice();
  for (;;) {
    yield pos;
    let d = pos.length - 1;
    for (; d >= 0; d--) {
      pos[d] = (pos[d] as number) + 1;
      if ((pos[d] as number) < (end[d] as number)) break;
      pos[d] = origin[d] as number;
    }
    if (d < 0) return;
  }
}

function maxShape(shapes: readonly (readonly number[])[]): number[] {
  const nd = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: nd }, (_, d) => Math.max(...shapes.map((s) => s[d] ?? 0)));
}

/** Compare chunk `index` of an array on two sides. */
export function compareChunk(index: readonly number[], chunkShape: readonly number[], before: ChunkSide, after: ChunkSide, limit = 200): ChunkComparison {
  const a = getter(before);
  const b = getter(after);
  const out: ChunkComparison = { compared: 0, changed: 0, added: 0, removed: 0, maxAbsDelta: null, elements: [] };
  for (const pos of coordsOf(index, chunkShape, maxShape([before.shape, after.shape]))) {
    const x = a(pos);
    const y = b(pos);
    if (x !== undefined && y !== undefined) {
      out.compared++;
      if (sameElement(x, y)) continue;
      const d = absDelta(x, y);
      if (d !== null && (out.maxAbsDelta === null || d > out.maxAbsDelta)) out.maxAbsDelta = d;
      out.changed++;
    } else if (x === undefined && y === undefined) {
      continue;
    } else if (x === undefined) out.added++;
    else out.removed++;
    if (out.elements.length < limit) out.elements.push({ coords: pos.slice(), before: x, after: y });
  }
  return out;
}

/** Every element of the comparison that differs: changed, added and removed. */
export function differing(c: Pick<ChunkComparison, "changed" | "added" | "removed">): number {
  return c.changed + c.added + c.removed;
}

/**
 * What a chunk's comparison says in words: "3 of 128 elements changed",
 * "1728 elements added (nothing before)", "0 of 64 elements changed · 64 added".
 */
export function comparisonText(c: Pick<ChunkComparison, "compared" | "changed" | "added" | "removed">): string {
  const n = (k: number) => `${k} ${k === 1 ? "element" : "elements"}`;
  const parts: string[] = [];
  if (c.compared > 0) parts.push(`${c.changed} of ${n(c.compared)} changed`);
  if (c.added > 0) parts.push(c.compared === 0 && c.removed === 0 ? `${n(c.added)} added (nothing before)` : `${c.added} added`);
  if (c.removed > 0) parts.push(c.compared === 0 && c.added === 0 ? `${n(c.removed)} removed (nothing after)` : `${c.removed} removed`);
  return parts.length > 0 ? parts.join(" · ") : "no element on either side";
}

/** Compare a conflicted chunk's three versions: what each side changed, and where both did differently. */
export function threeWay(index: readonly number[], chunkShape: readonly number[], base: ChunkSide, ours: ChunkSide, theirs: ChunkSide, limit = 200): ThreeWayComparison {
  const g = [getter(base), getter(ours), getter(theirs)] as const;
  const conflicts: ThreeWayRow[] = [];
  const others: ThreeWayRow[] = [];
  const out: ThreeWayComparison = { changed: 0, conflicts: 0, rows: [] };
  for (const pos of coordsOf(index, chunkShape, maxShape([base.shape, ours.shape, theirs.shape]))) {
    const [vb, vo, vt] = [g[0](pos), g[1](pos), g[2](pos)];
    const oursChanged = !sameElement(vb, vo);
    const theirsChanged = !sameElement(vb, vt);
    if (!oursChanged && !theirsChanged) continue;
    out.changed++;
    const conflict = oursChanged && theirsChanged && !sameElement(vo, vt);
    if (conflict) out.conflicts++;
    const list = conflict ? conflicts : others;
    if (list.length < limit) list.push({ coords: pos.slice(), base: vb, ours: vo, theirs: vt, conflict });
  }
  out.rows = [...conflicts, ...others].slice(0, limit);
  return out;
}

/** A value in at most `width` characters: 6 significant digits, NaN, "—" for absent. */
export function formatValue(v: unknown, width = 12): string {
  let s: string;
  if (v === undefined) s = "—";
  else if (v === null) s = "null";
  else if (typeof v === "number") {
    if (Number.isNaN(v)) s = "NaN";
    else if (Number.isInteger(v) && Math.abs(v) < 1e12) s = String(v);
    else {
      s = String(Number(v.toPrecision(6)));
      if (s.length > width || /e/.test(s)) s = v.toExponential(3).replace(/\.?0+e/, "e");
    }
  } else if (typeof v === "bigint" || typeof v === "boolean") s = String(v);
  else if (typeof v === "string") s = JSON.stringify(v);
  else s = JSON.stringify(v) ?? String(v);
  return s.length > width ? `${s.slice(0, width - 1)}…` : s;
}

/** A number for a statistics line: 6 significant digits. */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return formatValue(n, 14);
}
