/**
 * diff() on real arrays: the fixtures, changed with zarrita as a pipeline
 * would change them, compared with what zarrita reads from both versions of
 * the whole array (the diff decodes only the changed chunks).
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import { add } from "../../src/commands/add.js";
import { commit } from "../../src/commands/commit.js";
import { diff } from "../../src/commands/diff.js";
import { formatBox, toBoxes } from "../../src/repo/diff/ranges.js";
import type { ArrayDiff, DiffResult } from "../../src/repo/diff/types.js";
import { Repository } from "../../src/repo/repository.js";
import { ndindex } from "../../src/zarr/decode.js";
import { elementAt } from "../../src/zarr/bits.js";
import { committed } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { registerGzip } from "../helpers/shard.js";

// ---- writing with zarrita: zarrita's gzip decodes only; an fflate encoder stands in while the tests run

beforeAll(registerGzip);

type Whole = { data: unknown; shape: number[] };

async function openArray(dir: string) {
  return zarr.open(new FileSystemStore(dir), { kind: "array" });
}

async function readAll(dir: string): Promise<Whole> {
  const a = await openArray(dir);
  if (a.shape.length === 0) {
    const c = await a.getChunk([]);
    return { data: c.data, shape: [] };
  }
  const r = await zarr.get(a);
  return { data: r.data, shape: r.shape };
}

function cStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = (s[d + 1] as number) * (shape[d + 1] as number);
  return s;
}

/** What the diff should find, computed from both whole arrays over their common extent. */
function expected(a: Whole, b: Whole) {
  const common = a.shape.map((n, d) => Math.min(n, b.shape[d] as number));
  const [sa, sb] = [cStrides(a.shape), cStrides(b.shape)];
  let changed = 0;
  let nanIntroduced = 0;
  let nanRemoved = 0;
  let maxAbsDelta = 0;
  let lo: number[] | null = null;
  let hi: number[] | null = null;
  for (const e of ndindex(common)) {
    const x = elementAt(a.data as never, e.reduce((acc, n, d) => acc + n * (sa[d] as number), 0));
    const y = elementAt(b.data as never, e.reduce((acc, n, d) => acc + n * (sb[d] as number), 0));
    const nx = typeof x === "number" && Number.isNaN(x);
    const ny = typeof y === "number" && Number.isNaN(y);
    if (x === y || (nx && ny)) continue;
    changed++;
    if (!nx && ny) nanIntroduced++;
    if (nx && !ny) nanRemoved++;
    if (!nx && !ny && typeof x === "number" && typeof y === "number") maxAbsDelta = Math.max(maxAbsDelta, Math.abs(y - x));
    if (typeof x === "bigint" && typeof y === "bigint") maxAbsDelta = Math.max(maxAbsDelta, Math.abs(Number(y - x)));
    lo = lo ? lo.map((l, d) => Math.min(l, e[d] as number)) : e.slice();
    hi = hi ? hi.map((h, d) => Math.max(h, e[d] as number)) : e.slice();
  }
  const bbox = lo && hi ? lo.map((l, d) => [l, hi![d]]) : null;
  return { changed, nanIntroduced, nanRemoved, maxAbsDelta, bbox };
}

async function setup(fixture: string): Promise<{ dir: string; repo: Repository }> {
  const dir = await committed(fixture);
  return { dir, repo: await Repository.open({ dir }) };
}

async function commitAll(repo: Repository, message: string): Promise<void> {
  await add(repo, { all: true });
  await commit(repo, { message });
}

function only(res: DiffResult, p: string): ArrayDiff {
  const a = res.arrays.find((x) => x.path === p);
  if (!a) throw new Error(`no array ${p} in the diff: ${res.arrays.map((x) => x.path).join(", ")}`);
  return a;
}

async function editJson(file: string, fn: (doc: Record<string, unknown>) => void): Promise<void> {
  const doc = JSON.parse(await fsp.readFile(file, "utf8"));
  fn(doc);
  await fsp.writeFile(file, JSON.stringify(doc, null, 2));
}

