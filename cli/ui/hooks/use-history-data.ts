/** History data: read the log when asked, summaries for the rows on screen, older commits near the end. */
import { useEffect, useRef } from "react";
import { errorText } from "../contexts.js";
import type { UiSource } from "../data/source.js";
import { visibleEntries, wantsMore, type HistoryAction, type HistoryState } from "../state/history.js";

export function useHistoryData(state: HistoryState, dispatch: (a: HistoryAction) => void, source: UiSource): void {
  const { reload, rev, limit, status } = state;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reads again only when a load is asked for (reload is bumped by each)
  useEffect(() => {
    if (status !== "loading") return;
    let live = true;
    source.history({ rev, limit }).then(
      (data) => live && dispatch({ type: "loaded", data }),
      (err: unknown) => live && dispatch({ type: "failed", error: errorText(err) }),
    );
    return () => {
      live = false;
    };
    // read again only when a load was asked for (reload is bumped by each)
  }, [reload]);

  // summaries of the rows on screen only: a commit's diff reads what it changed, nothing else.
  // Each commit is asked for once (the app's reducer outlives this screen, so late answers still land).
  const asked = useRef(new Set<string>());
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs at each reload, the trigger, which it does not read
  useEffect(() => {
    asked.current.clear();
  }, [reload]);
  const visible = visibleEntries(state).filter((e) => state.summaries[e.oid] === undefined && !asked.current.has(e.oid));
  const key = visible.map((e) => e.oid).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the visible commits' ids (key), not by objects made anew at each render
  useEffect(() => {
    if (visible.length === 0) return;
    // a short pause, so that paging through a long history does not ask for every page passed over
    const t = setTimeout(() => {
      for (const e of visible) {
        if (asked.current.has(e.oid)) continue;
        asked.current.add(e.oid);
        source.summary(e).then(
          (text) => dispatch({ type: "summary", oid: e.oid, text }),
          (err: unknown) => dispatch({ type: "summary", oid: e.oid, text: `? ${errorText(err)}` }),
        );
      }
    }, 30);
    return () => clearTimeout(t);
  }, [key]);

  const more = wantsMore(state);
  useEffect(() => {
    if (more) dispatch({ type: "load", more: true });
  }, [more, dispatch]);
}
