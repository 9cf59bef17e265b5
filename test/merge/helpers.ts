/**
 * Helpers for the merge tests: a fixture under version control, edits made
 * with zarrita the way a pipeline makes them, and values read back with
 * zarrita (its own decoders).
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { gunzipSync, gzipSync } from "fflate";
import * as zarr from "zarrita";
import { add, commit, Repository, switchBranch } from "../../src/index.js";
import { makeFixture } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

/** A fixture (e.g. "v3/ocean.zarr") copied to a temp dir, under version control with one commit. */
export async function repoFrom(fixture: string): Promise<{ repo: Repository; dir: string; store: string }> {
  const storeAbs = await makeFixture(fixture);
  const dir = path.dirname(storeAbs);
  const { repo } = await Repository.init({ durability: "none", dir });
  await add(repo, { all: true });
  await commit(repo, { message: "import" });
  return { repo, dir, store: path.basename(storeAbs) };
}

/** zarrita cannot encode gzip: while writing, an fflate gzip codec stands in (as the fixtures' script does). */
class GzipEncoder {
  readonly kind = "bytes_to_bytes" as const;
  constructor(readonly level: number) {}
  static fromConfig(c: { level?: number }) {
    return new GzipEncoder(c?.level ?? 5);
  }
  encode(b: Uint8Array) {
    return gzipSync(b, { level: this.level as 5, mtime: 0 });
  }
  decode(b: Uint8Array) {
    return gunzipSync(b);
  }
}

type Loader = Parameters<typeof zarr.registry.set>[1];

async function withEncoders<T>(fn: () => Promise<T>): Promise<T> {
  const saved = ["gzip", "numcodecs.gzip"].map((k) => [k, zarr.registry.get(k)] as const);
  for (const [k] of saved) zarr.registry.set(k, (() => GzipEncoder) as unknown as Loader);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) if (v) zarr.registry.set(k, v);
  }
}

export async function openArray(dir: string, array: string) {
  const loc = zarr.root(new FileSystemStore(dir)).resolve(array);
  try {
    return await zarr.open.v3(loc, { kind: "array" });
  } catch {
    return zarr.open.v2(loc, { kind: "array" });
  }
}

/** All values of an array (C order), read with zarrita's own codecs. */
export async function values(dir: string, array: string): Promise<unknown[]> {
  const arr = await openArray(dir, array);
  const got = await zarr.get(arr);
  if (typeof got !== "object" || got === null) return [got];
  const d = (got as { data: ArrayLike<unknown> & { get?: (i: number) => unknown } }).data;
  return Array.from({ length: d.length }, (_, i) => (typeof d.get === "function" && !ArrayBuffer.isView(d) ? d.get(i) : d[i]));
}

/** Flat C-order index of `coords` in an array of `shape`. */
export function flat(shape: readonly number[], coords: readonly number[]): number {
  return coords.reduce((acc, c, d) => acc * (shape[d] as number) + c, 0);
}

/**
 * Set elements of an array, as a pipeline would: `points` maps coordinates
 * ("t,y,x") to new values. zarrita rewrites only the chunks holding them.
 */
export async function setPoints(dir: string, array: string, points: Record<string, number | bigint | boolean>): Promise<void> {
  await withEncoders(async () => {
    const arr = await openArray(dir, array);
    for (const [key, v] of Object.entries(points)) {
      const coords = key.split(",").map(Number);
      await zarr.set(arr, coords.map((c) => zarr.slice(c, c + 1)), v as never);
    }
  });
}

/** Write a box of an array: `fn(coords)` gives each value. */
export async function setBox(dir: string, array: string, box: [number, number][], fn: (coords: number[]) => number): Promise<void> {
  await withEncoders(async () => {
    const arr = await openArray(dir, array);
    const shape = box.map(([a, b]) => b - a);
    const n = shape.reduce((a, b) => a * b, 1);
    const Ctor = (await arr.getChunk(arr.shape.map(() => 0))).data.constructor as new (n: number) => Record<number, unknown>;
    const data = new Ctor(n);
    const idx = shape.map(() => 0);
    for (let k = 0; k < n; k++) {
      const v = fn(idx.map((i, d) => i + (box[d] as [number, number])[0]));
      data[k] = typeof (data as unknown as BigInt64Array)[0] === "bigint" ? BigInt(v) : v;
      for (let d = shape.length - 1; d >= 0; d--) {
        idx[d] = (idx[d] as number) + 1;
        if ((idx[d] as number) < (shape[d] as number)) break;
        idx[d] = 0;
      }
    }
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    await zarr.set(arr, box.map(([a, b]) => zarr.slice(a, b)), { data, shape, stride } as never);
  });
}

/** Edit an array's metadata document (zarr.json or .zarray) as JSON. */
export async function editMeta(dir: string, array: string, fn: (doc: Record<string, unknown>) => void): Promise<void> {
  for (const name of ["zarr.json", ".zarray"]) {
    const file = path.join(dir, array, name);
    const text = await fsp.readFile(file, "utf8").catch(() => null);
    if (text === null) continue;
    const doc = JSON.parse(text) as Record<string, unknown>;
    fn(doc);
    await fsp.writeFile(file, JSON.stringify(doc, null, 2));
    return;
  }
  throw new Error(`no metadata document in ${array}`);
}

/** Edit attributes: zarr.json "attributes" (v3) or .zattrs (v2). */
export async function editAttrs(dir: string, node: string, fn: (attrs: Record<string, unknown>) => void): Promise<void> {
  const v3 = path.join(dir, node, "zarr.json");
  const text = await fsp.readFile(v3, "utf8").catch(() => null);
  if (text !== null) {
    const doc = JSON.parse(text) as { attributes?: Record<string, unknown> };
    doc.attributes ??= {};
    fn(doc.attributes);
    await fsp.writeFile(v3, JSON.stringify(doc, null, 2));
    return;
  }
  const file = path.join(dir, node, ".zattrs");
  const attrs = JSON.parse(await fsp.readFile(file, "utf8").catch(() => "{}")) as Record<string, unknown>;
  fn(attrs);
  await fsp.writeFile(file, JSON.stringify(attrs, null, 4));
}

/** Commit every change (new files included) on the current branch. */
export async function commitAll(repo: Repository, message: string) {
  await add(repo, { all: true });
  return commit(repo, { message });
}

/**
 * The usual story: branch `feature` from main, `theirs` edits on it and
 * commits; back on main, `ours` edits and commits. HEAD ends on main.
 */
export async function diverge(repo: Repository, dir: string, ours: () => Promise<void>, theirs: () => Promise<void>): Promise<void> {
  await switchBranch(repo, { name: "feature", create: true });
  await theirs();
  await commitAll(repo, "theirs");
  await switchBranch(repo, { name: "main" });
  await ours();
  await commitAll(repo, "ours");
  void dir;
}
