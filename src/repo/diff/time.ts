/**
 * CF time (`units: "<unit> since <date>"`, standard or proleptic Gregorian
 * calendar) read as dates, and dates written as ISO 8601 in UTC: how a diff's
 * coordinate ranges (coords.ts), the rules' checks and the UI show times.
 * Pure: no imports, so the public index exports it without loading the diff.
 */
const UNIT_MS: Record<string, number> = {
  day: 86_400_000,
  hour: 3_600_000,
  minute: 60_000,
  second: 1_000,
  millisecond: 1,
  microsecond: 0.001,
};

/** A CF time reading of `units`/`calendar`: value → milliseconds since 1970, or null when not CF time tdv reads. */
export function cfTime(attrs: Record<string, unknown>): ((v: number) => number) | null {
  const units = attrs.units;
  const calendar = attrs.calendar ?? "standard";
  if (typeof units !== "string" || typeof calendar !== "string") return null;
  if (!["standard", "gregorian", "proleptic_gregorian"].includes(calendar.toLowerCase())) return null;
  const m = /^\s*(days?|d|hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s|milliseconds?|ms|microseconds?|us)\s+since\s+(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?\s*$/i.exec(units);
  if (!m) return null;
  const word = (m[1] as string).toLowerCase();
  const unit =
    word.startsWith("d") ? "day" : word.startsWith("h") ? "hour" : word === "ms" || word.startsWith("milli") ? "millisecond" : word === "us" || word.startsWith("micro") ? "microsecond" : word.startsWith("mi") ? "minute" : "second";
  const [y, mo, d, hh, mm, ss] = [m[2], m[3], m[4], m[5] ?? "0", m[6] ?? "0", m[7] ?? "0"].map(Number) as number[];
  let ref = Date.UTC(0, (mo as number) - 1, d, hh, mm, 0) + (ss as number) * 1000;
  ref = new Date(ref).setUTCFullYear(y as number);
  const zone = m[8];
  if (zone && !/^(Z|UTC)$/i.test(zone)) {
    const z = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
    ref -= (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
  }
  // the standard calendar is Julian before 1582-10-15: only the proleptic Gregorian reading is computed here
  if (calendar.toLowerCase() !== "proleptic_gregorian" && ref < Date.UTC(1582, 9, 15)) return null;
  const scale = UNIT_MS[unit] as number;
  return (v) => ref + v * scale;
}

/** ISO 8601 in UTC: the date alone at midnight, else date and time (seconds, and milliseconds when any). */
export function isoDate(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-06-01T00:00:00.000Z
  if (iso.endsWith("T00:00:00.000Z")) return iso.slice(0, 10);
  return iso.endsWith(".000Z") ? iso.slice(0, 19) : iso.slice(0, 23);
}
