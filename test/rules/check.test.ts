/** checkRevision in process: rules, incremental verdicts, and what it reads. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, checkRevision, commit, isTdvError, loadRules, branchPolicy, Repository } from "../../src/index.js";
import { makeFixture, tempDir } from "../helpers/fixture.js";
import { T2M, writeArray, writeChunk, writeForecast } from "./dataset.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

async function setup(rules: string, write: (dir: string) => Promise<void> = (d) => writeForecast(d)): Promise<{ dir: string; repo: Repository }> {
  const dir = await tempDir();
  await write(dir);
  await fsp.writeFile(path.join(dir, "tdv-rules.toml"), rules);
  const { repo } = await Repository.init({ durability: "none", dir });
  await add(repo, { all: true });
  await commit(repo, { message: "first", noVerify: true });
  return { dir, repo };
}

async function recommit(repo: Repository, message: string): Promise<void> {
  await add(repo, { all: true });
  await commit(repo, { message, noVerify: true });
}

/** Count the chunk objects read from the store. */
function countReads(repo: Repository): { n: number } {
  const c = { n: 0 };
  const get = repo.chunks.get.bind(repo.chunks);
  repo.chunks.get = (...args: Parameters<typeof get>) => {
    c.n++;
    return get(...args);
  };
  return c;
}

