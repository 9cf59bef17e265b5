/** The UI's state and data functions, without rendering: reducers, the grid, value comparison, ordering, summaries. */
import { describe, expect, it } from "vitest";
import { historyGraph, type ArrayDiff, type DecodedChunk } from "../../src/index.js";
import { layout } from "../../cli/ui/components/layout.js";
import { splitKeys } from "../../cli/ui/hooks/use-keys.js";
import { arrayGrid, deltaBucket, follow, kindAt, windowKinds } from "../../cli/ui/data/grid.js";
import { mergeHistories } from "../../cli/ui/data/order.js";
import type { HistoryData, HistoryEntry } from "../../cli/ui/data/source.js";
import { diffSummaryLine } from "../../cli/ui/data/summary.js";
import { compareChunk, comparisonText, formatValue, threeWay } from "../../cli/ui/data/values.js";
import { appReducer, initialApp, topScreen } from "../../cli/ui/state/app.js";
import { confirmsDiscard, conflictsReducer, initialConflicts, itemsOf, resolveTarget } from "../../cli/ui/state/conflicts.js";
import { historyReducer, initialHistory, openTarget, pickerChoices, selectedEntry, visibleEntries, wantsMore, type HistoryState } from "../../cli/ui/state/history.js";
import { cellIndex, gridWindow, initialReview, reviewReducer, type ReviewState } from "../../cli/ui/state/review.js";
import { cursorPixel, initialMap, mapReducer, mapSampling, pictureCols, readySlice, specKey, specOf } from "../../cli/ui/state/valuemap.js";

function entry(oid: string, parents: string[], t: number, message = `commit ${oid}`): HistoryEntry {
  return { oid, parents, author: { name: "A", email: "a@x", timestamp: t, tzOffset: 0 }, committer: { timestamp: t }, message, refs: [] };
}

function historyOf(entries: HistoryEntry[], extra: Partial<HistoryData> = {}): HistoryState {
  const data: HistoryData = { entries, rows: historyGraph(entries), complete: true, branches: ["main", "x"], tags: ["v1"], current: "main", ...extra };
  return historyReducer(initialHistory(null, 5), { type: "loaded", data });
}

// a merge: m (d, f) ; d (c) ; f (c) ; c (b) ; b (a) ; a
const LINEAR = [entry("m", ["d", "f"], 6, "Merge feature"), entry("d", ["c"], 5, "fix tile"), entry("f", ["c"], 4, "feature tile"), entry("c", ["b"], 3), entry("b", ["a"], 2, "grid tile"), entry("a", [], 1, "import")];

