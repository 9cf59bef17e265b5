/** Value map data: the slice asked for, read when the spec changes (a short pause, so that moving the slice does not read every step). */
import { useEffect } from "react";
import { errorText } from "../contexts.js";
import type { UiSource } from "../data/source.js";
import { specKey, specOf, type MapAction, type MapState } from "../state/valuemap.js";

export function useValueMapData(state: MapState, dispatch: (a: MapAction) => void, source: UiSource): void {
  // the coordinate labels of the array's dimensions, once per map opened
  const { seq, array, from, to } = state;
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per map opened (seq)
  useEffect(() => {
    if (!array) return;
    const side = array.after !== null ? to : from;
    if (side === null) return;
    source.coordinates(side, array).then(
      (coords) => dispatch({ type: "coords", seq, coords }),
      () => dispatch({ type: "coords", seq, coords: [] }),
    );
  }, [seq]);

  const key = specKey(state);
  const have = state.data?.key === key;
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the slice's spec (key), not by objects made anew at each render
  useEffect(() => {
    const a = state.array;
    if (!a || have) return;
    const spec = specOf(state);
    const { from, to } = state;
    const t = setTimeout(() => {
      dispatch({ type: "loading", key });
      source
        .slice(from, to, a, spec, (done, total) => dispatch({ type: "progress", key, done, total }))
        .then(
          (data) => dispatch({ type: "loaded", key, data }),
          (err: unknown) => dispatch({ type: "failed", key, error: errorText(err) }),
        );
    }, 60);
    return () => clearTimeout(t);
  }, [key, have]);
}
