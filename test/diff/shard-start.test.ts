/**
 * Sharded arrays zarrita does not read (index at the start of the shard),
 * compared by value: inner chunk by inner chunk when the sharding is the
 * same, region by region when the two sides are sharded differently.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add } from "../../src/commands/add.js";
import { commit } from "../../src/commands/commit.js";
import { diff } from "../../src/commands/diff.js";
import { Repository } from "../../src/repo/repository.js";
import { shardingOf, writeShard } from "../../src/zarr/shard.js";
import { tempDir } from "../helpers/fixture.js";

const bytes = { name: "bytes", configuration: { endian: "little" } };

/** A v3 int32 array of 8 elements in shards of `shard`, inner chunks of 2, index at the start (with crc32c). */
async function write(dir: string, shard: number, values: number[]) {
  const a = path.join(dir, "ds.zarr", "v");
  await fsp.rm(a, { recursive: true, force: true });
  await fsp.mkdir(path.join(a, "c"), { recursive: true });
  const doc = {
    zarr_format: 3,
    node_type: "array",
    shape: [8],
    data_type: "int32",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [shard] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "sharding_indexed", configuration: { chunk_shape: [2], codecs: [bytes], index_codecs: [bytes, { name: "crc32c" }], index_location: "start" } }],
    attributes: {},
  };
  await fsp.writeFile(path.join(a, "zarr.json"), JSON.stringify(doc));
  const s = shardingOf(doc)!;
  for (let k = 0; k < 8 / shard; k++) {
    const inner: Uint8Array[] = [];
    for (let i = k * shard; i < (k + 1) * shard; i += 2) inner.push(new Uint8Array(Int32Array.from(values.slice(i, i + 2)).buffer));
    await fsp.writeFile(path.join(a, "c", String(k)), writeShard(s, inner));
  }
}

describe("shards with the index at the start", () => {
  it("same sharding: changed values found; sharded differently: compared region by region", async () => {
    const dir = await tempDir();
    const base = [1, 2, 3, 4, 5, 6, 7, 8];
    await write(dir, 8, base);
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });

    await write(dir, 8, [1, 2, 3, 4, 5, 60, 7, 8]);
    const same = (await diff(repo, { values: true })).arrays[0]!;
    expect(same.valuesNote).toBeNull();
    expect(same.values).toMatchObject({ changed: 1, bbox: [[5, 5]], maxAbsDelta: 54 });

    await write(dir, 4, [1, 2, 3, 4, 5, 60, 7, 8]); // re-sharded: shards of 4
    const regrid = (await diff(repo, { values: true })).arrays[0]!;
    expect(regrid.valuesNote).toBeNull();
    expect(regrid.values).toMatchObject({ changed: 1, bbox: [[5, 5]], maxAbsDelta: 54 });

    await write(dir, 4, base); // re-sharded, same values
    expect((await diff(repo, { values: true })).arrays[0]!.values).toMatchObject({ changed: 0 });
  });
});
