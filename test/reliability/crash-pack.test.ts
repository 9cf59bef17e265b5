/**
 * Crash safety of packs: `tdv add -A` and `tdv commit -a` over a group of many
 * small arrays write their Git objects as one packfile (over 64 new objects).
 * Each is SIGKILLed at a random moment. After each kill: `fsck --full` and
 * stock `git fsck` are clean (a half-written pack is a temp file, a pack
 * without its index is ignored), main names the old commit or a new one whose
 * parent is the old one, and running the command again completes it. At the
 * end every commit checks out byte for byte as it was recorded.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, Repository, status } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { tempDir } from "../helpers/fixture.js";
import { looseCount, writeManyArrays } from "../helpers/many-arrays.js";
import { SPOOL_BYTES } from "../../src/store/git.js";
import { backdate, runAgain, expectCommitsAsRecorded, gitFsck, hashTree, killMoment, makeGrid, mutate, randomBytes, readRefFile, rng, crashTrial, runOk, seedFor, startupMs, tdvFsckClean } from "./helpers.js";

const KILLS = Math.round(12 * Number(process.env.TDV_CRASH_SCALE ?? 1));
const ARRAYS = 120;

/** `pad` characters of attributes in each array's metadata: 120 × 100,000 makes the add's pack of metadata pass SPOOL_BYTES (spooled to its file as it grows) */
const writeArrays = (dir: string, next: () => number, round: number, pad = 0) =>
  writeManyArrays(dir, ARRAYS, { chunk: () => randomBytes(next, 8), attrs: (i) => (pad ? { round, i, notes: `${round}.${i} `.repeat(pad / 8) } : { round, i }) });

