/** Value map keys → actions. */
import type { InputGate } from "../contexts.js";
import type { MapAction, MapState, MapView } from "../state/valuemap.js";
import { useKeys } from "./use-keys.js";

const VIEWS: Record<string, MapView> = { "1": "before", b: "before", "2": "after", a: "after", "3": "delta", s: "all" };
const CYCLE: MapView[] = ["delta", "before", "after", "all"];

export function useValueMapInput(state: MapState, dispatch: (a: MapAction) => void, back: () => void, gate: InputGate): void {
  useKeys((input, key) => {
    if (gate.current.top !== "map" || gate.current.help) return;
    if (key.escape) back();
    else if (key.upArrow || input === "k") dispatch({ type: "move", rows: -1, cols: 0 });
    else if (key.downArrow || input === "j") dispatch({ type: "move", rows: 1, cols: 0 });
    else if (key.leftArrow || input === "h") dispatch({ type: "move", rows: 0, cols: -1 });
    else if (key.rightArrow || input === "l") dispatch({ type: "move", rows: 0, cols: 1 });
    else if (key.pageUp) dispatch({ type: "move", rows: -8, cols: 0 });
    else if (key.pageDown) dispatch({ type: "move", rows: 8, cols: 0 });
    else if (input === "," || input === "<" || input === "[") dispatch({ type: "slice", by: -1 });
    else if (input === "." || input === ">" || input === "]") dispatch({ type: "slice", by: 1 });
    else if (input === "d") dispatch({ type: "sliceDim" });
    else if (input === "x") dispatch({ type: "dims" });
    else if (key.tab) dispatch({ type: "view", view: CYCLE[(CYCLE.indexOf(state.view) + 1) % CYCLE.length] as MapView });
    else if (VIEWS[input]) dispatch({ type: "view", view: VIEWS[input] as MapView });
  });
}