describe("history reducer", () => {
  it("selects the first commit; moves over commit rows only; stops at the ends; keeps the cursor in view", () => {
    let s = historyOf(LINEAR);
    expect(s.rows.map((r) => r.kind)).toEqual(["commit", "edge", "commit", "commit", "edge", "commit", "commit", "commit"]);
    expect(selectedEntry(s)?.oid).toBe("m");
    s = historyReducer(s, { type: "move", by: 1 });
    expect(selectedEntry(s)?.oid).toBe("d");
    expect(s.selected).toBe(2);
    s = historyReducer(s, { type: "move", by: 3 });
    expect(selectedEntry(s)?.oid).toBe("b");
    expect(s.top).toBe(2); // height 5: rows 2..6 show, the cursor at 6
    s = historyReducer(s, { type: "move", by: 10 });
    expect(selectedEntry(s)?.oid).toBe("a");
    s = historyReducer(s, { type: "home" });
    expect([selectedEntry(s)?.oid, s.top]).toEqual(["m", 0]);
    s = historyReducer(s, { type: "move", by: -1 });
    expect(selectedEntry(s)?.oid).toBe("m");
    s = historyReducer(s, { type: "end" });
    expect(selectedEntry(s)?.oid).toBe("a");
    expect(visibleEntries(s).map((e) => e.oid)).toEqual(["f", "c", "b", "a"]);
  });

  it("search: typed, submitted, next and previous with wrap-around, a message for no match", () => {
    let s = historyOf(LINEAR);
    s = historyReducer(s, { type: "searchStart" });
    for (const ch of "TILX") s = historyReducer(s, { type: "searchInput", text: ch.toLowerCase() });
    s = historyReducer(s, { type: "searchBackspace" });
    s = historyReducer(s, { type: "searchSubmit" });
    expect(s.search).toEqual({ editing: false, query: "til" });
    expect(selectedEntry(s)?.oid).toBe("d");
    s = historyReducer(s, { type: "searchNext", dir: 1 });
    expect(selectedEntry(s)?.oid).toBe("f");
    s = historyReducer(s, { type: "searchNext", dir: 1 });
    expect(selectedEntry(s)?.oid).toBe("b");
    s = historyReducer(s, { type: "searchNext", dir: 1 });
    expect(selectedEntry(s)?.oid).toBe("d"); // wrapped
    s = historyReducer(s, { type: "searchNext", dir: -1 });
    expect(selectedEntry(s)?.oid).toBe("b");
    s = historyReducer(historyReducer(s, { type: "searchStart" }), { type: "searchInput", text: "zzz" });
    s = historyReducer(s, { type: "searchSubmit" });
    expect(s.note).toBe("no commit matches 'zzz'");
    expect(selectedEntry(s)?.oid).toBe("b");
  });

  it("the branch picker lists all, branches and tags; choosing one loads its history from the first page", () => {
    let s = historyOf(LINEAR);
    expect(pickerChoices(s).map((c) => c.label)).toEqual(["all branches and tags", "main (current)", "x", "tag v1"]);
    s = historyReducer(s, { type: "pickerOpen" });
    s = historyReducer(s, { type: "pickerMove", by: 5 });
    expect(s.picker.index).toBe(3);
    s = historyReducer(s, { type: "pickerChoose" });
    expect(s).toMatchObject({ rev: "tags/v1", status: "loading", picker: { open: false } });
  });

  it("Enter opens a commit against its first parent; with a mark, the older against the newer", () => {
    let s = historyOf(LINEAR);
    expect(openTarget(s)).toEqual({ from: "d", to: "m", title: "m Merge feature" });
    s = historyReducer(s, { type: "end" });
    expect(openTarget(s)?.from).toBeNull(); // a root commit
    s = historyReducer(s, { type: "mark" });
    expect(s.mark).toBe("a");
    s = historyReducer(s, { type: "home" });
    expect(openTarget(s)).toMatchObject({ from: "a", to: "m" });
    s = historyReducer(s, { type: "end" });
    s = historyReducer(s, { type: "mark" });
    expect(s.mark).toBeNull();
  });

  it("a cut history asks for more near its end; a reload keeps the selected commit", () => {
    let s = historyOf(LINEAR, { complete: false });
    expect(wantsMore(s)).toBe(true); // 8 rows, height 5: already near the end
    s = historyReducer(s, { type: "move", by: 2 });
    s = historyReducer(s, { type: "load", more: true });
    expect([s.limit, s.status]).toEqual([800, "loading"]);
    s = historyReducer(s, { type: "loaded", data: { entries: LINEAR, rows: historyGraph(LINEAR), complete: true, branches: [], tags: [], current: null } });
    expect(selectedEntry(s)?.oid).toBe("f");
    expect(wantsMore(s)).toBe(false);
  });
});

function arrayDiff(partial: Partial<ArrayDiff> = {}): ArrayDiff {
  const side = { zarrFormat: 3 as const, shape: [6, 16, 24], dtype: "float32", chunkShape: [2, 8, 8], innerChunkShape: null, fillValue: 0, codecs: ["bytes"], dimensionNames: ["t", "y", "x"] };
  const none = { count: 0, bytes: 0, boxes: [] };
  return {
    path: "a",
    status: "modified",
    oldPath: null,
    before: side,
    after: { ...side, shape: [8, 16, 24] },
    metadata: [],
    attributes: [],
    chunks: {
      added: { count: 6, bytes: 60, boxes: [[[3, 3], [0, 1], [0, 2]]] },
      removed: none,
      modified: { count: 2, bytes: 20, bytesBefore: 20, boxes: [[[0, 0], [0, 0], [0, 0]], [[1, 1], [1, 1], [2, 2]]] },
    },
    values: null,
    valuesNote: null,
    ...partial,
  };
}

