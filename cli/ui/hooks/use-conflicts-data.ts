/** Conflict data and actions: the merge in progress, a chunk's three versions, taking a side, concluding. */
import { useCallback, useEffect } from "react";
import type { Side } from "../../../src/index.js";
import { errorText } from "../contexts.js";
import type { UiSource } from "../data/source.js";
import { confirmsDiscard, openCount, resolveTarget, selectedItem, type ConflictsAction, type ConflictsState } from "../state/conflicts.js";

export interface ConflictCommands {
  take: (side: Side, whole: boolean) => void;
  conclude: () => void;
}

export function useConflictsData(
  state: ConflictsState,
  dispatch: (a: ConflictsAction) => void,
  source: UiSource,
  onConcluded: (oid: string) => void,
): ConflictCommands {
  const { reload, status } = state;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reads again only when a load is asked for (reload is bumped by each)
  useEffect(() => {
    if (status !== "loading") return;
    let live = true;
    source.merge().then(
      (merge) => live && dispatch({ type: "loaded", merge }),
      (err: unknown) => live && dispatch({ type: "failed", error: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, [reload]);

  const item = selectedItem(state);
  const wantDetail = item !== null && item.conflict._tag === "ChunkBothChanged" && state.details[item.key] === undefined && state.merge !== null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the selected conflict (item?.key), not by objects made anew at each render
  useEffect(() => {
    if (!wantDetail || !item || item.conflict._tag !== "ChunkBothChanged" || !state.merge) return;
    const c = item.conflict;
    const m = state.merge;
    const t = setTimeout(() => {
      dispatch({ type: "detail", key: item.key, load: { status: "loading" } });
      source.conflictChunk(m, c).then(
        (value) => dispatch({ type: "detail", key: item.key, load: { status: "ready", value } }),
        (err: unknown) => dispatch({ type: "detail", key: item.key, load: { status: "error", error: errorText(err) } }),
      );
    }, 80);
    return () => clearTimeout(t);
  }, [wantDetail, item?.key]);

  const take = useCallback(
    (side: Side, whole: boolean) => {
      const target = resolveTarget(state, whole);
      if (!target) return;
      const discardOtherEdits = confirmsDiscard(state, side, whole);
      const key = `${side === "ours" ? "o" : "t"}`;
      dispatch({ type: "busy", what: `taking ${side} for ${target.path || "."}${target.chunk ? ` chunk [${target.chunk.join(",")}]` : ""}…` });
      source.resolveConflict({ ...target, side, discardOtherEdits }).then(
        (r) => {
          const other = side === "ours" ? "theirs" : "ours";
          const lost = r.discarded.length > 0 ? `, discarding ${other}' edits of ${r.discarded.length} chunk${r.discarded.length === 1 ? "" : "s"}` : "";
          // the counts left are the header's, read again below (the library's `remaining` also counts conflicts staged with tdv add)
          dispatch({ type: "finished", note: `${r.resolved.length} conflict${r.resolved.length === 1 ? "" : "s"} settled with ${side}${lost}`, settled: r.resolved.length });
          dispatch({ type: "reload" });
        },
        (err: unknown) => {
          if (err instanceof Error && (err as { _tag?: string })._tag === "OtherEditsDiscardedError") {
            const n = (err as unknown as { chunks: unknown[] }).chunks.length;
            const k = whole ? key.toUpperCase() : key;
            const other = side === "ours" ? "theirs" : "ours";
            dispatch({ type: "confirm", side, whole, note: `${k} again takes ${side}, discarding ${other}' edits of ${n} unmergeable chunk${n === 1 ? "" : "s"}; other keys keep it` });
          } else dispatch({ type: "finished", note: `error: ${errorText(err)}` });
        },
      );
    },
    [state, dispatch, source],
  );

  const conclude = useCallback(() => {
    if (!state.merge) return;
    const open = openCount(state);
    // while the state is read again the library decides: it refuses to conclude with conflicts open
    if (open > 0 && state.status === "ready") {
      dispatch({ type: "finished", note: `${open} conflict${open === 1 ? "" : "s"} still open: settle ${open === 1 ? "it" : "them"} first (o/t, O/T)` });
      return;
    }
    dispatch({ type: "busy", what: "concluding the merge…" });
    source.continueMerge().then(
      ({ oid }) => {
        dispatch({ type: "concluded", oid });
        dispatch({ type: "loaded", merge: null });
        onConcluded(oid);
      },
      (err: unknown) => dispatch({ type: "finished", note: `error: ${errorText(err)}` }),
    );
  }, [state, dispatch, source, onConcluded]);

  return { take, conclude };
}
