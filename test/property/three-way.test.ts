/**
 * The three-way merge of change sets (detectConflicts) against a simple
 * model: a map key → value, with random edits on each side of a random base.
 * A key changed on one side only takes that side; the same change on both is
 * clean; different changes conflict (a deletion against a change included);
 * merge(base, x, x) = x and merge(base, base, x) = merge(base, x, base) = x.
 * Three kinds of keys: plain files (by content id), the chunk files of one
 * array (conflicts are per chunk, to settle element by element), and the
 * attributes of a `.zattrs` document (merged key by key).
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseZarrJson } from "../../src/format/zarr-meta.js";
import { detectConflicts, type DetectInput } from "../../src/repo/merge/detect.js";
import type { Conflict } from "../../src/repo/merge/types.js";
import type { SnapEntry, Snapshot } from "../../src/repo/snapshot.js";

const RUNS = { numRuns: 40 };

type Side = "base" | "ours" | "theirs";
type Model = Map<string, string>; // key → value (absent: no file / no attribute)

/** A base and two sides made from it by random edits: each key kept, set to a value, or removed, on each side. */
function sides(keys: string[], values: readonly string[]) {
  const value = fc.constantFrom(...values);
  const edit = fc.oneof({ arbitrary: fc.constant<"keep">("keep"), weight: 3 }, { arbitrary: fc.constant<"remove">("remove"), weight: 1 }, { arbitrary: value, weight: 2 });
  return fc.tuple(...keys.map(() => fc.tuple(fc.option(value, { nil: undefined }), edit, edit))).map((perKey) => {
    const base: Model = new Map();
    const ours: Model = new Map();
    const theirs: Model = new Map();
    perKey.forEach(([b, o, t], i) => {
      const k = keys[i] as string;
      if (b !== undefined) base.set(k, b);
      for (const [side, e] of [
        [ours, o],
        [theirs, t],
      ] as const) {
        const v = e === "keep" ? b : e === "remove" ? undefined : e;
        if (v !== undefined) side.set(k, v);
      }
    });
    return { base, ours, theirs };
  });
}

/**
 * What an open conflict leaves in the merged result until it is settled: ours; for a plain file
 * one side deleted and the other changed, the changed version (the working copy loses nothing).
 */
type Provisional = "ours" | "changed";

/** The model's three-way merge of one key: the merged value, and whether (and how) it conflicts. */
function mergeKey(b: string | undefined, o: string | undefined, t: string | undefined, provisional: Provisional): { value: string | undefined; conflict: null | "both" | "deletedBy ours" | "deletedBy theirs" } {
  if (o === t) return { value: o, conflict: null };
  if (b === o) return { value: t, conflict: null };
  if (b === t) return { value: o, conflict: null };
  if (o === undefined) return { value: provisional === "changed" ? t : o, conflict: "deletedBy ours" };
  if (t === undefined) return { value: o, conflict: "deletedBy theirs" };
  return { value: o, conflict: "both" };
}

function modelMerge(base: Model, ours: Model, theirs: Model, provisional: Provisional = "ours") {
  const merged: Model = new Map();
  const conflicts = new Map<string, string>();
  for (const k of new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])) {
    const r = mergeKey(base.get(k), ours.get(k), theirs.get(k), provisional);
    if (r.value !== undefined) merged.set(k, r.value);
    if (r.conflict) conflicts.set(k, r.conflict);
  }
  return { merged, conflicts };
}

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Snapshots whose files hold the model's values (plus `extra` files on every side), and a reader of their bytes. */
function snapshots(models: Record<Side, Model>, opts: { chunk?: boolean; extra?: Record<string, string>; arrays?: Snapshot["arrays"] } = {}) {
  const bytes = new Map<string, Uint8Array>();
  const entry = (content: string, chunk: boolean): SnapEntry => {
    const id = chunk ? sha256(content) : sha1(content);
    bytes.set(id, new TextEncoder().encode(content));
    return (chunk ? { store: "chunk", id, size: content.length } : { store: "git", id, size: content.length }) as SnapEntry;
  };
  const snap = (m: Model): Snapshot => {
    const files = new Map<string, SnapEntry>();
    for (const [p, content] of Object.entries(opts.extra ?? {})) files.set(p, entry(content, false));
    for (const [k, v] of m) files.set(k, entry(v, opts.chunk ?? false));
    return { tree: null, files, arrays: opts.arrays ?? new Map() };
  };
  const input: DetectInput = {
    base: snap(models.base),
    ours: snap(models.ours),
    theirs: snap(models.theirs),
    read: async (_p, e) => {
      const b = bytes.get(e.id);
      if (!b) throw new Error(`no such object ${e.id}`);
      return b;
    },
  };
  /** the content a merged file holds (its id read back) */
  const contentOf = (e: SnapEntry) => new TextDecoder().decode(bytes.get(e.id));
  return { input, contentOf };
}

