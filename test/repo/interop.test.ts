/**
 * What tdv checks out is read by other Zarr implementations as the original:
 * zarrita (v3, in process) and zarr-python (v2, Debian's python3-zarr).
 */
import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { describe, expect, it } from "vitest";
import { add, commit, Repository, switchBranch } from "../../src/index.js";
import { makeFixture } from "../helpers/fixture.js";
import { hasZarrPython } from "../helpers/zarr-python.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

async function readAll(store: string, arrayPath: string) {
  const arr = await zarr.open.v3(zarr.root(new FileSystemStore(store)).resolve(arrayPath), { kind: "array" });
  return zarr.get(arr);
}

describe("interoperability", () => {
  it("zarrita reads a v3 store back after a branch round trip", async () => {
    const src = await makeFixture("v3/ocean.zarr");
    const dir = path.dirname(src);
    const before = await readAll(src, "sst");
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await switchBranch(repo, { name: "empty", create: true });
    await fsp.rm(path.join(src, "sst"), { recursive: true });
    await commit(repo, { message: "drop sst", all: true });
    await expect(fsp.stat(path.join(src, "sst"))).rejects.toThrow();
    await switchBranch(repo, { name: "main" });
    const after = await readAll(src, "sst");
    expect(after.shape).toEqual(before.shape);
    expect(Array.from(after.data as Float32Array)).toEqual(Array.from(before.data as Float32Array));
  });

  it.runIf(hasZarrPython() || process.env.CI)("zarr-python reads a v2 store back after a branch round trip", async () => {
    const src = await makeFixture("v2/weather.zarr");
    const dir = path.dirname(src);
    const script = `import sys, zarr, numpy as np, hashlib
g = zarr.open_consolidated(sys.argv[1], mode="r")
h = hashlib.sha256()
for name in sorted(["temperature", "precip", "mask", "station_id", "snow_depth", "scalar"]):
    a = g[name][...]
    h.update(name.encode()); h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())`;
    const digest = () => execFileSync("/usr/bin/python3", ["-c", script, src], { encoding: "utf8" }).trim();
    const before = digest();
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await switchBranch(repo, { name: "edit", create: true });
    await fsp.rm(path.join(src, "precip"), { recursive: true });
    await fsp.writeFile(path.join(src, "mask/0.0"), Buffer.alloc(100, 1));
    await commit(repo, { message: "edit", all: true });
    await switchBranch(repo, { name: "main" });
    expect(digest()).toBe(before);
  });
});
