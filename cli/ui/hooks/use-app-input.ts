/** Keys that work on every screen: `?` help, `q` quit, Esc closes the help. */
import { useInput } from "ink";
import type { AppAction } from "../state/app.js";

export function useAppInput(opts: { help: boolean; typing: boolean; dispatch: (a: AppAction) => void; quit: () => void }): void {
  const { help, typing, dispatch, quit } = opts;
  useInput((input, key) => {
    if (typing) return; // the search prompt takes every key
    if (input === "q") quit();
    else if (input === "?") dispatch({ type: "toggleHelp" });
    else if (help && key.escape) dispatch({ type: "closeHelp" });
  });
}
