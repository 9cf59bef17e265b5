import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { FIXTURES_DIR, listFiles, makeFixture, tempDir } from "./fixture.js";

describe("makeFixture / tempDir / listFiles", () => {
  it("copies a store byte for byte into a fresh tdv-test- temp dir", async () => {
    const copy = await makeFixture("v2/weather.zarr");
    expect(path.basename(copy)).toBe("weather.zarr");
    expect(path.basename(path.dirname(copy))).toMatch(/^tdv-test-/);
    expect(copy.startsWith(await fs.realpath(os.tmpdir()))).toBe(true);

    const original = await listFiles(path.join(FIXTURES_DIR, "v2", "weather.zarr"));
    const copied = await listFiles(copy);
    expect([...copied.keys()]).toEqual([...original.keys()]);
    for (const [rel, bytes] of original) expect(copied.get(rel)!.equals(bytes), rel).toBe(true);
    // dot files, nested chunk dirs and non-Zarr files are all there
    expect(copied.has(".zmetadata")).toBe(true);
    expect(copied.has("README.txt")).toBe(true);
    expect(copied.has("precip/0/0/0")).toBe(true);
    expect(copied.has("sub/elevation/.zarray")).toBe(true);
  });

  it("gives independent copies; the committed fixture is untouched", async () => {
    const a = await makeFixture("v3");
    const b = await makeFixture("v3");
    expect(a).not.toBe(b);
    expect(path.basename(a)).toBe("v3");
    const before = await listFiles(path.join(FIXTURES_DIR, "v3"));
    await fs.writeFile(path.join(a, "ocean.zarr", "sst", "c", "0", "0", "0"), "overwritten");
    await fs.rm(path.join(a, "sharded.zarr"), { recursive: true });
    const after = await listFiles(path.join(FIXTURES_DIR, "v3"));
    expect([...after.keys()]).toEqual([...before.keys()]);
    expect(after.get("ocean.zarr/sst/c/0/0/0")!.equals(before.get("ocean.zarr/sst/c/0/0/0")!)).toBe(true);
    const other = await listFiles(b);
    expect(other.has("sharded.zarr/temperature/c/0/0")).toBe(true);
    expect(other.get("ocean.zarr/sst/c/0/0/0")!.equals(before.get("ocean.zarr/sst/c/0/0/0")!)).toBe(true);
  });

  it("rejects names outside fixtures/ and unknown fixtures", async () => {
    await expect(makeFixture("../package.json")).rejects.toThrow(/invalid fixture name/);
    await expect(makeFixture("/etc")).rejects.toThrow(/invalid fixture name/);
    await expect(makeFixture("v2/nope.zarr")).rejects.toThrow(/no fixture/);
  });

  it("listFiles skips a top-level .tdv (folder or file) and symlinks, keeps nested .tdv", async () => {
    const dir = await tempDir();
    expect((await fs.readdir(dir)).length).toBe(0);
    await fs.mkdir(path.join(dir, ".tdv", "chunks"), { recursive: true });
    await fs.writeFile(path.join(dir, ".tdv", "chunks", "x"), "object");
    await fs.mkdir(path.join(dir, "a.zarr", ".tdv"), { recursive: true });
    await fs.writeFile(path.join(dir, "a.zarr", ".tdv", "kept"), "nested");
    await fs.writeFile(path.join(dir, "a.zarr", "zarr.json"), "{}");
    await fs.writeFile(path.join(dir, "a.zarr.txt"), new Uint8Array([0, 255, 1]));
    await fs.symlink(path.join(dir, "a.zarr.txt"), path.join(dir, "link"));
    let files = await listFiles(dir);
    expect([...files.keys()]).toEqual(["a.zarr.txt", "a.zarr/.tdv/kept", "a.zarr/zarr.json"]);
    expect([...files.get("a.zarr.txt")!]).toEqual([0, 255, 1]);

    await fs.rm(path.join(dir, ".tdv"), { recursive: true });
    await fs.writeFile(path.join(dir, ".tdv"), "gitdir: /elsewhere\n");
    files = await listFiles(dir);
    expect(files.has(".tdv")).toBe(false);
    expect(files.size).toBe(3);
  });
});

