/** The sparse set's cone: which files of a snapshot a set of paths checks out, and which paths it refuses. */
import { describe, expect, it } from "vitest";
import { isTdvError, sparseSet } from "../../src/index.js";

describe("sparse set (cone mode)", () => {
  const set = sparseSet(["era5.zarr/t2m", "masks.zarr/", "era5.zarr/t2m/c", "./docs/a.txt"]);

  it("keeps paths sorted, without one inside another", () => {
    expect(set.paths).toEqual(["docs/a.txt", "era5.zarr/t2m", "masks.zarr"]);
  });

  it("takes files under a listed path, and those directly in the root and the folders on the way", () => {
    const inSet = ["era5.zarr/t2m/zarr.json", "era5.zarr/t2m/c/0/0", "era5.zarr/zarr.json", "era5.zarr/.zmetadata", "README.md", "masks.zarr/.zarray", "docs/a.txt", "docs/index.md"];
    const outside = ["era5.zarr/u10/zarr.json", "era5.zarr/t2m_old/zarr.json", "era5.zarr/u10/c/0", "other.zarr/zarr.json", "docs/img/x.png"];
    for (const f of inSet) expect(set.includes(f), f).toBe(true);
    for (const f of outside) expect(set.includes(f), f).toBe(false);
  });

  it("refuses paths outside the working tree and the whole tree", () => {
    for (const bad of ["../x", "/etc", "a/../b", "", "."]) {
      let err: unknown = null;
      try {
        sparseSet([bad]);
      } catch (e) {
        err = e;
      }
      expect(isTdvError(err, "UsageError"), bad).toBe(true);
    }
  });
});
