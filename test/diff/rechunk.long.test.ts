/** diff --values across a rechunk (issue 15 item 8): values compared region by region over both chunk grids. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DiffResult } from "../../src/index.js";
import { tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { hasZarrPython } from "../helpers/zarr-python.js";

function py(store: string, script: string): void {
  execFileSync("/usr/bin/python3", ["-c", `import sys, zarr, numpy as np\nstore = sys.argv[1]\n${script}`, store], { encoding: "utf8" });
}

/** A 7x5 float array in chunks of 2x2 (edge chunks partial; one chunk never written), committed. */
async function committedArray(): Promise<{ dir: string; store: string }> {
  const dir = await tempDir();
  const store = path.join(dir, "r.zarr");
  py(store, `a = zarr.open_array(store, mode="w", shape=(7, 5), chunks=(2, 2), dtype="f8", fill_value=-1.0)\nv = np.arange(35.0).reshape(7, 5)\na[:6, :] = v[:6, :]\n`);
  await tdvOk(dir, ["init"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-m", "2x2"]);
  return { dir, store };
}

/** Rewrite the array in chunks of 3x4 with the same values, then apply `edit` (python, `b` the new array). */
function rechunk(store: string, edit = ""): void {
  py(store, `import shutil\nold = zarr.open_array(store)[:]\nshutil.rmtree(store)\nb = zarr.open_array(store, mode="w", shape=(7, 5), chunks=(3, 4), dtype="f8", fill_value=-1.0)\nb[:6, :] = old[:6, :]\n${edit}\n`);
}

describe.runIf(hasZarrPython()).concurrent("diff --values across a rechunk", () => {
  it("a rechunk without value changes: 0 changed of every element", async () => {
    const { dir, store } = await committedArray();
    rechunk(store);
    const res = await tdvJson<DiffResult>(dir, ["diff", "--values", "--json"]);
    const a = res.arrays.find((x) => x.path === "r.zarr")!;
    expect(a.metadata.map((m) => m.field)).toContain("chunkShape");
    expect(a.valuesNote).toBeNull();
    // row 6 was never written on either side (the fill value on both): 30 elements compared
    expect(a.values).toMatchObject({ changed: 0, compared: 30, bbox: null });
  });

  it("a rechunk with two values changed: both found, with their deltas and where", async () => {
    const { dir, store } = await committedArray();
    rechunk(store, "b[1, 3] = 100.0\nb[6, 4] = 5.0\n");
    const res = await tdvJson<DiffResult>(dir, ["diff", "--values", "--json"]);
    const a = res.arrays.find((x) => x.path === "r.zarr")!;
    // b[6, 4] writes one element of row 6 (against the old fill value, -1): 31 compared
    expect(a.values).toMatchObject({ changed: 2, compared: 31, bbox: [[1, 6], [3, 4]], maxAbsDelta: 92 });
  });
});
