/** A 10,000-chunk array with 1% of its chunks changed: the check reads those 100 chunks, no other. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, checkRevision, commit, Repository } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";
import { writeArray } from "./dataset.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

describe("incremental checks", () => {
  it("read only the changed chunks of a 10,000-chunk array", async () => {
    const dir = await tempDir();
    const a = path.join(dir, "big.zarr/v");
    await writeArray(a, { shape: [100, 100, 4], chunks: [1, 1, 4], dtype: "<f4", fill: "NaN", attrs: { _ARRAY_DIMENSIONS: ["y", "x", "band"] } });
    const chunk = (v: number) => Buffer.from(new Float32Array([v, v, v, v]).buffer);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) for (let j = 0; j < 100; j++) writes.push(fsp.writeFile(path.join(a, `${i}.${j}.0`), chunk(1)));
    await Promise.all(writes);
    await fsp.writeFile(path.join(dir, "tdv-rules.toml"), `[[arrays]]\npath = "big.zarr/v"\nmax_nan_fraction = 0.0\nrange = [0, 10]\n`);
    const { repo } = await Repository.init({ durability: "none", dir });
    await add(repo, { all: true });
    await commit(repo, { message: "10,000 chunks" });
    const full = await checkRevision(repo, "HEAD");
    expect(full).toMatchObject({ passed: true, chunksRead: 10_000, since: null });

    // 1% of the chunks rewritten (one of them out of range)
    const changed: [number, number][] = [];
    for (let k = 0; k < 100; k++) changed.push([k, (k * 37) % 100]);
    for (const [i, j] of changed) await fsp.writeFile(path.join(a, `${i}.${j}.0`), chunk(i === 50 ? 11 : 2));
    await add(repo, { all: true });
    await commit(repo, { message: "1% changed" });
    let reads = 0;
    const get = repo.chunks.get.bind(repo.chunks);
    repo.chunks.get = (...args: Parameters<typeof get>) => {
      reads++;
      return get(...args);
    };
    const v = await checkRevision(repo, "HEAD");
    expect(v).toMatchObject({ passed: false, chunksRead: 100, since: full.commit, arraysChecked: 1 });
    expect(v.failures).toEqual([expect.objectContaining({ rule: "range", chunk: [50, 50, 0] })]);
    expect(reads).toBe(100);
  }, 120_000);
});
