/**
 * Zarr metadata documents → normalized values. v2 (.zarray, .zgroup, .zattrs)
 * and v3 (zarr.json) arrays both become an ArrayMeta. Every problem throws
 * InvalidMetadataError(path, problem) naming the offending key; a document
 * that is no metadata tdv reads at all (not JSON, not an object, a zarr_format
 * other than 2 or 3) is `unreadable`, and its folder is carried as plain files.
 */
import { InvalidMetadataError } from "../errors.js";
import type { KeyEncoding } from "./chunk-key.js";
import { readJson, wordValue } from "./json-reader.js";

export interface ArrayMeta {
  zarrFormat: 2 | 3;
  shape: number[];
  /** Shape of the stored unit: v2 "chunks"; v3 chunk_grid chunk_shape (the shard shape when sharded). */
  chunkShape: number[];
  /** v3 sharding_indexed configuration.chunk_shape, else null. */
  innerChunkShape: number[] | null;
  /** v2: dtype as written (JSON of a structured dtype); v3: data_type (JSON of an extension object). */
  dtype: string;
  fillValue: unknown;
  /** Human summary in order, e.g. ["delta", "blosc"] or ["sharding_indexed(bytes,zstd)"]. */
  codecs: string[];
  keyEncoding: KeyEncoding;
  dimensionNames: (string | null)[] | null;
  order: "C" | "F";
}

export type NodeMeta =
  | { kind: "array"; meta: ArrayMeta; attributes: Record<string, unknown> }
  | { kind: "group"; attributes: Record<string, unknown> };

type Json = Record<string, unknown>;

/** Parses a v2 .zarray document. */
export function parseZarray(text: string | Uint8Array, path: string): ArrayMeta {
  const m = readObject(text, path, ".zarray");
  checkFormat(m, 2, path);
  const shape = dims(need(m, "shape", path), '"shape"', 0, path);
  const chunkShape = dims(need(m, "chunks", path), '"chunks"', 1, path);
  sameDims(chunkShape, '"chunks"', shape, path);

  const dtype = need(m, "dtype", path);
  if (typeof dtype !== "string" && !Array.isArray(dtype)) {
    fail(path, '"dtype" must be a string or a list of fields');
  }

  const filters = m.filters ?? [];
  if (!Array.isArray(filters) || !filters.every(hasStringId)) {
    fail(path, '"filters" must be null or a list of objects with a string "id"');
  }
  const compressor = m.compressor ?? null;
  if (compressor !== null && !hasStringId(compressor)) {
    fail(path, '"compressor" must be null or an object with a string "id"');
  }

  const order = m.order ?? "C";
  if (order !== "C" && order !== "F") fail(path, '"order" must be "C" or "F"');
  const separator = m.dimension_separator ?? ".";
  if (separator !== "." && separator !== "/") fail(path, '"dimension_separator" must be "." or "/"');

  return {
    zarrFormat: 2,
    shape,
    chunkShape,
    innerChunkShape: null,
    dtype: typeof dtype === "string" ? dtype : JSON.stringify(dtype),
    fillValue: m.fill_value ?? null,
    codecs: [...filters, ...(compressor ? [compressor] : [])].map((c) => c.id),
    keyEncoding: { kind: "v2", separator },
    dimensionNames: null,
    order,
  };
}

/** Validates a v2 .zgroup document. */
export function parseZgroup(text: string | Uint8Array, path: string): void {
  checkFormat(readObject(text, path, ".zgroup"), 2, path);
}

/** Parses a v2 .zattrs document: any JSON object. */
export function parseZattrs(text: string | Uint8Array, path: string): Record<string, unknown> {
  return readObject(text, path, ".zattrs");
}

