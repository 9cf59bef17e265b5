/**
 * Sharded arrays merge by inner chunk (issue 15): two branches editing
 * different inner chunks of one shard merge cleanly; the same inner chunk
 * merges element by element; the merged shard is written with the array's
 * inner codecs, index codecs and index location and is read back by zarrita.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { add } from "../../src/commands/add.js";
import { commit } from "../../src/commands/commit.js";
import { merge } from "../../src/commands/merge.js";
import { resolve } from "../../src/commands/resolve.js";
import { Repository } from "../../src/repo/repository.js";
import { tempDir } from "../helpers/fixture.js";
import { encodeInner, readShard, registerGzip, writeShard } from "../helpers/shard.js";
import { diverge, flat, repoFrom, values } from "./helpers.js";

beforeAll(registerGzip);

type Json = Record<string, unknown>;

/** The fixture's temperature array (16×16 float32, shards 8×8, inner chunks 4×4, index at the end with crc32c). */
async function setup() {
  const { repo, dir, store } = await repoFrom("v3/sharded.zarr");
  const t = `${store}/temperature`;
  const meta = JSON.parse(await fsp.readFile(path.join(dir, t, "zarr.json"), "utf8")) as Json;
  const codecs = ((meta.codecs as Json[])[0]!.configuration as Json).codecs as unknown[];
  const base = (await values(dir, t)) as number[];
  const file = path.join(dir, t, "c/0/0");
  /** Shard c/0/0 with inner chunk `k` (local, C order) set to `fn(element values of that inner chunk)`. */
  const editInner = async (k: number, fn: (v: Float32Array) => void) => {
    const chunks = readShard(await fsp.readFile(file), 4, "end");
    const [r, c] = [Math.floor(k / 2) * 4, (k % 2) * 4];
    const v = new Float32Array(16);
    for (let i = 0; i < 16; i++) v[i] = base[flat([16, 16], [r + Math.floor(i / 4), c + (i % 4)])] as number;
    fn(v);
    chunks[k] = await encodeInner([4, 4], "float32", codecs, "NaN", v);
    await fsp.writeFile(file, writeShard(chunks, "end"));
  };
  return { repo, dir, t, base, editInner };
}

