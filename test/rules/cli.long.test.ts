/**
 * The four broken forecasts, each refused by the built CLI at commit,
 * at merge and at push to a protected branch (a file remote), with the array,
 * chunk and coordinates named; the same data passes on an unprotected branch;
 * `--no-verify` is recorded in the commit.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { RULES, T2M, writeChunk, writeForecast } from "./dataset.js";

interface Case {
  name: string;
  breakIt: (dir: string) => Promise<void>;
  says: string;
}

const CASES: Case[] = [
  {
    name: "a NaN-filled forecast",
    breakIt: (dir) => writeChunk(path.join(dir, T2M), "<f4", [2, 0], [Number.NaN, Number.NaN]),
    says: "fc.zarr/t2m chunk [2,0] (time 2024-01-03, lat 10): max_nan_fraction: 2 of 2 values are NaN",
  },
  {
    name: "a metadata update without its data",
    breakIt: async (dir) => {
      for (const [a, shape, chunks] of [[T2M, [6, 2], [1, 2]], ["fc.zarr/time", [6], [6]]] as const) {
        const file = path.join(dir, a, ".zarray");
        const z = JSON.parse(await fsp.readFile(file, "utf8"));
        await fsp.writeFile(file, JSON.stringify({ ...z, shape, chunks }));
      }
      await writeChunk(path.join(dir, "fc.zarr/time"), "<f8", [0], [0, 1, 2, 3, 4, 5]);
    },
    says: "fc.zarr/t2m chunk [4,0] (time 2024-01-05, lat 10): max_nan_fraction: 2 of 2 values are NaN (100%, at most 0% allowed) (no chunk stored: the fill value)",
  },
  {
    name: "a missing time step",
    breakIt: (dir) => fsp.rm(path.join(dir, T2M, "1.0")),
    says: "fc.zarr/t2m chunk [1,0] (time 2024-01-02): complete_along: no chunk stored at time chunk 1, before the last written one (3): a missing time step",
  },
  {
    name: "a wrong unit",
    breakIt: (dir) => fsp.writeFile(path.join(dir, T2M, ".zattrs"), JSON.stringify({ _ARRAY_DIMENSIONS: ["time", "lat"], units: "degC" })),
    says: 'fc.zarr/t2m: attrs: attribute "units" is "degC", the rules want "K"',
  },
];

/** A repository holding the forecast and the rules, committed on main, and the path of a folder remote for it. */
async function forecastRepo(): Promise<{ dir: string; remote: string }> {
  const dir = await tempDir();
  const remote = path.join(await tempDir(), "remote");
  await writeForecast(dir);
  await fsp.writeFile(path.join(dir, "tdv-rules.toml"), RULES);
  await tdvOk(dir, ["init", "-q"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-q", "-m", "forecast"]);
  return { dir, remote };
}

describe("rules at commit, merge and push, from the command line", () => {
  for (const c of CASES) {
    it(`refuse ${c.name} on the protected branch, and pass it on another`, async () => {
      const { dir, remote } = await forecastRepo();
      await tdvOk(dir, ["push", "-q", remote, "main"]);

      // commit
      await c.breakIt(dir);
      await tdvOk(dir, ["add", "-A"]);
      const atCommit = await tdv(dir, ["commit", "-m", c.name]);
      expect(atCommit.code).toBe(1);
      expect(atCommit.stderr).toContain("commit refused");
      expect(atCommit.stderr).toContain(c.says);
      // the same data on an unprotected branch: committed (the staged change goes with the switch)
      await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
      await tdvOk(dir, ["commit", "-q", "-m", c.name]);
      await tdvOk(dir, ["switch", "-q", "main"]);

      // merge (a fast-forward, and a merge commit)
      const atMerge = await tdv(dir, ["merge", "feature"]);
      expect(atMerge.code).toBe(1);
      expect(atMerge.stderr).toContain("merge refused");
      expect(atMerge.stderr).toContain(c.says);
      const atMergeCommit = await tdv(dir, ["merge", "--no-ff", "feature"]);
      expect(atMergeCommit.stderr).toContain(c.says);
      await tdvOk(dir, ["merge", "-q", "--no-ff", "--no-verify", "feature"]);
      expect((await tdvOk(dir, ["log", "-n", "1"])).stdout).toMatch(/Tdv-No-Verify: \d+ rule failures?/);

      // push
      const atPush = await tdv(dir, ["push", remote, "main"]);
      expect(atPush.code).toBe(1);
      expect(atPush.stderr).toContain("push refused");
      expect(atPush.stderr).toContain(c.says);
      await tdvOk(dir, ["push", "-q", "--no-verify", remote, "main"]);
    }, 180_000);
  }

  it("a protected branch refuses --force, saying why; --changed-since checks from a given revision", async () => {
    const { dir, remote } = await forecastRepo();
    await fsp.writeFile(path.join(dir, "README.md"), "one\n");
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-q", "-m", "readme"]);
    await tdvOk(dir, ["push", "-q", remote, "main"]);
    await tdvOk(dir, ["reset", "-q", "--hard", "HEAD~1"]);
    await fsp.writeFile(path.join(dir, "README.md"), "two\n");
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-q", "-m", "other readme"]);
    const forced = await tdv(dir, ["push", "--force", remote, "main"]);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain("branch 'main' is protected");
    expect(forced.stderr).toContain("--force cannot move it");
    const v = JSON.parse((await tdvOk(dir, ["check", "--json", "--changed-since", "HEAD~1"])).stdout) as { passed: boolean; chunksRead: number };
    expect(v).toMatchObject({ passed: true, chunksRead: 0 });
  }, 120_000);
});
