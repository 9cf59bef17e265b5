/**
 * The app: one reducer per screen (kept while another screen is on top, so
 * Esc returns to where the user was), the screen on top, the header and the
 * footer, and the keys every screen shares.
 */
import { Box, useApp } from "ink";
import path from "node:path";
import { useEffect, useMemo, useReducer, useRef } from "react";
import { UIActionsContext, UIStateContext, type InputGate, type UIActions, type UIState } from "../contexts.js";
import type { UiSource } from "../data/source.js";
import { useAppInput } from "../hooks/use-app-input.js";
import { KeyBusContext, useKeyBus } from "../hooks/use-keys.js";
import { useTerminalSize, type Size } from "../hooks/use-terminal-size.js";
import { ConflictsScreen } from "../screens/ConflictsScreen.js";
import { HistoryScreen } from "../screens/HistoryScreen.js";
import { ReviewScreen } from "../screens/ReviewScreen.js";
import { ValueMapScreen } from "../screens/ValueMapScreen.js";
import { appReducer, initialApp, topScreen, type ScreenKind } from "../state/app.js";
import { conflictsReducer, initialConflicts } from "../state/conflicts.js";
import { historyReducer, initialHistory } from "../state/history.js";
import { initialReview, reviewReducer } from "../state/review.js";
import { initialMap, mapReducer } from "../state/valuemap.js";
import type { Depth } from "../data/pixels.js";
import { Footer, Header, type KeyHelp } from "./Chrome.js";
import { Help } from "./Help.js";
import { CONFLICT_KEYS, GRID_KEYS, HISTORY_KEYS, MAP_KEYS, REVIEW_KEYS } from "./keys.js";
import { layout } from "./layout.js";

export interface AppProps {
  source: UiSource;
  /** the revision whose history is shown (null: every branch and tag) */
  rev?: string | null;
  color: boolean;
  /** the value map's colour depth when color is on (default 256) */
  depth?: Depth;
  /** a fixed size (tests); otherwise the terminal's, less its last line */
  size?: Size;
  start?: ScreenKind;
}

export function App({ source, rev = null, color, depth = "256", size: fixed, start = "history" }: AppProps) {
  const { exit } = useApp();
  const term = useTerminalSize(fixed);
  const height = fixed ? term.height : term.height - 1; // Ink redraws a frame as tall as the terminal by clearing it
  const L = useMemo(() => layout(term.width, height), [term.width, height]);
  const theme = useMemo(() => ({ color, depth: color ? depth : ("none" as const) }), [color, depth]);
  const [app, dispatchApp] = useReducer(appReducer, start, initialApp);
  const [history, dispatchHistory] = useReducer(historyReducer, undefined, () => initialHistory(rev, L.history.listRows));
  const [review, dispatchReview] = useReducer(reviewReducer, undefined, initialReview);
  const [conflicts, dispatchConflicts] = useReducer(conflictsReducer, undefined, initialConflicts);
  const [map, dispatchMap] = useReducer(mapReducer, undefined, initialMap);

  useEffect(() => {
    dispatchHistory({ type: "resize", height: L.history.listRows });
    dispatchReview({ type: "resize", listRows: L.review.listRows, gridRows: L.review.gridRows, gridCols: L.review.gridCols });
    dispatchConflicts({ type: "resize", listRows: L.conflicts.listRows });
    dispatchMap({ type: "resize", rows: L.map.rows, cols: L.map.cols });
  }, [L]);

  const gate: InputGate = useRef({ top: topScreen(app), help: app.help });
  gate.current = { top: topScreen(app), help: app.help };

  const actions = useMemo<UIActions>(
    () => ({
      source,
      gate,
      dispatchApp,
      dispatchHistory,
      dispatchReview,
      dispatchConflicts,
      dispatchMap,
      openMap: (t) => {
        dispatchMap({ type: "open", ...t });
        dispatchApp({ type: "open", screen: "map" });
      },
      openReview: (t) => {
        dispatchReview({ type: "start", ...t });
        dispatchApp({ type: "open", screen: "review" });
      },
      openConflicts: () => {
        dispatchConflicts({ type: "reload" });
        dispatchApp({ type: "open", screen: "conflicts" });
      },
      back: () => dispatchApp({ type: "back" }),
      quit: () => exit(),
    }),
    [source, exit],
  );

  const top = topScreen(app);
  const bus = useKeyBus();
  useAppInput({ bus, help: app.help, typing: top === "history" && (history.search.editing || history.pending?.kind === "name"), dispatch: dispatchApp, quit: actions.quit });

  const state: UIState = { app, history, review, conflicts, map, layout: L, theme };
  const where = /^[a-z][a-z0-9+.-]*:\/\//i.test(source.root) || !path.isAbsolute(source.root) ? source.root : path.basename(source.root);
  let title: string;
  let keys: KeyHelp;
  if (top === "review") {
    title = `${where} · ${review.title}`;
    keys = review.focus === "grid" ? GRID_KEYS : REVIEW_KEYS;
  } else if (top === "map") {
    title = `${where} · ${review.title} · value map`;
    keys = MAP_KEYS;
  } else if (top === "conflicts") {
    title = `${where} · merge conflicts`;
    keys = CONFLICT_KEYS;
  } else {
    title = `${where} · history of ${history.rev === null ? "all branches and tags" : history.rev.replace(/^tags\//, "tag ")}`;
    keys = HISTORY_KEYS;
  }
  return (
    <KeyBusContext.Provider value={bus}>
    <UIActionsContext.Provider value={actions}>
      <UIStateContext.Provider value={state}>
        <Box flexDirection="column" width={L.width} height={L.height}>
          <Header title={title} right={review.values && top === "review" ? "values on" : ""} theme={theme} width={L.width} />
          <Box flexDirection="column" height={L.body} flexShrink={0}>
            {app.help ? (
              <Help theme={theme} width={L.width} height={L.body} />
            ) : top === "review" ? (
              <ReviewScreen />
            ) : top === "map" ? (
              <ValueMapScreen />
            ) : top === "conflicts" ? (
              <ConflictsScreen />
            ) : (
              <HistoryScreen />
            )}
          </Box>
          <Footer keys={keys} theme={theme} width={L.width} />
        </Box>
      </UIStateContext.Provider>
    </UIActionsContext.Provider>
    </KeyBusContext.Provider>
  );
}
