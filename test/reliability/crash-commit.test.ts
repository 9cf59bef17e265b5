/**
 * Guarantee 1, commit: `tdv commit -a` on a grid of 600 small chunks is
 * SIGKILLed after a random delay between 0 and the duration of an unkilled
 * run. After each kill: fsck --full and stock `git fsck` are clean, main
 * points to the old commit or to a new one whose parent is the old one, and
 * the next command works (a stale lock is explained and cleared as the
 * message says). At the end every commit in the log is checked out and
 * compared byte for byte with what the working tree held when it was made.
 */
import { readdir, readFile, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkout, Repository, status } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { committedGrid, runAgain, expectCommitsAsRecorded, hashTree, lanes, mutate, readRefFile, rng, run, crashTrial, runOk, seedFor, tdvFsckClean, treeDiff, killMoment, startupMs } from "./helpers.js";

/** kill points; TDV_CRASH_SCALE=10 runs ten times as many */
const KILLS = Math.round(26 * Number(process.env.TDV_CRASH_SCALE ?? 1));
const LANES = 2;

describe("crash safety: tdv commit", () => {
  it(`commit -a killed at ${KILLS} random moments loses nothing and leaves a clean repository`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-commit");
    const all = await lanes(LANES, (lane) => commitLane(seed + lane, Math.ceil(KILLS / LANES)));
    const stats = all.reduce((a, b) => ({ tried: a.tried + b.tried, killed: a.killed + b.killed, landedBeforeKill: a.landedBeforeKill + b.landedBeforeKill, staleLocks: a.staleLocks + b.staleLocks, commitsVerified: a.commitsVerified + b.commitsVerified }));
    process.stderr.write(`[reliability] crash-commit: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
  });

  it("killed at the narrowest window, after the branch moved and before the index is renamed: the next command finishes the commit", { timeout: 60_000 }, async () => {
    // a preload that SIGKILLs the process when it renames a commit's pending index over the index
    const hook = `data:text/javascript,import fs from "node:fs"; const r = fs.promises.rename; fs.promises.rename = function (a, b, ...x) { if (String(a).includes(".tmp-commit-") && /[\\/]index$/.test(String(b))) process.kill(process.pid, "SIGKILL"); return r.call(this, a, b, ...x); };`;
    const next = rng(seedFor("crash-commit-window"));
    const { dir, grid } = await committedGrid(60, next);
    const old = await readRefFile(dir, "refs/heads/main");
    await mutate(dir, grid, 10, next);
    const snap = await hashTree(dir);
    const r = await run(dir, ["commit", "-a", "-m", "edit"], { nodeArgs: ["--import", hook] });
    expect(r.signal, r.stderr).toBe("SIGKILL");
    const now = (await readRefFile(dir, "refs/heads/main")) as string;
    expect(now).not.toBe(old); // the branch moved: the commit landed
    const pending = (await readdir(path.join(dir, ".tdv"))).filter((n) => n.includes(".tmp-commit-"));
    expect(pending).toEqual([`index.tmp-commit-${now}`]);

    // the next command reads the index: the commit is finished, nothing is staged or modified
    const st = JSON.parse((await runOk(dir, ["status", "--json"])).stdout) as { clean: boolean };
    expect(st.clean).toBe(true);
    expect((await readdir(path.join(dir, ".tdv"))).filter((n) => n.includes(".tmp-commit-"))).toEqual([]);
    expect((await run(dir, ["commit", "-a", "-m", "again"])).code).toBe(1); // nothing to commit
    await tdvFsckClean(dir);
    await checkout(await Repository.open({ durability: "none", dir }), { rev: now, force: true });
    expect(treeDiff(await hashTree(dir), snap)).toEqual([]);
  });

  it("a pending index of a commit that never landed is left alone, and gc sweeps it when old", async () => {
    const next = rng(seedFor("crash-commit-orphan"));
    const { dir, grid } = await committedGrid(20, next);
    await mutate(dir, grid, 3, next);
    await runOk(dir, ["add", "-A"]);
    const index = await readFile(path.join(dir, ".tdv/index"));
    // as a commit killed before its branch moved leaves it: an index naming a commit no ref holds
    const orphan = path.join(dir, ".tdv", `index.tmp-commit-${"ab".repeat(20)}`);
    await writeFile(orphan, Buffer.from("not read"));
    const st = JSON.parse((await runOk(dir, ["status", "--json"])).stdout) as { clean: boolean };
    expect(st.clean).toBe(false); // the staged changes are still staged
    expect(await readFile(path.join(dir, ".tdv/index"))).toEqual(index);
    const old = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    await utimes(orphan, old, old);
    await runOk(dir, ["gc"]);
    expect((await readdir(path.join(dir, ".tdv"))).filter((n) => n.includes(".tmp-commit-"))).toEqual([]);
  });
});

async function commitLane(seed: number, kills: number) {
  const next = rng(seed);
  const { dir, grid } = await committedGrid(600, next);
  const recorded = new Map<string, Map<string, string>>();
  recorded.set((await readRefFile(dir, "refs/heads/main")) as string, await hashTree(dir));

  // how long an unkilled commit takes, refreshed by every run that completes
  await mutate(dir, grid, 100, next);
  let snap = await hashTree(dir);
  const timing = { ms: (await runOk(dir, ["commit", "-a", "-m", "warm-up"])).ms };
  const startup = await startupMs(dir);
  recorded.set((await readRefFile(dir, "refs/heads/main")) as string, snap);

  const stats = { tried: 0, killed: 0, landedBeforeKill: 0, staleLocks: 0, commitsVerified: 0 };
  const repo = await Repository.open({ durability: "none", dir });
  // a run that finishes before its kill time counts as a trial, not a kill point: go on until enough kills
  for (let trial = 0; stats.killed < kills && trial < kills * 4; trial++) {
    const old = (await readRefFile(dir, "refs/heads/main")) as string;
    await mutate(dir, grid, 10 + Math.floor(next() * 100), next);
    snap = await hashTree(dir);
    const message = `t${trial}`;
    const context = `commit trial ${trial} (TDV_SEED=${seed})`;
    const r = await crashTrial(dir, ["commit", "-a", "-m", message], killMoment(next, startup, timing.ms), { stats, timing, context });
    if (!r.killed) {
      recorded.set((await readRefFile(dir, "refs/heads/main")) as string, snap);
      continue;
    }
    expect(await readRefFile(dir, "HEAD"), context).toBe("ref: refs/heads/main");
    const now = (await readRefFile(dir, "refs/heads/main")) as string;
    if (now !== old) {
      // the commit landed before the kill: it must be exactly this commit
      const c = await repo.git.readCommit(now as GitOid);
      expect({ parents: c.parents, subject: c.message.split("\n")[0] }, context).toEqual({ parents: [old], subject: message });
      stats.landedBeforeKill++;
      recorded.set(now, snap);
      expect((await status(repo)).clean, context).toBe(true);
      continue;
    }
    // the next command works: the same commit again
    const again = await runAgain(dir, ["commit", "-a", "-m", message], stats);
    expect(again.code, `${context}: ${again.stderr}`).toBe(0);
    timing.ms = (timing.ms + again.ms) / 2;
    const landed = (await readRefFile(dir, "refs/heads/main")) as string;
    expect((await repo.git.readCommit(landed as GitOid)).parents, context).toEqual([old]);
    recorded.set(landed, snap);
  }
  await tdvFsckClean(dir);

  stats.commitsVerified += await expectCommitsAsRecorded(dir, recorded, seed);
  return stats;
}
