/**
 * Crash safety of the two-thread paths: `tdv add -A` of 80 files of 250 kB
 * (over the thresholds at which a worker thread stores chunk objects beside
 * the main thread) and `tdv checkout --force` of such a tree (a worker copies
 * objects into the working tree) are SIGKILLed at random moments. After each
 * kill: `fsck --full` and stock `git fsck` are clean (a worker's half-written
 * object or working file is a temp file), main is unmoved or names a complete
 * commit, and the command run again completes. At the end every commit
 * checks out byte for byte as it was recorded.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { crashTrial, expectCommitsAsRecorded, hashTree, killMoment, randomBytes, readRefFile, rng, runAgain, runOk, seedFor, startupMs, treeDiff } from "./helpers.js";

const KILLS = Math.round(8 * Number(process.env.TDV_CRASH_SCALE ?? 1));
const FILES = 80;
const SIZE = 250_000;

async function writeFiles(dir: string, next: () => number): Promise<void> {
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, "data", String(i % 8));
    await fsp.mkdir(sub, { recursive: true });
    // a random prefix, then zeros: distinct objects, cheap to make
    const bytes = Buffer.alloc(SIZE);
    randomBytes(next, 64).copy(bytes);
    await fsp.writeFile(path.join(sub, `f${i}.bin`), bytes);
  }
}

describe("crash safety: work shared with a worker thread", () => {
  it(`add of ${FILES} × 250 kB and checkouts of such trees, killed at ${KILLS} random moments each: nothing broken, nothing lost`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-threads");
    const next = rng(seed);
    const dir = await tempDir();
    await writeFiles(dir, next);
    await runOk(dir, ["init"]);
    await runOk(dir, ["add", "-A"]);
    await runOk(dir, ["commit", "-m", "base"]);
    const base = (await readRefFile(dir, "refs/heads/main")) as string;
    const recorded = new Map<string, Map<string, string>>([[base, await hashTree(dir)]]);
    const startup = await startupMs(dir);
    await writeFiles(dir, next);
    const timings = { add: { ms: (await runOk(dir, ["add", "-A"])).ms }, checkout: { ms: 0 } };
    await runOk(dir, ["commit", "-m", "warm-up"]);
    recorded.set((await readRefFile(dir, "refs/heads/main")) as string, await hashTree(dir));
    timings.checkout.ms = (await runOk(dir, ["checkout", "--force", base])).ms;
    await runOk(dir, ["checkout", "--force", "main"]);

    const stats = { tried: 0, killed: 0, staleLocks: 0 };
    for (let round = 1; stats.killed < KILLS && round <= KILLS * 4; round++) {
      const context = `add, round ${round} (TDV_SEED=${seed})`;
      const old = (await readRefFile(dir, "refs/heads/main")) as string;
      await writeFiles(dir, next);
      const snap = await hashTree(dir);
      await crashTrial(dir, ["add", "-A"], killMoment(next, startup, timings.add.ms), { stats, timing: timings.add, context });
      expect(await readRefFile(dir, "refs/heads/main"), context).toBe(old); // add never moves a branch
      const again = await runAgain(dir, ["add", "-A"], stats);
      expect(again.code, `${context}: ${again.stderr}`).toBe(0);
      await runOk(dir, ["commit", "-m", `r${round}`]);
      recorded.set((await readRefFile(dir, "refs/heads/main")) as string, snap);
    }
    const checkouts = { tried: 0, killed: 0, staleLocks: 0 };
    for (let round = 1; checkouts.killed < KILLS && round <= KILLS * 4; round++) {
      const target = round % 2 ? base : "main";
      const context = `checkout ${target}, round ${round} (TDV_SEED=${seed})`;
      await crashTrial(dir, ["checkout", "--force", target], killMoment(next, startup, timings.checkout.ms), { stats: checkouts, timing: timings.checkout, context });
      const again = await runAgain(dir, ["checkout", "--force", target], checkouts);
      expect(again.code, `${context}: ${again.stderr}`).toBe(0);
      const want = recorded.get(target === "main" ? ((await readRefFile(dir, "refs/heads/main")) as string) : base) as Map<string, string>;
      expect(treeDiff(await hashTree(dir), want), context).toEqual([]);
    }
    process.stderr.write(`[reliability] crash-threads: ${JSON.stringify({ add: stats, checkout: checkouts })}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
    expect(checkouts.killed).toBeGreaterThanOrEqual(KILLS);
    await runOk(dir, ["checkout", "--force", "main"]);
    await expectCommitsAsRecorded(dir, recorded, seed);
  });
});
