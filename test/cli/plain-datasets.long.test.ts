/**
 * Datasets tdv carries as plain files (issue 15 item 7): metadata of an
 * unknown Zarr version (a draft-v3 `zarr.json`) or that does not parse makes
 * its folder plain files, with one warning naming the file and why; the rest
 * of the repository adds and commits as usual.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvOk } from "../helpers/cli.js";
import { listFiles, makeFixture, tempDir } from "../helpers/fixture.js";

const DRAFT_V3 = JSON.stringify({
  zarr_format: "https://purl.org/zarr/spec/protocol/core/3.0",
  metadata_encoding: "https://purl.org/zarr/spec/protocol/core/3.0",
  metadata_key_suffix: ".json",
  extensions: [],
});

/** A draft-v3 hierarchy (zarr-python 2.x `zarr._storage.v3`): zarr.json, meta/, data/. */
async function writeDraft(dir: string): Promise<void> {
  await fsp.mkdir(path.join(dir, "meta/root"), { recursive: true });
  await fsp.mkdir(path.join(dir, "data/root/x/c0"), { recursive: true });
  await fsp.writeFile(path.join(dir, "zarr.json"), DRAFT_V3);
  await fsp.writeFile(path.join(dir, "meta/root.group.json"), '{"attributes": {}}');
  await fsp.writeFile(path.join(dir, "meta/root/x.array.json"), '{"shape": [4], "chunk_grid": {"chunk_shape": [4]}}');
  await fsp.writeFile(path.join(dir, "data/root/x/c0/0"), "chunk bytes");
}

const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("warning:"));

describe.concurrent("datasets tdv carries as plain files", () => {
  it("a draft-v3 zarr.json at the root: add README, add -A and commit work, one warning each", async () => {
    const dir = await tempDir();
    await writeDraft(dir);
    await fsp.writeFile(path.join(dir, "README"), "about\n");
    await tdvOk(dir, ["init"]);

    const one = await tdvOk(dir, ["add", "README"]);
    expect(one.stdout).toContain("staged 1 file");

    const all = await tdvOk(dir, ["add", "-A"]);
    const w = warnings(all.stderr);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("zarr.json");
    expect(w[0]).toContain("https://purl.org/zarr/spec/protocol/core/3.0");
    expect(w[0]).toContain("plain files");
    await tdvOk(dir, ["commit", "-m", "draft"]);
    expect((await tdvOk(dir, ["status"])).stdout).toContain("nothing to commit");
  });

  it("only the folder with unknown or unparseable metadata is affected; status warns once; checkout gives it back", async () => {
    const dir = path.dirname(await makeFixture("v2/weather.zarr"));
    await writeDraft(path.join(dir, "draft.zarr"));
    // metadata that does not parse, beside a chunk-like file
    await fsp.mkdir(path.join(dir, "broken.zarr/0"), { recursive: true });
    await fsp.writeFile(path.join(dir, "broken.zarr/.zarray"), "{ not json");
    await fsp.writeFile(path.join(dir, "broken.zarr/0/0"), "not a chunk");
    await fsp.writeFile(path.join(dir, "README"), "about\n");
    await tdvOk(dir, ["init"]);

    const st = await tdvOk(dir, ["status"]);
    const sw = warnings(st.stderr);
    expect(sw.filter((l) => l.includes("draft.zarr/zarr.json"))).toHaveLength(1);
    expect(sw.filter((l) => l.includes("broken.zarr/.zarray"))).toHaveLength(1);
    expect(sw).toHaveLength(2);

    const add = await tdvOk(dir, ["add", "-A"]);
    const aw = warnings(add.stderr);
    expect(aw).toHaveLength(2);
    expect(aw.find((l) => l.includes("draft.zarr/zarr.json"))).toMatch(/zarr_format.*plain files/);
    expect(aw.find((l) => l.includes("broken.zarr/.zarray"))).toMatch(/JSON.*plain files/);
    // weather.zarr's arrays are staged as arrays all the same
    expect(add.stdout).toMatch(/\(10 arrays\)/);
    await tdvOk(dir, ["commit", "-m", "import"]);
    const before = await listFiles(dir);

    const clean = await tdvOk(dir, ["status"]);
    expect(clean.stdout).toContain("nothing to commit");

    // a change in the plain folder: status shows it and the warning once
    await fsp.writeFile(path.join(dir, "draft.zarr/data/root/x/c0/0"), "new bytes");
    const changed = await tdvOk(dir, ["status"]);
    expect(changed.stdout).toContain("draft.zarr/data/root/x/c0/0");
    expect(warnings(changed.stderr).filter((l) => l.includes("draft.zarr/zarr.json"))).toHaveLength(1);
    const ci = await tdvOk(dir, ["commit", "-a", "-m", "edit"]);
    expect(ci.stdout).toContain("draft.zarr/data/root/x/c0/0");

    // back to the first commit and forth: byte for byte
    await tdvOk(dir, ["checkout", "HEAD~1"]);
    expect(await listFiles(dir)).toEqual(before);
    expect((await tdvOk(dir, ["fsck"])).code).toBe(0);
  });

  it("a tracked array whose .zarray stops parsing: commit -a keeps its files as plain files", async () => {
    const dir = path.dirname(await makeFixture("v2/weather.zarr"));
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "import"]);
    await fsp.writeFile(path.join(dir, "weather.zarr/lat/.zarray"), '{"zarr_format": 99}');
    const r = await tdv(dir, ["commit", "-a", "-m", "lat broken"]);
    expect(r.code).toBe(0);
    expect(warnings(r.stderr).filter((l) => l.includes("weather.zarr/lat/.zarray"))).toHaveLength(1);
    const files = await listFiles(dir);
    await fsp.rm(path.join(dir, "weather.zarr"), { recursive: true });
    await tdvOk(dir, ["restore", "weather.zarr"]);
    expect(await listFiles(dir)).toEqual(files);
    expect((await tdvOk(dir, ["status"])).stdout).toContain("nothing to commit");
  });
});
