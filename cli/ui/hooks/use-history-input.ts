/** History keys → actions. */
import { useKeys } from "./use-keys.js";
import { useRef } from "react";
import type { InputGate } from "../contexts.js";
import type { HistoryAction, HistoryState } from "../state/history.js";

export interface HistoryKeyActions {
  dispatch: (a: HistoryAction) => void;
  /** Enter: open the selected commit (or compare it with the mark) */
  open: (state: HistoryState) => void;
  /** C: the conflicts of a merge in progress */
  conflicts: () => void;
}

export function useHistoryInput(state: HistoryState, actions: HistoryKeyActions, gate: InputGate): void {
  const latest = useRef({ state, actions });
  latest.current = { state, actions };
  useKeys((input, key) => {
    if (gate.current.top !== "history" || gate.current.help) return;
    const { state: s, actions: a } = latest.current;
    const dispatch = a.dispatch;
    if (s.search.editing) {
      if (key.escape) dispatch({ type: "searchCancel" });
      else if (key.return) dispatch({ type: "searchSubmit" });
      else if (key.backspace || key.delete) dispatch({ type: "searchBackspace" });
      else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow) dispatch({ type: "searchInput", text: input });
      return;
    }
    if (s.picker.open) {
      if (key.escape || input === "b") dispatch({ type: "pickerClose" });
      else if (key.return) dispatch({ type: "pickerChoose" });
      else if (key.upArrow || input === "k") dispatch({ type: "pickerMove", by: -1 });
      else if (key.downArrow || input === "j") dispatch({ type: "pickerMove", by: 1 });
      return;
    }
    const page = Math.max(1, s.height - 1);
    if (key.upArrow || input === "k") dispatch({ type: "move", by: -1 });
    else if (key.downArrow || input === "j") dispatch({ type: "move", by: 1 });
    else if (key.pageUp || (key.ctrl && input === "b")) dispatch({ type: "move", by: -page });
    else if (key.pageDown || (key.ctrl && input === "f") || input === " ") dispatch({ type: "move", by: page });
    else if (key.home || input === "g") dispatch({ type: "home" });
    else if (key.end || input === "G") dispatch({ type: "end" });
    else if (key.return) a.open(s);
    else if (input === "/") dispatch({ type: "searchStart" });
    else if (input === "n") dispatch({ type: "searchNext", dir: 1 });
    else if (input === "N") dispatch({ type: "searchNext", dir: -1 });
    else if (input === "b") dispatch({ type: "pickerOpen" });
    else if (input === "m") dispatch({ type: "mark" });
    else if (input === "C") a.conflicts();
  });
}