describe("fixtures are real, readable Zarr", () => {
  const open = (root: string, p: string) =>
    zarr.open(zarr.root(new FileSystemStore(root)).resolve(p), { kind: "array" });

  it("v2/weather.zarr: blosc, zlib + nested keys, bool, gzip, 0-d, missing chunks, consolidated", async () => {
    const root = path.join(FIXTURES_DIR, "v2", "weather.zarr");
    const t = await open(root, "temperature");
    expect(t.shape).toEqual([12, 20, 30]);
    const tv = await zarr.get(t, [0, null, null]);
    expect(Number.isNaN((tv.data as Float32Array)[3 * 30 + 12])).toBe(true);
    expect((tv.data as Float32Array)[0]).toBeGreaterThan(200);

    const p = await open(root, "precip");
    expect(p.dtype).toBe("float64");
    expect((await zarr.get(p)).data.length).toBe(12 * 20 * 30);

    const m = await open(root, "mask");
    expect(m.dtype).toBe("bool");
    const sid = await open(root, "station_id");
    expect((await zarr.get(sid, [0])) as bigint).toBe(10_000_000_000n);
    const scalar = await open(root, "scalar");
    const sv = await zarr.get(scalar);
    expect(typeof sv === "number" ? sv : (sv as { data: Float64Array }).data[0]).toBe(1013.25);
    const elev = await open(root, "sub/elevation");
    expect(elev.dtype).toBe("int16");
    expect((await zarr.get(elev)).data.length).toBe(600);

    // write_empty_chunks=False: only 2 of 18 chunk files exist; the rest read as fill (0)
    const files = await listFiles(path.join(root, "snow_depth"));
    expect([...files.keys()].filter((k) => !k.startsWith("."))).toEqual(["0.1.0", "0.1.1"]);
    const snow = await zarr.get(await open(root, "snow_depth"), [zarr.slice(4, 12), null, null]);
    expect((snow.data as Float32Array).every((v) => v === 0)).toBe(true);

    const cstore = await zarr.withConsolidatedMetadata(new FileSystemStore(root), { format: "v2" });
    const nodes = cstore.contents().map((c) => c.path);
    expect(nodes).toContain("/sub/elevation");
    expect(nodes).toContain("/temperature");
  });

  it("v2/single.zarr: an array at the store root", async () => {
    const a = await zarr.open(new FileSystemStore(path.join(FIXTURES_DIR, "v2", "single.zarr")), { kind: "array" });
    expect(a.shape).toEqual([50, 40]);
    expect(a.dtype).toBe("int16");
  });

  it("v3 stores: key encodings, missing chunks, shards with empty inner chunks", async () => {
    const ocean = path.join(FIXTURES_DIR, "v3", "ocean.zarr");
    const files = [...(await listFiles(ocean)).keys()];
    expect(files.filter((f) => f.startsWith("flags/c/"))).toEqual(["flags/c/0/0/0", "flags/c/1/1/2", "flags/c/2/0/1"]);
    expect(files).toContain("salinity/0.0.0");
    expect(files).toContain("derived/sst_anomaly/c.0.0.0");
    expect(files).toContain("reference_density/c");
    const sal = await open(ocean, "salinity");
    expect(sal.dimensionNames).toEqual(["time", "lat", "lon"]);
    expect((await zarr.get(sal)).data.length).toBe(6 * 16 * 24);

    const sharded = path.join(FIXTURES_DIR, "v3", "sharded.zarr");
    const shardFiles = [...(await listFiles(sharded)).keys()];
    expect(shardFiles.filter((f) => f.startsWith("temperature/c/"))).toEqual([
      "temperature/c/0/0",
      "temperature/c/0/1",
      "temperature/c/1/0",
    ]);
    const t = await zarr.get(await open(sharded, "temperature"));
    const data = t.data as Float32Array;
    expect(Number.isNaN(data[15 * 16 + 15]!)).toBe(true); // missing shard c/1/1
    expect(Number.isNaN(data[0 * 16 + 12]!)).toBe(true); // empty inner chunk in c/0/1
    expect(data[0]).toBeGreaterThan(260);
  });
});
