/** One-line summaries of what a commit changed, for the history screen. Pure. */
import type { DiffSummary, GroupedChanges } from "../../../src/index.js";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "2 arrays: +3 ~5 -1 chunks, 1 file" from a diff's summary. */
export function diffSummaryLine(s: DiffSummary): string {
  const arrays = s.arrays.added + s.arrays.removed + s.arrays.modified + s.arrays.renamed;
  const files = s.files.added + s.files.removed + s.files.modified;
  const groups = s.groups.added + s.groups.removed + s.groups.modified;
  return line(arrays, s.chunks, files, groups);
}

/** The same line from the changes of a root commit (`show`). */
export function groupedSummaryLine(g: GroupedChanges): string {
  const chunks = { added: 0, removed: 0, modified: 0 };
  for (const a of g.arrays) {
    chunks.added += a.chunks.added;
    chunks.removed += a.chunks.deleted;
    chunks.modified += a.chunks.modified;
  }
  const files = g.files.filter((f) => f.kind === "plain").length;
  return line(g.arrays.length, chunks, files, 0);
}

function line(arrays: number, chunks: { added: number; removed: number; modified: number }, files: number, groups: number): string {
  const parts: string[] = [];
  if (arrays > 0) {
    const c = [chunks.added ? `+${chunks.added}` : "", chunks.modified ? `~${chunks.modified}` : "", chunks.removed ? `-${chunks.removed}` : ""].filter(Boolean);
    const total = chunks.added + chunks.modified + chunks.removed;
    parts.push(`${plural(arrays, "array")}${c.length ? `: ${c.join(" ")} ${total === 1 ? "chunk" : "chunks"}` : ""}`);
  }
  if (files > 0) parts.push(plural(files, "file"));
  if (groups > 0 && arrays === 0) parts.push(plural(groups, "group"));
  return parts.length ? parts.join(", ") : "no changes";
}