describe("crash safety: packs", () => {
  it.each([
    ["", 0],
    [" (a pack of 12 MB of metadata, spooled to its file)", 100_000],
  ])(`add and commit of ${ARRAYS} arrays%s killed at ${KILLS} random moments: no broken pack, ref or commit`, { timeout: 300_000 }, async (_label, pad) => {
    expect(ARRAYS * pad === 0 || ARRAYS * pad > SPOOL_BYTES).toBe(true);
    const seed = seedFor(`crash-pack${pad ? "-spooled" : ""}`);
    const next = rng(seed);
    const dir = await tempDir();
    const gitdir = path.join(dir, ".tdv/git");
    await writeArrays(dir, next, 0, pad);
    await runOk(dir, ["init"]);
    await runOk(dir, ["add", "-A"]);
    await runOk(dir, ["commit", "-m", "base"]);
    const recorded = new Map<string, Map<string, string>>([[(await readRefFile(dir, "refs/heads/main")) as string, await hashTree(dir)]]);
    expect((await fsp.readdir(path.join(gitdir, "objects/pack"))).some((f) => f.endsWith(".idx"))).toBe(true);

    const startup = await startupMs(dir);
    // how long unkilled runs take, refreshed by every run that completes
    await writeArrays(dir, next, -1, pad);
    const timings = { add: { ms: (await runOk(dir, ["add", "-A"])).ms }, commit: { ms: (await runOk(dir, ["commit", "-m", "warm-up"])).ms } };
    recorded.set((await readRefFile(dir, "refs/heads/main")) as string, await hashTree(dir));
    const stats = { tried: 0, killed: 0, landedBeforeKill: 0, staleLocks: 0 };
    const repo = await Repository.open({ durability: "none", dir });
    for (let round = 1; stats.killed < KILLS && round <= KILLS * 4; round++) {
      const old = (await readRefFile(dir, "refs/heads/main")) as string;
      await writeArrays(dir, next, round, pad); // every array's metadata and chunk change: over 64 new objects each time
      const snap = await hashTree(dir);
      const context = `round ${round} (TDV_SEED=${seed})`;
      // the staging step (a pack of metadata blobs) or the commit (a pack of trees and manifests), in turn
      const which = round % 2 ? "add" : "commit";
      const args = which === "add" ? ["add", "-A"] : ["commit", "-a", "-m", `r${round}`];
      const timing = timings[which];
      const r = await crashTrial(dir, args, killMoment(next, startup, timing.ms), { stats, timing, context });
      const now = (await readRefFile(dir, "refs/heads/main")) as string;
      if (now !== old) {
        expect((await repo.git.readCommit(now as GitOid)).parents, context).toEqual([old]);
        if (r.killed) stats.landedBeforeKill++;
      } else {
        // finish the round as a user would: the same command, then the commit
        for (const again of which === "add" ? [args, ["commit", "-a", "-m", `r${round}`]] : [args]) {
          const res = await runAgain(dir, again, stats);
          expect(res.code, `${context}: tdv ${again.join(" ")}: ${res.stderr}`).toBe(0);
        }
      }
      const landed = (await readRefFile(dir, "refs/heads/main")) as string;
      expect((await repo.git.readCommit(landed as GitOid)).parents, context).toEqual([old]);
      recorded.set(landed, snap);
    }
    process.stderr.write(`[reliability] crash-pack: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
    await tdvFsckClean(dir);
    await gitFsck(gitdir);

    await expectCommitsAsRecorded(dir, recorded, seed);
  });

  it(`gc moving loose objects into a pack and rewriting old packs, killed at ${Math.ceil(KILLS / 2)} random moments: every commit stays readable`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-gc-pack");
    const next = rng(seed);
    const dir = await tempDir();
    const gitdir = path.join(dir, ".tdv/git");
    const grid = await makeGrid(dir, 40, next);
    const { repo } = await Repository.init({ durability: "none", dir });
    await add(repo, { all: true });
    await commit(repo, { message: "base" });
    /** 25 small commits: a commit, a root tree, an array tree, a manifest tree and shard each, all loose */
    const moreHistory = async () => {
      for (let i = 0; i < 25; i++) {
        await mutate(dir, grid, 1, next);
        await commit(repo, { message: `c${i}`, all: true });
      }
    };
    await moreHistory();
    const startup = await startupMs(dir);
    const timing = { ms: (await runOk(dir, ["gc"])).ms };
    expect(await looseCount(gitdir)).toBeLessThan(10);
    const stats = { tried: 0, killed: 0 };
    /**
     * An old pack gc must rewrite: 70 blobs nothing names beside the blob of a
     * file committed next (made old with every other pack).
     */
    const stalePack = async (round: number) => {
      const notes = `notes of round ${round}\n`;
      const garbage = await repo.git.withPack(async (pack) => {
        const first = await pack.writeBlob(Buffer.from(`garbage ${round}.0\n`));
        for (let i = 1; i < 70; i++) await pack.writeBlob(Buffer.from(`garbage ${round}.${i}\n`));
        await pack.writeBlob(Buffer.from(notes));
        return first;
      });
      await fsp.writeFile(path.join(dir, "NOTES.txt"), notes);
      await add(repo, { paths: ["NOTES.txt"] });
      await commit(repo, { message: `notes ${round}` });
      await backdate(path.join(gitdir, "objects/pack"), new Date(Date.now() - 30 * 86_400_000));
      return garbage;
    };
    for (let round = 0; stats.killed < Math.ceil(KILLS / 2) && round < KILLS * 2; round++) {
      await moreHistory();
      const garbage = await stalePack(round);
      const commits = JSON.parse((await runOk(dir, ["log", "--json"])).stdout).length as number;
      const context = `gc round ${round} (TDV_SEED=${seed})`;
      await crashTrial(dir, ["gc"], killMoment(next, startup, timing.ms), { stats, timing, context });
      // history reads whole from a new process, whatever mix of loose and packed objects the kill left
      expect(JSON.parse((await runOk(dir, ["log", "--json"])).stdout).length, context).toBe(commits);
      expect((await runOk(dir, ["cat", "HEAD", "NOTES.txt"])).stdout, context).toBe(`notes of round ${round}\n`);
      await runOk(dir, ["gc"]); // what a killed gc left to do
      await expect((await Repository.open({ durability: "none", dir })).git.readBlob(garbage), context).rejects.toThrow(/missing/); // the old pack was rewritten
      const again = await runOk(dir, ["gc", "--json"]);
      expect(JSON.parse(again.stdout).removed.gitObjects, context).toBe(0);
      expect(await looseCount(gitdir), context).toBeLessThan(10);
    }
    process.stderr.write(`[reliability] crash-gc-pack: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));
    await tdvFsckClean(dir);
    await gitFsck(gitdir);
    expect((await status(repo)).clean).toBe(true);
  });
});
