/**
 * The conflicts screen: the open conflicts of a stopped merge, grouped by
 * array, one selected with its base/ours/theirs values, taking a side per
 * conflict or per array, and continuing the merge. Pure.
 */
import type { Conflict, ConflictTag } from "../../../src/index.js";
import { follow } from "../data/grid.js";
import type { MergeView } from "../data/source.js";
import type { ThreeWayComparison } from "../data/values.js";
import type { Load } from "./review.js";

export interface ConflictItem {
  /** stable key (the library's conflictKey form: tag and what it is about) */
  key: string;
  tag: ConflictTag;
  /** the array, group or file it is about */
  subject: string;
  /** a short label: "chunk [0,1,2]", "attribute units", "data_type", "deleted by theirs" */
  label: string;
  /** what `tdv resolve` takes to settle this one conflict */
  target: { path: string; chunk?: number[] };
  resolved: boolean;
  conflict: Conflict;
  reasons: string[];
  elements: { count: number; examples: { coords: number[]; values: { base: unknown; ours: unknown; theirs: unknown } }[] } | null;
}

export interface ConflictsState {
  status: "loading" | "ready" | "error";
  error: string | null;
  merge: MergeView | null;
  items: ConflictItem[];
  selected: number;
  top: number;
  listRows: number;
  /** an action running ("taking theirs…"); keys wait for it */
  busy: string | null;
  note: string | null;
  details: Record<string, Load<ThreeWayComparison>>;
  reload: number;
  /** the merge was concluded: the new commit */
  done: string | null;
  /** conflicts settled from this screen (o/t, O/T): the merge state forgets them, the header still counts them */
  settled: number;
  /**
   * A side taken that would discard the other side's edits of chunks that
   * cannot merge element by element: the same key again confirms, any other
   * action forgets it.
   */
  confirm: { side: "ours" | "theirs"; whole: boolean; key: string } | null;
}

export type ConflictsAction =
  | { type: "reload"; note?: string }
  | { type: "loaded"; merge: MergeView | null }
  | { type: "failed"; error: string }
  | { type: "resize"; listRows: number }
  | { type: "move"; by: number }
  | { type: "busy"; what: string }
  | { type: "finished"; note: string; settled?: number }
  | { type: "detail"; key: string; load: Load<ThreeWayComparison> }
  | { type: "concluded"; oid: string }
  | { type: "confirm"; side: "ours" | "theirs"; whole: boolean; note: string };

export function initialConflicts(): ConflictsState {
  return { status: "loading", error: null, merge: null, items: [], selected: 0, top: 0, listRows: 6, busy: null, note: null, details: {}, reload: 0, done: null, confirm: null, settled: 0 };
}

function describe(c: Conflict): { subject: string; label: string; target: ConflictItem["target"] } {
  switch (c._tag) {
    case "ChunkBothChanged":
      return { subject: c.array, label: `chunk [${c.chunk.join(",")}]`, target: { path: c.array, chunk: c.chunk } };
    case "MetaBothChanged":
      return { subject: c.array, label: c.scope === "array" ? `${c.key} (whole array)` : `metadata ${c.key}`, target: { path: c.scope === "array" ? c.array : c.path } };
    case "AttrBothChanged":
      return { subject: c.node, label: `attribute ${c.key}`, target: { path: c.path } };
    case "DeleteOfChanged":
      return { subject: c.path, label: `deleted by ${c.deletedBy}, changed by ${c.deletedBy === "ours" ? "theirs" : "ours"}`, target: { path: c.path } };
    case "FileBothChanged":
      return { subject: c.path, label: "file changed on both sides", target: { path: c.path } };
    case "ArrayAddedBoth":
      return { subject: c.array, label: "added on both sides", target: { path: c.array } };
  }
}

function itemKey(c: Conflict): string {
  const d = describe(c);
  return `${c._tag}:${d.subject}:${d.label}:${"path" in c ? c.path : ""}`;
}

