/** History keys → actions. */
import { useKeys } from "./use-keys.js";
import { useRef } from "react";
import type { InputGate } from "../contexts.js";
import { answer, planMerge, planRef, planSwitch, type HistoryDeed } from "../state/actions.js";
import { selectedEntry, type HistoryAction, type HistoryState } from "../state/history.js";

export interface HistoryKeyActions {
  dispatch: (a: HistoryAction) => void;
  /** Enter: open the selected commit (or compare it with the mark) */
  open: (state: HistoryState) => void;
  /** C: the conflicts of a merge in progress */
  conflicts: () => void;
  /** a confirmed switch, checkout, branch, tag or merge */
  act: (deed: HistoryDeed) => void;
}

export function useHistoryInput(state: HistoryState, actions: HistoryKeyActions, gate: InputGate): void {
  const latest = useRef({ state, actions });
  latest.current = { state, actions };
  useKeys((input, key) => {
    if (gate.current.top !== "history" || gate.current.help) return;
    const { state: s, actions: a } = latest.current;
    const dispatch = a.dispatch;
    if (s.busy !== null) return; // one library call at a time
    if (s.pending) {
      const r = answer(s.pending, { input, enter: key.return, escape: key.escape, backspace: key.backspace || key.delete });
      dispatch({ type: "ask", pending: r.pending });
      if (r.deed) a.act(r.deed);
      return;
    }
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
    else if (input === "s" || input === "B" || input === "t" || input === "M") {
      const e = selectedEntry(s);
      if (!e) return;
      const marked = s.mark === null ? null : (s.entries.find((x) => x.oid === s.mark) ?? null);
      const plan = input === "s" ? planSwitch(e, s.current) : input === "M" ? planMerge(marked, s.current) : planRef(input === "B" ? "branch" : "tag", e);
      if ("note" in plan) dispatch({ type: "busy", what: null, note: plan.note });
      else dispatch({ type: "ask", pending: plan });
    }
  });
}
