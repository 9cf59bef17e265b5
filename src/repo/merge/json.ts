/**
 * JSON of Zarr metadata documents for merging: parse (with the bare NaN,
 * Infinity, -Infinity that zarr-python writes), compare structurally, and
 * write back in the style of the document it came from (indent, newline),
 * bare non-finite numbers included, so a merged document looks like its
 * writer's.
 */
import { InvalidMetadataError } from "../../errors.js";
import type { JsonValue } from "./types.js";
import { replaceNonFinite } from "../../format/non-finite.js";

export type Json = { [k: string]: unknown };

const MARK = "\u0001tdv-nonfinite:";

/** Parse a metadata document; non-finite numbers stay numbers. */
export function parseDoc(bytes: Uint8Array, path: string): Json {
  const text = new TextDecoder().decode(bytes);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    try {
      v = JSON.parse(markNonFinite(text), (_k, x) => (typeof x === "string" && x.startsWith(MARK) ? Number(x.slice(MARK.length)) : x));
    } catch (err) {
      throw new InvalidMetadataError(path, `not valid JSON (${(err as Error).message})`);
    }
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidMetadataError(path, "not a JSON object");
  return v as Json;
}

/** Bare NaN / Infinity / -Infinity outside strings → marker strings. */
function markNonFinite(text: string): string {
  return replaceNonFinite(text, (word) => JSON.stringify(MARK + word));
}

/** A canonical text of a value: keys sorted, non-finite numbers kept apart from strings. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === "number" && !Number.isFinite(x)) return `${MARK}${x}`;
    if (x && typeof x === "object" && !Array.isArray(x)) {
      return Object.fromEntries(Object.keys(x as Json).sort().map((k) => [k, (x as Json)[k]]));
    }
    return x;
  }) ?? "undefined";
}

export function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** A value as it goes into conflict records (plain JSON: non-finite numbers as strings, absent as null). */
export function toJsonValue(v: unknown): JsonValue {
  if (v === undefined) return null;
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x))) as JsonValue;
}

/** Serialize `doc` in the style of `like` (its indent and final newline); bare NaN/Infinity as zarr-python writes them. */
export function serializeLike(doc: Json, like: Uint8Array | null): Uint8Array {
  const text = like ? new TextDecoder().decode(like) : "";
  const m = /\n([ \t]+)"/.exec(text);
  const indent = m ? (m[1] as string) : text.length > 0 && !text.includes("\n") ? "" : "  ";
  const newline = text.length === 0 || text.endsWith("\n") ? "\n" : "";
  const body = JSON.stringify(doc, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? `${MARK}${x}` : x), indent || undefined);
  const bare = body.replace(new RegExp(`"${MARK.replace("\u0001", "\\\\u0001")}(-?Infinity|NaN)"`, "g"), "$1");
  return new TextEncoder().encode(bare + newline);
}

/** A short text of a value for messages. */
export function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  const s = typeof v === "number" ? String(v) : JSON.stringify(toJsonValue(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
