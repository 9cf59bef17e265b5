/**
 * Ordering events in tests without sleeping: wait for the state a test needs
 * (polled, bounded, failing with what it waited for), or set the time that
 * matters (file mtimes) instead of waiting for the clock to move.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";

/**
 * Poll `check` until it returns something other than false, null or undefined,
 * and return that. After `timeoutMs` fail with "timed out waiting for <what>"
 * and, when given, `detail()` (the last state seen).
 */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  { timeoutMs = 20_000, everyMs = 10, detail }: { timeoutMs?: number; everyMs?: number; detail?: () => string | Promise<string> } = {},
): Promise<Exclude<T, false | null | undefined>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== false && v !== null && v !== undefined) return v as Exclude<T, false | null | undefined>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `: ${await detail()}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Set the mtime (and atime) of `file` to `date`. */
export async function setMtime(file: string, date: Date): Promise<void> {
  await fsp.utimes(file, date, date);
}

/** Set the mtime (and atime) of every file under `dir` to `date`; returns how many. */
export async function backdate(dir: string, date: Date): Promise<number> {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        await fsp.utimes(p, date, date);
        n++;
      }
    }
  };
  await walk(dir);
  return n;
}

/** A fixed moment in the past, `minutes` after 2020-01-01 00:00 UTC: far from the clock, so never "racy". */
export function past(minutes = 0): Date {
  return new Date(Date.UTC(2020, 0, 1, 0, minutes));
}
