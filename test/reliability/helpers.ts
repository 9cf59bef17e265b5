/**
 * Shared tools of the reliability suite: a dataset of a few thousand small
 * chunks, a seeded random source, spawning the built CLI with a kill timer or
 * an error-injecting preload, stock `git fsck`, and byte-exact tree snapshots.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { BIN, baseEnv, type RunResult } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";

// the library used in-process (setup, fsck) skips fsync like the spawned CLI (baseEnv): a
// killed process loses nothing the page cache holds, so fsync plays no part in these tests.
// Repositories opened here pass `durability: "none"`; a file remote's backend reads this:
process.env.TDV_FSYNC = "0";

export const INJECT = fileURLToPath(new URL("./inject.mjs", import.meta.url));
export const WORKERS = fileURLToPath(new URL("./workers/", import.meta.url));

// ---- randomness -------------------------------------------------------------

/** A seeded generator (mulberry32): failures print the seed; TDV_SEED=… replays one. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFor(name: string): number {
  const env = process.env.TDV_SEED;
  const seed = env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  // printed so that a failing run can be replayed with TDV_SEED=<seed>
  process.stderr.write(`[reliability] ${name}: TDV_SEED=${seed}\n`);
  return seed;
}

export function randomBytes(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

// ---- the dataset ------------------------------------------------------------

export interface Grid {
  /** chunk file paths relative to the working tree */
  chunks: string[];
  array: string;
}

/**
 * A Zarr v2 store `data.zarr` with one float32 array `grid` of `n` chunks of
 * 4×4 values (64 bytes each, uncompressed), a group and a README: small
 * chunks, many files, so that commits and switches take long enough to be
 * killed at many different moments.
 */
export async function makeGrid(dir: string, n: number, next: () => number): Promise<Grid> {
  const side = Math.ceil(Math.sqrt(n));
  const array = "data.zarr/grid";
  await fsp.mkdir(path.join(dir, array), { recursive: true });
  await fsp.writeFile(path.join(dir, "data.zarr/.zgroup"), JSON.stringify({ zarr_format: 2 }));
  await fsp.writeFile(path.join(dir, "data.zarr/README.md"), "A test grid for the reliability suite.\n");
  await fsp.writeFile(
    path.join(dir, array, ".zarray"),
    JSON.stringify({ zarr_format: 2, shape: [side * 4, side * 4], chunks: [4, 4], dtype: "<f4", compressor: null, fill_value: 0, filters: null, order: "C" }),
  );
  const chunks: string[] = [];
  for (let k = 0; k < n; k++) chunks.push(`${array}/${Math.floor(k / side)}.${k % side}`);
  await Promise.all(chunks.map((c) => fsp.writeFile(path.join(dir, c), randomBytes(next, 64))));
  return { chunks, array };
}

/**
 * A grid of `n` chunks committed once as "base" through the CLI, in `dir`
 * (a new temp folder when not given).
 */
export async function committedGrid(n: number, next: () => number, dir?: string): Promise<{ dir: string; gitdir: string; grid: Grid }> {
  const where = dir ?? (await tempDir());
  const grid = await makeGrid(where, n, next);
  await runOk(where, ["init"]);
  await runOk(where, ["add", "-A"]);
  await runOk(where, ["commit", "-m", "base"]);
  return { dir: where, gitdir: path.join(where, ".tdv/git"), grid };
}

/** Rewrite `k` random chunks of the grid with new random bytes. */
export async function mutate(dir: string, grid: Grid, k: number, next: () => number): Promise<void> {
  const picked = new Set<string>();
  while (picked.size < Math.min(k, grid.chunks.length)) picked.add(grid.chunks[Math.floor(next() * grid.chunks.length)] as string);
  await Promise.all([...picked].map((c) => fsp.writeFile(path.join(dir, c), randomBytes(next, 64))));
}

