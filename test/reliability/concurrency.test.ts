/**
 * Guarantee 2, concurrency. tdv has one working copy (and one HEAD, one
 * index) per repository, so racing writers are modelled as they happen:
 *
 * - same branch: 8 `tdv commit --allow-empty` processes at once, 5 rounds
 *   each, in one repository, while `tdv gc` runs in a loop beside them. Every
 *   commit lands in the history or its command exits 1 saying that another
 *   command holds the working copy or that the branch moved; nothing else happens.
 * - different branches: 8 worker processes each commit 12 times to their own
 *   branch (team/p<i>) through the library, as `tdv commit` does once it has
 *   a tree, and create and delete a temporary branch (tmp/p<i>-<k>) at every
 *   step, so ref folders are made and pruned under each other. Their
 *   snapshots reuse objects that exist as old unreachable garbage while
 *   `tdv gc --prune=1.hour.ago` runs in a loop: every commit lands and gc
 *   deletes nothing one of them needs (each worker announces itself as a
 *   writer, as tdv's commands do, and gc waits for it).
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Repository } from "../../src/index.js";
import { sha256, type GitOid } from "../../src/format/hash.js";
import { writeSnapshot, type SnapEntry } from "../../src/repo/snapshot.js";
import { baseEnv } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { backdate, gitFsck, readRefFile, run, runOk, tdvFsckClean, WORKERS } from "./helpers.js";

const N = 8;
const ROUNDS = 5;
const BRANCH_COMMITS = 12;
const DAY = 24 * 3600 * 1000;

async function smallRepo(): Promise<string> {
  const dir = await tempDir();
  await fsp.mkdir(path.join(dir, "data.zarr/a"), { recursive: true });
  await fsp.writeFile(path.join(dir, "data.zarr/a/.zarray"), JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: "<u1", compressor: null, fill_value: 0, filters: null, order: "C" }));
  await fsp.writeFile(path.join(dir, "data.zarr/a/0"), "abcd");
  await fsp.writeFile(path.join(dir, "data.zarr/a/1"), "efgh");
  await runOk(dir, ["init"]);
  await runOk(dir, ["add", "-A"]);
  await runOk(dir, ["commit", "-m", "base"]);
  return dir;
}

/** Run `tdv gc ARGS` again and again until `stop()` says so; returns how many runs completed. */
async function gcLoop(dir: string, args: string[], stop: () => boolean): Promise<number> {
  let runs = 0;
  while (!stop()) {
    const r = await run(dir, ["gc", ...args]);
    expect(r.code, r.stderr).toBe(0);
    runs++;
  }
  return runs;
}

