/**
 * zarrita, loaded on first use: it costs ~30 ms at start-up, and most
 * commands (status, commit, log, switch) never decode a chunk.
 *
 * `loadZarrita()` before the first use; after it, `zarrita()` gives the module
 * synchronously (for `instanceof` checks on data zarrita returned, and for
 * classifying errors it threw). tdv's own codecs (src/zarr/support.ts) are
 * registered with it.
 */
import type * as Zarrita from "zarrita";
import { FixedScaleOffsetCodec } from "./fixedscaleoffset.js";
import { ShuffleCodec, TDV_FIXEDSCALEOFFSET, TDV_SHUFFLE } from "./support.js";

let loaded: typeof Zarrita | undefined;
let loading: Promise<typeof Zarrita> | undefined;

export function loadZarrita(): Promise<typeof Zarrita> {
  loading ??= import("zarrita").then((m) => {
    // tdv's own codecs, under names of their own (zarrita's entries stay as they are);
    // v2 filter ids reach the registry prefixed with "numcodecs."
    const own: [string, unknown][] = [
      [TDV_SHUFFLE, ShuffleCodec],
      [TDV_FIXEDSCALEOFFSET, FixedScaleOffsetCodec],
    ];
    for (const [name, codec] of own) {
      for (const key of [name, `numcodecs.${name}`]) m.registry.set(key, (() => codec) as unknown as Parameters<typeof m.registry.set>[1]);
    }
    loaded = m;
    return m;
  });
  return loading;
}

/** The module, once `loadZarrita()` has resolved. */
export function zarrita(): typeof Zarrita {
  if (!loaded) throw new Error("internal: zarrita used before loadZarrita()");
  return loaded;
}