describe("review reducer and the grid", () => {
  const loaded = (): ReviewState => {
    let s = reviewReducer(initialReview(), { type: "resize", listRows: 3, gridRows: 1, gridCols: 2 });
    s = reviewReducer(s, { type: "start", from: "a", to: "b", title: "t" });
    const a = arrayDiff();
    return reviewReducer(s, { type: "loaded", diff: { arrays: [a, { ...a, path: "b" }] } as never });
  };

  it("opens the grid of the selected array on its first changed chunk; moves the cursor, slice and window", () => {
    let s = reviewReducer(loaded(), { type: "openGrid" });
    expect(s.focus).toBe("grid");
    expect(s.grid).toMatchObject({ path: "a", shape: [4, 2, 3], rowDim: 1, colDim: 2, cursor: [0, 0, 0], sliceDim: 0 });
    s = reviewReducer(s, { type: "gridMove", rows: 1, cols: 2 });
    expect(s.grid?.cursor).toEqual([0, 1, 2]);
    expect([s.grid?.top, s.grid?.left]).toEqual([1, 1]); // a 1×2 window follows the cursor
    expect(gridWindow(s.grid!, s.view)).toEqual({ rows: [1, 2], cols: [1, 3] });
    expect(cellIndex(s.grid!, 1, 1)).toEqual([0, 1, 1]);
    s = reviewReducer(s, { type: "gridMove", rows: 9, cols: 9 });
    expect(s.grid?.cursor).toEqual([0, 1, 2]); // clamped
    s = reviewReducer(s, { type: "slice", by: 5 });
    expect(s.grid?.cursor).toEqual([3, 1, 2]);
    s = reviewReducer(s, { type: "sliceDim" });
    expect(s.grid?.sliceDim).toBe(0); // the only other dimension
    s = reviewReducer(s, { type: "closeGrid" });
    expect(s.focus).toBe("list");
    s = reviewReducer(s, { type: "move", by: 7 });
    expect(s.selected).toBe(1);
  });

  it("the grid is the larger of both sides'; chunk kinds come from the boxes, only inside the window", () => {
    const a = arrayDiff();
    expect(arrayGrid(a)).toEqual([4, 2, 3]);
    const dims = { rowDim: 1, colDim: 2 };
    expect([...windowKinds(a, [3, 0, 0], dims, [0, 2], [0, 3]).entries()]).toHaveLength(6);
    expect(windowKinds(a, [3, 0, 0], dims, [0, 1], [1, 2])).toEqual(new Map([["3,0,1", "added"]]));
    expect(windowKinds(a, [1, 0, 0], dims, [0, 2], [0, 3])).toEqual(new Map([["1,1,2", "modified"]]));
    expect(kindAt(a, [0, 0, 0])).toBe("modified");
    expect(kindAt(a, [2, 0, 0])).toBe("unchanged");
    expect(arrayGrid(arrayDiff({ before: null, after: { ...arrayDiff().after!, shape: [], chunkShape: [] } }))).toEqual([]);
  });

  it("max |Δ| buckets on a log scale; windows follow a position", () => {
    expect([deltaBucket(0, 10), deltaBucket(0.001, 10), deltaBucket(10, 10), deltaBucket(20, 10), deltaBucket(1, 0)]).toEqual([0, 1, 4, 4, 4]);
    expect([follow(0, 9, 5, 20), follow(8, 3, 5, 20), follow(10, 19, 5, 20), follow(3, 1, 5, 4)]).toEqual([5, 3, 15, 0]);
  });

  it("layout shares 80×24: a footer and header line, the heatmap window in cells", () => {
    const l = layout(80, 24);
    expect(l.body).toBe(22);
    expect(l.review.gridCols).toBe(23); // room for row labels of coordinate values
    expect(l.review.gridRows + l.review.panelRows + 3).toBe(22);
    expect(layout(10, 3).body).toBeGreaterThan(0);
  });
});

