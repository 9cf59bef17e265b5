/**
 * Three-way merge of Zarr metadata documents, key by key: the keys of an
 * array's `zarr.json` / `.zarray` (shape, data_type, codecs, ...), and the
 * attributes (`zarr.json` "attributes", or a whole `.zattrs`) each key on
 * its own. A key changed on one side takes that side's value; changed
 * differently on both is a conflict, which `choose` may settle.
 */
import { baseName } from "../hierarchy.js";
import { canonical, DISPUTED, same, show, toJsonValue, type Json } from "./json.js";
import type { AttrBothChanged, Conflict, MetaBothChanged, Side, Sides } from "./types.js";

/** Decides a conflict: a side, or null to leave it open (ours stays, provisionally). */
export type Chooser = (c: Conflict) => Side | null;

/** Keys of an array document whose change re-encodes the chunks (the rest: shape, names, attributes). */
const ENCODING_KEYS_V3 = ["zarr_format", "node_type", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs", "storage_transformers"];
const ENCODING_KEYS_V2 = ["zarr_format", "dtype", "chunks", "compressor", "filters", "fill_value", "order", "dimension_separator"];

/** The part of an array document that decides how chunks are encoded (format, dtype, grid, codecs, fill). */
export function encodingOf(doc: Json): Json {
  const keys = doc.zarr_format === 2 ? ENCODING_KEYS_V2 : ENCODING_KEYS_V3;
  return Object.fromEntries(keys.filter((k) => k in doc).map((k) => [k, doc[k]]));
}

/** Encoding keys whose values differ between two array documents. */
export function encodingKeysChanged(a: Json, b: Json): string[] {
  const ea = encodingOf(a);
  const eb = encodingOf(b);
  return [...new Set([...Object.keys(ea), ...Object.keys(eb)])].filter((k) => !same(ea[k], eb[k]));
}

export interface DocMergeContext {
  /** the document's path */
  path: string;
  /** the array or group folder it describes */
  node: string;
  /** true when the node is an array */
  isArray: boolean;
}

export interface DocMerge {
  doc: Json;
  conflicts: Conflict[];
  /** both sides changed the document's consolidated metadata: it holds ours' until rebuilt from the merged documents */
  rebuild: boolean;
}

/**
 * Merge `zarr.json`, `.zarray` or `.zattrs` key by key. A side where the
 * document is absent counts as an empty document (a `.zattrs` added on both).
 */
export function mergeDoc(ctx: DocMergeContext, sides: Sides<Json | null>, choose: Chooser): DocMerge {
  const b = sides.base ?? {};
  const o = sides.ours ?? {};
  const t = sides.theirs ?? {};
  const conflicts: Conflict[] = [];
  const name = baseName(ctx.path);
  if (name === ".zattrs") return { doc: mergeAttrs(ctx, { base: b, ours: o, theirs: t }, choose, conflicts), conflicts, rebuild: false };

  let rebuild = false;
  const doc = mergeKeys({ base: b, ours: o, theirs: t }, (key, values) => {
    if (key === "consolidated_metadata" && name === "zarr.json" && !ctx.isArray) {
      rebuild = true;
      return { value: values.ours === undefined ? values.theirs : values.ours };
    }
    if (key === "attributes" && name === "zarr.json") {
      const attrs = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
      return { value: mergeAttrs(ctx, { base: attrs(values.base), ours: attrs(values.ours), theirs: attrs(values.theirs) }, choose, conflicts) };
    }
    const c = metaConflict(ctx, key, values);
    conflicts.push(c);
    return { side: choose(c) };
  });
  return { doc, conflicts, rebuild };
}

function mergeAttrs(ctx: DocMergeContext, sides: Sides<Json>, choose: Chooser, conflicts: Conflict[]): Json {
  return mergeKeys(sides, (key, values) => {
    const c: AttrBothChanged = {
      _tag: "AttrBothChanged",
      node: ctx.node,
      path: ctx.path,
      key,
      values: { base: toJsonValue(values.base), ours: toJsonValue(values.ours), theirs: toJsonValue(values.theirs) },
    };
    conflicts.push(c);
    return { side: choose(c) };
  });
}

type Resolve = (key: string, values: Sides<unknown>) => { value: unknown } | { side: Side | null };

/**
 * Key-by-key three-way merge of two objects against a base. Keys keep ours'
 * order, then theirs' new keys. `onBoth` handles a key changed differently on
 * both sides: a merged value, or a side (null: ours, left open).
 */
function mergeKeys(sides: Sides<Json>, onBoth: Resolve): Json {
  const { base: b, ours: o, theirs: t } = sides;
  const keys = [...Object.keys(o), ...Object.keys(t).filter((k) => !(k in o)), ...Object.keys(b).filter((k) => !(k in o) && !(k in t))];
  const out: Json = {};
  for (const k of keys) {
    const [vb, vo, vt] = [b[k], o[k], t[k]];
    let v: unknown;
    if (same(vo, vt)) v = vo;
    else if (same(vb, vo)) v = vt;
    else if (same(vb, vt)) v = vo;
    else {
      const r = onBoth(k, { base: vb, ours: vo, theirs: vt });
      v = "value" in r ? r.value : r.side === "theirs" ? vt : vo;
    }
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function metaConflict(ctx: DocMergeContext, key: string, values: Sides<unknown>): MetaBothChanged {
  const ours = describeChange(key, values.base, values.ours);
  const theirs = describeChange(key, values.base, values.theirs);
  return {
    _tag: "MetaBothChanged",
    array: ctx.node,
    path: ctx.path,
    key,
    scope: "key",
    values: { base: toJsonValue(values.base), ours: toJsonValue(values.ours), theirs: toJsonValue(values.theirs) },
    ours,
    theirs,
    message: `${ctx.node || "."}: '${key}' changed differently on both sides: ours ${ours}; theirs ${theirs}`,
  };
}

/** What a side did to one key of an array document, in words. */
export function describeChange(key: string, before: unknown, after: unknown, dims?: (string | null)[] | null): string {
  if (before === DISPUTED) return after === undefined ? `removed ${key} (the merge bases disagree on it)` : `${key} ${show(after)} (the merge bases disagree on it)`;
  if (before === undefined) return `added ${key} ${show(after)}`;
  if (after === undefined) return `removed ${key} (was ${show(before)})`;
  if (key === "shape" && Array.isArray(before) && Array.isArray(after)) return describeShape(before as number[], after as number[], dims);
  if (key === "codecs" || key === "compressor" || key === "filters") return `${key} ${codecNames(before)} → ${codecNames(after)}`;
  if (canonical(before) === canonical(after)) return `kept ${key} ${show(after)}`;
  return `${key} ${show(before)} → ${show(after)}`;
}

function describeShape(before: number[], after: number[], dims?: (string | null)[] | null): string {
  if (before.length !== after.length) return `shape [${before}] → [${after}] (${after.length} dimensions instead of ${before.length})`;
  const parts: string[] = [];
  after.forEach((n, d) => {
    const was = before[d] as number;
    if (n === was) return;
    const name = dims?.[d] ? `'${dims[d]}'` : `dimension ${d}`;
    parts.push(`${name} ${n > was ? "grew" : "shrank"} by ${Math.abs(n - was)}`);
  });
  return `shape [${before}] → [${after}]${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

function codecNames(v: unknown): string {
  const name = (c: unknown): string => {
    if (typeof c === "string") return c;
    if (c && typeof c === "object") {
      const o = c as { name?: unknown; id?: unknown; configuration?: { codecs?: unknown } };
      const n = String(o.name ?? o.id ?? "?");
      if (n === "sharding_indexed" && Array.isArray(o.configuration?.codecs)) return `${n}(${o.configuration.codecs.map(name).join(",")})`;
      const cfg = Object.entries(o).filter(([k]) => k !== "name" && k !== "id" && k !== "configuration");
      const conf = o.configuration && typeof o.configuration === "object" ? Object.entries(o.configuration) : [];
      const all = [...cfg, ...conf].filter(([, x]) => typeof x !== "object");
      return all.length ? `${n}(${all.map(([k, x]) => `${k}=${String(x)}`).join(", ")})` : n;
    }
    return "none";
  };
  if (v === null || v === undefined) return "none";
  return Array.isArray(v) ? (v.length ? v.map(name).join(", ") : "none") : name(v);
}
