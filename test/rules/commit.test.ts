/** Rules at commit and `tdv check`: the built CLI on a small v2 forecast. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { RULES, T2M, writeChunk, writeForecast } from "./dataset.js";

async function repoWithRules(rules = RULES): Promise<string> {
  const dir = await tempDir();
  await writeForecast(dir);
  await fsp.writeFile(path.join(dir, "tdv-rules.toml"), rules);
  await tdvOk(dir, ["init", "-q"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-q", "-m", "forecast"]);
  return dir;
}

interface Verdict {
  commit: string;
  rules: string | null;
  passed: boolean;
  failures: { rule: string; array: string; message: string; chunk?: number[]; coords?: Record<string, string | number> }[];
  arraysChecked: number;
  chunksRead: number;
  since: string | null;
}

describe("tdv check", () => {
  it("passes a clean forecast, and names array, chunk and coordinates of a NaN-filled one", async () => {
    const dir = await repoWithRules();
    const ok = await tdvJson<Verdict>(dir, ["check", "--json"]);
    expect(ok).toMatchObject({ passed: true, failures: [], since: null });
    expect(ok.rules).toMatch(/^[0-9a-f]{40}$/);
    expect(ok.chunksRead).toBe(5); // t2m's four chunks, time's one (monotonic)

    // a pipeline fills time step 2 with NaN; committed past the rules, then checked
    await writeChunk(path.join(dir, T2M), "<f4", [2, 0], [Number.NaN, Number.NaN]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-q", "--no-verify", "-m", "nan"]);
    const r = await tdv(dir, ["check"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("fc.zarr/t2m chunk [2,0] (time 2024-01-03, lat 10): max_nan_fraction: 2 of 2 values are NaN");
    const v = JSON.parse((await tdv(dir, ["check", "--json"])).stdout) as Verdict;
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([expect.objectContaining({ rule: "max_nan_fraction", array: T2M, chunk: [2, 0], coords: { time: "2024-01-03", lat: 10 } })]);
    // incremental from the passed parent: only the changed chunk is read
    expect(v.since).toBe(ok.commit);
    expect(v.chunksRead).toBe(1);
    expect((await tdv(dir, ["check", "-q"])).stdout).toBe("");
    expect((await tdv(dir, ["check", "-q", "HEAD~1"])).code).toBe(0);
  });

  it("without a rules file there is nothing to check", async () => {
    const dir = await tempDir();
    await writeForecast(dir);
    await tdvOk(dir, ["init", "-q"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-q", "-m", "x"]);
    const v = await tdvJson<Verdict>(dir, ["check", "--json"]);
    expect(v).toMatchObject({ passed: true, rules: null, arraysChecked: 0 });
  });
});

describe("rules at commit", () => {
  it("refuse a NaN-filled forecast on a protected branch: nothing moves, the index keeps the change", async () => {
    const dir = await repoWithRules();
    const head = (await tdvOk(dir, ["rev-parse", "HEAD"]).catch(() => null))?.stdout;
    await writeChunk(path.join(dir, T2M), "<f4", [1, 0], [Number.NaN, 281]);
    await tdvOk(dir, ["add", "-A"]);
    const r = await tdv(dir, ["commit", "-m", "nan"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("commit refused");
    expect(r.stderr).toContain("fc.zarr/t2m chunk [1,0] (time 2024-01-02, lat 10): max_nan_fraction: 1 of 2 values are NaN (50%");
    expect(r.stderr).toContain("--no-verify");
    const log = await tdvJson<unknown[]>(dir, ["log", "--json"]);
    expect(log).toHaveLength(1);
    if (head) expect((await tdvOk(dir, ["rev-parse", "HEAD"])).stdout).toBe(head);
    const st = (await tdvOk(dir, ["status"])).stdout;
    expect(st).toMatch(/fc\.zarr\/t2m/);
    // --no-verify lands it, and says so in the commit
    await tdvOk(dir, ["commit", "-q", "--no-verify", "-m", "nan"]);
    const show = (await tdvOk(dir, ["log", "-n", "1"])).stdout;
    expect(show).toContain("Tdv-No-Verify: 1 rule failure");
  });

  it("refuse a wrong unit, a missing time step and a grown shape without data", async () => {
    const dir = await repoWithRules();
    // a wrong unit
    const zattrs = path.join(dir, T2M, ".zattrs");
    await fsp.writeFile(zattrs, JSON.stringify({ _ARRAY_DIMENSIONS: ["time", "lat"], units: "degC" }));
    await tdvOk(dir, ["add", "-A"]);
    let r = await tdv(dir, ["commit", "-m", "units"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fc.zarr/t2m: attrs: attribute "units" is "degC", the rules want "K"');
    await fsp.writeFile(zattrs, JSON.stringify({ _ARRAY_DIMENSIONS: ["time", "lat"], units: "K" }));
    // a missing time step: chunk 1 deleted, 0, 2 and 3 kept
    await fsp.rm(path.join(dir, T2M, "1.0"));
    await tdvOk(dir, ["add", "-A"]);
    r = await tdv(dir, ["commit", "-m", "gap"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("fc.zarr/t2m chunk [1,0] (time 2024-01-02): complete_along: no chunk stored at time chunk 1, before the last written one (3)");
    await writeChunk(path.join(dir, T2M), "<f4", [1, 0], [280, 280]);
    // metadata grown to 6 steps, no data written for them (and time grown with it)
    const zarray = JSON.parse(await fsp.readFile(path.join(dir, T2M, ".zarray"), "utf8"));
    zarray.shape = [6, 2];
    await fsp.writeFile(path.join(dir, T2M, ".zarray"), JSON.stringify(zarray));
    const tz = JSON.parse(await fsp.readFile(path.join(dir, "fc.zarr/time/.zarray"), "utf8"));
    tz.shape = [6];
    tz.chunks = [6];
    await fsp.writeFile(path.join(dir, "fc.zarr/time/.zarray"), JSON.stringify(tz));
    await writeChunk(path.join(dir, "fc.zarr/time"), "<f8", [0], [0, 1, 2, 3, 4, 5]);
    await tdvOk(dir, ["add", "-A"]);
    r = await tdv(dir, ["commit", "-m", "grown"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("fc.zarr/t2m chunk [4,0] (time 2024-01-05, lat 10): max_nan_fraction: 2 of 2 values are NaN (100%, at most 0% allowed) (no chunk stored: the fill value)");
    expect(r.stderr).toContain("fc.zarr/t2m chunk [5,0]");
    expect(await tdvJson<unknown[]>(dir, ["log", "--json"])).toHaveLength(1);
  });

  it("let the same data through on an unprotected branch", async () => {
    const dir = await repoWithRules();
    await tdvOk(dir, ["switch", "-c", "scratch"]);
    await writeChunk(path.join(dir, T2M), "<f4", [1, 0], [Number.NaN, 281]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-q", "-m", "nan on scratch"]);
    expect((await tdvOk(dir, ["log", "-n", "1"])).stdout).not.toContain("Tdv-No-Verify");
    expect((await tdv(dir, ["check", "-q"])).code).toBe(1);
  });
});
