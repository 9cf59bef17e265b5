/**
 * The history screen: the commit graph of every branch and tag (or one),
 * a cursor over commits, search in messages, a branch picker, a mark for
 * comparing two commits, and one-line summaries filled in as rows show. Pure.
 */
import type { GraphRow } from "../../../src/index.js";
import type { HistoryData, HistoryEntry } from "../data/source.js";
import { follow } from "../data/grid.js";
import type { Pending } from "./actions.js";

/** The history as read (HistoryData) and how it is being looked at. */
export interface HistoryState extends HistoryData {
  status: "loading" | "ready" | "error";
  error: string | null;
  /** the revision shown; null: every branch and tag */
  rev: string | null;
  /** commits read per ref; doubled when the cursor nears the end of an incomplete history */
  limit: number;
  /** bumped to read the history again (after a merge, say) */
  reload: number;
  /** index into rows of the selected commit row (-1: none) */
  selected: number;
  /** first row shown */
  top: number;
  /** rows shown */
  height: number;
  search: { editing: boolean; query: string };
  picker: { open: boolean; index: number };
  /** a commit marked with `m`: Enter then compares it with the selected one */
  mark: string | null;
  summaries: Record<string, string>;
  /** a one-line message (no match, ...) */
  note: string | null;
  /** a commit to select once the history is loaded */
  want: string | null;
  /** a question on the status line before acting (switch, branch, tag, merge) */
  pending: Pending | null;
  /** an action running ("switching…"); keys wait for it */
  busy: string | null;
}

export type HistoryAction =
  | { type: "load"; rev?: string | null; more?: boolean }
  | { type: "reload"; select?: string | null }
  | { type: "loaded"; data: HistoryData }
  | { type: "failed"; error: string }
  | { type: "resize"; height: number }
  | { type: "move"; by: number }
  | { type: "home" }
  | { type: "end" }
  | { type: "select"; oid: string }
  | { type: "searchStart" }
  | { type: "searchInput"; text: string }
  | { type: "searchBackspace" }
  | { type: "searchCancel" }
  | { type: "searchSubmit" }
  | { type: "searchNext"; dir: 1 | -1 }
  | { type: "pickerOpen" }
  | { type: "pickerMove"; by: number }
  | { type: "pickerClose" }
  | { type: "pickerChoose" }
  | { type: "mark" }
  | { type: "summary"; oid: string; text: string }
  | { type: "ask"; pending: Pending | null }
  | { type: "busy"; what: string | null; note?: string };

export const PAGE = 400;

export function initialHistory(rev: string | null = null, height = 18): HistoryState {
  return {
    status: "loading",
    error: null,
    rev,
    limit: PAGE,
    reload: 0,
    entries: [],
    rows: [],
    complete: true,
    branches: [],
    tags: [],
    current: null,
    selected: -1,
    top: 0,
    height,
    search: { editing: false, query: "" },
    picker: { open: false, index: 0 },
    mark: null,
    pending: null,
    busy: null,
    summaries: {},
    note: null,
    want: null,
  };
}

/** The entry of a commit row, or null for an edge row. */
export function entryAt(s: HistoryState, row: number): HistoryEntry | null {
  const r = s.rows[row];
  return r?.kind === "commit" ? (s.entries[r.index] ?? null) : null;
}

export function selectedEntry(s: HistoryState): HistoryEntry | null {
  return entryAt(s, s.selected);
}

/** The commits of the rows shown, for lazy summaries. */
export function visibleEntries(s: HistoryState): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (let r = s.top; r < Math.min(s.rows.length, s.top + s.height); r++) {
    const e = entryAt(s, r);
    if (e) out.push(e);
  }
  return out;
}

/** The picker's choices: every branch and tag, after "all". */
export function pickerChoices(s: HistoryState): { label: string; rev: string | null }[] {
  return [
    { label: "all branches and tags", rev: null },
    ...s.branches.map((b) => ({ label: b === s.current ? `${b} (current)` : b, rev: b })),
    ...s.tags.map((t) => ({ label: `tag ${t}`, rev: `tags/${t}` })),
  ];
}

/** The cursor is near the end of a history that has older commits not read yet. */
export function wantsMore(s: HistoryState): boolean {
  return s.status === "ready" && !s.complete && s.selected >= s.rows.length - Math.max(10, s.height);
}

function rowOf(s: HistoryState, oid: string | null): number {
  if (oid === null) return -1;
  return s.rows.findIndex((r) => r.kind === "commit" && s.entries[r.index]?.oid === oid);
}

function firstCommitRow(rows: readonly GraphRow[]): number {
  return rows.findIndex((r) => r.kind === "commit");
}

function withSelected(s: HistoryState, selected: number): HistoryState {
  return { ...s, selected, top: follow(s.top, Math.max(0, selected), s.height, s.rows.length) };
}

/** Step `by` commit rows (negative: up), skipping edge rows, stopping at the ends. */
function step(s: HistoryState, by: number): number {
  let at = s.selected;
  const dir = Math.sign(by);
  for (let n = Math.abs(by); n > 0; n--) {
    let next = at + dir;
    while (next >= 0 && next < s.rows.length && s.rows[next]?.kind !== "commit") next += dir;
    if (next < 0 || next >= s.rows.length) break;
    at = next;
  }
  return at;
}

function matches(e: HistoryEntry, q: string): boolean {
  const query = q.toLowerCase();
  return e.message.toLowerCase().includes(query) || e.oid.startsWith(query) || e.author.name.toLowerCase().includes(query);
}

