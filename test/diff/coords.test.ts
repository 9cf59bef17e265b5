/**
 * diff --values names changed regions in coordinate values: a v2 group laid
 * out as xarray writes it (`_ARRAY_DIMENSIONS`, a CF time coordinate in days
 * since a date, a float latitude) and a v3 array with `dimension_names`.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add } from "../../src/commands/add.js";
import { commit } from "../../src/commands/commit.js";
import { cfTime, isoDate } from "../../src/repo/diff/time.js";
import { diff } from "../../src/commands/diff.js";
import { Repository } from "../../src/repo/repository.js";
import { tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";

const write = (file: string, data: string | Uint8Array) => fsp.mkdir(path.dirname(file), { recursive: true }).then(() => fsp.writeFile(file, data));

/** A v2 array with no compressor, one chunk, values little-endian. */
async function v2Array(dir: string, name: string, dtype: string, shape: number[], values: ArrayLike<number>, dims: string[], attrs: Record<string, unknown> = {}) {
  await write(path.join(dir, name, ".zarray"), JSON.stringify({ zarr_format: 2, shape, chunks: shape, dtype, compressor: null, filters: null, fill_value: 0, order: "C", dimension_separator: "." }));
  await write(path.join(dir, name, ".zattrs"), JSON.stringify({ _ARRAY_DIMENSIONS: dims, ...attrs }));
  const bytes = dtype === "<i8" ? new Uint8Array(BigInt64Array.from([...Array.from(values)].map(BigInt)).buffer) : dtype === "<f4" ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(Float64Array.from(values).buffer);
  await write(path.join(dir, name, shape.map(() => "0").join(".")), bytes);
}

describe("coordinate values of changed regions", () => {
  it("v2 (xarray layout): time as dates, lat as numbers, in --json and text", async () => {
    const dir = await tempDir();
    const g = path.join(dir, "ds.zarr");
    await write(path.join(g, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
    await v2Array(g, "time", "<i8", [10], Array.from({ length: 10 }, (_, i) => i), ["time"], { units: "days since 2024-06-01", calendar: "proleptic_gregorian" });
    await v2Array(g, "lat", "<f4", [4], [30, 35.5, 40, 45.5], ["lat"], { units: "degrees_north" });
    await v2Array(g, "t2m", "<f8", [10, 4], new Float64Array(40), ["time", "lat"]);
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const t = new Float64Array(40);
    for (let i = 2; i <= 4; i++) for (let j = 1; j <= 3; j++) t[i * 4 + j] = 1;
    await write(path.join(g, "t2m", "0.0"), new Uint8Array(t.buffer));
    await add(repo, { all: true });
    await commit(repo, { message: "edit" });

    const r = await diff(repo, { from: "HEAD~1", to: "HEAD", values: true });
    const v = r.arrays.find((a) => a.path === "ds.zarr/t2m")!.values!;
    expect(v.bbox).toEqual([[2, 4], [1, 3]]);
    expect(v.coords).toEqual([
      { dim: "time", array: "ds.zarr/time", indices: [2, 4], first: "2024-06-03", last: "2024-06-05", time: true },
      { dim: "lat", array: "ds.zarr/lat", indices: [1, 3], first: 35.5, last: 45.5, time: false },
    ]);
    const text = await tdvOk(dir, ["diff", "--values", "HEAD~1", "HEAD"]);
    expect(text.stdout).toContain("ds.zarr/t2m: time 2024-06-03..2024-06-05, lat 35.5..45.5");
  });

  it("v3 dimension_names; a dimension without a coordinate array of its length is left out", async () => {
    const dir = await tempDir();
    const g = path.join(dir, "ds.zarr");
    await write(path.join(g, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }));
    const arr = (name: string, shape: number[], dtype: string, dims: string[], attributes: Record<string, unknown>) =>
      write(path.join(g, name, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "array", shape, data_type: dtype, chunk_grid: { name: "regular", configuration: { chunk_shape: shape } }, chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: 0, codecs: [{ name: "bytes", configuration: { endian: "little" } }], dimension_names: dims, attributes }));
    await arr("time", [3], "float64", ["time"], { units: "hours since 2000-01-01 00:00:00" });
    await arr("x", [5], "float64", ["x"], {}); // another length than the data's x: not its coordinate
    await arr("v", [3, 2], "int32", ["time", "x"], {});
    await write(path.join(g, "time", "c", "0"), new Uint8Array(Float64Array.from([0, 6, 36]).buffer));
    await write(path.join(g, "v", "c", "0", "0"), new Uint8Array(6 * 4));
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await write(path.join(g, "v", "c", "0", "0"), new Uint8Array(Int32Array.from([0, 0, 0, 0, 0, 7]).buffer));
    const r = await diff(repo, { values: true });
    expect(r.arrays.find((a) => a.path === "ds.zarr/v")!.values!.coords).toEqual([{ dim: "time", array: "ds.zarr/time", indices: [2, 2], first: "2000-01-02T12:00:00", last: "2000-01-02T12:00:00", time: true }]);
  });

  it("CF time units: unit words, reference times with zones; other calendars and dates before 1582 are not read", () => {
    expect(isoDate(cfTime({ units: "seconds since 1970-01-01T00:00:00Z" })!(90))).toBe("1970-01-01T00:01:30");
    expect(isoDate(cfTime({ units: "days since 1850-1-1 0:0:0" })!(1.5))).toBe("1850-01-02T12:00:00");
    expect(isoDate(cfTime({ units: "minutes since 2024-06-01 00:00:00+02:00" })!(0))).toBe("2024-05-31T22:00:00");
    expect(cfTime({ units: "days since 2000-01-01", calendar: "noleap" })).toBeNull();
    expect(cfTime({ units: "days since 1000-01-01" })).toBeNull();
    expect(cfTime({ units: "degrees_north" })).toBeNull();
  });
});