function chunk(data: number[], shape: number[], origin: number[]): DecodedChunk {
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { data: Float64Array.from(data) as never, shape, stride, origin };
}

describe("values of one chunk", () => {
  it("compares two sides: changed elements with coordinates, max |Δ|, NaN equal to NaN, elements outside a shape", () => {
    const before = chunk([1, 2, NaN, 4], [2, 2], [2, 0]);
    const after = chunk([1, 5, NaN, 3], [2, 2], [2, 0]);
    const c = compareChunk([1, 0], [2, 2], { chunk: before, shape: [4, 2] }, { chunk: after, shape: [4, 2] });
    expect(c).toEqual({
      compared: 4,
      changed: 2,
      added: 0,
      removed: 0,
      maxAbsDelta: 3,
      elements: [
        { coords: [2, 1], before: 2, after: 5 },
        { coords: [3, 1], before: 4, after: 3 },
      ],
    });
    // the array grew: the new row is absent before
    const grown = compareChunk([1, 0], [2, 2], { chunk: chunk([1, 2, 0, 0], [2, 2], [2, 0]), shape: [3, 2] }, { chunk: after, shape: [4, 2] });
    expect(grown.elements.map((e) => [e.coords, e.before, e.after])).toEqual([
      [[2, 1], 2, 5],
      [[3, 0], undefined, NaN],
      [[3, 1], undefined, 3],
    ]);
    expect([grown.compared, grown.changed, grown.added, grown.removed]).toEqual([2, 1, 2, 0]);
    expect(comparisonText(grown)).toBe("1 of 2 elements changed · 2 added");
    // an appended chunk: nothing before, so nothing compared ("1728 of 0 elements changed" was wrong)
    const appended = compareChunk([2, 0], [2, 2], { chunk: null, shape: [4, 2] }, { chunk: chunk([1, 2, 3, 4], [2, 2], [4, 0]), shape: [6, 2] });
    expect([appended.compared, appended.changed, appended.added]).toEqual([0, 0, 4]);
    expect(comparisonText(appended)).toBe("4 elements added (nothing before)");
    const gone = compareChunk([1, 0], [2, 2], { chunk: before, shape: [4, 2] }, { chunk: null, shape: [2, 2] });
    expect(comparisonText(gone)).toBe("4 elements removed (nothing after)");
    expect(compareChunk([0, 0], [2, 2], { chunk: null, shape: [] }, { chunk: null, shape: [] }).changed).toBe(0);
  });

  it("three ways: conflicts first (both changed, differently), then changes of one side", () => {
    const base = chunk([0, 0, 0, 0], [4], [0]);
    const ours = chunk([1, 0, 7, 9], [4], [0]);
    const theirs = chunk([0, 2, 7, 8], [4], [0]);
    const t = threeWay([0], [4], { chunk: base, shape: [4] }, { chunk: ours, shape: [4] }, { chunk: theirs, shape: [4] });
    expect(t.changed).toBe(4);
    expect(t.conflicts).toBe(1);
    expect(t.rows.map((r) => [r.coords[0], r.conflict])).toEqual([
      [3, true],
      [0, false],
      [1, false],
      [2, false],
    ]);
  });

  it("formats values briefly", () => {
    expect([formatValue(1 / 3), formatValue(NaN), formatValue(undefined), formatValue(12n), formatValue(true), formatValue("abcdefghijklmnop", 6), formatValue(1e20), formatValue(-2.5e-9)]).toEqual([
      "0.333333",
      "NaN",
      "—",
      "12",
      "true",
      "\"abcd…",
      "1e+20",
      "-2.5e-9",
    ]);
  });
});

