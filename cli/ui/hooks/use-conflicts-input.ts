/** Conflict keys → actions. */
import { useKeys } from "./use-keys.js";
import { useRef } from "react";
import type { Side } from "../../../src/index.js";
import type { InputGate } from "../contexts.js";
import type { ConflictsAction, ConflictsState } from "../state/conflicts.js";

export interface ConflictKeyActions {
  dispatch: (a: ConflictsAction) => void;
  take: (side: Side, whole: boolean) => void;
  conclude: () => void;
  back: () => void;
}

export function useConflictsInput(state: ConflictsState, actions: ConflictKeyActions, gate: InputGate): void {
  const latest = useRef({ state, actions });
  latest.current = { state, actions };
  useKeys((input, key) => {
    if (gate.current.top !== "conflicts" || gate.current.help) return;
    const { state: s, actions: a } = latest.current;
    if (key.escape) {
      a.back();
      return;
    }
    if (s.busy !== null) return; // one library call at a time
    if (key.upArrow || input === "k") a.dispatch({ type: "move", by: -1 });
    else if (key.downArrow || input === "j") a.dispatch({ type: "move", by: 1 });
    else if (input === "o") a.take("ours", false);
    else if (input === "t") a.take("theirs", false);
    else if (input === "O") a.take("ours", true);
    else if (input === "T") a.take("theirs", true);
    else if (input === "c") a.conclude();
    else if (input === "r") a.dispatch({ type: "reload" });
  });
}