describe("checkRevision", () => {
  it("range, dtype, shape, chunk shape, dimension names; the failure names chunk and coordinates", async () => {
    const { dir, repo } = await setup(`
[[arrays]]
path = "fc.zarr/*"
dimension_names = ["time", "lat"]

[[arrays]]
path = "fc.zarr/t2m"
range = [200, 300]
dtype = "<f4"
shape = [4, 2]
chunk_shape = [1, 2]
`);
    let v = await checkRevision(repo, "HEAD");
    // time and lat have one dimension each: their names are not (time, lat)
    expect(v.failures.map((f) => [f.rule, f.array])).toEqual([
      ["dimension_names", "fc.zarr/lat"],
      ["dimension_names", "fc.zarr/time"],
    ]);
    await fsp.writeFile(path.join(dir, "tdv-rules.toml"), `[[arrays]]\npath = "fc.zarr/t2m"\nrange = [200, 300]\ndtype = "float64"\nshape = [4, 3]\nchunk_shape = [1, 2]\n`);
    await writeChunk(path.join(dir, T2M), "<f4", [3, 0], [250, 312.5]);
    await recommit(repo, "hot");
    v = await checkRevision(repo, "HEAD");
    expect(v.passed).toBe(false);
    expect(v.since).toBeNull(); // other rules: checked whole
    expect(v.failures).toEqual([
      { rule: "dtype", array: T2M, message: "data type is <f4, the rules want float64" },
      { rule: "shape", array: T2M, message: "shape is [4,2], the rules want [4,3]" },
      { rule: "range", array: T2M, chunk: [3, 0], coords: { time: "2024-01-04", lat: 20 }, message: "1 of 2 values outside [200, 300], first 312.5 at [3,1]" },
    ]);
  });

  it("monotonic coordinates, shared dimension lengths, consolidated metadata", async () => {
    const { dir, repo } = await setup(
      `consolidated = true

[[arrays]]
path = "fc.zarr/time"
monotonic = "increasing"

[[groups]]
path = "fc.zarr"
shared_dimensions = true
`,
    );
    expect((await checkRevision(repo, "HEAD")).passed).toBe(true);
    await writeChunk(path.join(dir, "fc.zarr/time"), "<f8", [0], [0, 1, 1, 3]);
    await writeArray(path.join(dir, "fc.zarr/rain"), { shape: [5, 2], chunks: [5, 2], dtype: "<f4", fill: 0, attrs: { _ARRAY_DIMENSIONS: ["time", "lat"] } });
    await fsp.writeFile(path.join(dir, "fc.zarr/.zmetadata"), JSON.stringify({ zarr_consolidated_format: 1, metadata: { ".zgroup": {}, "t2m/.zarray": {}, "gone/.zarray": {} } }));
    await recommit(repo, "bad");
    const v = await checkRevision(repo, "HEAD");
    const by = Object.fromEntries(v.failures.map((f) => [f.rule, f]));
    expect(by.monotonic).toMatchObject({ array: "fc.zarr/time", chunk: [0], message: "not strictly increasing: element 2 is 1 after 1" });
    expect(by.shared_dimensions).toMatchObject({ array: "fc.zarr/time", message: 'dimension "time" has length 4 here but 5 in fc.zarr/rain (group fc.zarr)' });
    expect(by.consolidated?.message).toMatch(/fc\.zarr\/\.zmetadata disagrees with the tree: it lists fc\.zarr\/gone, not in the commit; it does not list fc\.zarr\/lat, fc\.zarr\/rain, fc\.zarr\/t2m, fc\.zarr\/time, in the commit/);
  });

  it("keeps verdicts: a second check reads nothing, a child reads only what changed, --changed-since too", async () => {
    const { dir, repo } = await setup(`[[arrays]]\npath = "**"\nmax_nan_fraction = 0.5\n`);
    const reads = countReads(repo);
    const first = await checkRevision(repo, "HEAD");
    expect(first).toMatchObject({ passed: true, chunksRead: 6, since: null, arraysChecked: 3 });
    expect(reads.n).toBe(6);
    expect(await checkRevision(repo, "HEAD")).toEqual(first);
    expect(reads.n).toBe(6);
    const files = await fsp.readdir(path.join(repo.tdvDir, "checks"));
    expect(files).toEqual([`${first.commit}.${first.rules}.json`]);

    await writeChunk(path.join(dir, T2M), "<f4", [1, 0], [Number.NaN, Number.NaN]);
    await recommit(repo, "nan");
    const second = await checkRevision(repo, "HEAD");
    expect(second).toMatchObject({ passed: false, chunksRead: 1, since: first.commit });
    expect(reads.n).toBe(6 + 1 + 2); // the changed chunk, and the time and lat chunks its failure's coordinates come from
    // from a failed parent: the nearest passed ancestor is the grandparent, both changes read
    await writeChunk(path.join(dir, T2M), "<f4", [2, 0], [1, 2]);
    await recommit(repo, "more");
    const third = await checkRevision(repo, "HEAD");
    expect(third).toMatchObject({ passed: false, chunksRead: 2, since: first.commit });
    // explicitly from the parent: only the last change
    const fromParent = await checkRevision(repo, "HEAD", { changedSince: "HEAD~1" });
    expect(fromParent).toMatchObject({ passed: true, chunksRead: 1, since: second.commit });
  });

  it("reads Zarr v3: attributes and dimension names from zarr.json, CF time from an int32 coordinate", async () => {
    const { repo } = await setup(
      `[[arrays]]\npath = "ocean.zarr/sst"\nattrs = { units = "K" }\ndtype = "float32"\ndimension_names = ["time", "lat", "lon"]\nrange = [-100, 100]\nmax_nan_fraction = 1.0\n\n[[arrays]]\npath = "ocean.zarr/{time,lat}"\nmonotonic = "increasing"\n`,
      async (dir) => {
        await fsp.cp(await makeFixture("v3/ocean.zarr"), path.join(dir, "ocean.zarr"), { recursive: true });
      },
    );
    const v = await checkRevision(repo, "HEAD");
    expect(v.failures).toEqual([{ rule: "attrs", array: "ocean.zarr/sst", message: 'attribute "units" is "degC", the rules want "K"' }]);
    expect(v.arraysChecked).toBe(3);
    expect(v.chunksRead).toBeGreaterThan(2);
    // a range nothing meets: the first chunk's failure names its coordinates, time as a date
    await fsp.appendFile(path.join(repo.root, "tdv-rules.toml"), `\n[[arrays]]\npath = "ocean.zarr/sst"\nrange = [1000, 2000]\n`);
    await recommit(repo, "impossible range");
    const w = await checkRevision(repo, "HEAD");
    expect(w.failures[1]).toMatchObject({ rule: "range", array: "ocean.zarr/sst", chunk: [0, 0, 0], coords: { time: "2020-01-15" } }); // time[0] = 14 days since 2020-01-01
    expect(Object.keys(w.failures[1]?.coords ?? {})).toEqual(["time", "lat", "lon"]);
  });

  it("branchPolicy: exact names, globs, and protection implying push", async () => {
    const { repo } = await setup(`[branches.main]\nprotected = true\n\n[branches."release/*"]\ncheck_on = ["merge"]\n\n[branches.dev]\ncheck_on = ["commit"]\n`);
    const rules = await loadRules(repo, "HEAD");
    expect(branchPolicy(rules, "refs/heads/main")).toEqual({ protected: true, checkOn: new Set(["commit", "merge", "push"]) });
    expect(branchPolicy(rules, "release/2024")).toEqual({ protected: false, checkOn: new Set(["merge"]) });
    expect(branchPolicy(rules, "dev")).toEqual({ protected: false, checkOn: new Set(["commit"]) });
    expect(branchPolicy(rules, "other")).toEqual({ protected: false, checkOn: new Set() });
    expect(branchPolicy(null, "main")).toEqual({ protected: false, checkOn: new Set() });
  });

  it("a bad rules file names the file, the key and the fix", async () => {
    const { repo } = await setup(`[[arrays]]\npath = "fc.zarr/t2m"\nmax_nan_fractoin = 0\n`);
    const err = await checkRevision(repo, "HEAD").catch((e: unknown) => e);
    expect(isTdvError(err, "RulesFileError")).toBe(true);
    expect((err as Error).message).toMatch(/^tdv-rules\.toml \(commit [0-9a-f]{12}\): arrays\[0\]\.max_nan_fractoin: is not a key tdv knows$/);
    expect((err as { hint: string }).hint).toContain("max_nan_fraction");
  });
});