export function itemsOf(m: MergeView | null): ConflictItem[] {
  if (!m) return [];
  const items = m.conflicts.map((o) => {
    const d = describe(o.conflict);
    return {
      key: itemKey(o.conflict),
      tag: o.conflict._tag,
      subject: d.subject,
      label: d.label,
      target: d.target,
      resolved: o.resolved,
      conflict: o.conflict,
      reasons: o.reasons,
      elements: o.elements ?? null,
    };
  });
  return items.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
}

export function selectedItem(s: ConflictsState): ConflictItem | null {
  return s.items[s.selected] ?? null;
}

/** Conflicts not yet settled (neither by `tdv resolve` nor by an edit staged with `tdv add`). */
export function openCount(s: ConflictsState): number {
  return s.items.filter((i) => !i.resolved).length;
}

export function conflictsReducer(state: ConflictsState, a: ConflictsAction): ConflictsState {
  // a pending confirmation lasts for the next action only
  const s = state.confirm && a.type !== "confirm" && a.type !== "detail" && a.type !== "resize" ? { ...state, confirm: null } : state;
  switch (a.type) {
    case "reload":
      return { ...s, status: "loading", reload: s.reload + 1, note: a.note ?? s.note };
    case "loaded": {
      const items = itemsOf(a.merge);
      const keep = selectedItem(s)?.key;
      let selected = keep === undefined ? 0 : items.findIndex((i) => i.key === keep);
      if (selected < 0) selected = Math.min(s.selected, Math.max(0, items.length - 1));
      // another merge (or none): its settled count starts again
      const settled = a.merge && s.merge && a.merge.theirs === s.merge.theirs && a.merge.origHead === s.merge.origHead ? s.settled : 0;
      return { ...s, status: "ready", error: null, merge: a.merge, items, selected, top: follow(s.top, selected, s.listRows, items.length), settled };
    }
    case "failed":
      return { ...s, status: "error", error: a.error, busy: null };
    case "resize":
      return { ...s, listRows: Math.max(1, a.listRows), top: follow(s.top, s.selected, Math.max(1, a.listRows), s.items.length) };
    case "move": {
      if (s.items.length === 0) return s;
      const selected = Math.max(0, Math.min(s.items.length - 1, s.selected + a.by));
      return { ...s, selected, top: follow(s.top, selected, s.listRows, s.items.length) };
    }
    case "busy":
      return { ...s, busy: a.what, note: null };
    case "finished":
      return { ...s, busy: null, note: a.note, settled: s.settled + (a.settled ?? 0) };
    case "detail":
      return { ...s, details: { ...s.details, [a.key]: a.load } };
    case "concluded":
      return { ...s, busy: null, done: a.oid, note: `merge concluded: commit ${a.oid.slice(0, 7)}` };
    case "confirm": {
      const item = selectedItem(s);
      return item ? { ...s, busy: null, note: a.note, confirm: { side: a.side, whole: a.whole, key: item.key } } : { ...s, busy: null, note: a.note };
    }
  }
}

/** The header's counts: open, and settled (here with o/t, or by an edit staged with `tdv add`). */
export function counts(s: ConflictsState): { open: number; settled: number } {
  const open = openCount(s);
  return { open, settled: s.settled + (s.items.length - open) };
}

/** Whether taking `side` (`whole` or not) now confirms the discard the last try asked about. */
export function confirmsDiscard(s: ConflictsState, side: "ours" | "theirs", whole: boolean): boolean {
  return s.confirm !== null && s.confirm.side === side && s.confirm.whole === whole && s.confirm.key === selectedItem(s)?.key;
}

/** The resolve call for the selected conflict (`whole`: every conflict of its array or node). */
export function resolveTarget(s: ConflictsState, whole: boolean): { path: string; chunk?: number[] } | null {
  const item = selectedItem(s);
  if (!item) return null;
  return whole ? { path: item.subject } : item.target;
}

