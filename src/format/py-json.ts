/**
 * JSON as Python's json module reads and writes it: zarr-python 2 writes every
 * metadata document with `json.dumps(o, indent=4, sort_keys=True,
 * ensure_ascii=True, separators=(",", ": "))` (zarr.util.json_dumps) of what
 * `json.loads` read. Writing a document it would write byte for byte needs
 * the numbers as Python holds them: a token with a fraction or an exponent is
 * a float (written back as Python's repr: 0.0, 1e-05, 1e+16, NaN, -0.0), any
 * other an int (exact, any size). Objects are Maps, so any key is a key.
 */
import { InvalidMetadataError } from "../errors.js";
import { readJson, wordValue } from "./json-reader.js";

export class PyFloat {
  constructor(readonly value: number) {}
}

export class PyInt {
  /** the decimal digits, normalized as Python's int() does ("-0" is "0") */
  readonly text: string;
  constructor(token: string) {
    this.text = BigInt(token).toString();
  }
}

export type PyValue = null | boolean | string | PyFloat | PyInt | PyValue[] | PyObject;
export type PyObject = Map<string, PyValue>;

/** `json.loads`: JSON with the bare NaN, Infinity and -Infinity Python accepts; numbers keep their kind. */
export function pyLoads(input: string | Uint8Array, path: string): PyValue {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  return readJson<PyValue, PyObject>(text, {
    number: (token, fractional) => (fractional ? new PyFloat(Number(token)) : new PyInt(token)),
    word: (w) => {
      const v = wordValue(w);
      return typeof v === "number" ? new PyFloat(v) : v;
    },
    string: (str) => str,
    array: (items) => items,
    object: () => new Map(),
    set: (o, k, v) => void o.set(k, v),
    done: (o) => o,
    fail: (detail) => {
      throw new InvalidMetadataError(path, detail);
    },
  });
}

/**
 * `json.dumps(v, indent=indent, sort_keys=True, ensure_ascii=True, separators=(",", ": "))`
 * (zarr-python 2); with `sortKeys` false, keys in the order read, as
 * zarr-python 3 writes its `json.dumps(d, indent=2)` of a dict.
 */
export function pyDumps(v: PyValue, indent = 4, sortKeys = true): string {
  return dump(v, " ".repeat(indent), "", sortKeys);
}

function dump(v: PyValue, step: string, at: string, sortKeys: boolean): string {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "string") return pyString(v);
  if (v instanceof PyInt) return v.text;
  if (v instanceof PyFloat) return floatRepr(v.value);
  const inner = at + step;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => inner + dump(x, step, inner, sortKeys)).join(",\n")}\n${at}]`;
  }
  if (v.size === 0) return "{}";
  const keys = sortKeys ? [...v.keys()].sort(byCodePoint) : [...v.keys()];
  return `{\n${keys.map((k) => `${inner}${pyString(k)}: ${dump(v.get(k) as PyValue, step, inner, sortKeys)}`).join(",\n")}\n${at}}`;
}

/** Python's repr of a float: the shortest digits that round-trip, fixed notation for 1e-4 <= |x| < 1e16, else e±XX. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [mantissa, e] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exp = Number(e);
  const point = exp + 1; // the value is 0.<digits> × 10^point
  if (point <= -4 || point > 16) {
    const rest = digits.slice(1);
    return `${sign}${digits[0]}${rest ? `.${rest}` : ""}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A JSON string as Python writes it with ensure_ascii: only printable ASCII is literal, escapes in lower-case hex. */
export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else out += `\\u${c.toString(16).padStart(4, "0")}`; // UTF-16 code units: astral characters as surrogate pairs, as Python
  }
  return `${out}"`;
}

/** Python's str order: by code point (JS's default sort compares UTF-16 code units). */
export function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
