/**
 * zarrita, loaded on first use: it costs ~30 ms at start-up, and most
 * commands (status, commit, log, switch) never decode a chunk.
 *
 * `loadZarrita()` before the first use; after it, `zarrita()` gives the module
 * synchronously (for `instanceof` checks on data zarrita returned, and for
 * classifying errors it threw).
 */
import type * as Zarrita from "zarrita";

let loaded: typeof Zarrita | undefined;
let loading: Promise<typeof Zarrita> | undefined;

export function loadZarrita(): Promise<typeof Zarrita> {
  loading ??= import("zarrita").then((m) => (loaded = m));
  return loading;
}

/** The module, once `loadZarrita()` has resolved. */
export function zarrita(): typeof Zarrita {
  if (!loaded) throw new Error("internal: zarrita used before loadZarrita()");
  return loaded;
}