function find(s: HistoryState, dir: 1 | -1, from: number): number {
  const q = s.search.query;
  if (q === "" || s.rows.length === 0) return -1;
  const n = s.rows.length;
  for (let k = 1; k <= n; k++) {
    const r = (((from + dir * k) % n) + n) % n;
    const e = entryAt(s, r);
    if (e && matches(e, q)) return r;
  }
  return -1;
}

export function historyReducer(s: HistoryState, a: HistoryAction): HistoryState {
  switch (a.type) {
    case "load": {
      const rev = a.rev === undefined ? s.rev : a.rev;
      const changed = rev !== s.rev;
      return {
        ...s,
        status: "loading",
        error: null,
        rev,
        limit: a.more ? s.limit * 2 : changed ? PAGE : s.limit,
        reload: s.reload + 1,
        want: changed ? null : (selectedEntry(s)?.oid ?? s.want),
        note: null,
      };
    }
    case "reload":
      return { ...s, status: "loading", reload: s.reload + 1, want: a.select ?? selectedEntry(s)?.oid ?? s.want, summaries: {} };
    case "loaded": {
      const { entries, rows, complete, branches, tags, current } = a.data;
      const next: HistoryState = { ...s, status: "ready", error: null, entries, rows, complete, branches, tags, current };
      let sel = rowOf(next, s.want);
      if (sel < 0) sel = rowOf(next, selectedEntry(s)?.oid ?? null);
      if (sel < 0) sel = firstCommitRow(rows);
      const top = sel < 0 ? 0 : follow(s.top, sel, s.height, rows.length);
      return { ...next, selected: sel, top: Math.min(top, Math.max(0, sel)), want: null };
    }
    case "failed":
      return { ...s, status: "error", error: a.error };
    case "resize":
      return { ...s, height: Math.max(1, a.height), top: follow(s.top, Math.max(0, s.selected), Math.max(1, a.height), s.rows.length) };
    case "move":
      if (s.selected < 0) return s;
      return { ...withSelected(s, step(s, a.by)), note: null };
    case "home":
      return withSelected(s, firstCommitRow(s.rows));
    case "end": {
      let last = s.rows.length - 1;
      while (last >= 0 && s.rows[last]?.kind !== "commit") last--;
      return withSelected(s, last);
    }
    case "select": {
      const r = rowOf(s, a.oid);
      return r < 0 ? { ...s, want: a.oid } : withSelected(s, r);
    }
    case "searchStart":
      return { ...s, search: { editing: true, query: "" }, note: null };
    case "searchInput":
      return s.search.editing ? { ...s, search: { ...s.search, query: s.search.query + a.text } } : s;
    case "searchBackspace":
      return s.search.editing ? { ...s, search: { ...s.search, query: s.search.query.slice(0, -1) } } : s;
    case "searchCancel":
      return { ...s, search: { editing: false, query: s.search.query } };
    case "searchSubmit": {
      const done = { ...s, search: { editing: false, query: s.search.query } };
      if (done.search.query === "") return done;
      const r = find(done, 1, s.selected - 1);
      return r < 0 ? { ...done, note: `no commit matches '${done.search.query}'` } : { ...withSelected(done, r), note: null };
    }
    case "searchNext": {
      if (s.search.query === "") return { ...s, note: "no search yet: press / to search commit messages" };
      const r = find(s, a.dir, s.selected);
      return r < 0 ? { ...s, note: `no commit matches '${s.search.query}'` } : { ...withSelected(s, r), note: null };
    }
    case "pickerOpen": {
      const choices = pickerChoices(s);
      const at = Math.max(0, choices.findIndex((c) => c.rev === s.rev));
      return { ...s, picker: { open: true, index: at } };
    }
    case "pickerMove": {
      const n = pickerChoices(s).length;
      return { ...s, picker: { ...s.picker, index: Math.max(0, Math.min(n - 1, s.picker.index + a.by)) } };
    }
    case "pickerClose":
      return { ...s, picker: { ...s.picker, open: false } };
    case "pickerChoose": {
      const choice = pickerChoices(s)[s.picker.index];
      const closed = { ...s, picker: { ...s.picker, open: false } };
      if (!choice || choice.rev === s.rev) return closed;
      return historyReducer(closed, { type: "load", rev: choice.rev });
    }
    case "mark": {
      const e = selectedEntry(s);
      if (!e) return s;
      return { ...s, mark: s.mark === e.oid ? null : e.oid, note: s.mark === e.oid ? "mark removed" : `marked ${e.oid.slice(0, 7)}: open another commit to compare the two` };
    }
    case "ask":
      return { ...s, pending: a.pending, note: null };
    case "busy":
      return { ...s, busy: a.what, pending: null, note: a.note ?? (a.what === null ? s.note : null) };
    case "summary":
      return { ...s, summaries: { ...s.summaries, [a.oid]: a.text } };
  }
}

/** What Enter opens: the selected commit against its first parent, or the marked commit against the selected one. */
export function openTarget(s: HistoryState): { from: string | null; to: string; title: string } | null {
  const e = selectedEntry(s);
  if (!e) return null;
  if (s.mark !== null && s.mark !== e.oid) {
    const marked = s.entries.find((x) => x.oid === s.mark);
    // older → newer, whichever was marked first
    const [from, to] = marked && marked.committer.timestamp > e.committer.timestamp ? [e.oid, s.mark] : [s.mark, e.oid];
    return { from, to, title: `${from.slice(0, 7)}..${to.slice(0, 7)}` };
  }
  const subject = e.message.split("\n")[0] ?? "";
  return { from: e.parents[0] ?? null, to: e.oid, title: `${e.oid.slice(0, 7)} ${subject}` };
}
