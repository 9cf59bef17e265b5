/**
 * An interrupted clone. The built CLI clones a remote served over HTTP by a
 * slow static server (every response held DELAY_MS: a clone takes about a
 * second), and is stopped:
 *
 * - by SIGINT or SIGTERM during the transfer, into a new folder and into an
 *   empty folder that existed before: exit 130 / 143, "interrupted by", and
 *   the parent folder exactly as it was (the new folder gone, the existing one
 *   empty again, the canary beside it untouched);
 * - by SIGINT once the checkout has begun, and at seeded random moments:
 *   either that, or the clone had finished and is complete;
 * - by SIGINT twice (the second stops at once) and by SIGKILL at seeded random
 *   moments: inside what is left every command says "this clone did not
 *   finish", and the same `tdv clone` again completes it.
 *
 * Every clone that completes is compared with a clean clone: `tdv log`, every
 * checked-out file byte for byte, `status` clean, `tdv fsck --full` and stock
 * `git fsck` clean.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { startStaticServer, type StaticServer } from "../helpers/static-server.js";
import { committedGrid, gitFsck, hashTree, killMoment, mutate, rng, runOk, seedFor, sleep, start, startupMs, tdvFsckClean, treeDiff } from "./helpers.js";

const CHUNKS = 400;
const DELAY_MS = 8;
const KILLS = 4;
const RANDOM_INTS = 2;

let server: StaticServer;
let url: string;
let next: () => number;
let seed: number;
let cleanMs: number;
let startup: number;
let expected: { log: string; files: Map<string, string> };

beforeAll(async () => {
  seed = seedFor("crash-clone");
  next = rng(seed);
  const { dir: src, grid } = await committedGrid(CHUNKS, next);
  await mutate(src, grid, 20, next);
  await runOk(src, ["commit", "-a", "-m", "second"]);
  await runOk(src, ["tag", "v1"]);
  const remote = path.join(await tempDir(), "remote");
  await runOk(src, ["remote", "add", "origin", remote]);
  await runOk(src, ["push", "origin", "main", "v1"]);
  server = await startStaticServer(remote, { delayMs: DELAY_MS });
  url = server.url;

  const parent = await tempDir();
  cleanMs = (await runOk(parent, ["clone", "-q", url, "clean"])).ms;
  const clean = path.join(parent, "clean");
  expected = { log: (await runOk(clean, ["log"])).stdout, files: await hashTree(clean) };
  expect(expected.files.size).toBe(CHUNKS + 3); // the chunks, .zgroup, README.md, .zarray
  startup = await startupMs(parent);
}, 60_000);

afterAll(async () => server?.stop());

/** A completed clone in `dir` is the clean clone: history, files byte for byte, status, fsck, git fsck. */
async function expectComplete(dir: string, context: string): Promise<void> {
  // read-only checks, side by side
  const [log, status, files] = await Promise.all([runOk(dir, ["log"]), runOk(dir, ["status", "--json"]), hashTree(dir), tdvFsckClean(dir), gitFsck(path.join(dir, ".tdv", "git"))]);
  expect(log.stdout, `${context}: log`).toBe(expected.log);
  expect(treeDiff(files, expected.files), `${context}: files`).toEqual([]);
  expect(JSON.parse(status.stdout).clean, `${context}: status clean`).toBe(true);
}

/** What a kill left in `dir`: nothing, an init cut short (no tdv.json), an unfinished clone (its marker), or a complete one. */
async function leftState(dir: string): Promise<"absent" | "init" | "unfinished" | "complete"> {
  if (!(await fsp.stat(dir).catch(() => null))) return "absent";
  const raw = await fsp.readFile(path.join(dir, ".tdv", "tdv.json"), "utf8").catch(() => null);
  if (raw === null) return "init";
  return JSON.parse(raw).cloning ? "unfinished" : "complete";
}

