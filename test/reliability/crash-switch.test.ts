/**
 * Guarantee 1, switch: `tdv switch` between two branches that differ in 300
 * of 600 chunks (and in files that exist on one side only) is SIGKILLed at
 * random moments. After each kill: fsck --full and stock `git fsck` are clean,
 * no branch moved, HEAD names one of the two branches, and running the switch
 * again completes it: the working tree is then exactly the target branch and
 * `tdv status` is clean.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Repository, status } from "../../src/index.js";
import { committedGrid, runAgain, hashTree, lanes, mutate, readRefFile, rng, crashTrial, runOk, seedFor, tdvFsckClean, treeDiff, killMoment, startupMs } from "./helpers.js";

/** kill points; TDV_CRASH_SCALE=10 runs ten times as many */
const KILLS = Math.round(22 * Number(process.env.TDV_CRASH_SCALE ?? 1));
const LANES = 2;

describe("crash safety: tdv switch", () => {
  it(`switch killed at ${KILLS} random moments: re-running it completes the switch exactly`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-switch");
    const all = await lanes(LANES, (lane) => switchLane(seed + lane, Math.ceil(KILLS / LANES)));
    const stats = all.reduce((a, b) => ({ tried: a.tried + b.tried, killed: a.killed + b.killed, headMoved: a.headMoved + b.headMoved, staleLocks: a.staleLocks + b.staleLocks }));
    process.stderr.write(`[reliability] crash-switch: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
  });
});

async function switchLane(seed: number, kills: number) {
  const next = rng(seed);
  const { dir, grid } = await committedGrid(600, next);
  const trees = new Map<string, Map<string, string>>([["main", await hashTree(dir)]]);
  await runOk(dir, ["switch", "-c", "other"]);
  await mutate(dir, grid, 300, next);
  // files only on `other`: the switch back deletes them, the switch there creates them
  await fsp.mkdir(path.join(dir, "extra/deep"), { recursive: true });
  for (let i = 0; i < 50; i++) await fsp.writeFile(path.join(dir, `extra/deep/f${i}.txt`), `only on other ${i}`);
  await fsp.rm(path.join(dir, grid.chunks[0] as string));
  await runOk(dir, ["add", "-A"]);
  await runOk(dir, ["commit", "-m", "other"]);
  trees.set("other", await hashTree(dir));
  const refs = { main: await readRefFile(dir, "refs/heads/main"), other: await readRefFile(dir, "refs/heads/other") };

  const timing = { ms: (await runOk(dir, ["switch", "main"])).ms };
  const startup = await startupMs(dir);
  let current = "main";
  const stats = { tried: 0, killed: 0, headMoved: 0, staleLocks: 0 };
  // a run that finishes before its kill time counts as a trial, not a kill point: go on until enough kills
  for (let trial = 0; stats.killed < kills && trial < kills * 4; trial++) {
    const target = current === "main" ? "other" : "main";
    const context = `switch trial ${trial} to ${target} (TDV_SEED=${seed})`;
    const r = await crashTrial(dir, ["switch", target], killMoment(next, startup, timing.ms), { stats, timing, context });
    if (r.killed) {
      expect({ main: await readRefFile(dir, "refs/heads/main"), other: await readRefFile(dir, "refs/heads/other") }, context).toEqual(refs);
      const head = await readRefFile(dir, "HEAD");
      expect([`ref: refs/heads/${current}`, `ref: refs/heads/${target}`], context).toContain(head);
      if (head === `ref: refs/heads/${target}`) stats.headMoved++;
      // the next command works: the same switch again
      const again = await runAgain(dir, ["switch", target], stats);
      expect(again.code, `${context}: ${again.stdout}${again.stderr}`).toBe(0);
      if (!/Already on/.test(again.stderr)) timing.ms = (timing.ms + again.ms) / 2;
    }
    current = target;
    expect(await readRefFile(dir, "HEAD"), context).toBe(`ref: refs/heads/${target}`);
    expect(treeDiff(await hashTree(dir), trees.get(target) as Map<string, string>), context).toEqual([]);
    expect((await status(await Repository.open({ durability: "none", dir }))).clean, context).toBe(true);
  }
  await tdvFsckClean(dir);
  return stats;
}