/** The merged files as a model (every file but `skip`), and the conflicts as key → kind. */
function observed(d: Awaited<ReturnType<typeof detectConflicts>>, contentOf: (e: SnapEntry) => string, skip: (p: string) => boolean = () => false) {
  const merged: Model = new Map();
  for (const [p, e] of d.files) if (!skip(p)) merged.set(p, d.written.has(p) ? new TextDecoder().decode(d.written.get(p)) : contentOf(e));
  const conflicts = new Map<string, string>();
  for (const c of d.conflicts) conflicts.set(conflictKey(c), conflictKind(c));
  return { merged, conflicts };
}

function conflictKey(c: Conflict): string {
  switch (c._tag) {
    case "AttrBothChanged":
      return c.key;
    case "ArrayAddedBoth":
      return c.array;
    default:
      return c.path;
  }
}

function conflictKind(c: Conflict): string {
  if (c._tag === "DeleteOfChanged") return `deletedBy ${c.deletedBy}`;
  return "both";
}

const FILES = ["a.txt", "b.txt", "c.bin", "d/e.txt", "d/f.txt", "g/h/i.csv"];
const VALUES = ["v1", "v2", "v3"];

describe("three-way merge of plain files (property)", () => {
  it("agrees with the model: one side's change taken, the same change clean, different changes (or a delete of a change) conflict", async () => {
    await fc.assert(
      fc.asyncProperty(sides(FILES, VALUES), async (m) => {
        const { input, contentOf } = snapshots(m);
        const d = await detectConflicts(input);
        const want = modelMerge(m.base, m.ours, m.theirs, "changed");
        const got = observed(d, contentOf);
        expect(got.merged).toEqual(want.merged);
        expect(got.conflicts).toEqual(want.conflicts);
        for (const c of d.conflicts) expect(["FileBothChanged", "DeleteOfChanged"]).toContain(c._tag);
      }),
      RUNS,
    );
  });

  it("merge(base, x, x) = x, merge(base, base, x) = x and merge(base, x, base) = x, with no conflict", async () => {
    await fc.assert(
      fc.asyncProperty(sides(FILES, VALUES), async ({ base, ours: x }) => {
        for (const models of [
          { base, ours: x, theirs: x },
          { base, ours: base, theirs: x },
          { base, ours: x, theirs: base },
        ]) {
          const { input, contentOf } = snapshots(models);
          const d = await detectConflicts(input);
          expect(d.conflicts).toEqual([]);
          expect(observed(d, contentOf).merged).toEqual(x);
        }
      }),
      RUNS,
    );
  });
});

// one 2-D array, 4×3 chunks of 2×2, the same metadata on every side
const ZARR_JSON = JSON.stringify({
  zarr_format: 3,
  node_type: "array",
  shape: [8, 6],
  data_type: "int16",
  chunk_grid: { name: "regular", configuration: { chunk_shape: [2, 2] } },
  chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
  fill_value: 0,
  codecs: [{ name: "bytes", configuration: { endian: "little" } }],
  attributes: {},
});
const CHUNKS = Array.from({ length: 12 }, (_, i) => `arr/c/${Math.floor(i / 3)}/${i % 3}`);
const arrays = (): Snapshot["arrays"] => {
  const node = parseZarrJson(ZARR_JSON, "arr");
  if (node.kind !== "array") throw new Error("not an array");
  return new Map([["arr", node.meta]]);
};