/** Wait until the running clone has fetched `n` chunk objects since request number `from`. */
async function chunksFetched(from: number, n: number): Promise<void> {
  const end = Date.now() + 20_000;
  while (server.requests.slice(from).filter((r) => r.path.includes("/chunks/")).length < n) {
    if (Date.now() > end) throw new Error("the clone never started fetching chunks");
    await sleep(2);
  }
}

/** Send `sig` to a tdv process, which may have exited a moment ago (then there is nothing to stop). */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** The parent folder as a listing (empty folders included) and file hashes: what must come back after an interrupted clone. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of (await fsp.readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        await walk(path.join(abs, e.name), r);
      } else out.push(`${r} ${(await fsp.readFile(path.join(abs, e.name))).toString("hex")}`);
    }
  };
  await walk(dir, "");
  return out;
}

describe("an interrupted clone", () => {
  for (const [sig, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    for (const existing of [false, true]) {
      it(`${sig} during the transfer into ${existing ? "an empty folder that existed" : "a new folder"}: exit ${code}, the parent exactly as before`, async () => {
        const parent = await tempDir();
        await fsp.writeFile(path.join(parent, "canary.txt"), "beside the clone\n");
        if (existing) await fsp.mkdir(path.join(parent, "target"));
        const before = await snapshot(parent);
        const from = server.requests.length;
        const s = start(parent, ["clone", url, "target"]);
        await chunksFetched(from, 40);
        signal(s.pid, sig);
        const r = await s.done;
        expect(r.code, r.stderr).toBe(code);
        expect(r.stderr).toContain(`error: interrupted by ${sig}`);
        expect(r.stderr).toContain("hint: the unfinished clone was removed");
        expect(r.stderr).not.toContain("bug in tdv");
        expect(await snapshot(parent)).toEqual(before);
        if (sig === "SIGINT" && !existing) {
          // and the same clone afterwards is whole
          await runOk(parent, ["clone", "-q", url, "target"]);
          await expectComplete(path.join(parent, "target"), `clone after ${sig}`);
        }
      }, 30_000);
    }
  }

  it("SIGINT during the checkout: the checkout's writes settle, then the clone is removed", async () => {
    const parent = await tempDir();
    const before = await snapshot(parent);
    const s = start(parent, ["clone", "-q", url, "target"]);
    const first = path.join(parent, "target", "data.zarr");
    const end = Date.now() + 20_000;
    while (!(await fsp.stat(first).catch(() => null))) {
      if (Date.now() > end) throw new Error("the checkout never began");
      await sleep(1);
    }
    signal(s.pid, "SIGINT");
    const r = await s.done;
    if ((await leftState(path.join(parent, "target"))) === "complete") {
      // the checkout and the rest took less than the poll: finished before the signal
      process.stderr.write("[reliability] crash-clone: the clone finished before the SIGINT meant for its checkout\n");
      await expectComplete(path.join(parent, "target"), "SIGINT after the checkout");
      return;
    }
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("hint: the unfinished clone was removed");
    expect(await snapshot(parent)).toEqual(before);
  }, 30_000);

  it("SIGINT at random moments (the checkout included): the clone is removed, or it had finished and is complete", async () => {
    const outcomes = { removed: 0, finished: 0 };
    for (let i = 0; i < RANDOM_INTS; i++) {
      const parent = await tempDir();
      const before = await snapshot(parent);
      const s = start(parent, ["clone", "-q", url, "target"]);
      const ended = await Promise.race([s.done.then(() => true), sleep(killMoment(next, startup, cleanMs)).then(() => false)]);
      if (!ended) signal(s.pid, "SIGINT");
      const r = await s.done;
      const context = `SIGINT ${i} (TDV_SEED=${seed})`;
      if ((await leftState(path.join(parent, "target"))) === "complete") {
        outcomes.finished++;
        await expectComplete(path.join(parent, "target"), context);
      } else {
        outcomes.removed++;
        // stopped while node started (before tdv's handler): the default action, nothing written
        expect(r.code === 130 || r.signal === "SIGINT", `${context}: ${r.code} ${r.stderr}`).toBe(true);
        expect(await snapshot(parent), context).toEqual(before);
      }
    }
    process.stderr.write(`[reliability] crash-clone: random SIGINT: ${JSON.stringify(outcomes)}\n`);
  }, 40_000);

  it("SIGINT twice stops at once; what is left is resumed by the same clone", async () => {
    const parent = await tempDir();
    const from = server.requests.length;
    const s = start(parent, ["clone", url, "target"]);
    await chunksFetched(from, 40);
    signal(s.pid, "SIGINT");
    signal(s.pid, "SIGINT");
    const r = await s.done;
    expect(r.code === 130 || r.signal === "SIGINT", `${r.code} ${r.stderr}`).toBe(true);
    const target = path.join(parent, "target");
    if ((await leftState(target)) === "unfinished") {
      const inside = await start(target, ["status"]).done;
      expect(inside.code).toBe(1);
      expect(inside.stderr).toContain(`error: this clone did not finish: run \`tdv clone ${url} ${target}\` again`);
    }
    if ((await leftState(target)) !== "complete") await runOk(parent, ["clone", "-q", url, "target"]);
    await expectComplete(target, "after SIGINT twice");
  }, 30_000);

  it("SIGKILL while the working files are written as their chunks arrive: each file left is whole; the same clone completes it", async () => {
    const parent = await tempDir();
    const target = path.join(parent, "target");
    const from = server.requests.length;
    const s = start(parent, ["clone", "-q", url, "target"]);
    await chunksFetched(from, CHUNKS / 4);
    s.kill();
    await s.done;
    expect(await leftState(target)).toBe("unfinished");
    const left = await hashTree(target);
    // some of the branch's files were written during the transfer, none of them all; each one left holds its chunk's bytes
    expect(left.size).toBeGreaterThan(0);
    expect(left.size).toBeLessThan(expected.files.size);
    for (const [p, h] of left) expect(h, p).toBe(expected.files.get(p));
    const again = await runOk(parent, ["clone", url, "target"]);
    expect(again.stderr).toContain("Resuming the unfinished clone in 'target'");
    await expectComplete(target, "after SIGKILL during the transfer");
  }, 30_000);

  it("SIGKILL at random moments: commands inside say the clone did not finish; the same clone again completes it", async () => {
    const left = { absent: 0, init: 0, unfinished: 0, complete: 0 };
    const second = { cloned: 0, resumed: 0, restarted: 0 };
    for (let i = 0; i < KILLS; i++) {
      const parent = await tempDir();
      const target = path.join(parent, "target");
      const ms = killMoment(next, startup, cleanMs);
      const s = start(parent, ["clone", url, "target"]);
      const timer = setTimeout(() => s.kill(), ms);
      await s.done;
      clearTimeout(timer);
      const context = `kill ${i} at ${Math.round(ms)} ms (TDV_SEED=${seed})`;
      const state = await leftState(target);
      left[state]++;
      if (state === "unfinished") {
        for (const args of [["switch", "main"], ["log"]]) {
          const r = await start(target, args).done;
          expect(r.code, `${context}: tdv ${args.join(" ")}`).toBe(1);
          expect(r.stderr, context).toContain(`error: this clone did not finish: run \`tdv clone ${url} ${target}\` again`);
          expect(r.stdout + r.stderr, context).not.toContain("Already on");
        }
      }
      if (state !== "complete") {
        const again = await runOk(parent, ["clone", url, "target"]);
        if (again.stderr.includes("Resuming the unfinished clone")) second.resumed++;
        else if (again.stderr.includes("Removed what an interrupted clone left")) second.restarted++;
        else second.cloned++;
        if (state === "unfinished") expect(again.stderr, context).toContain("Resuming the unfinished clone in 'target'");
      }
      await expectComplete(target, context);
    }
    process.stderr.write(`[reliability] crash-clone: ${KILLS} kills (clean clone ${Math.round(cleanMs)} ms, start ${Math.round(startup)} ms) left ${JSON.stringify(left)}; second clone ${JSON.stringify(second)}\n`);
    expect(left.unfinished + left.init + left.absent + left.complete).toBe(KILLS);
  }, 60_000);
});
