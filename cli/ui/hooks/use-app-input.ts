/** Keys that work on every screen: `?` help, `q` quit, Esc closes the help. */
import { type KeyBus, useKeys } from "./use-keys.js";
import { useRef } from "react";
import type { AppAction } from "../state/app.js";

export function useAppInput(opts: { help: boolean; typing: boolean; dispatch: (a: AppAction) => void; quit: () => void; bus: KeyBus }): void {
  const latest = useRef(opts);
  latest.current = opts;
  useKeys((input, key) => {
    const { help, typing, dispatch, quit } = latest.current;
    if (typing) return; // the search prompt takes every key
    if (input === "q") quit();
    else if (input === "?") dispatch({ type: "toggleHelp" });
    else if (help && key.escape) dispatch({ type: "closeHelp" });
  }, opts.bus);
}
