/**
 * What the screens share, in two contexts (as gemini-cli's UIState and
 * UIActions): the state, which changes on every key, and the actions, which
 * never do, so a component that only acts does not re-render.
 */
import { createContext, useContext } from "react";
import type { Layout } from "./components/layout.js";
import type { Theme } from "./components/theme.js";
import type { UiSource } from "./data/source.js";
import type { AppAction, AppState, ScreenKind } from "./state/app.js";
import type { ConflictsAction, ConflictsState } from "./state/conflicts.js";
import type { HistoryAction, HistoryState } from "./state/history.js";
import type { ReviewAction, ReviewState } from "./state/review.js";
import type { MapAction, MapState } from "./state/valuemap.js";
import type { ArrayDiff } from "../../src/index.js";

export interface UIState {
  app: AppState;
  history: HistoryState;
  review: ReviewState;
  conflicts: ConflictsState;
  map: MapState;
  layout: Layout;
  theme: Theme;
}

/**
 * Which screen takes keys now, written by the app on every render. Key
 * handlers read it (and their state) through refs: React may deliver a key to
 * a handler of the frame before (a screen just closed, a mode just left), and
 * that handler must act on what is on screen now.
 */
export interface InputGate {
  current: { top: ScreenKind; help: boolean };
}

export interface UIActions {
  source: UiSource;
  gate: InputGate;
  dispatchApp: (a: AppAction) => void;
  dispatchHistory: (a: HistoryAction) => void;
  dispatchReview: (a: ReviewAction) => void;
  dispatchConflicts: (a: ConflictsAction) => void;
  dispatchMap: (a: MapAction) => void;
  /** open the value map of an array of the review (at: an element to start on, all dimensions) */
  openMap: (t: { from: string | null; to: string; array: ArrayDiff; at?: readonly number[] }) => void;
  /** open the review of two commits (from null: a root commit against nothing) */
  openReview: (t: { from: string | null; to: string; title: string }) => void;
  openConflicts: () => void;
  back: () => void;
  quit: () => void;
}

export const UIStateContext = createContext<UIState | null>(null);
export const UIActionsContext = createContext<UIActions | null>(null);

export function useUIState(): UIState {
  const s = useContext(UIStateContext);
  if (!s) throw new Error("useUIState outside <App>");
  return s;
}

export function useUIActions(): UIActions {
  const a = useContext(UIActionsContext);
  if (!a) throw new Error("useUIActions outside <App>");
  return a;
}

/** A library error as one line: the message and, when it has one, the hint. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const hint = (err as { hint?: unknown }).hint;
    return typeof hint === "string" && hint ? `${err.message} (${hint})` : err.message;
  }
  return String(err);
}