/** Count Git reads by path, to prove what the walk skipped. */
function countReads(repo: Repository): { trees: string[]; blobs: string[] } {
  const seen = { trees: [] as string[], blobs: [] as string[] };
  const git = repo.git as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const [m, list] of [["readTree", seen.trees], ["readBlob", seen.blobs]] as const) {
    const orig = git[m]!.bind(repo.git);
    git[m] = (oid: unknown, what: unknown) => {
      list.push(String(what));
      return orig(oid, what);
    };
  }
  return seen;
}

// ---------------------------------------------------------------------------

describe("ranges", () => {
  it("a full block is one box, a row one box, scattered chunks stay apart", () => {
    const block: number[][] = [];
    for (let t = 0; t <= 11; t++) for (let x = 0; x <= 7; x++) block.push([t, 3, x]);
    expect(toBoxes(block).map(formatBox)).toEqual(["[0..11, 3, 0..7]"]);
    expect(toBoxes([[0, 0], [0, 1], [0, 2], [5, 5], [1, 0], [1, 1], [1, 2]]).map(formatBox)).toEqual(["[0..1, 0..2]", "[5, 5]"]);
    expect(toBoxes([[], ]).map(formatBox)).toEqual(["[]"]);
    expect(toBoxes([])).toEqual([]);
  });

  it("boxes cover the set exactly", () => {
    const set = new Set<string>();
    let seed = 7;
    const rand = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 300; i++) set.add([Math.floor(rand() * 6), Math.floor(rand() * 7), Math.floor(rand() * 5)].join(","));
    const idx = [...set].map((s) => s.split(",").map(Number));
    const covered: string[] = [];
    for (const b of toBoxes(idx)) for (const e of ndindex(b.map(([x, y]) => y - x + 1))) covered.push(e.map((n, d) => n + b[d]![0]).join(","));
    expect(covered.sort()).toEqual([...set].sort());
  });
});

