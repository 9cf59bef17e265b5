/** Conflict keys → actions. */
import { useInput } from "ink";
import type { Side } from "../../../src/index.js";
import type { ConflictsAction, ConflictsState } from "../state/conflicts.js";

export interface ConflictKeyActions {
  dispatch: (a: ConflictsAction) => void;
  take: (side: Side, whole: boolean) => void;
  conclude: () => void;
  back: () => void;
}

export function useConflictsInput(state: ConflictsState, { dispatch, take, conclude, back }: ConflictKeyActions, isActive: boolean): void {
  useInput(
    (input, key) => {
      if (key.escape) {
        back();
        return;
      }
      if (state.busy !== null) return; // one library call at a time
      if (key.upArrow || input === "k") dispatch({ type: "move", by: -1 });
      else if (key.downArrow || input === "j") dispatch({ type: "move", by: 1 });
      else if (input === "o") take("ours", false);
      else if (input === "t") take("theirs", false);
      else if (input === "O") take("ours", true);
      else if (input === "T") take("theirs", true);
      else if (input === "c") conclude();
      else if (input === "r") dispatch({ type: "reload" });
    },
    { isActive },
  );
}
