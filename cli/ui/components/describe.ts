/** Words for the review and conflict screens: shapes, bytes, metadata and attribute changes, value statistics. Pure. */
import { formatBytes, type ArrayDiff, type AttributeChange, type Box, type MetadataChange, type ValueDiff } from "../../../src/index.js";
import { formatNumber } from "../data/values.js";


export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "1 element", "1,024 elements" */
function counted(n: number, word: string): string {
  return `${formatCount(n)} ${n === 1 ? word : `${word}s`}`;
}

/** `[0..11, 3, 0..7]` */
export function formatBox(box: Box): string {
  return `[${box.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(", ")}]`;
}

export function shapeText(shape: readonly number[]): string {
  return shape.length === 0 ? "scalar" : shape.join("×");
}

function json(v: unknown, max = 40): string {
  const s = v === undefined ? "—" : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export const STATUS_CHAR: Record<ArrayDiff["status"], string> = { added: "+", removed: "-", modified: "~", renamed: "→" };

export function metadataLine(m: MetadataChange): string {
  if (m.field === "shape" && m.dims && m.dims.length > 0) {
    const dims = m.dims.map((d) => `${d.name ?? `dim ${d.dim}`} ${d.change} by ${d.by}`).join(", ");
    return `shape ${shapeText(m.before as number[])} → ${shapeText(m.after as number[])} (${dims})`;
  }
  return `${m.field}: ${json(m.before)} → ${json(m.after)}`;
}

export function attributeLine(a: AttributeChange): string {
  if (a.change === "added") return `attribute ${a.key} added: ${json(a.after)}`;
  if (a.change === "removed") return `attribute ${a.key} removed (was ${json(a.before)})`;
  return `attribute ${a.key}: ${json(a.before)} → ${json(a.after)}`;
}

/** The array's form on each side: "6×16×24 float32, chunks 2×8×8, bytes+gzip". */
export function formLine(a: ArrayDiff): string {
  const side = a.after ?? a.before;
  if (!side) return "";
  const shape = a.before && a.after && a.before.shape.join() !== a.after.shape.join() ? `${shapeText(a.before.shape)} → ${shapeText(a.after.shape)}` : shapeText(side.shape);
  const dims = side.dimensionNames?.some((n) => n) ? ` (${side.dimensionNames.map((n) => n ?? "-").join(", ")})` : "";
  return `${shape}${dims} ${side.dtype}, chunks ${shapeText(side.chunkShape)}, ${side.codecs.join("+") || "no codecs"}`;
}

export function chunksLine(a: ArrayDiff): string {
  const c = a.chunks;
  const parts: string[] = [];
  if (c.added.count) parts.push(`+${formatCount(c.added.count)} added (${formatBytes(c.added.bytes)})`);
  if (c.modified.count) parts.push(`~${formatCount(c.modified.count)} changed (${formatBytes(c.modified.bytesBefore)} → ${formatBytes(c.modified.bytes)})`);
  if (c.removed.count) parts.push(`-${formatCount(c.removed.count)} removed (${formatBytes(c.removed.bytes)})`);
  return parts.length ? `chunks: ${parts.join(", ")}` : "chunks: none changed";
}

export function chunkCounts(a: ArrayDiff): string {
  const c = a.chunks;
  return `+${c.added.count} ~${c.modified.count} -${c.removed.count}`;
}

export function valueLines(v: ValueDiff): string[] {
  const lines = [`values: ${formatCount(v.changed)} of ${counted(v.compared, "element")} changed in ${counted(v.chunks, "chunk")}${v.chunksSkipped ? ` (${v.chunksSkipped} skipped)` : ""}`];
  if (v.kind === "numeric") {
    lines.push(`  max |Δ| ${formatNumber(v.maxAbsDelta)} · mean Δ ${formatNumber(v.meanDelta)} · NaN +${v.nanIntroduced} -${v.nanRemoved}`);
    if (v.before || v.after) lines.push(`  before ${v.before ? `${formatNumber(v.before.min)}..${formatNumber(v.before.max)}` : "—"} · after ${v.after ? `${formatNumber(v.after.min)}..${formatNumber(v.after.max)}` : "—"}`);
  }
  if (v.bbox) lines.push(`  changed elements within ${formatBox(v.bbox)}`);
  if (v.appended.count) lines.push(`  appended ${counted(v.appended.count, "element")}${v.appended.range ? ` in ${formatNumber(v.appended.range.min)}..${formatNumber(v.appended.range.max)}` : ""}`);
  if (v.truncated) lines.push(`  truncated ${counted(v.truncated, "element")}`);
  return lines;
}
