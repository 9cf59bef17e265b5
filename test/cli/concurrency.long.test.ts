/** Two processes at once, and time travel through the reflog. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { committed, tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, makeFixture } from "../helpers/fixture.js";

describe.concurrent("two commits racing on one branch", () => {
  it("both land, or one lands and the other fails with 'branch moved': no commit is ever lost", async () => {
    const dir = await committed("v2/single.zarr");
    for (let round = 0; round < 3; round++) {
      await fsp.writeFile(path.join(dir, "single.zarr/0.0"), `round ${round}`);
      await tdvOk(dir, ["add", "single.zarr"]);
      // real durability here: the race is about the ref update, which fsync slows down
      const env = { TDV_FSYNC: "1" };
      const [a, b] = await Promise.all([
        tdv(dir, ["commit", "--allow-empty", "-m", `a${round}`], { env }),
        tdv(dir, ["commit", "--allow-empty", "-m", `b${round}`], { env }),
      ]);
      const reported: string[] = [];
      for (const r of [a, b]) {
        if (r.code === 0) {
          const m = /^\[main ([0-9a-f]{7})\] /m.exec(r.stdout);
          expect(m, r.stdout).not.toBeNull();
          reported.push(m?.[1] as string);
        } else {
          expect(r.code).toBe(1);
          // the other commit held the working copy, or landed first
          expect(r.stderr).toMatch(/^error: (branch moved: refs\/heads\/main is now at [0-9a-f]+, expected [0-9a-f]+|another tdv command is running in this working copy)/m);
          expect(r.stderr).toMatch(/^hint: (another commit landed first|wait for it to finish)/m);
        }
      }
      expect(reported.length).toBeGreaterThanOrEqual(1);
      const history = (await tdvJson<{ oid: string; parents: string[] }[]>(dir, ["log", "--json"])).map((e) => e.oid.slice(0, 7));
      for (const oid of reported) expect(history).toContain(oid);
      // the history is a chain: the commits that landed this round are the newest ones
      expect(history.slice(0, reported.length).sort()).toEqual([...reported].sort());
    }
  });
});

describe.concurrent("BRANCH@{DATE}", () => {
  it("checks out what the branch was at a time between two commits", async () => {
    // the branch's moves are dated (the reflog takes the author date): no waiting for the clock
    const at = (hour: number) => ({ env: { TDV_AUTHOR_DATE: new Date(Date.UTC(2026, 0, 1, hour)).toISOString() } });
    const dir = path.dirname(await makeFixture("v3/sharded.zarr"));
    await tdvOk(dir, ["init"], at(9));
    await tdvOk(dir, ["add", "-A"], at(9));
    await tdvOk(dir, ["commit", "-m", "import"], at(10));
    const first = await listFiles(dir);
    const between = new Date(Date.UTC(2026, 0, 1, 11));
    await fsp.writeFile(path.join(dir, "sharded.zarr/temperature/c/0/0"), "rewritten shard");
    await tdvOk(dir, ["commit", "-a", "-m", "second"], at(12));
    const second = await listFiles(dir);
    expect(second).not.toEqual(first);

    const co = await tdvOk(dir, ["checkout", `main@{${between.toISOString()}}`]);
    expect(co.stdout).toMatch(/^HEAD is now at [0-9a-f]{7} import/m);
    expect(await listFiles(dir)).toEqual(first);
    expect((await tdvOk(dir, ["log", "--oneline", "main@{1}"])).stdout).toMatch(/^[0-9a-f]{7} \(HEAD\) import$/m);
    const tooEarly = await tdv(dir, ["show", "main@{2001-01-01}"]);
    expect(tooEarly.code).toBe(1);
    expect(tooEarly.stderr).toContain("unknown revision");
    await tdvOk(dir, ["switch", "main"]);
    expect(await listFiles(dir)).toEqual(second);
  });
});
