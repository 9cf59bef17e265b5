/**
 * The element-wise merge of one chunk both sides changed (mergeChunk), on
 * random chunks against an element-by-element model: each element takes the
 * side that changed it, the same change on both is clean, different changes
 * conflict (ours kept unless a side is preferred). Floats compare by their
 * bits, as the code defines it: -0 is not 0, a NaN equals only a NaN of the
 * same bits. A missing chunk is the fill value everywhere. The sides'
 * shapes differ at random (an array grown or shrunk on one side), so edge
 * chunks hold elements absent on a side, and elements outside the merged
 * array are not part of the merge. A shard both sides changed is merged
 * inner chunk by inner chunk (by their bytes, then element by element).
 * Chunks are written with the `bytes` codec (raw little-endian values), so
 * the test writes and reads them itself.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ChunkSide, mergeChunk } from "../../src/repo/merge/elementwise.js";
import { innerChunks, shardingOf, writeShard } from "../../src/zarr/shard.js";

type Cell = number | bigint | boolean;

/** A data type: its Zarr name, byte width, a few values (bit patterns for floats), fill values, and raw little-endian I/O. */
interface Dtype {
  name: string;
  size: number;
  values: Cell[];
  fills: { json: unknown; cell: Cell }[];
  write(v: DataView, off: number, c: Cell): void;
  read(v: DataView, off: number): Cell;
}

const f32 = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0] as number;
const f64 = (x: number) => new BigUint64Array(Float64Array.of(x).buffer)[0] as bigint;

const DTYPES: Dtype[] = [
  {
    name: "float32",
    size: 4,
    // 0, -0, 1.5, 2.5, NaN, a NaN with a payload, a negative NaN, -Infinity
    values: [f32(0), f32(-0), f32(1.5), f32(2.5), f32(Number.NaN), 0x7fc00001, 0xffc00000, f32(-Infinity)],
    fills: [
      { json: 0, cell: f32(0) },
      { json: "NaN", cell: f32(Number.NaN) },
      { json: 2.5, cell: f32(2.5) },
    ],
    write: (v, o, c) => v.setUint32(o, c as number, true),
    read: (v, o) => v.getUint32(o, true),
  },
  {
    name: "float64",
    size: 8,
    values: [f64(0), f64(-0), f64(1.5), f64(2.5), f64(Number.NaN), 0x7ff8000000000001n, 0xfff8000000000000n],
    fills: [
      { json: 0, cell: f64(0) },
      { json: "NaN", cell: f64(Number.NaN) },
    ],
    write: (v, o, c) => v.setBigUint64(o, c as bigint, true),
    read: (v, o) => v.getBigUint64(o, true),
  },
  {
    name: "int16",
    size: 2,
    values: [-32768, -1, 0, 1, 7, 300],
    fills: [
      { json: 0, cell: 0 },
      { json: -1, cell: -1 },
      { json: 7, cell: 7 },
    ],
    write: (v, o, c) => v.setInt16(o, c as number, true),
    read: (v, o) => v.getInt16(o, true),
  },
  {
    name: "bool",
    size: 1,
    values: [false, true],
    fills: [
      { json: false, cell: false },
      { json: true, cell: true },
    ],
    write: (v, o, c) => v.setUint8(o, c ? 1 : 0),
    read: (v, o) => v.getUint8(o) !== 0,
  },
];

const CHUNK_SHAPE = [3, 4];
const N = 12;
/** the chunk merged: [1, 1], elements [3..5] × [4..7] of the array */
const CHUNK = [1, 1];
const ORIGIN = [3, 4];
/** array shapes a side may have: the chunk inside, cut at an edge, or wholly outside */
const SHAPES = [
  [6, 8],
  [5, 7],
  [4, 6],
  [6, 5],
  [3, 4],
];

const dtype = (name: string) => DTYPES.find((d) => d.name === name) as Dtype;

function metaDoc(dt: Dtype, fill: unknown, shape: number[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: dt.name,
      chunk_grid: { name: "regular", configuration: { chunk_shape: CHUNK_SHAPE } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: fill,
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      attributes: {},
    }),
  );
}

function encode(dt: Dtype, cells: Cell[]): Uint8Array {
  const out = new Uint8Array(cells.length * dt.size);
  const v = new DataView(out.buffer);
  cells.forEach((c, i) => {
    dt.write(v, i * dt.size, c);
  });
  return out;
}

function decode(dt: Dtype, bytes: Uint8Array): Cell[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(bytes.byteLength).toBe(N * dt.size);
  return Array.from({ length: N }, (_, i) => dt.read(v, i * dt.size));
}