describe("concurrency", () => {
  it(`${N} processes commit to the same branch ${ROUNDS} times each, beside a gc: each commit lands or says the branch moved`, { timeout: 120_000 }, async () => {
    const dir = await smallRepo();
    const base = (await readRefFile(dir, "refs/heads/main")) as string;
    let done = false;
    const gc = gcLoop(dir, [], () => done);
    const outcomes = await Promise.all(
      Array.from({ length: N }, async (_, p) => {
        const mine: { message: string; code: number; stdout: string; stderr: string }[] = [];
        for (let k = 0; k < ROUNDS; k++) {
          const message = `p${p}-${k}`;
          const r = await run(dir, ["commit", "--allow-empty", "-m", message]);
          mine.push({ message, code: r.code, stdout: r.stdout, stderr: r.stderr });
        }
        return mine;
      }),
    ).finally(() => {
      done = true;
    });
    const gcRuns = await gc;
    const landed = new Map<string, string>();
    const refused: string[] = [];
    for (const o of outcomes.flat()) {
      if (o.code === 0) {
        const m = /^\[main ([0-9a-f]{7})\] (\S+)$/m.exec(o.stdout);
        expect(m?.[2], o.stdout).toBe(o.message);
        landed.set(o.message, m?.[1] as string);
      } else {
        // refused by the working-copy lock (another commit runs in this working copy), or its branch moved
        expect({ code: o.code, stderr: o.stderr.split("\n")[0] }).toEqual({
          code: 1,
          stderr: expect.stringMatching(/^error: (branch moved: refs\/heads\/main is now at [0-9a-f]{10}, expected [0-9a-f]{10}|another tdv command is running in this working copy: `tdv commit` \(pid \d+, since [^)]+\))$/),
        });
        expect(o.stderr).toMatch(/^hint: (another commit landed first|wait for it to finish and run your command again; nothing was changed)/m);
        refused.push(o.message);
      }
    }
    const log = JSON.parse((await runOk(dir, ["log", "--json"])).stdout) as { oid: string; parents: string[]; message: string }[];
    const subjects = log.map((e) => e.message.split("\n")[0]);
    // every landed commit is in the history exactly once, no refused one is, and the history is one chain
    expect(subjects.filter((s) => s !== "base").sort()).toEqual([...landed.keys()].sort());
    for (const [message, short] of landed) expect(log.find((e) => e.message.startsWith(`${message}\n`))?.oid.slice(0, 7)).toBe(short);
    for (let i = 0; i < log.length - 1; i++) expect(log[i]?.parents).toEqual([log[i + 1]?.oid]);
    expect(log.at(-1)?.oid).toBe(base);
    // the reflog recorded each move once, each from the value the previous one left
    const reflog = JSON.parse((await runOk(dir, ["reflog", "main", "--json"])).stdout) as { oid: string; old: string | null }[];
    expect(reflog).toHaveLength(landed.size + 1);
    for (let i = 0; i < reflog.length - 1; i++) expect(reflog[i]?.old).toBe(reflog[i + 1]?.oid);
    expect(landed.size).toBeGreaterThanOrEqual(ROUNDS);
    await tdvFsckClean(dir);
    await gitFsck(path.join(dir, ".tdv/git"));
    process.stderr.write(`[reliability] concurrency same branch: ${JSON.stringify({ attempted: N * ROUNDS, landed: landed.size, refused: refused.length, gcRuns })}\n`);
  });

  it(`${N} processes commit to their own branches ${BRANCH_COMMITS} times each, reusing old garbage beside gc --prune=1.hour.ago: all land, gc deletes none of it`, { timeout: 120_000 }, async () => {
    const dir = await smallRepo();
    const repo = await Repository.open({ durability: "none", dir });
    // the pool: snapshots written before and never committed (old unreachable garbage the workers' commits will reuse)
    const pool = Array.from({ length: 6 }, (_, j) => ({ j, chunks: 30, zarray: JSON.stringify({ zarr_format: 2, shape: [1, 30 * (j + 1)], chunks: [1, 1], dtype: "|u1", compressor: null, fill_value: 0, filters: null, order: "C" }) }));
    for (const entry of pool) {
      const files = new Map<string, SnapEntry>();
      files.set("pool.zarr/.zarray", { store: "git", id: await repo.git.writeBlob(Buffer.from(entry.zarray)), size: entry.zarray.length });
      for (let c = 0; c < entry.chunks; c++) {
        const bytes = Buffer.from(`pool ${entry.j} chunk ${c}`.padEnd(64, "."));
        await repo.chunks.put(sha256(bytes), bytes);
        files.set(`pool.zarr/0.${c}`, { store: "chunk", id: sha256(bytes), size: bytes.length });
      }
      await writeSnapshot(repo, files);
    }
    // and plain garbage that gc must remove
    const garbage = Array.from({ length: 50 }, (_, i) => Buffer.from(`garbage ${i}`));
    for (const g of garbage) await repo.chunks.put(sha256(g), g);
    await backdate(path.join(dir, ".tdv"), new Date(Date.now() - DAY));

    let done = false;
    const gc = gcLoop(dir, ["--prune=1.hour.ago"], () => done);
    // readers list the refs while workers create and delete them
    const readers = (async () => {
      let runs = 0;
      while (!done) {
        for (const args of [["branch", "--list"], ["log", "--oneline", "-n", "1", "main"]]) {
          const r = await run(dir, args);
          expect(r.code, `tdv ${args.join(" ")}: ${r.stderr}`).toBe(0);
          runs++;
        }
      }
      return runs;
    })();
    const results = await Promise.all(
      Array.from({ length: N }, (_, id) => worker({ dir, id, commits: BRANCH_COMMITS, pool })),
    ).finally(() => {
      done = true;
    });
    const gcRuns = await gc;
    const readerRuns = await readers;
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    for (const [id, r] of results.entries()) {
      expect(r.commits).toHaveLength(BRANCH_COMMITS);
      expect(await repo.refs.read(`refs/heads/team/p${id}`)).toBe(r.commits.at(-1));
      // the branch is the chain of exactly this worker's commits
      let c = r.commits.at(-1) as GitOid;
      for (let k = BRANCH_COMMITS - 1; k >= 0; k--) {
        expect(c).toBe(r.commits[k]);
        c = (await repo.git.readCommit(c)).parents[0] as GitOid;
      }
    }
    expect((await repo.refs.list("refs/heads/tmp/")).size).toBe(0);
    await tdvFsckClean(dir);
    await gitFsck(path.join(dir, ".tdv/git"));
    for (const g of garbage) expect(await repo.chunks.has(sha256(g))).toBe(false);
    // every branch checks out
    for (let id = 0; id < N; id++) await runOk(dir, ["checkout", `team/p${id}`]);
    process.stderr.write(`[reliability] concurrency own branches: ${JSON.stringify({ attempted: N * BRANCH_COMMITS, landed: results.reduce((a, r) => a + r.commits.length, 0), gcRuns, readerRuns })}\n`);
  });
});

function worker(cfg: object): Promise<{ commits: string[]; errors: { k: number; error: string }[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(WORKERS, "branch-committer.mjs"), JSON.stringify(cfg)], { env: baseEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b;
    });
    child.stderr.on("data", (b: Buffer) => {
      err += b;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`worker exited ${code}: ${out}\n${err}`));
      }
    });
  });
}