/** Parses a v3 zarr.json document (array or group). */
export function parseZarrJson(text: string | Uint8Array, path: string): NodeMeta {
  const m = readObject(text, path, "zarr.json");
  checkFormat(m, 3, path);
  const attributes = m.attributes ?? {};
  if (!isObject(attributes)) fail(path, '"attributes" must be a JSON object');
  if (m.node_type === "group") return { kind: "group", attributes };
  if (m.node_type !== "array") fail(path, '"node_type" must be "array" or "group"');

  const shape = dims(need(m, "shape", path), '"shape"', 0, path);

  const dataType = need(m, "data_type", path);
  if (typeof dataType !== "string" && !(isObject(dataType) && typeof dataType.name === "string")) {
    fail(path, '"data_type" must be a string or an object with a string "name"');
  }

  const grid = named(need(m, "chunk_grid", path), '"chunk_grid"', path);
  if (grid.name !== "regular") {
    fail(path, `chunk_grid ${JSON.stringify(grid.name)} is not supported (only "regular")`);
  }
  const gridName = '"chunk_grid.configuration.chunk_shape"';
  const chunkShape = dims(grid.configuration.chunk_shape, gridName, 1, path);
  sameDims(chunkShape, gridName, shape, path);

  const codecs = codecList(need(m, "codecs", path), '"codecs"', path);
  const sharding = codecs.find((c) => c.name === "sharding_indexed");
  let innerChunkShape: number[] | null = null;
  if (sharding) {
    const innerName = '"sharding_indexed.configuration.chunk_shape"';
    innerChunkShape = dims(sharding.configuration.chunk_shape, innerName, 1, path);
    sameDims(innerChunkShape, innerName, shape, path);
    if (innerChunkShape.some((n, i) => chunkShape[i] % n !== 0)) {
      fail(path, `${innerName} [${innerChunkShape}] does not divide the shard shape [${chunkShape}]`);
    }
  }

  const fillValue = need(m, "fill_value", path);

  const names = m.dimension_names ?? null;
  if (names !== null) {
    if (!Array.isArray(names) || !names.every((n) => n === null || typeof n === "string")) {
      fail(path, '"dimension_names" must be a list of strings or nulls');
    }
    if (names.length !== shape.length) {
      fail(path, `"dimension_names" has ${names.length} entries but "shape" has ${shape.length}`);
    }
  }

  return {
    kind: "array",
    attributes,
    meta: {
      zarrFormat: 3,
      shape,
      chunkShape,
      innerChunkShape,
      dtype: typeof dataType === "string" ? dataType : JSON.stringify(dataType),
      fillValue,
      codecs: codecs.map(codecSummary),
      keyEncoding: keyEncoding(m.chunk_key_encoding, path),
      dimensionNames: names,
      order: "C",
    },
  };
}

/** Number of chunks along each dimension: ceil(shape / chunkShape). */
export function gridShape(meta: ArrayMeta): number[] {
  return meta.shape.map((n, i) => Math.ceil(n / meta.chunkShape[i]));
}

