/**
 * Guarantee 1, merge and push: `tdv merge` of two branches that changed
 * different chunks of a 600-chunk grid, and `tdv push` of new commits to a
 * file remote, SIGKILLed at random moments.
 *
 * After a killed merge: fsck --full and stock `git fsck` are clean, main is
 * the old commit or the merge commit, the other branch did not move, and
 * running the merge again (after the recovery its error message names, when
 * it refuses) gives exactly the merged tree.
 *
 * After a killed push: the local repository and the remote are fsck-clean
 * (every object reachable from every remote ref is there and intact: a ref is
 * written only after the objects it needs), the remote branch is the old or
 * the new commit, and pushing again completes.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commit, fsck, Repository, reset, status } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { tempDir } from "../helpers/fixture.js";
import { committedGrid, clearStaleLock, gitFsck, hashTree, lanes, mutate, randomBytes, readRefFile, rng, run, crashTrial, runOk, seedFor, tdvFsckClean, treeDiff, killMoment, startupMs } from "./helpers.js";

/** kill points; TDV_CRASH_SCALE=10 runs ten times as many */
const KILLS = Math.round(16 * Number(process.env.TDV_CRASH_SCALE ?? 1));

async function rewrite(dir: string, chunks: string[], next: () => number): Promise<void> {
  await Promise.all(chunks.map((c) => fsp.writeFile(path.join(dir, c), randomBytes(next, 64))));
}

describe("crash safety: tdv merge and tdv push", () => {
  it(`merge killed at ${KILLS} random moments: the merge completes exactly when run again`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-merge");
    const all = await lanes(2, (lane) => mergeLane(seed + lane, Math.ceil(KILLS / 2)));
    const stats = all.reduce((a, b) => ({ tried: a.tried + b.tried, killed: a.killed + b.killed, landedBeforeKill: a.landedBeforeKill + b.landedBeforeKill, refusedThenRecovered: a.refusedThenRecovered + b.refusedThenRecovered, staleLocks: a.staleLocks + b.staleLocks }));
    process.stderr.write(`[reliability] crash-merge: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
  });

  it(`push killed at ${KILLS} random moments: the remote always holds complete history, and pushing again completes`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-push");
    const all = await lanes(2, (lane) => pushLane(seed + lane, Math.ceil(KILLS / 2)));
    const stats = all.reduce((a, b) => ({ tried: a.tried + b.tried, killed: a.killed + b.killed, remoteMovedBeforeKill: a.remoteMovedBeforeKill + b.remoteMovedBeforeKill, staleLocks: a.staleLocks + b.staleLocks }));
    process.stderr.write(`[reliability] crash-push: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
  });
});

async function mergeLane(seed: number, kills: number) {
  const next = rng(seed);
  const { dir, grid } = await committedGrid(600, next);
  await runOk(dir, ["switch", "-c", "theirs"]);
  await rewrite(dir, grid.chunks.slice(0, 200), next);
  await runOk(dir, ["commit", "-a", "-m", "theirs"]);
  const theirsFiles = await hashTree(dir);
  await runOk(dir, ["switch", "main"]);
  await rewrite(dir, grid.chunks.slice(200, 400), next);
  await runOk(dir, ["commit", "-a", "-m", "ours"]);
  const ours = (await readRefFile(dir, "refs/heads/main")) as string;
  const theirs = (await readRefFile(dir, "refs/heads/theirs")) as string;
  const expected = new Map(await hashTree(dir));
  for (const c of grid.chunks.slice(0, 200)) expected.set(c, theirsFiles.get(c) as string);

  const repo = await Repository.open({ durability: "none", dir });
  const stats = { tried: 0, killed: 0, landedBeforeKill: 0, refusedThenRecovered: 0, staleLocks: 0 };
  const timing = { ms: (await runOk(dir, ["merge", "theirs", "-m", "merge"])).ms };
  const startup = await startupMs(dir);
  for (let trial = 0; stats.killed < kills && trial < kills * 4; trial++) {
    await reset(repo, { rev: ours, mode: "hard" });
    const context = `merge trial ${trial} (TDV_SEED=${seed})`;
    const r = await crashTrial(dir, ["merge", "theirs", "-m", "merge"], killMoment(next, startup, timing.ms), { stats, timing, context });
    if (r.killed) {
      expect(await readRefFile(dir, "refs/heads/theirs"), context).toBe(theirs);
      const now = (await readRefFile(dir, "refs/heads/main")) as string;
      if (now !== ours) {
        expect((await repo.git.readCommit(now as GitOid)).parents, context).toEqual([ours, theirs]);
        stats.landedBeforeKill++;
      }
      // the next command: the same merge again; when it refuses, what it says to do, then the merge again
      let again = await run(dir, ["merge", "theirs", "-m", "merge"]);
      for (let step = 0; again.code !== 0 && step < 4; step++) {
        // killed while it held a ref lock: the message says how to clear it (checked), as a user would
        if (await clearStaleLock(again, dir)) {
          stats.staleLocks++;
          again = await run(dir, ["merge", "theirs", "-m", "merge"]);
          continue;
        }
        // it refuses: its hint must name a way out, which is taken as a user would
        expect(again.stderr, context).toMatch(/^error: /m);
        const way = /`tdv merge --abort`/.test(again.stderr) ? "--abort" : /`tdv merge --quit`/.test(again.stderr) ? "--quit" : null;
        expect(way, `${context}: the message names no way out:\n${again.stderr}`).not.toBeNull();
        if (step === 0) stats.refusedThenRecovered++;
        const out = await run(dir, ["merge", way as string]);
        again = out.code === 0 ? await run(dir, ["merge", "theirs", "-m", "merge"]) : out;
      }
      expect(again.code, `${context}: ${again.stderr}`).toBe(0);
    }
    const merged = (await readRefFile(dir, "refs/heads/main")) as string;
    expect((await repo.git.readCommit(merged as GitOid)).parents, context).toEqual([ours, theirs]);
    expect(treeDiff(await hashTree(dir), expected), context).toEqual([]);
    expect((await status(repo)).clean, context).toBe(true);
  }
  await tdvFsckClean(dir);
  return stats;
}