describe.concurrent("diff of the working copy", () => {
  it("a clean working copy has no differences and reads no tree", async () => {
    const { repo } = await setup("v3");
    const reads = countReads(repo);
    const res = await diff(repo);
    expect(res.different).toBe(false);
    expect(res.arrays).toEqual([]);
    expect(res.from.rev).toBe("HEAD");
    expect(res.to).toEqual({ rev: null, commit: null });
    expect(reads.trees).toEqual([]);
  });

  it("a changed working copy reads only the trees on the changed paths (the rest has the same ids as HEAD)", async () => {
    const { dir, repo } = await setup("v3");
    await zarr.set(await openArray(path.join(dir, "v3/ocean.zarr/sst")), [5, 15, 23], 1.25);
    const reads = countReads(repo);
    const res = await diff(repo);
    expect(res.arrays.map((a) => a.path)).toEqual(["v3/ocean.zarr/sst"]);
    const other = [...reads.trees, ...reads.blobs].filter((w) => /salinity|flags|sharded|consolidated|depth|lat|lon|time/.test(w));
    expect(other).toEqual([]);
  });

  it("the working copy laid over the index's snapshot equals the one built from scratch", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    const sst = path.join(dir, "ocean.zarr/sst");
    await editJson(path.join(sst, "zarr.json"), (d) => {
      d.shape = [8, 16, 24];
      (d.attributes as Record<string, unknown>).history = "appended";
    });
    const arr = await openArray(sst);
    await zarr.set(arr, [zarr.slice(5, 8), 0, zarr.slice(0, 4)], 7);
    await fsp.rm(path.join(dir, "ocean.zarr/flags/c/1/1/2"));
    await fsp.writeFile(path.join(dir, "ocean.zarr/depth/c/1"), Buffer.from("changed bytes"));
    const laid = await diff(repo, { values: true }); // the index still equals HEAD's tree: overlay
    await fsp.writeFile(path.join(dir, "extra.txt"), "x");
    await add(repo, { paths: ["extra.txt"] }); // the index no longer knows its tree ...
    await fsp.rm(path.join(dir, "extra.txt")); // ... and the working copy is what it was
    const built = await diff(repo, { values: true });
    expect(built).toEqual(laid);
    expect(laid.summary.chunks).toEqual({ added: 1, removed: 1, modified: 2 });
  });

  it("float32 with NaN (v3, gzip): NaNs introduced and removed, deltas, bounding box", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    const sst = path.join(dir, "ocean.zarr/sst");
    const before = await readAll(sst);
    const arr = await openArray(sst);
    const region = await zarr.get(arr, [0, zarr.slice(2, 7), zarr.slice(1, 6)]);
    const data = Float32Array.from(region.data as Float32Array, (v, i) => (Number.isNaN(v) ? 280 : i % 5 === 0 ? Number.NaN : v + 1.5));
    await zarr.set(arr, [0, zarr.slice(2, 7), zarr.slice(1, 6)], { data, shape: [5, 5], stride: [5, 1] });
    const after = await readAll(sst);
    const want = expected(before, after);
    expect(want.nanIntroduced).toBeGreaterThan(0);
    expect(want.nanRemoved).toBeGreaterThan(0);

    const stat = await diff(repo);
    const a = only(stat, "ocean.zarr/sst");
    expect(a.status).toBe("modified");
    expect(a.values).toBeNull();
    expect(a.chunks.modified.count).toBe(1);
    expect(a.chunks.modified.boxes).toEqual([[[0, 0], [0, 0], [0, 0]]]);

    const res = await diff(repo, { values: true });
    const v = only(res, "ocean.zarr/sst").values!;
    expect(v.kind).toBe("numeric");
    expect(v.changed).toBe(want.changed);
    expect(v.nanIntroduced).toBe(want.nanIntroduced);
    expect(v.nanRemoved).toBe(want.nanRemoved);
    expect(v.maxAbsDelta).toBeCloseTo(want.maxAbsDelta, 4);
    expect(v.meanDelta).toBeCloseTo(1.5, 4);
    expect(v.bbox).toEqual(want.bbox);
    expect(v.compared).toBe(2 * 8 * 8);
    expect(v.after!.max).toBeGreaterThanOrEqual(280);
  });

  it("integers: a chunk written where none was (fill value before), uint8 v3 and int16 v2 blosc", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    const flags = path.join(dir, "ocean.zarr/flags");
    const before = await readAll(flags);
    const arr = await openArray(flags);
    await zarr.set(arr, [zarr.slice(0, 2), zarr.slice(0, 8), zarr.slice(8, 16)], 4); // chunk [0, 0, 1] did not exist
    await zarr.set(arr, [1, 3, 3], 2); // inside the existing chunk [0, 0, 0]
    const want = expected(before, await readAll(flags));
    const res = await diff(repo, { values: true });
    const a = only(res, "ocean.zarr/flags");
    expect(a.chunks.added.count).toBe(1);
    expect(a.chunks.added.boxes).toEqual([[[0, 0], [0, 0], [1, 1]]]);
    expect(a.chunks.modified.count).toBe(1);
    expect(a.values).toMatchObject({ kind: "numeric", changed: want.changed, bbox: want.bbox, nanIntroduced: 0, nanRemoved: 0 });
    expect(a.values!.maxAbsDelta).toBe(want.maxAbsDelta);

    const v2 = await setup("v2/weather.zarr");
    const elev = path.join(v2.dir, "weather.zarr/sub/elevation");
    const b2 = await readAll(elev);
    const e = await openArray(elev);
    await zarr.set(e, [zarr.slice(12, 14), zarr.slice(0, 30)], -500);
    const w2 = expected(b2, await readAll(elev));
    const r2 = await diff(v2.repo, { values: true });
    const a2 = only(r2, "weather.zarr/sub/elevation");
    expect(a2.chunks.modified.count).toBe(2);
    expect(a2.values).toMatchObject({ kind: "numeric", changed: w2.changed, bbox: w2.bbox, maxAbsDelta: w2.maxAbsDelta });
    expect(a2.values!.after).toEqual({ min: -500, max: -500 });
  });

  it("int64 (v2, gzip): bigint elements, deltas taken exactly before they become numbers", async () => {
    const { dir, repo } = await setup("v2/weather.zarr");
    const sid = path.join(dir, "weather.zarr/station_id");
    const before = await readAll(sid);
    const arr = await openArray(sid);
    await zarr.set(arr, [zarr.slice(2, 5)], { data: BigInt64Array.from([3n, 1n, 2n], (d, i) => (before.data as BigInt64Array)[2 + i]! + d), shape: [3], stride: [1] } as never);
    const want = expected(before, await readAll(sid));
    expect(want.changed).toBe(3);
    const v = only(await diff(repo, { values: true }), "weather.zarr/station_id").values!;
    expect(v).toMatchObject({ kind: "numeric", changed: 3, bbox: [[2, 4]], maxAbsDelta: 3, meanDelta: 2, nanIntroduced: 0 });
    expect(v.before!.min).toBe(Number((before.data as BigInt64Array)[2]));
  });

  it("bool (v2, uncompressed): changed elements counted, no deltas", async () => {
    const { dir, repo } = await setup("v2/weather.zarr");
    const mask = path.join(dir, "weather.zarr/mask");
    const before = await readAll(mask);
    const arr = await openArray(mask);
    const cur = await zarr.get(arr, [zarr.slice(0, 3), zarr.slice(0, 3)]);
    const flipped = new zarr.BoolArray([...(cur.data as zarr.BoolArray)].map((x) => !x));
    await zarr.set(arr, [zarr.slice(0, 3), zarr.slice(0, 3)], { data: flipped, shape: [3, 3], stride: [3, 1] } as never);
    const want = expected(before, await readAll(mask));
    expect(want.changed).toBe(9);
    const res = await diff(repo, { values: true });
    const v = only(res, "weather.zarr/mask").values!;
    expect(v).toMatchObject({ kind: "equality", changed: 9, bbox: [[0, 2], [0, 2]], maxAbsDelta: null, meanDelta: null, before: null, after: null });
  });

  it("v2 float32 compressed with blosc (zarr-python): values", async () => {
    const { dir, repo } = await setup("v2/weather.zarr");
    const t = path.join(dir, "weather.zarr/temperature");
    const before = await readAll(t);
    const arr = await openArray(t);
    await zarr.set(arr, [zarr.slice(4, 8), zarr.slice(10, 20), zarr.slice(0, 30)], 250.5);
    const want = expected(before, await readAll(t));
    const res = await diff(repo, { values: true });
    const a = only(res, "weather.zarr/temperature");
    expect(a.before!.codecs).toEqual(["blosc"]);
    expect(a.chunks.modified.boxes).toEqual([[[1, 1], [1, 1], [0, 2]]]);
    expect(a.values).toMatchObject({ changed: want.changed, nanRemoved: want.nanRemoved, nanIntroduced: 0, bbox: want.bbox });
    expect(a.values!.maxAbsDelta).toBeCloseTo(want.maxAbsDelta, 3);
    expect(a.values!.after).toEqual({ min: 250.5, max: 250.5 });
  });

  it("appending along time: shape grew, new chunks as one range, appended values; new chunks need no `add`", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    const sst = path.join(dir, "ocean.zarr/sst");
    await editJson(path.join(sst, "zarr.json"), (d) => {
      d.shape = [10, 16, 24];
    });
    const arr = await openArray(sst);
    const data = Float32Array.from({ length: 4 * 16 * 24 }, (_, i) => 10 + (i % 17));
    await zarr.set(arr, [zarr.slice(6, 10), null, null], { data, shape: [4, 16, 24], stride: [384, 24, 1] });
    const check = (res: DiffResult) => {
      const a = only(res, "ocean.zarr/sst");
      expect(a.metadata).toEqual([
        { field: "shape", before: [6, 16, 24], after: [10, 16, 24], dims: [{ dim: 0, name: "time", before: 6, after: 10, change: "grew", by: 4 }] },
      ]);
      expect(a.chunks.added.count).toBe(12);
      expect(a.chunks.added.boxes).toEqual([[[3, 4], [0, 1], [0, 2]]]);
      expect(a.chunks.modified.count).toBe(0);
      expect(a.values).toMatchObject({ changed: 0, compared: 0, appended: { count: 4 * 16 * 24, nan: 0, range: { min: 10, max: 26 } } });
    };
    check(await diff(repo, { values: true }));
    await commit(repo, { message: "append", all: true });
    check(await diff(repo, { from: "HEAD~1", to: "HEAD", values: true }));
    expect((await diff(repo)).different).toBe(false);
  });

  it("attributes key by key, for arrays (v3 and v2) and groups", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    await editJson(path.join(dir, "ocean.zarr/sst/zarr.json"), (d) => {
      const at = d.attributes as Record<string, unknown>;
      at.units = "K";
      delete at.long_name;
      at.history = ["regridded", { by: "qc" }];
    });
    await editJson(path.join(dir, "ocean.zarr/zarr.json"), (d) => {
      (d.attributes as Record<string, unknown>).comment = "now with QC";
    });
    const res = await diff(repo);
    const a = only(res, "ocean.zarr/sst");
    expect(a.chunks.modified.count).toBe(0);
    expect(a.metadata).toEqual([]);
    expect(a.attributes).toEqual([
      { key: "history", change: "added", after: ["regridded", { by: "qc" }] },
      { key: "long_name", change: "removed", before: "sea surface temperature" },
      { key: "units", change: "changed", before: "degC", after: "K" },
    ]);
    expect(res.groups).toEqual([
      {
        path: "ocean.zarr",
        status: "modified",
        zarrFormat: 3,
        attributes: [{ key: "comment", change: "changed", before: "Synthetic values, not observations.", after: "now with QC" }],
        consolidatedChanged: false,
      },
    ]);

    const v2 = await setup("v2/weather.zarr");
    await editJson(path.join(v2.dir, "weather.zarr/precip/.zattrs"), (d) => {
      d.units = "m";
    });
    const r2 = await diff(v2.repo);
    expect(only(r2, "weather.zarr/precip").attributes).toMatchObject([{ key: "units", change: "changed", after: "m" }]);
  });

  it("a new .zattrs in a tracked array is part of the working copy, as commit -a takes it", async () => {
    const { dir, repo } = await setup("v2/weather.zarr");
    const attrs = path.join(dir, "weather.zarr/lat/.zattrs");
    const before = JSON.parse(await fsp.readFile(attrs, "utf8"));
    await fsp.rm(attrs);
    await commitAll(repo, "drop lat attributes");
    await fsp.writeFile(attrs, JSON.stringify(before));
    const res = await diff(repo);
    const a = only(res, "weather.zarr/lat");
    expect(a.attributes.map((c) => [c.key, c.change])).toEqual(Object.keys(before).sort().map((k) => [k, "added"]));
    expect(res.files).toEqual([]);
  });

  it("metadata fields: dtype, codecs (a level), fill value, dimension names", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    await editJson(path.join(dir, "ocean.zarr/flags/zarr.json"), (d) => {
      d.fill_value = 9;
      (d.codecs as { name: string; configuration?: { level: number } }[])[1]!.configuration = { level: 9 };
      d.dimension_names = ["t", "y", "x"];
    });
    const a = only(await diff(repo), "ocean.zarr/flags");
    expect(a.metadata.map((m) => m.field)).toEqual(["fillValue", "codecs", "dimensionNames"]);
    expect(a.metadata[0]).toEqual({ field: "fillValue", before: 0, after: 9 });
    expect(a.metadata[1]!.after).toEqual([{ name: "bytes" }, { name: "gzip", configuration: { level: 9 } }]);
  });
});