describe("histories of several refs", () => {
  it("lists each commit once, children before parents, newest first otherwise (clock skew included)", () => {
    const main = [entry("m", ["d", "f"], 6), entry("d", ["c"], 5), entry("c", ["a"], 3), entry("a", [], 1)];
    const feature = [entry("f", ["c"], 2), entry("c", ["a"], 3), entry("a", [], 1)]; // f's clock is behind its parent's
    const tag = [entry("t", ["a"], 9), entry("a", [], 1)];
    const all = mergeHistories([main, feature, tag]).map((e) => e.oid);
    expect(all).toEqual(["t", "m", "d", "f", "c", "a"]);
  });

  it("summarizes a diff in one line", () => {
    const s = { arrays: { added: 1, removed: 0, modified: 2, renamed: 0 }, groups: { added: 0, removed: 0, modified: 1 }, files: { added: 1, removed: 0, modified: 0 }, chunks: { added: 3, removed: 1, modified: 5 }, bytesAdded: 0, bytesRemoved: 0 };
    expect(diffSummaryLine(s)).toBe("3 arrays: +3 ~5 -1 chunks, 1 file");
    expect(diffSummaryLine({ ...s, arrays: { added: 0, removed: 0, modified: 0, renamed: 0 }, files: { added: 0, removed: 0, modified: 0 } })).toBe("1 group");
  });
});

describe("app and conflicts reducers", () => {
  it("screens stack: Esc goes back, never below the history; help toggles", () => {
    let s = initialApp();
    s = appReducer(s, { type: "open", screen: "review" });
    s = appReducer(s, { type: "open", screen: "conflicts" });
    expect(s.stack).toEqual(["history", "review", "conflicts"]);
    s = appReducer(appReducer(appReducer(s, { type: "back" }), { type: "back" }), { type: "back" });
    expect(topScreen(s)).toBe("history");
    expect(appReducer(s, { type: "toggleHelp" }).help).toBe(true);
    expect(initialApp("conflicts").stack).toEqual(["history", "conflicts"]);
  });

  it("conflicts become items by array; the target of one, or of its whole array", () => {
    const merge = mergeView([
        { conflict: { _tag: "ChunkBothChanged", array: "z/sst", chunk: [1, 2], path: "z/sst/c/1/2", entries: { base: null, ours: null, theirs: null } }, reasons: [], scope: [], fingerprint: "", resolved: false },
        { conflict: { _tag: "AttrBothChanged", node: "z/sst", path: "z/sst/zarr.json", key: "units", values: { base: "K", ours: "C", theirs: "F" } }, reasons: [], scope: [], fingerprint: "", resolved: true },
    ]);
    expect(itemsOf(merge).map((i) => [i.subject, i.label, i.resolved])).toEqual([
      ["z/sst", "chunk [1,2]", false],
      ["z/sst", "attribute units", true],
    ]);
    let s = conflictsReducer(initialConflicts(), { type: "loaded", merge });
    expect(resolveTarget(s, false)).toEqual({ path: "z/sst", chunk: [1, 2] });
    s = conflictsReducer(s, { type: "move", by: 1 });
    expect(resolveTarget(s, false)).toEqual({ path: "z/sst/zarr.json" });
    expect(resolveTarget(s, true)).toEqual({ path: "z/sst" });
    s = conflictsReducer(s, { type: "loaded", merge }); // a reload keeps the selection
    expect(s.selected).toBe(1);
  });

  it("a side that would discard the other side's edits asks first: the same key again confirms, anything else forgets it", () => {
    const merge = mergeView([
        { conflict: { _tag: "ChunkBothChanged", array: "z/s", chunk: [0], path: "z/s/0", entries: { base: null, ours: null, theirs: null } }, reasons: [], scope: [], fingerprint: "", resolved: false },
        { conflict: { _tag: "ChunkBothChanged", array: "z/s", chunk: [1], path: "z/s/1", entries: { base: null, ours: null, theirs: null } }, reasons: [], scope: [], fingerprint: "", resolved: false },
    ]);
    let s = conflictsReducer(initialConflicts(), { type: "loaded", merge });
    expect(confirmsDiscard(s, "theirs", false)).toBe(false);
    s = conflictsReducer(s, { type: "confirm", side: "theirs", whole: false, note: "t again discards them" });
    expect(s.note).toBe("t again discards them");
    expect(confirmsDiscard(s, "theirs", false)).toBe(true);
    expect(confirmsDiscard(s, "ours", false)).toBe(false);
    expect(confirmsDiscard(s, "theirs", true)).toBe(false);
    // moving to another conflict forgets it
    expect(confirmsDiscard(conflictsReducer(s, { type: "move", by: 1 }), "theirs", false)).toBe(false);
    // a chunk's details arriving does not
    expect(confirmsDiscard(conflictsReducer(s, { type: "detail", key: "x", load: { status: "loading" } }), "theirs", false)).toBe(true);
  });
});

