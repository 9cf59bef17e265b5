import type { ObjectBackend } from "../../src/index.js";

/**
 * A backend wrapper that logs the key of every GET and, in `rounds`, its
 * round trip: 1 + the highest round of the GETs that had completed when it
 * started (GETs sent together share a round; a GET that waits for another
 * comes a round later).
 */
export function counting(log: string[], rounds?: Map<string, number>) {
  let done = 0;
  return (b: ObjectBackend): ObjectBackend =>
    new Proxy(b, {
      get(target, prop) {
        if (prop === "get") {
          return async (key: string) => {
            log.push(key);
            const round = done + 1;
            rounds?.set(key, round);
            try {
              return await target.get(key);
            } finally {
              done = Math.max(done, round);
            }
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
}