describe("merge of sharded arrays by inner chunk", () => {
  it("different inner chunks of one shard merge cleanly; the merged shard reads back with zarrita", async () => {
    const { repo, dir, t, base, editInner } = await setup();
    await diverge(
      repo,
      dir,
      () => editInner(0, (v) => v.fill(-1)), // inner [0, 0]: rows 0..3, cols 0..3
      () => editInner(3, (v) => (v[5] = 99)), // inner [1, 1]: element [5, 5]
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("merged");
    const got = (await values(dir, t)) as number[];
    const want = base.slice();
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) want[flat([16, 16], [y, x])] = -1;
    want[flat([16, 16], [5, 5])] = 99;
    expect(got).toEqual(want);
  });

  it("the same inner chunk merges element by element; one element changed on both sides is a conflict naming the shard's inner chunk", async () => {
    const { repo, dir, t, base, editInner } = await setup();
    await diverge(
      repo,
      dir,
      // inner [0, 1]: [0, 4] and [3, 7]
      () => editInner(1, (v) => {
        v[0] = 1;
        v[15] = 2;
      }),
      // [0, 5] and [3, 7]
      () => editInner(1, (v) => {
        v[1] = 3;
        v[15] = 4;
      }),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("conflicts");
    if (r.kind !== "conflicts") return;
    expect(r.conflicts).toHaveLength(1);
    const [open] = r.conflicts;
    expect(open!.conflict).toMatchObject({ _tag: "ChunkBothChanged", array: t, chunk: [0, 0] });
    expect(open!.elements).toMatchObject({ count: 1, examples: [{ coords: [3, 7], values: { ours: 2, theirs: 4 } }] });
    expect(open!.reasons[0]).toMatch(/inner chunk \[0, 1\]/);
    // the provisional shard: theirs' [0, 5] merged in, ours kept at the conflict; valid for zarrita
    const got = (await values(dir, t)) as number[];
    const want = base.slice();
    want[flat([16, 16], [0, 4])] = 1;
    want[flat([16, 16], [0, 5])] = 3;
    want[flat([16, 16], [3, 7])] = 2;
    expect(got).toEqual(want);
    // resolve --chunk takes the inner chunk as the conflict names it (array-wide inner chunk [0, 1], in shard [0, 0])
    expect(open!.innerChunks).toEqual([[0, 1]]);
    await expect(resolve(repo, { path: t, chunk: [1, 1], side: "theirs" })).rejects.toThrow(/no open merge conflict/);
    await resolve(repo, { path: t, chunk: [0, 1], side: "theirs" });
    want[flat([16, 16], [3, 7])] = 4;
    expect((await values(dir, t)) as number[]).toEqual(want);
  });

  it("an inner chunk that shares its shard with other conflicting inner chunks is refused, naming them and the shard", async () => {
    const { repo, dir, t, editInner } = await setup();
    await diverge(
      repo,
      dir,
      () => Promise.all([]).then(() => editInner(0, (v) => (v[0] = 1))).then(() => editInner(3, (v) => (v[0] = 1))),
      () => Promise.all([]).then(() => editInner(0, (v) => (v[0] = 2))).then(() => editInner(3, (v) => (v[0] = 2))),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("conflicts");
    await expect(resolve(repo, { path: t, chunk: [1, 1], side: "theirs" })).rejects.toThrow(/inner chunk \[1,1\] shares shard \[0,0\] with other conflicting inner chunks: \[0,0\]/);
    await resolve(repo, { path: t, chunk: [0, 0], side: "theirs" }); // the shard itself
  });

  it("--strategy theirs settles the conflicting element only: ours' edits elsewhere in the shard stay", async () => {
    const { repo, dir, t, base, editInner } = await setup();
    await diverge(
      repo,
      dir,
      async () => {
        await editInner(1, (v) => (v[15] = 2)); // [3, 7]
        await editInner(2, (v) => (v[0] = 5)); // inner [1, 0]: [4, 0]
      },
      () => editInner(1, (v) => (v[15] = 4)),
    );
    const r = await merge(repo, { rev: "feature", strategy: "theirs" });
    expect(r.kind).toBe("merged");
    const got = (await values(dir, t)) as number[];
    const want = base.slice();
    want[flat([16, 16], [3, 7])] = 4;
    want[flat([16, 16], [4, 0])] = 5;
    expect(got).toEqual(want);
  });

  it("index at the start, no checksum: the merged shard keeps that layout and each side's inner chunk bytes", async () => {
    const dir = await tempDir();
    const { repo } = await Repository.init({ durability: "none", dir });
    const arr = path.join(dir, "a.zarr");
    const codecs = [{ name: "bytes", configuration: { endian: "little" } }];
    const doc = {
      zarr_format: 3,
      node_type: "array",
      shape: [8, 8],
      data_type: "int32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [8, 8] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      codecs: [{ name: "sharding_indexed", configuration: { chunk_shape: [4, 4], codecs, index_codecs: codecs, index_location: "start" } }],
      fill_value: 0,
      attributes: {},
    };
    await fsp.mkdir(path.join(arr, "c/0"), { recursive: true });
    await fsp.writeFile(path.join(arr, "zarr.json"), JSON.stringify(doc));
    const block = (v: number) => encodeInner([4, 4], "int32", codecs, 0, new Int32Array(16).fill(v));
    const file = path.join(arr, "c/0/0");
    const shard = async (vs: (number | null)[]) => writeShard(await Promise.all(vs.map((v) => (v === null ? null : block(v)))), "start", false);
    await fsp.writeFile(file, await shard([1, 2, null, 4]));
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await diverge(
      repo,
      dir,
      async () => fsp.writeFile(file, await shard([10, 2, null, 4])),
      async () => fsp.writeFile(file, await shard([1, 2, 30, 4])),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("merged");
    const got = await fsp.readFile(file);
    expect(got.equals(await shard([10, 2, 30, 4]))).toBe(true);
    expect(readShard(new Uint8Array(got), 4, "start", false)).toEqual(await Promise.all([10, 2, 30, 4].map(block)));
  });
});