describe.concurrent("diff between revisions", () => {
  it("renamed array: same manifest and metadata at a new path", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    await fsp.rename(path.join(dir, "ocean.zarr/depth"), path.join(dir, "ocean.zarr/depth_m"));
    await add(repo, { all: true });
    const staged = await diff(repo); // working copy (= index here) vs HEAD
    expect(staged.arrays.map((a) => [a.status, a.oldPath, a.path])).toEqual([["renamed", "ocean.zarr/depth", "ocean.zarr/depth_m"]]);
    await commit(repo, { message: "rename" });
    const res = await diff(repo, { from: "HEAD~1", to: "HEAD", values: true });
    expect(res.arrays).toHaveLength(1);
    expect(res.arrays[0]).toMatchObject({ status: "renamed", oldPath: "ocean.zarr/depth", path: "ocean.zarr/depth_m", values: null });
    expect(res.summary.arrays).toEqual({ added: 0, removed: 0, modified: 0, renamed: 1 });
    // a rename with a change is a removal and an addition
    const back = await diff(repo, { from: "HEAD", to: "HEAD~1" });
    expect(back.arrays[0]).toMatchObject({ status: "renamed", oldPath: "ocean.zarr/depth_m", path: "ocean.zarr/depth" });
  });

  it("skips unchanged subtrees: one changed chunk reads only the trees on its path", async () => {
    const { dir, repo } = await setup("v3");
    const arr = await openArray(path.join(dir, "v3/ocean.zarr/sst"));
    await zarr.set(arr, [5, 15, 23], 1.25);
    await commitAll(repo, "one cell");
    const reads = countReads(repo);
    const res = await diff(repo, { from: "HEAD~1", to: "HEAD" });
    expect(res.arrays.map((a) => a.path)).toEqual(["v3/ocean.zarr/sst"]);
    expect(only(res, "v3/ocean.zarr/sst").chunks.modified.boxes).toEqual([[[2, 2], [1, 1], [2, 2]]]);
    const other = [...reads.trees, ...reads.blobs].filter((w) => /salinity|flags|sharded|consolidated|depth|lat|lon|time/.test(w));
    expect(other).toEqual([]);
    expect(reads.trees.length).toBeLessThanOrEqual(2 * 5);
  });

  it("groups and plain files added, modified, removed; arrays added and removed", async () => {
    const { dir, repo } = await setup("v2/weather.zarr");
    await fsp.appendFile(path.join(dir, "weather.zarr/README.txt"), "more\n");
    await fsp.mkdir(path.join(dir, "weather.zarr/extra"));
    await fsp.writeFile(path.join(dir, "weather.zarr/extra/.zgroup"), '{"zarr_format": 2}');
    await fsp.writeFile(path.join(dir, "NOTES.md"), "notes\n");
    await fsp.rm(path.join(dir, "weather.zarr/scalar"), { recursive: true });
    await fsp.cp(path.join(dir, "weather.zarr/lat"), path.join(dir, "weather.zarr/extra/lat2"), { recursive: true });
    await fsp.writeFile(path.join(dir, "weather.zarr/extra/lat2/.zattrs"), '{"units": "degrees"}');
    await commitAll(repo, "reorganize");
    const res = await diff(repo, { from: "HEAD~1", to: "HEAD" });
    expect(res.files).toEqual([
      { path: "NOTES.md", status: "added", bytesBefore: null, bytesAfter: 6 },
      { path: "weather.zarr/README.txt", status: "modified", bytesBefore: expect.any(Number), bytesAfter: expect.any(Number) },
    ]);
    expect(res.groups).toEqual([{ path: "weather.zarr/extra", status: "added", zarrFormat: 2, attributes: [], consolidatedChanged: false }]);
    expect(res.arrays.map((a) => [a.path, a.status, a.chunks.added.count, a.chunks.removed.count])).toEqual([
      ["weather.zarr/extra/lat2", "added", 1, 0],
      ["weather.zarr/scalar", "removed", 0, 1],
    ]);
    expect(res.summary).toMatchObject({ arrays: { added: 1, removed: 1 }, files: { added: 1, modified: 1 }, groups: { added: 1 } });
  });

  it("paths limit the diff; an unborn HEAD diffs against the empty snapshot", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    await zarr.set(await openArray(path.join(dir, "ocean.zarr/sst")), [0, 0, 0], 1);
    await zarr.set(await openArray(path.join(dir, "ocean.zarr/salinity")), [0, 0, 0], 1);
    expect((await diff(repo)).arrays.map((a) => a.path)).toEqual(["ocean.zarr/salinity", "ocean.zarr/sst"]);
    const res = await diff(repo, { paths: ["ocean.zarr/sst/"] });
    expect(res.arrays.map((a) => a.path)).toEqual(["ocean.zarr/sst"]);
    expect(res.paths).toEqual(["ocean.zarr/sst"]);
    expect((await diff(repo, { paths: ["ocean.zarr/depth"] })).different).toBe(false);

    const fresh = await Repository.init({ dir: await tempDir() });
    await fsp.cp(path.join(dir, "ocean.zarr/depth"), path.join(fresh.repo.root, "depth"), { recursive: true });
    await add(fresh.repo, { all: true });
    const first = await diff(fresh.repo);
    expect(first.from).toEqual({ rev: "HEAD", commit: null });
    expect(first.arrays.map((a) => [a.path, a.status, a.chunks.added.count])).toEqual([["depth", "added", 3]]);
  });

  it("the working copy leaves out untracked arrays until they are added", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    await fsp.cp(path.join(dir, "ocean.zarr/lat"), path.join(dir, "ocean.zarr/lat_copy"), { recursive: true });
    expect((await diff(repo)).different).toBe(false);
    await add(repo, { paths: ["ocean.zarr/lat_copy"] });
    const res = await diff(repo);
    expect(res.arrays.map((a) => [a.path, a.status])).toEqual([["ocean.zarr/lat_copy", "added"]]);
  });
});

