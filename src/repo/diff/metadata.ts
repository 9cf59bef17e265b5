/**
 * What a folder's Zarr metadata says (array or group, v2 or v3), and how two
 * versions of it differ: the array's fields one by one (a shape change says
 * which dimension grew or shrank by how much), attributes key by key.
 */
import { isTdvError } from "../../errors.js";
import { parseZarray, parseZarrJson, parseZgroup, type ArrayMeta } from "../../format/zarr-meta.js";
import { readJson } from "../../zarr/decode.js";
import { joinPath } from "../hierarchy.js";
import type { FileRef, Listing } from "./sides.js";
import type { ArraySummary, AttributeChange, DimensionChange, MetadataChange, MetadataField } from "./types.js";

type Json = Record<string, unknown>;

export interface ArrayNodeDocs {
  kind: "array";
  zarrFormat: 2 | 3;
  meta: ArrayMeta;
  /** the array document (zarr.json or .zarray), exact bytes */
  doc: Uint8Array;
  /** v2 .zattrs bytes, else null */
  zattrs: Uint8Array | null;
  raw: Json;
  attributes: Json;
  /** ids of the metadata files, to tell identical metadata without parsing */
  ids: string;
}

export interface GroupNodeDocs {
  kind: "group";
  zarrFormat: 2 | 3;
  attributes: Json;
  /** consolidated metadata as written (zarr.json's consolidated_metadata or .zmetadata's bytes id) */
  consolidated: string | null;
}

export type NodeDocs = ArrayNodeDocs | GroupNodeDocs;

/** Names of the files that make up a node's metadata (a change to any is a metadata change). */
export const NODE_FILES = new Set(["zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"]);

/** The Zarr node of a folder, or null (plain folder, or invalid metadata: then `warnings` says why). */
export async function readNode(listing: Listing, dir: string, warnings: string[]): Promise<NodeDocs | null> {
  const f = listing.files;
  const where = (name: string) => joinPath(dir, name);
  try {
    const v3 = f.get("zarr.json");
    if (v3) {
      const doc = await v3.read();
      const node = parseZarrJson(doc, where("zarr.json"));
      const raw = readJson(doc) as Json;
      if (node.kind === "group") {
        const c = raw.consolidated_metadata;
        return { kind: "group", zarrFormat: 3, attributes: jsonSafe(node.attributes) as Json, consolidated: c === undefined || c === null ? null : canonical(c) };
      }
      return { kind: "array", zarrFormat: 3, meta: node.meta, doc, zattrs: null, raw, attributes: jsonSafe(node.attributes) as Json, ids: idsOf([v3]) };
    }
    const zattrsRef = f.get(".zattrs");
    const zattrs = zattrsRef ? await zattrsRef.read() : null;
    const attributes = zattrs ? (readJson(zattrs) as Json) : {};
    if (zattrs && (typeof attributes !== "object" || attributes === null || Array.isArray(attributes))) {
      warnings.push(`invalid Zarr metadata in ${where(".zattrs")}: .zattrs must be a JSON object`);
      return null;
    }
    const zarray = f.get(".zarray");
    if (zarray) {
      const doc = await zarray.read();
      const meta = parseZarray(doc, where(".zarray"));
      return { kind: "array", zarrFormat: 2, meta, doc, zattrs, raw: readJson(doc) as Json, attributes, ids: idsOf([zarray, zattrsRef]) };
    }
    const zgroup = f.get(".zgroup");
    if (zgroup) {
      parseZgroup(await zgroup.read(), where(".zgroup"));
      const zmeta = f.get(".zmetadata");
      return { kind: "group", zarrFormat: 2, attributes, consolidated: zmeta ? idsOf([zmeta]) : null };
    }
    return null;
  } catch (err) {
    if (isTdvError(err, "InvalidMetadataError")) {
      warnings.push(err.message);
      return null;
    }
    if (err instanceof SyntaxError) {
      warnings.push(`invalid Zarr metadata in ${dir || "."}: ${err.message}`);
      return null;
    }
    throw err;
  }
}

function idsOf(refs: (FileRef | undefined)[]): string {
  return refs.map((r) => (r ? `${r.store}:${r.id ?? "?"}` : "-")).join(" ");
}

/** The array's metadata as the diff reports it. */
export function summarize(n: ArrayNodeDocs): ArraySummary {
  const m = n.meta;
  return {
    zarrFormat: m.zarrFormat,
    shape: m.shape,
    dtype: m.dtype,
    chunkShape: m.chunkShape,
    innerChunkShape: m.innerChunkShape,
    fillValue: jsonSafe(n.raw.fill_value ?? null),
    codecs: m.codecs,
    dimensionNames: dimensionNames(n),
  };
}

