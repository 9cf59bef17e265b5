/**
 * A small JSON reader that also takes the bare tokens NaN, Infinity and
 * -Infinity, which Python's json module (hence zarr-python) writes for
 * non-finite floats, and says where a broken document goes wrong (JSON.parse
 * does not). What it builds is the caller's: plain JS values for metadata
 * (zarr-meta.ts), or Python's int/float distinction kept (py-json.ts).
 */

export type JsonWord = "true" | "false" | "null" | "NaN" | "Infinity" | "-Infinity";

export interface JsonBuilder<V, O> {
  /** a number token as written; `fractional` when it has a fraction or an exponent (a float to Python) */
  number(token: string, fractional: boolean): V;
  word(word: JsonWord): V;
  string(s: string): V;
  array(items: V[]): V;
  object(): O;
  set(object: O, key: string, value: V): void;
  done(object: O): V;
  /** throw: the document is not JSON (`detail` says what and where) */
  fail(detail: string): never;
}

/** The JS value of a bare word: true, false, null, NaN, ±Infinity. */
export function wordValue(w: JsonWord): boolean | null | number {
  return w === "true" ? true : w === "false" ? false : w === "null" ? null : w === "NaN" ? Number.NaN : w === "Infinity" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

const MAX_DEPTH = 1000;
const SPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WORDS: readonly JsonWord[] = ["true", "false", "null", "NaN", "Infinity", "-Infinity"];

/** Read one JSON document (with NaN and ±Infinity) through `build`. */
export function readJson<V, O>(text: string, build: JsonBuilder<V, O>): V {
  let pos = 0;
  const fail = (detail: string): never => build.fail(`invalid JSON at position ${pos}: ${detail}`);
  const space = () => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
  };
  const peek = () => {
    space();
    return text[pos];
  };
  const expect = (c: string) => {
    if (peek() !== c) fail(`expected ${JSON.stringify(c)}`);
    pos++;
  };
  const string = (): string => {
    STRING.lastIndex = pos;
    const m = STRING.exec(text);
    if (!m) return fail("invalid string");
    pos += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (depth: number): V => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = peek();
    if (c === "{") {
      pos++;
      const out = build.object();
      if (peek() === "}") {
        pos++;
        return build.done(out);
      }
      for (;;) {
        space();
        if (text[pos] !== '"') fail("expected a string key");
        const key = string();
        expect(":");
        build.set(out, key, value(depth + 1));
        if (peek() === "}") {
          pos++;
          return build.done(out);
        }
        expect(",");
      }
    }
    if (c === "[") {
      pos++;
      const items: V[] = [];
      if (peek() === "]") {
        pos++;
        return build.array(items);
      }
      for (;;) {
        items.push(value(depth + 1));
        if (peek() === "]") {
          pos++;
          return build.array(items);
        }
        expect(",");
      }
    }
    if (c === '"') return build.string(string());
    for (const word of WORDS) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return build.word(word);
      }
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail(c === undefined ? "unexpected end of input" : `unexpected ${JSON.stringify(c)}`);
    pos += m[0].length;
    return build.number(m[0], m[1] !== undefined || m[2] !== undefined);
  };
  const v = value(0);
  space();
  if (pos < text.length) fail("unexpected data after the document");
  return v;
}