/** Whether chunk element `i` (C order) lies inside an array of `shape`. */
const inside = (shape: number[], i: number) => [Math.floor(i / 4), i % 4].every((n, d) => (ORIGIN[d] as number) + n < (shape[d] as number));

/** Mostly the whole chunk inside the array on every side (the common, fast case), else another shape. */
const shapeAt = fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: 1, max: SHAPES.length - 1 }), weight: 3 });

/** One random case: a data type, its fill, each side's shape and chunk (null: no file), and the preferred side. */
const mergeCase = fc
  .record({ dt: fc.nat({ max: DTYPES.length - 1 }), fill: fc.nat(), prefer: fc.constantFrom(null, "ours" as const, "theirs" as const), shapes: fc.tuple(shapeAt, shapeAt, shapeAt) })
  .chain(({ dt, fill, prefer, shapes }) => {
    const d = DTYPES[dt] as Dtype;
    const value = fc.constantFrom(...d.values);
    // an edit: a third of the elements kept, the others set to a value from the small list (so both sides often pick the same)
    const edited = (base: Cell[]) => fc.array(fc.option(value, { freq: 3, nil: undefined }), { minLength: N, maxLength: N }).map((e) => base.map((c, i) => e[i] ?? c));
    const present = fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 });
    return fc
      .tuple(fc.array(value, { minLength: N, maxLength: N }), present, present, present)
      .chain(([base, hasB, hasO, hasT]) => fc.tuple(fc.constant(base), edited(base), edited(base), fc.constant([hasB, hasO, hasT] as const)))
      .map(([base, ours, theirs, has]) => ({
        dt: d.name, // a name, so that a failing case prints plainly
        fill: d.fills[fill % d.fills.length] as Dtype["fills"][number],
        prefer,
        shape: { base: SHAPES[shapes[0]] as number[], ours: SHAPES[shapes[1]] as number[], theirs: SHAPES[shapes[2]] as number[] },
        cells: { base: has[0] ? base : null, ours: has[1] ? ours : null, theirs: has[2] ? theirs : null },
      }));
  });

type Case = typeof mergeCase extends fc.Arbitrary<infer T> ? T : never;
type S = "base" | "ours" | "theirs";

/** The merged array's shape: the shape key merged three-way (ours where both changed it differently). */
function mergedShape(c: Case): number[] {
  const { base: b, ours: o, theirs: t } = c.shape;
  const eq = (x: number[], y: number[]) => x.join() === y.join();
  if (eq(o, t) || eq(b, t)) return o;
  if (eq(b, o)) return t;
  return o;
}

/** The model: element by element, which side each element takes, and the conflicts. */
function model(c: Case) {
  const merged = mergedShape(c);
  const data = (s: S): Cell[] => c.cells[s] ?? new Array<Cell>(N).fill(c.fill.cell);
  const d = { base: data("base"), ours: data("ours"), theirs: data("theirs") };
  const ABSENT = Symbol("absent");
  const at = (s: S, i: number): Cell | typeof ABSENT => (inside(c.shape[s], i) ? (d[s][i] as Cell) : ABSENT);
  const fullyOutside = ORIGIN.some((n, k) => n >= (merged[k] as number));
  const out: Cell[] = [];
  const conflicts: number[] = [];
  let fromTheirs = 0;
  let differsFromOurs = false;
  let differsFromTheirs = false;
  for (let i = 0; i < N; i++) {
    const [vb, vo, vt] = [at("base", i), at("ours", i), at("theirs", i)];
    const relevant = !fullyOutside && inside(merged, i);
    let take: "ours" | "theirs";
    if (!relevant) take = vo === ABSENT && vt !== ABSENT ? "theirs" : "ours";
    else if (vo === vt) take = "ours";
    else if (vo === vb) take = "theirs";
    else if (vt === vb) take = "ours";
    else {
      conflicts.push(i);
      take = c.prefer ?? "ours";
    }
    const value = d[take][i] as Cell;
    out.push(value);
    if (relevant && take === "theirs") fromTheirs++;
    if (relevant && value !== vo) differsFromOurs = true;
    if (relevant && value !== vt) differsFromTheirs = true;
  }
  let result: "ours" | "theirs" | "bytes";
  if (fullyOutside) result = c.cells.ours === null || c.cells.theirs !== null ? "ours" : "theirs";
  else if (!differsFromOurs) result = "ours";
  else if (!differsFromTheirs) result = "theirs";
  else result = "bytes";
  return { merged, out, conflicts, fromTheirs: fullyOutside ? 0 : fromTheirs, result, data: d };
}

