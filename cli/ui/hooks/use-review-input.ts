/** Review keys → actions: the array list, then the heatmap. */
import { useKeys } from "./use-keys.js";
import { useRef } from "react";
import type { InputGate } from "../contexts.js";
import type { ArrayDiff } from "../../../src/index.js";
import { chunkShapeOf } from "../data/grid.js";
import { selectedArray, type ReviewAction, type ReviewState } from "../state/review.js";

type OpenMap = (t: { from: string | null; to: string; array: ArrayDiff; at?: readonly number[] }) => void;

/** The element a chunk starts at. */
export function origin(a: ArrayDiff, chunk: readonly number[]): number[] {
  const cs = chunkShapeOf(a);
  return chunk.map((k, d) => k * (cs[d] ?? 1));
}

export function firstChunk(a: ArrayDiff): number[] {
  const box = a.chunks.modified.boxes[0] ?? a.chunks.added.boxes[0] ?? a.chunks.removed.boxes[0];
  return box ? box.map(([lo]) => lo) : [];
}

export function useReviewInput(state: ReviewState, dispatch: (a: ReviewAction) => void, back: () => void, gate: InputGate, openMap: OpenMap): void {
  const latest = useRef(state);
  latest.current = state;
  useKeys((input, key) => {
    if (gate.current.top !== "review" || gate.current.help) return;
    const s = latest.current;
    if (input === "v") {
      dispatch({ type: "toggleValues" });
      return;
    }
    const arr = selectedArray(s);
    if (input === "i" && s.status === "loading") {
      dispatch({ type: "askMap", on: true }); // typed ahead: opens when the diff is ready
      return;
    }
    if (input === "i" && arr && s.status === "ready") {
      // the value map, on the chunk under the cursor (the heatmap) or the first change (the list)
      const g = s.focus === "grid" && s.grid?.path === arr.path ? s.grid.cursor : firstChunk(arr);
      openMap({ from: s.from, to: s.to, array: arr, at: origin(arr, g) });
      return;
    }
    if (s.focus === "grid") {
      if (key.escape) dispatch({ type: "closeGrid" });
      else if (key.upArrow || input === "k") dispatch({ type: "gridMove", rows: -1, cols: 0 });
      else if (key.downArrow || input === "j") dispatch({ type: "gridMove", rows: 1, cols: 0 });
      else if (key.leftArrow || input === "h") dispatch({ type: "gridMove", rows: 0, cols: -1 });
      else if (key.rightArrow || input === "l") dispatch({ type: "gridMove", rows: 0, cols: 1 });
      else if (key.pageUp) dispatch({ type: "gridMove", rows: -s.view.gridRows, cols: 0 });
      else if (key.pageDown) dispatch({ type: "gridMove", rows: s.view.gridRows, cols: 0 });
      else if (input === "," || input === "<" || input === "[") dispatch({ type: "slice", by: -1 });
      else if (input === "." || input === ">" || input === "]") dispatch({ type: "slice", by: 1 });
      else if (input === "d") dispatch({ type: "sliceDim" });
      else if (input === "f") dispatch({ type: "metric" });
      return;
    }
    if (key.escape) back();
    else if (key.upArrow || input === "k") dispatch({ type: "move", by: -1 });
    else if (key.downArrow || input === "j") dispatch({ type: "move", by: 1 });
    else if (key.pageUp) dispatch({ type: "move", by: -s.view.listRows });
    else if (key.pageDown) dispatch({ type: "move", by: s.view.listRows });
    else if (key.return || key.rightArrow || input === "l") dispatch({ type: "openGrid" });
  });
}
