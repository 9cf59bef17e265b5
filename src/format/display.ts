/**
 * Names as a terminal may show them. A file name, a ref name or a message
 * from a working tree or a remote can hold control characters, which a
 * terminal acts on ("\x1b]0;pwned\x07" retitles the window, "\x1b[2J" clears
 * the screen), and, on disk, bytes that are not UTF-8. Human output shows
 * them escaped, as git does with core.quotePath: a path that holds a C0 or C1
 * control character, DEL, a double quote or a backslash is printed in double
 * quotes with C escapes (`"esc\x1b]0;pwned\x07.txt"`); other paths as they
 * are. JSON output needs none of this: it carries the exact string
 * (JSON.stringify escapes C0; printJson also escapes DEL and C1).
 *
 * And sizes as people read them (formatBytes).
 *
 * Pure: strings and bytes in, strings out.
 */

/** C0 controls, DEL and C1 controls (ESC, BEL, CSI U+009B, ...): what a terminal may act on. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_G = /[\u0000-\u001f\u007f-\u009f]/g;
/** what makes a path need quotes: a control character, or the quote and escape characters themselves */
const SPECIAL = /[\u0000-\u001f\u007f-\u009f"\\]/;
const SPECIAL_G = /[\u0000-\u001f\u007f-\u009f"\\]/g;
/** text escaping keeps line breaks and tabs (multi-line messages stay multi-line) */
const CONTROL_BUT_LINES_G = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const NAMED: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\" };

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function escapeChar(c: string): string {
  return NAMED[c] ?? `\\x${hex2(c.charCodeAt(0))}`;
}

/** Whether `s` holds a character a terminal may act on (C0, DEL, C1). */
export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

/**
 * A path (or a branch, tag or remote name) for human output: as it is when
 * it holds nothing special, else in double quotes with control characters,
 * `"` and `\` escaped (`"a\tb"`, `"esc\x1b[2J"`), as git's core.quotePath.
 */
export function quotePath(p: string): string {
  return SPECIAL.test(p) ? `"${p.replace(SPECIAL_G, escapeChar)}"` : p;
}

/**
 * Free text for human output (an error message, a warning, a commit's
 * subject): every control character but line feed and tab becomes `\xHH`.
 * Nothing is quoted: the safety net under every line tdv prints.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_BUT_LINES_G, escapeChar);
}

/** As escapeControl, and line feeds and tabs too: text that must stay on one line (a UI row). */
export function escapeControlLine(text: string): string {
  return text.replace(CONTROL_G, escapeChar);
}

/** The length of the valid UTF-8 sequence at `b[i]`, or 0 when the byte there starts none. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1] as number;
  // overlong forms, UTF-16 surrogates, beyond U+10FFFF
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
  return n;
}

/** Whether `b` is valid UTF-8 (what a Zarr key, a tdv path and a Git tree entry tdv reads must be). */
export function isUtf8(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; ) {
    const n = utf8Length(b, i);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

/**
 * The bytes of a name that may not be UTF-8, as text without quotes: valid
 * UTF-8 as its characters, every other byte as `\xHH`, and control
 * characters, `"` and `\` escaped as quotePath does (`bad\xff.txt`). Distinct
 * byte strings give distinct texts.
 */
export function escapeBytes(b: Uint8Array): string {
  const decoder = new TextDecoder();
  let out = "";
  for (let i = 0; i < b.length; ) {
    const n = utf8Length(b, i);
    if (n === 0) {
      out += `\\x${hex2(b[i] as number)}`;
      i++;
      continue;
    }
    const ch = n === 1 ? String.fromCharCode(b[i] as number) : decoder.decode(b.subarray(i, i + n));
    out += SPECIAL.test(ch) ? escapeChar(ch) : ch;
    i += n;
  }
  return out;
}

/** A name's bytes for human output: `"bad\xff.txt"` (quoted when anything was escaped, as quotePath). */
export function quoteBytes(b: Uint8Array): string {
  const text = escapeBytes(b);
  return isUtf8(b) ? quotePath(new TextDecoder().decode(b)) : `"${text}"`;
}

/** The first ten of `paths`, one a line indented by two spaces, and how many more there are: what an error lists. */
export function indentedList(paths: readonly string[]): string {
  const more = paths.length > 10 ? `\n  ... and ${paths.length - 10} more` : "";
  return `  ${paths.slice(0, 10).join("\n  ")}${more}`;
}

const UNITS = ["kB", "MB", "GB", "TB", "PB"];

/**
 * 999 B, 1.2 kB, 4.1 MB, 2.0 GB: decimal units, one decimal, rounded up to
 * the next unit where one decimal would show 1000.0 (999 960 bytes is 1.0 MB).
 * "? B" for a size that is not a finite, non-negative number.
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "? B";
  if (n < 1000) return `${n} B`;
  let v = n / 1000;
  let i = 0;
  while (v >= 999.95 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${UNITS[i]}`;
}

/** An age as people say it: "45 s", "12 min", "5 h", "3 days". */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
