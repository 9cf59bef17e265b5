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
import { readJson } from "../../format/json-reader.js";

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

/**
 * The base value of a key the merge bases disagree on (criss-cross history):
 * equal to no real value, so any side's change there conflicts unless both
 * sides agree. Conflict records show it as null (no known base).
 */
export const DISPUTED: Readonly<Json> = Object.freeze({ "\u0001tdv-disputed": true });

/**
 * A base document for merging key by key when the merge bases disagree on
 * the document: `lo`'s keys, those where `hi` differs replaced by DISPUTED
 * (zarr.json's `attributes` key by key in turn).
 */
export function disputedBase(lo: Json | null, hi: Json | null, nested = false): Json {
  const a = lo ?? {};
  const b = hi ?? {};
  const out: Json = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (same(a[k], b[k])) {
      if (a[k] !== undefined) out[k] = a[k];
      continue;
    }
    const obj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    out[k] = nested && k === "attributes" && obj(a[k]) && obj(b[k]) ? disputedBase(a[k] as Json, b[k] as Json) : DISPUTED;
  }
  return out;
}

/** A value as it goes into conflict records (plain JSON: non-finite numbers as strings, absent as null). */
export function toJsonValue(v: unknown): JsonValue {
  if (v === undefined || v === DISPUTED) return null;
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x))) as JsonValue;
}

const SPELLED = "\u0001tdv-number:";

type Tokens = { token: string } | Tokens[] | Map<string, Tokens> | null;

/** Where a value sits in a document: its keys and indices. */
const step = (at: string, key: string | number) => `${at}/${JSON.stringify(key)}`;

/**
 * The number tokens of a document that JavaScript would write otherwise
 * (`1.0`, `1e-05`, `-0.0`, `1E+3`), by their place in it. An unreadable
 * document gives none.
 */
export function numberSpellings(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let tree: Tokens;
  try {
    tree = readJson<Tokens, Map<string, Tokens>>(new TextDecoder().decode(bytes), {
      number: (token) => ({ token }),
      word: () => null,
      string: () => null,
      array: (items) => items,
      object: () => new Map(),
      set: (o, k, v) => void o.set(k, v),
      done: (o) => o,
      fail: (detail) => {
        throw new Error(detail);
      },
    });
  } catch {
    return out;
  }
  const walk = (t: Tokens, at: string): void => {
    if (t === null) return;
    if (Array.isArray(t)) {
      t.forEach((x, i) => {
        walk(x, step(at, i));
      });
    }
    else if (t instanceof Map) for (const [k, v] of t) walk(v, step(at, k));
    else if (t.token !== String(Number(t.token))) out.set(at, t.token);
  };
  walk(tree, "");
  return out;
}

/** `v` with each number that one of `spellings` spells otherwise at its place (same value) as a marker string. */
function markSpelled(v: unknown, at: string, spellings: readonly Map<string, string>[]): unknown {
  if (typeof v === "number") {
    for (const s of spellings) {
      const token = s.get(at);
      if (token !== undefined && Object.is(Number(token), v)) return `${SPELLED}${token}`;
    }
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => markSpelled(x, step(at, i), spellings));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, markSpelled(x, step(at, k), spellings)]));
  return v;
}

/**
 * Serialize `doc` in the style of `like` (its indent and final newline); bare
 * NaN/Infinity as zarr-python writes them; a number keeps the spelling it has
 * at the same place in `sources` (first match wins: `1.0` stays `1.0`, not
 * JavaScript's `1`), `like` by default.
 */
export function serializeLike(doc: Json, like: Uint8Array | null, sources: readonly Uint8Array[] = like ? [like] : []): Uint8Array {
  const text = like ? new TextDecoder().decode(like) : "";
  const m = /\n([ \t]+)"/.exec(text);
  const indent = m ? (m[1] as string) : text.length > 0 && !text.includes("\n") ? "" : "  ";
  const newline = text.length === 0 || text.endsWith("\n") ? "\n" : "";
  const spellings = sources.map(numberSpellings).filter((s) => s.size > 0);
  const marked = spellings.length ? markSpelled(doc, "", spellings) : doc;
  const body = JSON.stringify(marked, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? `${MARK}${x}` : x), indent || undefined);
  const bare = body
    .replace(new RegExp(`"${MARK.replace("\u0001", "\\\\u0001")}(-?Infinity|NaN)"`, "g"), "$1")
    .replace(new RegExp(`"${SPELLED.replace("\u0001", "\\\\u0001")}(-?[0-9][0-9.eE+-]*)"`, "g"), "$1");
  return new TextEncoder().encode(bare + newline);
}

/** A short text of a value for messages. */
export function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  const s = typeof v === "number" ? String(v) : JSON.stringify(toJsonValue(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