/** fsck of a file remote: it has a repository's layout, so a working copy pointing at it (`.tdv` file) opens it. */
async function remoteFsck(remote: string, context: string, full = false): Promise<void> {
  const probe = await tempDir();
  await fsp.writeFile(path.join(probe, ".tdv"), `tdvdir: ${remote}\n`);
  const res = await fsck(await Repository.open({ durability: "none", dir: probe }), { full });
  expect(res.problems, `remote fsck after ${context}`).toEqual([]);
  await gitFsck(path.join(remote, "git"));
}

async function pushLane(seed: number, kills: number) {
  const next = rng(seed);
  const root = await tempDir();
  const dir = path.join(root, "wc");
  const remote = path.join(root, "remote");
  await fsp.mkdir(dir);
  const { grid } = await committedGrid(600, next, dir);
  await runOk(dir, ["remote", "add", "origin", remote]);
  await runOk(dir, ["push", "origin", "main"]);
  const repo = await Repository.open({ durability: "none", dir });
  const remoteRef = () => fsp.readFile(path.join(remote, "git/refs/heads/main"), "utf8").then((t) => t.trim(), () => null);

  const stats = { tried: 0, killed: 0, remoteMovedBeforeKill: 0, staleLocks: 0 };
  await mutate(dir, grid, 100, next);
  await runOk(dir, ["commit", "-a", "-m", "warm-up"]);
  const timing = { ms: (await runOk(dir, ["push", "origin", "main"])).ms };
  const startup = await startupMs(dir);
  for (let trial = 0; stats.killed < kills && trial < kills * 4; trial++) {
    await mutate(dir, grid, 30 + Math.floor(next() * 120), next);
    await commit(repo, { all: true, message: `t${trial}` });
    const local = (await readRefFile(dir, "refs/heads/main")) as string;
    const old = await remoteRef();
    const context = `push trial ${trial} (TDV_SEED=${seed})`;
    // push writes no local object: fsck without re-hashing, here and on the remote, where
    // every object a ref reaches must be present (a size check for chunks); --full at the end
    const checkKilled = async () => {
      expect((await fsck(repo)).problems, context).toEqual([]);
      await gitFsck(path.join(dir, ".tdv/git"));
      await remoteFsck(remote, context);
    };
    const r = await crashTrial(dir, ["push", "origin", "main"], killMoment(next, startup, timing.ms), { stats, timing, context, checkKilled });
    if (r.killed) {
      const now = await remoteRef();
      expect([old, local], context).toContain(now);
      if (now === local) stats.remoteMovedBeforeKill++;
      let again = await run(dir, ["push", "origin", "main"]);
      for (let lock = /lock file (\S+\.lock)/.exec(again.stderr)?.[1]; again.code !== 0 && lock; lock = /lock file (\S+\.lock)/.exec(again.stderr)?.[1]) {
        // a lock the killed push left (on the remote's ref, or the local remote-tracking ref):
        // the message says which and how to clear it
        expect(again.stderr, context).toContain(`rm '${lock}'`);
        expect(lock.startsWith(remote) || lock.startsWith(path.join(dir, ".tdv")), `${context}: ${lock}`).toBe(true);
        await fsp.rm(lock);
        stats.staleLocks++;
        again = await run(dir, ["push", "origin", "main"]);
      }
      expect(again.code, `${context}: ${again.stderr}`).toBe(0);
    }
    expect(await remoteRef(), context).toBe(local);
  }
  await remoteFsck(remote, "the last push", true);
  await tdvFsckClean(dir);
  return stats;
}