/** Every file of the working tree (not .tdv) as path → SHA-256 of its bytes. */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(abs, { withFileTypes: true })) {
      if (rel === "" && e.name === ".tdv") continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, createHash("sha256").update(await fsp.readFile(path.join(abs, e.name))).digest("hex"));
    }
  };
  await walk(dir, "");
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The paths where two tree snapshots differ (first few), for readable failures. */
export function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const p of new Set([...a.keys(), ...b.keys()])) if (a.get(p) !== b.get(p)) out.push(`${p}: ${a.get(p)?.slice(0, 8) ?? "(none)"} vs ${b.get(p)?.slice(0, 8) ?? "(none)"}`);
  return out.sort().slice(0, 10);
}

// ---- running the CLI ----------------------------------------------------------

export interface Spawned {
  pid: number;
  done: Promise<RunResult & { signal: NodeJS.Signals | null; ms: number }>;
  /** what it has written to stderr so far */
  stderr(): string;
  kill(): void;
}

/** Start the built CLI; `nodeArgs` go before the script (e.g. `--import inject.mjs`). */
export function start(cwd: string, args: readonly string[], { env = {}, nodeArgs = [] }: { env?: Record<string, string | undefined>; nodeArgs?: string[] } = {}): Spawned {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd, env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null; ms: number }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code: code ?? 128, signal, stdout: stdoutBytes.toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), stdoutBytes, ms: performance.now() - t0 });
    });
  });
  return { pid: child.pid as number, done, stderr: () => Buffer.concat(err).toString("utf8"), kill: () => void child.kill("SIGKILL") };
}

export async function run(cwd: string, args: readonly string[], opts: { env?: Record<string, string | undefined>; nodeArgs?: string[] } = {}) {
  return start(cwd, args, opts).done;
}

export async function runOk(cwd: string, args: readonly string[], opts: { env?: Record<string, string | undefined>; nodeArgs?: string[] } = {}) {
  const r = await run(cwd, args, opts);
  if (r.code !== 0) throw new Error(`tdv ${args.join(" ")} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** Run `args` and SIGKILL it after `ms`; `killed` is false when it finished first. */
export async function runKilledAfter(cwd: string, args: readonly string[], ms: number, opts: { env?: Record<string, string | undefined> } = {}) {
  const s = start(cwd, args, opts);
  const timer = setTimeout(() => s.kill(), ms);
  const r = await s.done;
  clearTimeout(timer);
  return { ...r, killed: r.signal === "SIGKILL" };
}

/** Counts of a crash lane's trials. */
export interface Trials {
  tried: number;
  killed: number;
}

/**
 * One trial of a crash lane: `args` run and SIGKILLed after `ms` if still
 * running, counted in `stats`. A run that finished must have exited 0, and
 * `timing.ms` follows its duration (so that later kills land inside a run);
 * after a kill the repository must be clean for `tdv fsck --full` and stock
 * `git fsck`, or for `checkKilled` where a lane checks otherwise. Returns the
 * run; the lane goes on with its own checks.
 */
export async function crashTrial(
  dir: string,
  args: readonly string[],
  ms: number,
  { stats, timing, context, checkKilled }: { stats: Trials; timing: { ms: number }; context: string; checkKilled?: () => Promise<void> },
) {
  stats.tried++;
  const r = await runKilledAfter(dir, args, ms);
  if (!r.killed) {
    expect(r.code, `${context}: ${r.stderr}`).toBe(0);
    timing.ms = (timing.ms + r.ms) / 2;
    return r;
  }
  stats.killed++;
  if (checkKilled) await checkKilled();
  else {
    await fsckClean(dir, context);
    await gitFsck(path.join(dir, ".tdv/git"));
  }
  return r;
}

// ---- checks -------------------------------------------------------------------

/** Stock `git fsck` on the repository's Git directory: exit 0 and nothing on stderr but dangling objects. */
export async function gitFsck(gitdir: string): Promise<void> {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile("git", ["--git-dir", gitdir, "fsck", "--no-progress"], (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
  const complaints = `${stdout}\n${stderr}`.split("\n").filter((l) => l.trim() !== "" && !/^(dangling|unreachable) /.test(l) && !/^Checking /.test(l));
  expect({ code, complaints }, `git fsck on ${gitdir}`).toEqual({ code: 0, complaints: [] });
}

/** `tdv fsck --full --json`: must exit 0 with no problems (unreachable garbage and young locks allowed). */
export async function tdvFsckClean(dir: string): Promise<{ warnings: string[]; locks: { file: string }[] }> {
  const r = await run(dir, ["fsck", "--full", "--json"]);
  let doc: { ok: boolean; problems: unknown[]; warnings: string[]; locks: { file: string }[] };
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`tdv fsck --full --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  expect({ code: r.code, problems: doc.problems }, `tdv fsck --full in ${dir}`).toEqual({ code: 0, problems: [] });
  return doc;
}

/**
 * After a kill: the library's fsck with --full (the code `tdv fsck --full`
 * runs, without a process start) must find no problem; every `cliEvery`-th
 * call runs the CLI itself.
 */
let fsckCalls = 0;
export async function fsckClean(dir: string, context: string, cliEvery = 10): Promise<void> {
  if (++fsckCalls % cliEvery === 0) {
    await tdvFsckClean(dir);
    return;
  }
  const { fsck, Repository } = await import("../../src/index.js");
  const res = await fsck(await Repository.open({ durability: "none", dir }), { full: true });
  expect(res.problems, `fsck --full after ${context}`).toEqual([]);
}

/**
 * When to kill a run: a random moment between the end of the process start
 * (node and the CLI loaded: `tdv --version` takes that long, and nothing is
 * written before) and the measured duration of an unkilled run.
 */
export function killMoment(next: () => number, startupMs: number, durationMs: number): number {
  const start = Math.min(startupMs, durationMs * 0.5);
  return start + next() * (durationMs - start);
}

/** How long starting the CLI takes here (the fastest of three `tdv --version`). */
export async function startupMs(dir: string): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) best = Math.min(best, (await runOk(dir, ["--version"])).ms);
  return best;
}

