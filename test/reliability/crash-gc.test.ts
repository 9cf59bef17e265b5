/**
 * Guarantee 1, gc: `tdv gc --prune=1.day.ago` is SIGKILLed at random moments
 * while it deletes hundreds of old unreachable objects (chunks, blobs, trees,
 * commits) from a repository whose every needed object is just as old (so
 * only reachability protects them) and which also holds young garbage (which
 * the grace period protects). After each kill: fsck --full and stock
 * `git fsck` are clean, no ref moved, no young object is gone, and the next
 * gc completes and leaves no old garbage.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Repository } from "../../src/index.js";
import { sha256, type GitOid } from "../../src/format/hash.js";
import { committedGrid, backdate, lanes, mutate, randomBytes, rng, crashTrial, runOk, seedFor, tdvFsckClean, killMoment, startupMs } from "./helpers.js";

/** kill points; TDV_CRASH_SCALE=10 runs ten times as many */
const KILLS = Math.round(20 * Number(process.env.TDV_CRASH_SCALE ?? 1));
const LANES = 2;
const DAY = 24 * 3600 * 1000;

describe("crash safety: tdv gc", () => {
  it(`gc killed at ${KILLS} random moments deletes only garbage`, { timeout: 300_000 }, async () => {
    const seed = seedFor("crash-gc");
    const all = await lanes(LANES, (lane) => gcLane(seed + lane, Math.ceil(KILLS / LANES)));
    const stats = all.reduce((a, b) => ({ tried: a.tried + b.tried, killed: a.killed + b.killed, garbageWritten: a.garbageWritten + b.garbageWritten }));
    process.stderr.write(`[reliability] crash-gc: ${JSON.stringify(stats)}\n`);
    expect(stats.killed).toBeGreaterThanOrEqual(KILLS);
  });
});

async function refState(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const gitdir = path.join(dir, ".tdv/git");
  for (const f of ["HEAD", ...(await fsp.readdir(path.join(gitdir, "refs"), { recursive: true })).map((r) => `refs/${r}`)]) {
    const text = await fsp.readFile(path.join(gitdir, f), "utf8").catch(() => null);
    if (text !== null) out.set(f, text);
  }
  return out;
}

async function gcLane(seed: number, kills: number) {
  const next = rng(seed);
  const { dir, gitdir, grid } = await committedGrid(600, next);
  await runOk(dir, ["switch", "-c", "side"]);
  await mutate(dir, grid, 200, next);
  await runOk(dir, ["commit", "-a", "-m", "side"]);
  await runOk(dir, ["switch", "main"]);
  await mutate(dir, grid, 100, next);
  await runOk(dir, ["commit", "-a", "-m", "main 2"]);
  const repo = await Repository.open({ durability: "none", dir });
  const refs = await refState(dir);
  const old = new Date(Date.now() - 30 * DAY);

  // every object the repository needs is as old as the garbage: only reachability protects it
  await backdate(path.join(dir, ".tdv"), old);
  const objectFile = (oid: string) => path.join(gitdir, "objects", oid.slice(0, 2), oid.slice(2));

  /** Old garbage: chunks, blobs, a tree of them and a commit of the tree; and a little young garbage. */
  const young: string[] = [];
  let garbage: string[] = [];
  const makeGarbage = async () => {
    const n = 120 + Math.floor(next() * 200);
    const entries = [];
    garbage = [];
    for (let i = 0; i < n; i++) {
      const b = randomBytes(next, 64);
      await repo.chunks.put(sha256(b), b);
      garbage.push(repo.chunks.pathOf(sha256(b)));
      if (i % 10 === 0) entries.push({ mode: "100644" as const, name: `g${i}`, oid: await repo.git.writeBlob(randomBytes(next, 32)) });
    }
    const tree = await repo.git.writeTree(entries);
    const c = await repo.git.writeCommit({ tree, parents: [], author: repo.identity(), committer: repo.identity(), message: `garbage ${n}\n` });
    garbage.push(...[...entries.map((e) => e.oid), tree, c].map(objectFile));
    await Promise.all(garbage.map((f) => fsp.utimes(f, old, old)));
    const y = randomBytes(next, 64);
    await repo.chunks.put(sha256(y), y);
    young.push(repo.chunks.pathOf(sha256(y)));
    return n;
  };
  const exists = (f: string) => fsp.stat(f).then(() => true, () => false);
  const stats = { tried: 0, killed: 0, garbageWritten: 0 };
  stats.garbageWritten += await makeGarbage();
  const timing = { ms: (await runOk(dir, ["gc", "--prune=1.day.ago"])).ms };
  const startup = await startupMs(dir);

  for (let trial = 0; stats.killed < kills && trial < kills * 4; trial++) {
    stats.garbageWritten += await makeGarbage();
    const context = `gc trial ${trial} (TDV_SEED=${seed})`;
    const r = await crashTrial(dir, ["gc", "--prune=1.day.ago"], killMoment(next, startup, timing.ms), { stats, timing, context });
    if (r.killed) {
      expect(await refState(dir), context).toEqual(refs);
      // the next command works: gc again, to the end
      const again = await runOk(dir, ["gc", "--prune=1.day.ago"]);
      timing.ms = (timing.ms + again.ms) / 2;
    }
    for (const f of young) expect(await exists(f), `${context}: young ${f}`).toBe(true);
    // nothing old and unreachable is left
    for (const f of garbage) expect(await exists(f), `${context}: old garbage ${f}`).toBe(false);
  }
  await tdvFsckClean(dir);
  const dry = JSON.parse((await runOk(dir, ["gc", "--prune=1.day.ago", "--dry-run", "--json"])).stdout) as { removed: { chunks: number; gitObjects: number } };
  expect(dry.removed).toMatchObject({ chunks: 0, gitObjects: 0 });
  // the history is intact: every commit of both branches checks out
  for (const rev of ["side", "main~1", "main"]) await runOk(dir, ["checkout", "--force", rev]);
  expect((await repo.git.readCommit((await repo.refs.read("refs/heads/side")) as GitOid)).parents.length).toBe(1);
  return stats;
}
