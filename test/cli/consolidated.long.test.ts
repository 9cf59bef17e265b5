/**
 * Consolidated metadata (issue 15 item 8) with zarr-python 2 (Debian's
 * python3-zarr) writing the store as a user's pipeline would:
 * - a `.zmetadata` naming an array the commit lacks is warned about (commit, status);
 * - `diff --stat` says the consolidated metadata changed, not "attributes";
 * - after a merge, the rebuilt `.zmetadata` is byte for byte what
 *   `zarr.consolidate_metadata` writes for the merged working copy.
 */
import { execFileSync } from "node:child_process";
import { readFile as readFileBytes } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { hasZarrPython } from "../helpers/zarr-python.js";

/** Run a python script with zarr imported, `store` bound to the path given. */
function py(store: string, script: string): string {
  const prelude = "import sys, zarr, numpy as np\nstore = sys.argv[1]\n";
  return execFileSync("/usr/bin/python3", ["-c", prelude + script, store], { encoding: "utf8" });
}

const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("warning:"));

/** A consolidated v2 group with arrays whose metadata spells floats as Python does (0.0, 1e-05, NaN). */
async function dataset(): Promise<{ dir: string; store: string }> {
  const dir = await tempDir();
  const store = path.join(dir, "data.zarr");
  py(
    store,
    `
g = zarr.open_group(store, mode="w")
g.attrs["title"] = "t\\u00e9st"
g.attrs["scale"] = 1.0
a = g.create_dataset("a", shape=(4, 4), chunks=(2, 2), dtype="f8", fill_value=0.0)
a[:] = np.arange(16.0).reshape(4, 4)
a.attrs.update({"eps": 1e-05, "missing": float("nan"), "big": 1e16, "n": 3, "neg": -0.0, "tiny": 5e-324})
b = g.create_dataset("b", shape=(3,), chunks=(2,), dtype="i4", fill_value=0)
b[:] = [1, 2, 3]
c = g.create_dataset("c", shape=(2,), chunks=(2,), dtype="f4", fill_value=float("nan"))
c.attrs["units"] = "K"
zarr.consolidate_metadata(store)
`,
  );
  await tdvOk(dir, ["init"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-m", "import"]);
  return { dir, store };
}

describe.runIf(hasZarrPython()).concurrent("consolidated metadata", () => {
  it("commit -a of a .zmetadata naming an untracked array warns at commit and in status, naming the array", async () => {
    const { dir, store } = await dataset();
    py(store, `g = zarr.open_group(store)\ng.create_dataset("fresh", shape=(2,), chunks=(2,), dtype="i1")\nzarr.consolidate_metadata(store)\n`);
    const before = await tdvOk(dir, ["status"]);
    expect(warnings(before.stderr).filter((w) => w.includes("data.zarr/.zmetadata") && w.includes("data.zarr/fresh"))).toHaveLength(1);

    const ci = await tdvOk(dir, ["commit", "-a", "-m", "reconsolidated"]);
    const w = warnings(ci.stderr);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("consolidated metadata data.zarr/.zmetadata");
    expect(w[0]).toContain("data.zarr/fresh");
    expect(w[0]).toContain("tdv add data.zarr/fresh");

    const st = await tdvOk(dir, ["status"]);
    expect(warnings(st.stderr).filter((x) => x.includes("data.zarr/fresh"))).toHaveLength(1);

    // once the array is added, nothing disagrees
    await tdvOk(dir, ["add", "data.zarr/fresh"]);
    const ok = await tdvOk(dir, ["commit", "-m", "fresh"]);
    expect(warnings(ok.stderr)).toEqual([]);
    expect(warnings((await tdvOk(dir, ["status"])).stderr)).toEqual([]);
  });

  it("diff --stat names a change of the consolidated metadata alone as such", async () => {
    const { dir, store } = await dataset();
    // rewrite .zmetadata as another writer would (same content, other spelling)
    py(store, `import json\np = store + "/.zmetadata"\nd = json.load(open(p))\nopen(p, "w").write(json.dumps(d, indent=2) + "\\n")\n`);
    const stat = await tdvOk(dir, ["diff", "--stat"]);
    const line = stat.stdout.split("\n").find((l) => l.includes("data.zarr (group)"));
    expect(line).toBeDefined();
    expect(line).toContain("consolidated metadata");
    expect(line).not.toContain("attributes");
  });

  it("after a merge, the rebuilt .zmetadata is byte for byte what zarr.consolidate_metadata writes for the merged working copy", async () => {
    const { dir, store } = await dataset();
    const zmeta = path.join(store, ".zmetadata");
    await tdvOk(dir, ["switch", "-c", "other"]);
    py(store, `g = zarr.open_group(store)\ng["a"].attrs.update({"eps2": 2.5e-07, "huge": 1.5e+300, "whole": 100.0, "emoji": "\\U0001f600"})\nzarr.consolidate_metadata(store)\n`);
    await tdvOk(dir, ["commit", "-a", "-m", "other: attributes of a"]);
    await tdvOk(dir, ["switch", "main"]);
    py(store, `g = zarr.open_group(store)\ng["c"].attrs["units"] = "degC"\ng["b"].attrs.update({"x": 1.0, "y": 12345678901234567890, "z": 0.0001})\nzarr.consolidate_metadata(store)\n`);
    await tdvOk(dir, ["commit", "-a", "-m", "main: attributes of b and c"]);

    await tdvOk(dir, ["merge", "other", "-m", "merge other"]);
    const merged = await readFileBytes(zmeta);
    expect(merged.toString("utf8")).toContain('"eps2": 2.5e-07');
    expect(merged.toString("utf8")).toContain('"units": "degC"');
    py(store, "zarr.consolidate_metadata(store)\n");
    const again = await readFileBytes(zmeta);
    expect(merged.toString("utf8")).toBe(again.toString("utf8"));
    expect(merged.equals(again)).toBe(true);
    // so the next consolidation is no change
    expect((await tdvOk(dir, ["status", "--short"])).stdout).toBe("");
  });
});