/** dimension_names (v3), else xarray's _ARRAY_DIMENSIONS attribute (v2), else null. */
function dimensionNames(n: ArrayNodeDocs): (string | null)[] | null {
  if (n.meta.dimensionNames) return n.meta.dimensionNames;
  const x = n.attributes._ARRAY_DIMENSIONS;
  if (Array.isArray(x) && x.length === n.meta.shape.length && x.every((s) => typeof s === "string")) return x as string[];
  return null;
}

/** Codec configurations as written: v3 `codecs`; v2 `filters` then `compressor`. */
function codecsOf(n: ArrayNodeDocs): unknown[] {
  if (n.zarrFormat === 3) return (n.raw.codecs as unknown[]) ?? [];
  const filters = Array.isArray(n.raw.filters) ? n.raw.filters : [];
  return [...filters, ...(n.raw.compressor ? [n.raw.compressor] : [])];
}

function keyEncodingOf(m: ArrayMeta): string {
  return m.zarrFormat === 2 ? `v2 "${m.keyEncoding.separator}"` : `${m.keyEncoding.kind} "${m.keyEncoding.separator}"`;
}

/** The fields of the array metadata that differ, in a fixed order. */
export function metadataChanges(a: ArrayNodeDocs, b: ArrayNodeDocs): MetadataChange[] {
  const out: MetadataChange[] = [];
  const push = (field: MetadataField, before: unknown, after: unknown) => {
    if (canonical(before) !== canonical(after)) out.push({ field, before: jsonSafe(before), after: jsonSafe(after) });
  };
  push("zarrFormat", a.zarrFormat, b.zarrFormat);
  if (canonical(a.meta.shape) !== canonical(b.meta.shape)) {
    out.push({ field: "shape", before: a.meta.shape, after: b.meta.shape, dims: shapeChanges(a, b) });
  }
  push("dtype", a.meta.dtype, b.meta.dtype);
  push("chunkShape", a.meta.chunkShape, b.meta.chunkShape);
  push("innerChunkShape", a.meta.innerChunkShape, b.meta.innerChunkShape);
  push("chunkKeyEncoding", keyEncodingOf(a.meta), keyEncodingOf(b.meta));
  push("order", a.meta.order, b.meta.order);
  push("fillValue", a.raw.fill_value ?? null, b.raw.fill_value ?? null);
  // codecs: the summary names when they differ, else the full configurations (a compression level)
  const ca = codecsOf(a);
  const cb = codecsOf(b);
  push("codecs", ca, cb);
  push("dimensionNames", a.meta.dimensionNames, b.meta.dimensionNames);
  return out;
}

function shapeChanges(a: ArrayNodeDocs, b: ArrayNodeDocs): DimensionChange[] {
  const names = dimensionNames(b) ?? dimensionNames(a);
  const out: DimensionChange[] = [];
  const n = Math.max(a.meta.shape.length, b.meta.shape.length);
  if (a.meta.shape.length !== b.meta.shape.length) return out; // a different number of dimensions: before/after say it all
  for (let d = 0; d < n; d++) {
    const x = a.meta.shape[d] as number;
    const y = b.meta.shape[d] as number;
    if (x === y) continue;
    out.push({ dim: d, name: names?.[d] ?? null, before: x, after: y, change: y > x ? "grew" : "shrank", by: Math.abs(y - x) });
  }
  return out;
}

/** Attributes key by key: added, removed, changed (values compared as JSON, key order ignored). */
export function attributeChanges(a: Json, b: Json): AttributeChange[] {
  const out: AttributeChange[] = [];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const inA = Object.hasOwn(a, key);
    const inB = Object.hasOwn(b, key);
    if (inA && !inB) out.push({ key, change: "removed", before: jsonSafe(a[key]) });
    else if (!inA && inB) out.push({ key, change: "added", after: jsonSafe(b[key]) });
    else if (canonical(a[key]) !== canonical(b[key])) out.push({ key, change: "changed", before: jsonSafe(a[key]), after: jsonSafe(b[key]) });
  }
  return out;
}

/** JSON text with object keys sorted: equal values give equal text. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    if (x && typeof x === "object" && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x as Json).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)));
    }
    return x;
  }) ?? "undefined";
}

/** A value JSON can hold: NaN and infinities as the strings the Zarr specs use. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}