async function run(c: Case) {
  const merged = mergedShape(c);
  const dt = dtype(c.dt);
  const side = (s: S): ChunkSide => ({ metaDoc: metaDoc(dt, c.fill.json, c.shape[s]), zattrs: null, shape: c.shape[s], bytes: c.cells[s] ? encode(dt, c.cells[s]) : null });
  return mergeChunk({
    chunk: CHUNK,
    sides: { base: side("base"), ours: side("ours"), theirs: side("theirs") },
    merged: { metaDoc: metaDoc(dt, c.fill.json, merged), shape: merged },
    prefer: c.prefer,
    examples: 3,
  });
}

describe("element-wise merge of a chunk (property)", () => {
  it("agrees with the element-by-element model: which elements come from where, the conflicts, and the result", async () => {
    await fc.assert(
      fc.asyncProperty(mergeCase, async (c) => {
        const want = model(c);
        const got = await run(c);
        expect(got.conflicts.count).toBe(want.conflicts.length);
        expect(got.fromTheirs).toBe(want.fromTheirs);
        // the first conflicts as examples, at array coordinates
        expect(got.conflicts.examples.map((e) => e.coords)).toEqual(want.conflicts.slice(0, 3).map((i) => [ORIGIN[0]! + Math.floor(i / 4), ORIGIN[1]! + (i % 4)]));
        if (want.result === "bytes") {
          expect(got.result.kind).toBe("bytes");
          if (got.result.kind === "bytes") expect(decode(dtype(c.dt), got.result.bytes)).toEqual(want.out);
        } else {
          expect(got.result).toEqual({ kind: "side", side: want.result });
          // the side taken holds what the model merged, on every element of the merged array
          const kept = want.data[want.result];
          for (let i = 0; i < N; i++) if (inside(want.merged, i) && !ORIGIN.some((n, k) => n >= want.merged[k]!)) expect(kept[i]).toEqual(want.out[i]);
        }
      }),
      { numRuns: 120 },
    );
  });

  it("merge(base, x, x) and merge(base, base, x) take x whole, with no conflict", async () => {
    await fc.assert(
      fc.asyncProperty(mergeCase, async (c) => {
        for (const [o, t] of [
          ["theirs", "theirs"],
          ["base", "theirs"],
        ] as const) {
          const same: Case = { ...c, shape: { ...c.shape, ours: c.shape[o], theirs: c.shape[t] }, cells: { ...c.cells, ours: c.cells[o], theirs: c.cells[t] } };
          const got = await run(same);
          expect(got.conflicts.count).toBe(0);
          // one side's file as it is, holding x on every element of the merged array
          expect(got.result.kind).toBe("side");
          if (got.result.kind !== "side") continue;
          const want = model(same);
          const x = want.data.theirs;
          const kept = want.data[got.result.side];
          if (!ORIGIN.some((n, k) => n >= want.merged[k]!)) for (let i = 0; i < N; i++) if (inside(want.merged, i)) expect(kept[i]).toEqual(x[i]);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("a shard both sides changed: inner chunks one side changed are taken as they are, those both changed merge element by element", async () => {
    const SHARD = [6, 8]; // 2×2 inner chunks of 3×4: the whole array
    const shardDoc = (dt: Dtype, fill: unknown) =>
      new TextEncoder().encode(
        JSON.stringify({
          zarr_format: 3,
          node_type: "array",
          shape: SHARD,
          data_type: dt.name,
          chunk_grid: { name: "regular", configuration: { chunk_shape: SHARD } },
          chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
          fill_value: fill,
          codecs: [
            {
              name: "sharding_indexed",
              configuration: { chunk_shape: CHUNK_SHAPE, codecs: [{ name: "bytes", configuration: { endian: "little" } }], index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }], index_location: "end" },
            },
          ],
          attributes: {},
        }),
      );
    // per inner chunk and side: no inner chunk, or its 12 values; the sides start from the base and change some inner chunks
    const inner = (d: Dtype) => fc.option(fc.array(fc.constantFrom(...d.values), { minLength: N, maxLength: N }), { freq: 4, nil: null });
    const shardCase = fc.constantFrom("float32", "int16", "bool").chain((name) => {
      const d = dtype(name);
      const change = fc.oneof({ arbitrary: fc.constant("keep" as const), weight: 2 }, { arbitrary: inner(d), weight: 1 }, { arbitrary: fc.array(fc.option(fc.constantFrom(...d.values), { freq: 2, nil: undefined }), { minLength: N, maxLength: N }), weight: 2 });
      return fc.record({
        dt: fc.constant(name),
        fill: fc.constantFrom(...d.fills),
        base: fc.array(inner(d), { minLength: 4, maxLength: 4 }),
        ours: fc.array(change, { minLength: 4, maxLength: 4 }),
        theirs: fc.array(change, { minLength: 4, maxLength: 4 }),
        prefer: fc.constantFrom(null, "ours" as const, "theirs" as const),
      });
    });
    type Inner = Cell[] | null;
    await fc.assert(
      fc.asyncProperty(shardCase, async (c) => {
        const dt = dtype(c.dt);
        const doc = shardDoc(dt, c.fill.json);
        const s = shardingOf(JSON.parse(new TextDecoder().decode(doc)));
        if (!s) throw new Error("not a sharding the merge reads");
        const apply = (base: Inner, ch: (typeof c.ours)[number]): Inner => {
          if (ch === "keep") return base;
          if (ch === null) return null;
          if (ch.some((x) => x === undefined)) {
            const from = base ?? new Array<Cell>(N).fill(c.fill.cell); // an edit of a missing inner chunk writes it
            return from.map((x, i) => (ch[i] === undefined ? x : (ch[i] as Cell)));
          }
          return ch as Cell[];
        };
        const inners = { base: c.base as Inner[], ours: c.base.map((b, k) => apply(b, c.ours[k]!)), theirs: c.base.map((b, k) => apply(b, c.theirs[k]!)) };
        const shard = (list: Inner[]) => (list.every((x) => x === null) ? null : writeShard(s, list.map((x) => (x ? encode(dt, x) : null))));
        const side = (x: S): ChunkSide => ({ metaDoc: doc, zattrs: null, shape: SHARD, bytes: shard(inners[x]) });
        const got = await mergeChunk({ chunk: [0, 0], sides: { base: side("base"), ours: side("ours"), theirs: side("theirs") }, merged: { metaDoc: doc, shape: SHARD }, prefer: c.prefer, examples: 100 });

        // the model, inner chunk by inner chunk
        const sameInner = (x: Inner, y: Inner) => (x === null || y === null ? x === y : x.every((v, i) => v === y[i]));
        const fillAll = () => new Array<Cell>(N).fill(c.fill.cell);
        let count = 0;
        let fromTheirs = 0;
        let allOurs = true;
        let allTheirs = true;
        const conflicted: number[][] = [];
        const want: Cell[][] = [];
        for (let k = 0; k < 4; k++) {
          const [b, o, t] = [inners.base[k]!, inners.ours[k]!, inners.theirs[k]!];
          const values = (x: Inner) => x ?? fillAll();
          if (sameInner(o, t)) want.push(values(o));
          else if (sameInner(b, o)) {
            want.push(values(t));
            allOurs = false;
          } else if (sameInner(b, t)) {
            want.push(values(o));
            allTheirs = false;
          } else {
            const [vb, vo, vt] = [values(b), values(o), values(t)];
            const out: Cell[] = [];
            let n = 0;
            for (let i = 0; i < N; i++) {
              let take: "ours" | "theirs" = "ours";
              if (vo[i] === vt[i]) take = "ours";
              else if (vo[i] === vb[i]) take = "theirs";
              else if (vt[i] === vb[i]) take = "ours";
              else {
                n++;
                take = c.prefer ?? "ours";
              }
              if (take === "theirs") fromTheirs++;
              out.push(take === "theirs" ? vt[i]! : vo[i]!);
            }
            count += n;
            if (n > 0) conflicted.push([Math.floor(k / 2), k % 2]);
            const isO = out.every((v, i) => v === vo[i]);
            const isT = out.every((v, i) => v === vt[i]);
            if (!isO) allOurs = false;
            if (isO || !isT) allTheirs = false; // kept ours' file (or new bytes)
            want.push(out);
          }
        }
        expect(got.conflicts.count).toBe(count);
        expect(got.fromTheirs).toBe(fromTheirs);
        expect(got.innerChunks ?? []).toEqual(conflicted);
        const kind = allOurs ? "ours" : allTheirs ? "theirs" : "bytes";
        expect(got.result.kind === "side" ? got.result.side : "bytes").toBe(kind);
        const bytes = got.result.kind === "bytes" ? got.result.bytes : side(got.result.side).bytes;
        const read = innerChunks(s, bytes, [0, 0]).map((x) => (x ? decode(dt, x) : fillAll()));
        expect(read).toEqual(want);
      }),
      { numRuns: 80 },
    );
  });
});
