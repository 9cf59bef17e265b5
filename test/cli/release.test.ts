/**
 * Releases, the core (the long lane's release.long.test.ts tells the whole
 * story: successive releases, log ordering, remote protection, lazy clones):
 * a passing commit's release records the verdict, arrays and trailers, and
 * show and verify read it; a corrupt chunk object makes verify exit 1 naming
 * it; a release is not moved or deleted without --force; failing data is
 * refused with its failures listed.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReleaseRecord } from "../../src/index.js";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { committedFixture } from "../remote/dataset.js";

describe("releases (core)", () => {
  it("record, show, verify, corruption named, protection, failing rules refused", async () => {
    const dir = await committedFixture("v2/single.zarr");
    await fs.writeFile(path.join(dir, "tdv-rules.toml"), '[[arrays]]\npath = "single.zarr"\nattrs = { units = "1" }\n');
    await tdvOk(dir, ["add", "tdv-rules.toml"]);
    await tdvOk(dir, ["commit", "-m", "Rules", "-m", "Pipeline: qc-v2"]);

    const r = await tdvJson<ReleaseRecord>(dir, ["release", "v1", "-m", "First product", "--json"]);
    expect(r.verdict).toMatchObject({ passed: true, failures: 0, override: null });
    expect(r.verdict.rules).toMatch(/^[0-9a-f]{40}$/);
    expect(r.arrays).toEqual([expect.objectContaining({ path: "single.zarr", metadataDoc: ".zarray", chunks: 6 })]);
    expect(r.commits.map((c) => c.subject)).toEqual(["Rules", "import"]);
    expect(r.commits[0]?.trailers).toMatchObject({ Pipeline: "qc-v2", "Tdv-Command": "tdv commit -m Rules -m 'Pipeline: qc-v2'" });
    const human = (await tdvOk(dir, ["show", "v1"])).stdout;
    expect(human).toMatch(/^release v1$/m);
    expect(human).toContain("Rules:  passed");
    expect(human).toMatch(/single\.zarr {2}6 chunks/);
    expect(await tdvJson(dir, ["verify", "--json", "v1"])).toMatchObject({ ok: true, chunks: 6, arrays: 1, problems: [] });

    // a chunk object damaged on disk: named by its id, array and index
    const chunk = await fs.readFile(path.join(dir, "single.zarr", "1.0"));
    const id = createHash("sha256").update(chunk).digest("hex");
    const obj = path.join(dir, ".tdv", "chunks", id.slice(0, 2), id.slice(2));
    await fs.chmod(obj, 0o644);
    await fs.writeFile(obj, Buffer.alloc(chunk.length, 0x55));
    const bad = await tdv(dir, ["verify", "v1"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("NOT intact");
    expect(bad.stdout).toMatch(new RegExp(`chunk ${id} at single\\.zarr chunk \\[1,0\\]: object ${id} is corrupt`));
    await fs.writeFile(obj, chunk);

    // protected: not moved or deleted without --force
    const moved = await tdv(dir, ["release", "v1", "HEAD~1", "-m", "again"]);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain("'v1' is a release: it is not moved without --force");
    const del = await tdv(dir, ["tag", "-d", "v1"]);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain("'v1' is a release: it is not deleted without --force");

    // failing data: refused, the failure named, no tag made
    const attrs = path.join(dir, "single.zarr", ".zattrs");
    await fs.writeFile(attrs, (await fs.readFile(attrs, "utf8")).replace('"units": "1"', '"units": "K"'));
    await tdvOk(dir, ["commit", "-a", "-m", "Wrong unit"]);
    const refused = await tdv(dir, ["release", "v2", "-m", "Second"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the rules fail on");
    expect(refused.stderr).toMatch(/single\.zarr.*units/);
    expect((await tdvJson<{ tag: string }[]>(dir, ["log", "--releases", "--json"])).map((x) => x.tag)).toEqual(["v1"]);
  });
});