/** Run `n` independent loops at once (each on its own repository): both CPUs stay busy. */
export function lanes<T>(n: number, fn: (lane: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

/** The value of a ref file (or null), read directly. */
export async function readRefFile(dir: string, ref: string): Promise<string | null> {
  const text = await fsp.readFile(path.join(dir, ".tdv/git", ref), "utf8").catch(() => null);
  return text === null ? null : text.trim();
}

export { backdate } from "../helpers/time.js";

/**
 * A stale lock left by a killed command blocks the next ref update. The CLI
 * must say so, name the lock file and how to clear it; the test then does
 * exactly what the message says (no tdv is running) and retries.
 */
export async function clearStaleLock(r: RunResult, dir: string): Promise<boolean> {
  const m = /lock file (\S+\.lock)/.exec(r.stderr);
  if (r.code === 0 || !m) return false;
  expect(r.stderr).toMatch(/^error: .*is locked/m);
  expect(r.stderr).toMatch(/^hint: .*rm '.*\.lock'/m);
  const file = m[1] as string;
  expect(file.startsWith(path.join(dir, ".tdv"))).toBe(true);
  await fsp.rm(file);
  return true;
}

/**
 * The next command after a kill, as a user runs it: `args` again; when a lock
 * the killed run held refuses it, the lock is cleared as the message says
 * (checked) and counted in `stats`, and `args` run once more.
 */
export async function runAgain(dir: string, args: readonly string[], stats: { staleLocks: number }) {
  const r = await run(dir, args);
  if (!(await clearStaleLock(r, dir))) return r;
  stats.staleLocks++;
  return run(dir, args);
}

/**
 * No committed byte is lost: every commit of the log checks out exactly as it
 * was recorded (commit id → hashTree of the working copy then). Returns how
 * many were checked.
 */
export async function expectCommitsAsRecorded(dir: string, recorded: ReadonlyMap<string, Map<string, string>>, seed: number): Promise<number> {
  const { checkout, Repository } = await import("../../src/index.js");
  const repo = await Repository.open({ durability: "none", dir });
  const log = JSON.parse((await runOk(dir, ["log", "--json"])).stdout) as { oid: string }[];
  expect(new Set(log.map((e) => e.oid))).toEqual(new Set(recorded.keys()));
  for (const { oid } of log) {
    await checkout(repo, { rev: oid, force: true });
    expect(treeDiff(await hashTree(dir), recorded.get(oid) as Map<string, string>), `commit ${oid} (TDV_SEED=${seed})`).toEqual([]);
  }
  return log.length;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