describe.concurrent("values that cannot be decoded", () => {
  it("an unknown codec: chunk-level diff and a note why values are missing", async () => {
    const { dir, repo } = await setup("v3/ocean.zarr");
    const weird = path.join(dir, "ocean.zarr/weird");
    await fsp.mkdir(path.join(weird, "c"), { recursive: true });
    await fsp.writeFile(
      path.join(weird, "zarr.json"),
      JSON.stringify({
        zarr_format: 3,
        node_type: "array",
        shape: [4],
        data_type: "uint8",
        chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
        chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
        fill_value: 0,
        codecs: [{ name: "bytes" }, { name: "nonexistent", configuration: {} }],
        attributes: {},
      }),
    );
    await fsp.writeFile(path.join(weird, "c/0"), Buffer.from([1, 2, 3]));
    await fsp.writeFile(path.join(weird, "c/1"), Buffer.from([4, 5, 6]));
    await commitAll(repo, "weird codec");
    await fsp.writeFile(path.join(weird, "c/1"), Buffer.from([9, 9, 9, 9]));
    const res = await diff(repo, { values: true });
    const a = only(res, "ocean.zarr/weird");
    expect(a.chunks.modified).toMatchObject({ count: 1, bytes: 4, bytesBefore: 3, boxes: [[[1, 1]]] });
    expect(a.values).toBeNull();
    expect(a.valuesNote).toMatch(/nonexistent/);
  });

  it("without values nothing is decoded: a corrupt changed chunk still diffs; with values it is skipped with a note", async () => {
    const { dir, repo } = await setup("v3");
    const sst = path.join(dir, "v3/ocean.zarr/sst");
    await zarr.set(await openArray(sst), [0, 0, 0], 3); // chunk [0, 0, 0], decodes
    await fsp.writeFile(path.join(sst, "c/1/1/1"), Buffer.from("not gzip at all"));
    await fsp.writeFile(path.join(dir, "v3/sharded.zarr/temperature/c/0/0"), Buffer.from("not a shard"));
    const plain = await diff(repo);
    expect(only(plain, "v3/ocean.zarr/sst").chunks.modified.count).toBe(2);
    expect(only(plain, "v3/sharded.zarr/temperature").chunks.modified.count).toBe(1);
    const res = await diff(repo, { values: true });
    const a = only(res, "v3/ocean.zarr/sst");
    expect(a.values).toMatchObject({ chunks: 1, chunksSkipped: 1, changed: 1 });
    expect(a.valuesNote).toMatch(/1 chunk could not be compared: chunk \[1, 1, 1\]/);
    const s = only(res, "v3/sharded.zarr/temperature");
    expect(s.values).toBeNull();
    expect(s.valuesNote).toMatch(/could not be compared/);
  });

  it("sharded arrays compare whole shards; a removed shard reads as the fill value", async () => {
    const { dir, repo } = await setup("v3/sharded.zarr");
    const t = path.join(dir, "sharded.zarr/temperature");
    const before = await readAll(t);
    await fsp.copyFile(path.join(t, "c/0/0"), path.join(t, "c/1/0"));
    await fsp.rm(path.join(t, "c/0/1"));
    const want = expected(before, await readAll(t));
    const res = await diff(repo, { values: true });
    const a = only(res, "sharded.zarr/temperature");
    expect(a.chunks.modified.boxes).toEqual([[[1, 1], [0, 0]]]);
    expect(a.chunks.removed.boxes).toEqual([[[0, 0], [1, 1]]]);
    expect(a.values).toMatchObject({ changed: want.changed, nanIntroduced: want.nanIntroduced, nanRemoved: want.nanRemoved, bbox: want.bbox });
    expect(a.values!.nanIntroduced).toBeGreaterThan(0);
  });
});
