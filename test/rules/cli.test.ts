/** Rules from the command line: `tdv commit` refused, `--no-verify` recorded, `tdv check` and its JSON. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { RULES, T2M, writeChunk, writeForecast } from "./dataset.js";

describe("tdv commit and tdv check with rules", () => {
  it("refuse a NaN-filled forecast on a protected branch, record --no-verify, and report it", async () => {
    const dir = await tempDir();
    await writeForecast(dir);
    await writeChunk(path.join(dir, T2M), "<f4", [2, 0], [Number.NaN, Number.NaN]);
    await fsp.writeFile(path.join(dir, "tdv-rules.toml"), RULES);
    await tdvOk(dir, ["init", "-q"]);
    await tdvOk(dir, ["add", "-A"]);
    const refused = await tdv(dir, ["commit", "-m", "forecast"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("commit refused: the result breaks 1 rule of tdv-rules.toml for branch 'main':");
    expect(refused.stderr).toContain("fc.zarr/t2m chunk [2,0] (time 2024-01-03, lat 10): max_nan_fraction: 2 of 2 values are NaN (100%, at most 0% allowed)");
    expect(refused.stderr).toContain("`--no-verify` overrides");

    await tdvOk(dir, ["commit", "-q", "--no-verify", "-m", "forecast"]);
    const check = await tdv(dir, ["check"]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^fc\.zarr\/t2m chunk \[2,0\] \(time 2024-01-03, lat 10\): max_nan_fraction: .*\n[0-9a-f]{7,}: 1 failure \(2 arrays checked, 5 chunks read\)\n$/);
    const json = await tdv(dir, ["check", "--json", "HEAD"]);
    expect(json.code).toBe(1);
    const v = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(v).sort()).toEqual(["arraysChecked", "chunksRead", "commit", "failures", "passed", "rules", "since"]);
    expect(v).toMatchObject({ passed: false, failures: [{ rule: "max_nan_fraction", array: T2M, chunk: [2, 0], coords: { time: "2024-01-03", lat: 10 } }] });
    expect((await tdvOk(dir, ["log", "-n", "1"])).stdout).toContain("Tdv-No-Verify: 1 rule failure");
    expect((await tdv(dir, ["check", "--changed-since"])).code).toBe(2);
  });
});
