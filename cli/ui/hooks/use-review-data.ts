/** Review data: the diff, an array's value statistics when values are on, and chunks decoded as the cursor reaches them. */
import { useEffect } from "react";
import { errorText } from "../contexts.js";
import { gridChanges, kindAt, regrid, windowKinds } from "../data/grid.js";
import type { UiSource } from "../data/source.js";
import { chunkKey, gridWindow, selectedArray, type ReviewAction, type ReviewState } from "../state/review.js";

export function useReviewData(state: ReviewState, dispatch: (a: ReviewAction) => void, source: UiSource): void {
  const { seq, from, to, status } = state;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reads again only when a load is asked for (seq is bumped by each)
  useEffect(() => {
    if (status !== "loading" || to === "") return;
    let live = true;
    source.diff(from, to).then(
      (diff) => live && dispatch({ type: "loaded", diff }),
      (err: unknown) => live && dispatch({ type: "failed", error: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, [seq]);

  // value statistics of the selected array: decodes its changed chunks, so only with values on
  const arr = selectedArray(state);
  const wantValues = state.values && state.focus === "list" && arr !== null && state.arrayValues[arr.path] === undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the selected array's path, not by objects made anew at each render
  useEffect(() => {
    if (!wantValues || !arr) return;
    const t = setTimeout(() => {
      dispatch({ type: "arrayValues", path: arr.path, load: { status: "loading" } });
      source.arrayValues(from, to, arr).then(
        (value) => dispatch({ type: "arrayValues", path: arr.path, load: { status: "ready", value } }),
        (err: unknown) => dispatch({ type: "arrayValues", path: arr.path, load: { status: "error", error: errorText(err) } }),
      );
    }, 150);
    return () => clearTimeout(t);
  }, [wantValues, arr?.path]);

  // the coordinate labels of the array whose grid is open (its 1-D coordinate arrays, read once)
  const gridPath = state.focus === "grid" && state.grid && arr && arr.path === state.grid.path ? arr.path : null;
  const wantCoords = gridPath !== null && state.coords[gridPath] === undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the array's path, not by objects made anew at each render
  useEffect(() => {
    if (!wantCoords || !arr || gridPath === null) return;
    const side = arr.after !== null ? to : from;
    if (side === null) return;
    dispatch({ type: "coords", path: gridPath, load: { status: "loading" } });
    source.coordinates(side, arr).then(
      (value) => dispatch({ type: "coords", path: gridPath, load: { status: "ready", value } }),
      (err: unknown) => dispatch({ type: "coords", path: gridPath, load: { status: "error", error: errorText(err) } }),
    );
  }, [wantCoords, gridPath]);

  // chunks to decode: the one under the cursor; with values on, every changed one in the window.
  // None after a rechunk: a chunk of the new grid has no counterpart of the same index before.
  const g = state.focus === "grid" ? state.grid : null;
  const wanted: number[][] = [];
  if (g && arr && arr.path === g.path && !regrid(arr)) {
    if (kindAt(arr, g.cursor) !== "unchanged") wanted.push(g.cursor);
    if (state.values) {
      const win = gridWindow(g, state.view);
      for (const k of windowKinds(gridChanges(arr), g.cursor, g, win.rows, win.cols).keys()) wanted.push(k.split(",").map(Number));
    }
  }
  const seen = new Set<string>();
  const missing = arr
    ? wanted.filter((idx) => {
        const k = chunkKey(arr.path, idx);
        if (seen.has(k) || state.chunks[k] !== undefined) return false;
        seen.add(k);
        return true;
      })
    : [];
  const missingKey = arr ? missing.map((i) => chunkKey(arr.path, i)).join(" ") : "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the missing chunks (missingKey), not by objects made anew at each render
  useEffect(() => {
    if (!arr || missing.length === 0) return;
    // a short pause, so that holding an arrow key does not decode every chunk passed over
    const t = setTimeout(() => {
      for (const idx of missing) {
        const k = chunkKey(arr.path, idx);
        dispatch({ type: "chunk", key: k, load: { status: "loading" } });
        source.chunk(from, to, arr, idx).then(
          (value) => dispatch({ type: "chunk", key: k, load: { status: "ready", value } }),
          (err: unknown) => dispatch({ type: "chunk", key: k, load: { status: "error", error: errorText(err) } }),
        );
      }
    }, 80);
    return () => clearTimeout(t);
  }, [missingKey]);
}