/** A stopped merge as the conflicts screen gets it, with these conflicts. */
function mergeView(conflicts: unknown[]): never {
  return { name: "feature", theirs: "t", base: "b", origHead: "o", strategy: "elementwise", message: "", stale: false, branch: "main", conflicts } as never;
}

describe("keys in one burst", () => {
  const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };
  it("splits a run of characters into keys: letters, Enter, Backspace, Ctrl+letter; a key Ink named stays one", () => {
    const keys = splitKeys("jJ \r\x7f\x02", none).map(([i, k]) => [i, Object.entries(k).filter(([, v]) => v === true).map(([n]) => n).join("+")]);
    expect(keys).toEqual([
      ["j", ""],
      ["J", "shift"],
      [" ", ""],
      ["", "return"],
      ["", "backspace"],
      ["b", "ctrl"],
    ]);
    expect(splitKeys("j", none)).toEqual([["j", none]]);
    expect(splitKeys("", { ...none, upArrow: true })).toHaveLength(1);
    expect(splitKeys("[A", { ...none, meta: true })).toHaveLength(1);
  });
});

describe("value map state", () => {
  const arr = {
    path: "a",
    status: "modified",
    before: { shape: [4, 100, 300], chunkShape: [1, 10, 10], dimensionNames: ["t", "y", "x"] },
    after: { shape: [5, 100, 300], chunkShape: [1, 10, 10], dimensionNames: ["t", "y", "x"] },
  } as unknown as ArrayDiff;
  const data = { rows: 100, cols: 300, before: null, after: null, hasBefore: null, hasAfter: null, units: null, chunks: 0 };

  it("opens on the last two dimensions at an element, moves the cursor a pixel (a block when reduced), the slice, the axes", () => {
    let s = mapReducer(initialMap(), { type: "resize", rows: 10, cols: 60 });
    s = mapReducer(s, { type: "open", from: "f", to: "t", array: arr, at: [9, 42, 7] });
    expect([s.shape, s.rowDim, s.colDim, s.at, s.sliceDim]).toEqual([[5, 100, 300], 1, 2, [4, 42, 7], 0]);
    expect(specOf(s)).toEqual({ rowDim: 1, colDim: 2, at: [4, 0, 0] });
    s = mapReducer(s, { type: "loaded", key: specKey(s), data });
    expect(mapSampling(s)).toEqual({ per: 5, zoom: 1, rows: 20, cols: 60 }); // 100×300 into 20×60 pixels
    expect(cursorPixel(s, mapSampling(s)!)).toEqual({ r: 8, c: 1 });
    s = mapReducer(s, { type: "move", rows: 1, cols: -1 });
    expect(s.at).toEqual([4, 45, 0]); // a pixel: 5 elements, from the block's first
    s = mapReducer(s, { type: "slice", by: -1 });
    expect(s.at[0]).toBe(3);
    expect(readySlice(s)).toBeNull(); // another slice: read again
    s = mapReducer(s, { type: "dims" });
    expect([s.rowDim, s.colDim, s.sliceDim]).toEqual([0, 1, 2]);
    s = mapReducer(s, { type: "loaded", key: "stale", data });
    expect(readySlice(s)).toBeNull(); // an answer for a slice no longer asked for is not shown
    expect(s.data?.key).not.toBe("stale");
    s = mapReducer(s, { type: "view", view: "all" });
    expect(pictureCols(s)).toBe(18);
  });
});
