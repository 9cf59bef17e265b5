/**
 * Sets of chunk coordinates as a few boxes: 96 modified chunks of a 3-D grid
 * read `[0..11, 3, 0..7]` rather than 96 lines. The boxes cover exactly the
 * set (no chunk outside it, none twice), so nothing is lost.
 *
 * How: every chunk starts as a 1×1×… box; then, one dimension at a time from
 * the last to the first, boxes that agree on every other dimension and touch
 * along this one are joined. Passes repeat until nothing joins. A full block
 * becomes one box; an append along time becomes one box; scattered chunks
 * stay as they are.
 */

/** Per dimension, the first and last chunk index (inclusive). */
export type Box = [number, number][];

export function toBoxes(indices: readonly (readonly number[])[]): Box[] {
  if (indices.length === 0) return [];
  const ndim = indices[0]!.length;
  if (ndim === 0) return [[]];
  let boxes = runs(indices);
  for (let pass = 0; pass < 2 * ndim + 2; pass++) {
    const before = boxes.length;
    for (let d = ndim - 1; d >= 0; d--) boxes = joinAlong(boxes, d);
    if (boxes.length === before) break;
  }
  return boxes.sort(compareBoxes);
}

/** First pass, linear on sorted input: consecutive indices along the last dimension become one box. */
function runs(indices: readonly (readonly number[])[]): Box[] {
  let sorted = indices;
  for (let i = 1; i < indices.length; i++) {
    if (compareIndex(indices[i - 1]!, indices[i]!) > 0) {
      sorted = [...indices].sort(compareIndex);
      break;
    }
  }
  const last = sorted[0]!.length - 1;
  const out: Box[] = [];
  let cur: Box | null = null;
  let prev: readonly number[] | null = null;
  for (const idx of sorted) {
    if (cur && prev && samePrefix(prev, idx, last) && idx[last] === (prev[last] as number) + 1) {
      cur[last]![1] = idx[last] as number;
    } else {
      cur = idx.map((n) => [n, n] as [number, number]);
      out.push(cur);
    }
    prev = idx;
  }
  return out;
}

function samePrefix(a: readonly number[], b: readonly number[], n: number): boolean {
  for (let d = 0; d < n; d++) if (a[d] !== b[d]) return false;
  return true;
}

function compareIndex(a: readonly number[], b: readonly number[]): number {
  for (let d = 0; d < a.length; d++) {
    const x = (a[d] as number) - (b[d] as number);
    if (x !== 0) return x;
  }
  return 0;
}

function joinAlong(boxes: Box[], d: number): Box[] {
  const groups = new Map<string, Box[]>();
  for (const b of boxes) {
    let key = "";
    for (let i = 0; i < b.length; i++) if (i !== d) key += `${b[i]![0]}:${b[i]![1]},`;
    const g = groups.get(key);
    if (g) g.push(b);
    else groups.set(key, [b]);
  }
  const out: Box[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a[d]![0] - b[d]![0]);
    let cur = g[0]!;
    for (let i = 1; i < g.length; i++) {
      const next = g[i]!;
      if (next[d]![0] === cur[d]![1] + 1) {
        cur = cur.map((r, j) => (j === d ? ([r[0], next[d]![1]] as [number, number]) : r));
      } else {
        out.push(cur);
        cur = next;
      }
    }
    out.push(cur);
  }
  return out;
}

function compareBoxes(a: Box, b: Box): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]![0] - b[i]![0] || a[i]![1] - b[i]![1];
    if (d !== 0) return d;
  }
  return 0;
}

/** `[0..11, 3, 0..7]`: a single index as itself, a range as first..last. */
export function formatBox(box: Box): string {
  return `[${box.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(", ")}]`;
}

/** Number of chunks a box covers. */
export function boxSize(box: Box): number {
  return box.reduce((n, [a, b]) => n * (b - a + 1), 1);
}
