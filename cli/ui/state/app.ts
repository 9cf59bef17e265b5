/** The app's own state: which screen is on top (a stack: Esc goes back) and the help overlay. Pure. */
export type ScreenKind = "history" | "review" | "conflicts" | "map";

export interface AppState {
  stack: ScreenKind[];
  help: boolean;
}

export type AppAction =
  | { type: "open"; screen: ScreenKind }
  /** replace the whole stack (after a merge is concluded: back to history) */
  | { type: "reset"; screen: ScreenKind }
  | { type: "back" }
  | { type: "toggleHelp" }
  | { type: "closeHelp" };

export function initialApp(screen: ScreenKind = "history"): AppState {
  return { stack: screen === "history" ? ["history"] : ["history", screen], help: false };
}

export function appReducer(s: AppState, a: AppAction): AppState {
  switch (a.type) {
    case "open":
      return { ...s, stack: [...s.stack.filter((x) => x !== a.screen), a.screen], help: false };
    case "reset":
      return { stack: a.screen === "history" ? ["history"] : ["history", a.screen], help: false };
    case "back":
      return s.stack.length > 1 ? { ...s, stack: s.stack.slice(0, -1) } : s;
    case "toggleHelp":
      return { ...s, help: !s.help };
    case "closeHelp":
      return { ...s, help: false };
  }
}

export function topScreen(s: AppState): ScreenKind {
  return s.stack[s.stack.length - 1] ?? "history";
}
