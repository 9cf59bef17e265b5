/**
 * Dates as `--date=FORMAT` prints them (git's names): iso "2026-03-04 12:30:05
 * +0100" in the person's own zone, relative "3 hours ago", unix seconds.
 */
export const DATE_FORMATS = ["iso", "relative", "unix"] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

const two = (n: number) => String(n).padStart(2, "0");

/** "2026-03-04 12:30:05 +0100": the time as the clock of the zone `tzOffset` (minutes east of UTC) showed it. */
export function isoDate(timestamp: number, tzOffset: number): string {
  const d = new Date((timestamp + tzOffset * 60) * 1000);
  const sign = tzOffset < 0 ? "-" : "+";
  const abs = Math.abs(tzOffset);
  const zone = `${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${zone}`;
}

/** git's relative dates: "12 seconds ago", "5 minutes ago", "3 days ago", "2 weeks ago", "4 months ago", "2 years ago". */
export function relativeDate(timestamp: number, now = Date.now() / 1000): string {
  const s = Math.round(now - timestamp);
  if (s < 0) return "in the future";
  const ago = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  if (s < 90) return ago(s, "second");
  const m = Math.round(s / 60);
  if (m < 90) return ago(m, "minute");
  const h = Math.round(m / 60);
  if (h < 36) return ago(h, "hour");
  const d = Math.round(h / 24);
  if (d < 14) return ago(d, "day");
  if (d < 70) return ago(Math.round(d / 7), "week");
  if (d < 365) return ago(Math.round(d / 30), "month");
  return ago(Math.floor(d / 365), "year");
}

export function formatDateAs(format: DateFormat, timestamp: number, tzOffset: number): string {
  if (format === "unix") return String(timestamp);
  if (format === "relative") return relativeDate(timestamp);
  return isoDate(timestamp, tzOffset);
}