describe("three-way merge of an array's chunks (property)", () => {
  it("agrees with the model: a chunk changed (or deleted) on both sides differently is a ChunkBothChanged of that chunk, ours provisionally", async () => {
    await fc.assert(
      fc.asyncProperty(sides(CHUNKS, ["k1", "k2", "k3"]), async (m) => {
        const { input, contentOf } = snapshots(m, { chunk: true, extra: { "arr/zarr.json": ZARR_JSON }, arrays: arrays() });
        const d = await detectConflicts(input);
        const want = modelMerge(m.base, m.ours, m.theirs);
        const got = observed(d, contentOf, (p) => p === "arr/zarr.json");
        expect(d.files.has("arr/zarr.json")).toBe(true);
        expect(got.merged).toEqual(want.merged);
        // every disagreement on a chunk is settled element by element later: one kind of conflict, naming the chunk
        expect(new Set(got.conflicts.keys())).toEqual(new Set(want.conflicts.keys()));
        for (const c of d.conflicts) {
          expect(c._tag).toBe("ChunkBothChanged");
          if (c._tag !== "ChunkBothChanged") continue;
          const [, , i, j] = c.path.split("/");
          expect(c).toMatchObject({ array: "arr", chunk: [Number(i), Number(j)] });
          for (const s of ["base", "ours", "theirs"] as const) expect(c.entries[s] === null ? undefined : contentOf(c.entries[s])).toBe(m[s].get(c.path));
        }
      }),
      RUNS,
    );
  });

  it("merge(base, x, x) = x, merge(base, base, x) = x and merge(base, x, base) = x for chunks", async () => {
    await fc.assert(
      fc.asyncProperty(sides(CHUNKS, ["k1", "k2", "k3"]), async ({ base, ours: x }) => {
        for (const models of [
          { base, ours: x, theirs: x },
          { base, ours: base, theirs: x },
          { base, ours: x, theirs: base },
        ]) {
          const { input, contentOf } = snapshots(models, { chunk: true, extra: { "arr/zarr.json": ZARR_JSON }, arrays: arrays() });
          const d = await detectConflicts(input);
          expect(d.conflicts).toEqual([]);
          expect(observed(d, contentOf, (p) => p === "arr/zarr.json").merged).toEqual(x);
        }
      }),
      RUNS,
    );
  });
});

// attribute values: JSON of several shapes, compared as JSON values
const ATTR_VALUES = ["1", "2.5", '"K"', '"degC"', "null", "[1,2]", '{"a":1}', '{"a":2}', "true"];
const ATTRS = ["units", "long_name", "scale", "history", "flags"];

describe("three-way merge of attributes, key by key (property)", () => {
  it("agrees with the model: each attribute merged on its own; one changed differently on both sides is an AttrBothChanged, ours provisionally", async () => {
    const zattrs = (m: Model) => JSON.stringify(Object.fromEntries([...m].map(([k, v]) => [k, JSON.parse(v)])), null, 2);
    await fc.assert(
      fc.asyncProperty(sides(ATTRS, ATTR_VALUES), async (m) => {
        const file = (x: Model): Model => new Map([["grp/.zattrs", zattrs(x)]]);
        const { input, contentOf } = snapshots({ base: file(m.base), ours: file(m.ours), theirs: file(m.theirs) }, { extra: { "grp/.zgroup": '{"zarr_format":2}' } });
        const d = await detectConflicts(input);
        const want = modelMerge(m.base, m.ours, m.theirs);
        const got = observed(d, contentOf, (p) => p !== "grp/.zattrs");
        const doc = JSON.parse(got.merged.get("grp/.zattrs") as string) as Record<string, unknown>;
        expect(doc).toEqual(Object.fromEntries([...want.merged].map(([k, v]) => [k, JSON.parse(v)])));
        // a removed attribute against a changed one is a conflict of that key like any other
        expect(new Set(got.conflicts.keys())).toEqual(new Set(want.conflicts.keys()));
        for (const c of d.conflicts) {
          expect(c._tag).toBe("AttrBothChanged");
          if (c._tag !== "AttrBothChanged") continue;
          const json = (v: string | undefined) => (v === undefined ? null : JSON.parse(v));
          expect(c).toMatchObject({ node: "grp", path: "grp/.zattrs", values: { base: json(m.base.get(c.key)), ours: json(m.ours.get(c.key)), theirs: json(m.theirs.get(c.key)) } });
        }
      }),
      RUNS,
    );
  });
});
