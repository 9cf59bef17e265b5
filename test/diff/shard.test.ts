/**
 * diff --values on sharded v3 arrays reports the inner chunks that changed.
 * Inner chunks are encoded by zarrita (an unsharded one-chunk array with the
 * inner codecs); shard files are assembled per the v3 sharding spec, as
 * fixtures/make-v3.mjs does (zarrita cannot write shards). Values are checked
 * against what zarrita reads from the whole array on both commits.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import { add } from "../../src/commands/add.js";
import { commit } from "../../src/commands/commit.js";
import { diff } from "../../src/commands/diff.js";
import type { ArrayDiff, DiffResult } from "../../src/repo/diff/types.js";
import { Repository } from "../../src/repo/repository.js";
import { committed, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { encodeInner, readShard, registerGzip, writeShard } from "../helpers/shard.js";

beforeAll(registerGzip);

type Json = Record<string, unknown>;


function only(res: DiffResult, p: string): ArrayDiff {
  const a = res.arrays.find((x) => x.path === p);
  if (!a) throw new Error(`no array ${p} in the diff: ${res.arrays.map((x) => x.path).join(", ")}`);
  return a;
}

async function commitAll(repo: Repository, message: string): Promise<void> {
  await add(repo, { all: true });
  await commit(repo, { message });
}

/** Every element of a 2-d array as zarrita reads it. */
async function readAll(dir: string): Promise<Float32Array | Int32Array> {
  const a = await zarr.open(new FileSystemStore(dir), { kind: "array" });
  return (await zarr.get(a)).data as Float32Array | Int32Array;
}

describe("diff --values on sharded arrays: by inner chunk", () => {
  it("index at the end (the fixture): two inner chunks edited on two commits, one in a shard that was not written", async () => {
    const dir = await committed("v3/sharded.zarr");
    const repo = await Repository.open({ dir });
    const t = path.join(dir, "sharded.zarr/temperature");
    const meta = JSON.parse(await fsp.readFile(path.join(t, "zarr.json"), "utf8")) as Json;
    const sharding = (meta.codecs as Json[])[0]!.configuration as Json;
    const inner = (shape: number[], data: Float32Array) => encodeInner(shape, "float32", sharding.codecs as unknown[], "NaN", data);
    const before = await readAll(t);

    // commit 1: inner chunk [0, 1] (shard c/0/0, local [0, 1]) gets 16 new values
    const s00 = path.join(t, "c/0/0");
    const chunks = readShard(await fsp.readFile(s00), 4, "end");
    chunks[1] = await inner([4, 4], Float32Array.from({ length: 16 }, (_, i) => 1000 + i));
    await fsp.writeFile(s00, writeShard(chunks, "end"));
    await commitAll(repo, "edit inner [0, 1]");
    // commit 2: shard c/1/1 (all fill, never written) gets inner chunk [3, 2] only (local [1, 0])
    const one = new Float32Array(16).fill(Number.NaN);
    one[5] = 7.5;
    await fsp.writeFile(path.join(t, "c/1/1"), writeShard([null, null, await inner([4, 4], one), null], "end"));
    await commitAll(repo, "edit inner [3, 2]");
    const after = await readAll(t);

    let changed = 0;
    for (let i = 0; i < before.length; i++) if (!(Object.is(before[i], after[i]) || (Number.isNaN(before[i]) && Number.isNaN(after[i])))) changed++;
    expect(changed).toBe(17);

    const res = await diff(repo, { from: "HEAD~2", to: "HEAD", values: true });
    const a = only(res, "sharded.zarr/temperature");
    expect(a.chunks.modified.boxes).toEqual([[[0, 0], [0, 0]]]);
    expect(a.chunks.added.boxes).toEqual([[[1, 1], [1, 1]]]);
    expect(a.values).toMatchObject({
      chunks: 2,
      changed: 17,
      nanRemoved: 1,
      bbox: [[0, 13], [4, 9]],
      innerChunks: { shape: [4, 4], count: 2, boxes: [[[0, 0], [1, 1]], [[3, 3], [2, 2]]] },
    });
    expect(a.valuesNote).toBeNull();

    // the CLI: --json carries the same inner chunks; the human output names them
    const json = await tdvJson<DiffResult>(dir, ["diff", "HEAD~2", "HEAD", "--values", "--json"]);
    expect(only(json, "sharded.zarr/temperature").values?.innerChunks).toEqual(a.values!.innerChunks);
    const human = await tdvOk(dir, ["diff", "HEAD~2", "HEAD", "--values"]);
    expect(human.stdout).toMatch(/inner\s+2 inner chunks of \[4, 4\] changed \[0, 1\] \[3, 2\]/);
  });

  it("index at the start: a changed inner chunk is found, an absent one reads as the fill value", async () => {
    const fresh = await Repository.init({ dir: await tempDir() });
    const root = fresh.repo.root;
    const arr = path.join(root, "a.zarr");
    const codecs = [{ name: "bytes", configuration: { endian: "little" } }];
    const doc = {
      zarr_format: 3,
      node_type: "array",
      shape: [8, 8],
      data_type: "int32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [8, 8] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      codecs: [{ name: "sharding_indexed", configuration: { chunk_shape: [4, 4], codecs, index_codecs: [...codecs, { name: "crc32c" }], index_location: "start" } }],
      fill_value: -1,
      attributes: {},
    };
    await fsp.mkdir(path.join(arr, "c/0"), { recursive: true });
    await fsp.writeFile(path.join(arr, "zarr.json"), JSON.stringify(doc));
    const block = (v: number) => encodeInner([4, 4], "int32", codecs, -1, new Int32Array(16).fill(v));
    await fsp.writeFile(path.join(arr, "c/0/0"), writeShard([await block(1), await block(2), null, await block(4)], "start"));
    await commitAll(fresh.repo, "first");
    const edited = new Int32Array(16).fill(2);
    edited[15] = 20; // inner [0, 1], element [3, 7]
    const cell = await encodeInner([4, 4], "int32", codecs, -1, edited);
    await fsp.writeFile(path.join(arr, "c/0/0"), writeShard([await block(1), cell, await block(3), await block(4)], "start"));
    await commitAll(fresh.repo, "second");

    const res = await diff(fresh.repo, { from: "HEAD~1", to: "HEAD", values: true });
    const a = only(res, "a.zarr");
    expect(a.valuesNote).toBeNull();
    expect(a.values).toMatchObject({
      chunks: 2,
      changed: 17, // 1 in inner [0, 1]; 16 in inner [1, 0], fill -1 → 3
      maxAbsDelta: 18,
      before: { min: -1, max: 2 },
      after: { min: 3, max: 20 },
      bbox: [[3, 7], [0, 7]],
      innerChunks: { shape: [4, 4], count: 2, boxes: [[[0, 0], [1, 1]], [[1, 1], [0, 0]]] },
    });
  });
});
