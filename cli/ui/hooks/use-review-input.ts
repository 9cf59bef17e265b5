/** Review keys → actions: the array list, then the heatmap. */
import { useKeys } from "./use-keys.js";
import { useRef } from "react";
import type { InputGate } from "../contexts.js";
import type { ReviewAction, ReviewState } from "../state/review.js";

export function useReviewInput(state: ReviewState, dispatch: (a: ReviewAction) => void, back: () => void, gate: InputGate): void {
  const latest = useRef(state);
  latest.current = state;
  useKeys((input, key) => {
    if (gate.current.top !== "review" || gate.current.help) return;
    const s = latest.current;
    if (input === "v") {
      dispatch({ type: "toggleValues" });
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