/** True when `index` names a chunk inside the array's chunk grid. */
export function isInGrid(meta: ArrayMeta, index: readonly number[]): boolean {
  const { shape, chunkShape } = meta;
  if (index.length !== shape.length) return false;
  for (let i = 0; i < index.length; i++) {
    const n = index[i] as number;
    if (!Number.isSafeInteger(n) || n < 0 || n >= Math.ceil((shape[i] as number) / (chunkShape[i] as number))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// v3 named configurations: { name, configuration? }, or the bare name string

type Named = { name: string; configuration: Json };
type Codec = Named & { inner?: Codec[] };

function named(v: unknown, what: string, path: string): Named {
  if (typeof v === "string") return { name: v, configuration: {} };
  if (!isObject(v) || typeof v.name !== "string") {
    fail(path, `${what} must be an object with a string "name"`);
  }
  const configuration = v.configuration ?? {};
  if (!isObject(configuration)) fail(path, `${what}.configuration must be a JSON object`);
  return { name: v.name, configuration };
}

function codecList(v: unknown, what: string, path: string): Codec[] {
  if (!Array.isArray(v) || v.length === 0) fail(path, `${what} must be a non-empty list`);
  return v.map((c, i) => {
    const codec = named(c, `${what}[${i}]`, path);
    if (codec.name === "sharding_indexed") {
      const inner = codecList(codec.configuration.codecs, `${what}[${i}].configuration.codecs`, path);
      return { ...codec, inner };
    }
    return codec;
  });
}

function codecSummary(c: Codec): string {
  return c.inner ? `${c.name}(${c.inner.map(codecSummary).join(",")})` : c.name;
}

function keyEncoding(v: unknown, path: string): KeyEncoding {
  if (v === undefined) return { kind: "default", separator: "/" };
  const { name, configuration } = named(v, '"chunk_key_encoding"', path);
  if (name !== "default" && name !== "v2") fail(path, `unknown chunk_key_encoding ${JSON.stringify(name)}`);
  const separator = configuration.separator ?? (name === "default" ? "/" : ".");
  if (separator !== "." && separator !== "/") {
    fail(path, '"chunk_key_encoding.configuration.separator" must be "." or "/"');
  }
  return { kind: name, separator };
}

// ---------------------------------------------------------------------------
// shared checks

function fail(path: string, problem: string, unreadable = false): never {
  throw new InvalidMetadataError(path, problem, unreadable);
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hasStringId(v: unknown): v is { id: string } {
  return isObject(v) && typeof v.id === "string";
}

function need(m: Json, key: string, path: string): unknown {
  if (!Object.hasOwn(m, key)) fail(path, `missing "${key}"`);
  return m[key];
}

function checkFormat(m: Json, expected: 2 | 3, path: string): void {
  if (!Object.hasOwn(m, "zarr_format")) fail(path, 'missing "zarr_format"', true);
  const found = m.zarr_format;
  if (found !== expected) {
    // zarr-python 2.11-2.16 wrote an experimental draft of v3 under this name, with its own layout (meta/, data/)
    const draft = typeof found === "string" && found.startsWith("https://purl.org/zarr/spec/protocol/core/3") ? ", a draft of Zarr v3 that predates the spec" : "";
    fail(path, `unsupported zarr_format ${JSON.stringify(found)}${draft} (expected ${expected})`, true);
  }
}

function dims(v: unknown, what: string, min: 0 | 1, path: string): number[] {
  if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && n >= min)) {
    fail(path, `${what} must be an array of ${min === 0 ? "non-negative" : "positive"} integers`);
  }
  return v;
}

function sameDims(v: number[], what: string, shape: number[], path: string): void {
  if (v.length !== shape.length) {
    fail(path, `${what} has ${v.length} dimensions but "shape" has ${shape.length}`);
  }
}

function readObject(input: string | Uint8Array, path: string, kind: string): Json {
  const v = parseJson(decode(input, path), path);
  if (!isObject(v)) fail(path, `${kind} must be a JSON object`, true);
  return v;
}

function decode(input: string | Uint8Array, path: string): string {
  if (typeof input === "string") return input;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    return fail(path, "not valid UTF-8", true);
  }
}

// ---------------------------------------------------------------------------
// JSON with the bare tokens NaN, Infinity and -Infinity, which Python's json
// module (hence zarr-python) writes for non-finite floats. Valid JSON goes
// through JSON.parse; anything else through readJson (json-reader.ts), which
// also reports where a broken document goes wrong (JSON.parse does not).

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return readJson<unknown, Json>(text, {
      number: (token) => Number(token),
      word: wordValue,
      string: (str) => str,
      array: (items) => items,
      object: () => ({}),
      // defineProperty, as JSON.parse does: a "__proto__" key is an own property
      set: (o, key, value) => void Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true }),
      done: (o) => o,
      fail: (detail) => fail(path, detail, true),
    });
  }
}
