/**
 * `tdv rebase` and `tdv pull --rebase`, the built CLI spawned as a user runs
 * it, arrays written and read back with zarr-python (numpy computes what the
 * values must be):
 *
 * - chunks changed on one side replayed as they are, a chunk changed at
 *   different elements on both sides merged element by element; authors,
 *   messages and trailers kept; BRANCH@{1} the old tip; fsck clean;
 * - the same element changed on both sides: the rebase stops, status says
 *   so, `tdv resolve --theirs` and `--continue` go on; merge --continue and
 *   commit are refused meanwhile; --skip leaves a commit out;
 * - --abort puts the working tree, the index and the refs back byte for byte;
 * - refusals (local changes, a merge in progress, a detached HEAD without
 *   UPSTREAM), "up to date", a fast-forward, --onto, merge commits flattened;
 * - kill -9 at random moments of a rebase: fsck clean, then --abort restores
 *   or --continue finishes with the same tree as an unkilled rebase;
 * - eight racing pushers with `pull --rebase` (and pull.rebase) on a folder
 *   remote: every commit lands, no merge commit, every value as computed.
 */
import { createHash } from "node:crypto";
import { existsSync, promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { hasZarrPython, python, pythonJson } from "../helpers/zarr-python.js";
import { fsckClean, gitFsck, hashTree, killMoment, rng, runKilledAfter, runOk, seedFor, startupMs, treeDiff } from "../reliability/helpers.js";

const A = "data.zarr/a"; // int32 [12] in chunks of 4, zlib: 0..11

interface LogEntry {
  oid: string;
  tree: string;
  parents: string[];
  author: { name: string; email: string; timestamp: number };
  committer: { name: string; timestamp: number };
  message: string;
}

async function logOf(dir: string, rev = "HEAD"): Promise<LogEntry[]> {
  return JSON.parse((await tdvOk(dir, ["log", "--json", rev])).stdout) as LogEntry[];
}

/** Set elements with zarr-python: { index: value }. */
async function setA(dir: string, points: Record<number, number>): Promise<void> {
  await python(dir, Object.entries(points).map(([i, v]) => `zarr.open('${A}')[${i}] = ${v}`).join("\n"));
}

async function valuesA(dir: string): Promise<number[]> {
  return pythonJson<number[]>(dir, `print(json.dumps(zarr.open('${A}')[:].tolist()))`);
}

/** numpy: 0..11 with `points` set, in order. */
async function expected(dir: string, ...points: Record<number, number>[]): Promise<number[]> {
  const sets = points.flatMap((p) => Object.entries(p).map(([i, v]) => `e[${i}] = ${v}`)).join("\n");
  return pythonJson<number[]>(dir, `e = np.arange(12, dtype='i4')\n${sets}\nprint(json.dumps(e.tolist()))`);
}

async function commitA(dir: string, points: Record<number, number>, message: string, env: Record<string, string> = {}): Promise<void> {
  await setA(dir, points);
  await tdvOk(dir, ["commit", "-q", "-a", "-m", message], { env });
}

/** A repository with the array committed on main. */
async function repoWithArray(): Promise<string> {
  const dir = await tempDir();
  await python(dir, `z = zarr.open('${A}', mode='w', shape=(12,), chunks=(4,), dtype='i4', compressor=Zlib(level=1)); z[:] = np.arange(12)`);
  await tdvOk(dir, ["init", "-q"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-q", "-m", "import"]);
  return dir;
}

/** Every file of the working tree, the index, HEAD and every ref file, hashed. */
async function snapshotAll(dir: string): Promise<Map<string, string>> {
  const out = new Map([...(await hashTree(dir))].map(([k, v]) => [`work:${k}`, v]));
  const git = path.join(dir, ".tdv/git");
  const hash = async (f: string) => createHash("sha256").update(await fsp.readFile(f)).digest("hex");
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(abs, { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(`git:${r}`, await hash(path.join(abs, e.name)));
    }
  };
  await walk(path.join(git, "refs"), "refs");
  for (const f of ["HEAD", "packed-refs"]) if (existsSync(path.join(git, f))) out.set(`git:${f}`, await hash(path.join(git, f)));
  for (const f of await fsp.readdir(path.join(dir, ".tdv"))) if (/^index$/.test(f)) out.set(`tdv:${f}`, await hash(path.join(dir, ".tdv", f)));
  return out;
}

const py = hasZarrPython();

describe.skipIf(!py)("tdv rebase (CLI)", () => {
  it("replays disjoint chunk edits and merges one chunk element by element: values as numpy computes, authors and messages kept, linear, BRANCH@{1} the old tip", async () => {
    const dir = await repoWithArray();
    await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
    const f1 = { 0: 100 }; // chunk 0
    const f2 = { 5: 105 }; // chunk 1
    await commitA(dir, f1, "f1: calibrate the first element", { TDV_AUTHOR_NAME: "Ada" });
    await commitA(dir, f2, "f2", { TDV_AUTHOR_NAME: "Grace" });
    const before = await logOf(dir);
    await tdvOk(dir, ["switch", "-q", "main"]);
    const m1 = { 9: 109, 1: 201 }; // chunk 2, and chunk 0 at another element than f1
    await commitA(dir, m1, "m1");
    const main = (await logOf(dir))[0] as LogEntry;
    await tdvOk(dir, ["switch", "-q", "feature"]);

    const r = await tdv(dir, ["rebase", "main", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { kind: string; replayed: { old: string; new: string | null }[]; origHead: string; head: string; onto: string; flattened: string[] };
    expect(res.kind).toBe("rebased");
    expect(res.onto).toBe(main.oid);
    expect(res.replayed.map((s) => s.old)).toEqual([before[1]!.oid, before[0]!.oid]);
    expect(res.flattened).toEqual([]);

    expect(await valuesA(dir)).toEqual(await expected(dir, m1, f1, f2));
    const after = await logOf(dir);
    expect(res.replayed[1]!.new).toBe(res.head);
    expect(after.map((e) => e.oid).slice(0, 3)).toEqual([res.head, res.replayed[0]!.new, main.oid]);
    expect(after[1]!.parents).toEqual([main.oid]);
    expect(after.every((e) => e.parents.length <= 1)).toBe(true);
    // author, message and trailers as they were; the committer is who rebased
    for (const [n, o] of [
      [after[0]!, before[0]!],
      [after[1]!, before[1]!],
    ] as const) {
      expect(n.author).toEqual(o.author);
      expect(n.message).toBe(o.message);
      expect(n.committer.name).toBe("Test User");
    }
    expect(after[1]!.author.name).toBe("Ada");
    expect(after[1]!.message).toMatch(/^f1: calibrate the first element\n+Tdv-Version: .*\nTdv-Command: tdv commit -q -a -m 'f1: calibrate the first element'/);
    // the branch moved once: feature@{1} is the tip before the rebase; HEAD's reflog has each step
    expect((await logOf(dir, "feature@{1}"))[0]!.oid).toBe(before[0]!.oid);
    const reflog = (await tdvOk(dir, ["reflog"])).stdout;
    expect(reflog).toMatch(/rebase \(start\): checkout main/);
    expect(reflog).toMatch(/rebase \(pick\): f1: calibrate/);
    expect(reflog).toMatch(/rebase \(finish\): returning to refs\/heads\/feature/);
    const st = await tdvOk(dir, ["status"]);
    expect(st.stdout).toMatch(/^On branch feature$/m);
    expect(st.stdout).toContain("nothing to commit, working tree clean");
    expect((await tdvOk(dir, ["fsck", "--full"])).stdout).toMatch(/ok: every needed object is present/);
  });

  it("stops on the same element changed on both sides; resolve --theirs and --continue go on; merge --continue and commit are refused meanwhile", async () => {
    const dir = await repoWithArray();
    await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
    const f1 = { 2: 7, 3: 30 };
    const f2 = { 10: 70 };
    await commitA(dir, f1, "f1");
    await commitA(dir, f2, "f2");
    await tdvOk(dir, ["switch", "-q", "main"]);
    const m1 = { 2: 8, 0: 50 };
    await commitA(dir, m1, "m1");
    await tdvOk(dir, ["switch", "-q", "feature"]);

    const r = await tdv(dir, ["rebase", "main"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Could not apply [0-9a-f]{7} \(f1\):$/m);
    expect(r.stdout).toContain("CONFLICT (chunk): data.zarr/a chunk [0]: 1 element changed on both sides to different values");
    expect(r.stdout).toMatch(/\[2\] +base 2 +ours 8 +theirs 7/);
    expect(r.stderr).toMatch(/tdv rebase --continue/);
    // the rest of the commit is merged; the conflicting element holds the rewritten side (ours) meanwhile
    expect(await valuesA(dir)).toEqual(await expected(dir, f1, m1));

    const st = await tdvOk(dir, ["status"]);
    expect(st.stdout).toMatch(/^HEAD detached at [0-9a-f]{7}$/m);
    expect(st.stdout).toMatch(/^rebase in progress: rebasing feature onto [0-9a-f]{7} \(main\), 0 of 2 commits done\.$/m);
    expect(st.stdout).toMatch(/Stopped replaying [0-9a-f]{7} \(f1\) with 1 unresolved conflict/);
    expect(st.stdout).toMatch(/1 unresolved conflict \(resolve, then "tdv rebase --continue"\)$/m);
    const stJson = JSON.parse((await tdvOk(dir, ["status", "--json"])).stdout) as { rebase: { done: number; total: number; stopped: { subject: string } } };
    expect(stJson.rebase).toMatchObject({ done: 0, total: 2, stopped: { subject: "f1" } });

    for (const args of [["merge", "--continue"], ["commit", "-m", "x"], ["merge", "--abort"], ["rebase", "main"]]) {
      const refused = await tdv(dir, args);
      expect(refused.code, args.join(" ")).toBe(1);
      expect(refused.stderr).toMatch(/error: a rebase of feature is in progress/);
    }
    const early = await tdv(dir, ["rebase", "--continue"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/data\.zarr\/a chunk \[0\]/);

    expect((await tdvOk(dir, ["resolve", A, "--theirs"])).stdout).toContain("go on with `tdv rebase --continue`");
    const c = await tdv(dir, ["rebase", "--continue", "--json"]);
    expect(c.code, c.stderr).toBe(0);
    const res = JSON.parse(c.stdout) as { kind: string; replayed: { new: string | null }[] };
    expect(res.kind).toBe("rebased");
    expect(res.replayed.every((s) => s.new !== null)).toBe(true);
    expect(await valuesA(dir)).toEqual(await expected(dir, m1, f1, f2));
    const log = await logOf(dir);
    expect(log.map((e) => e.message.split("\n")[0])).toEqual(["f2", "f1", "m1", "import"]);
    expect(log.every((e) => e.parents.length <= 1)).toBe(true);
    expect((await tdvOk(dir, ["status"])).stdout).toMatch(/^On branch feature$/m);
    expect(existsSync(path.join(dir, ".tdv/rebase-state.json"))).toBe(false);
    expect(existsSync(path.join(dir, ".tdv/MERGE_STATE.json"))).toBe(false);
  });

  it("--skip leaves the stopped commit out and goes on", async () => {
    const dir = await repoWithArray();
    await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
    await commitA(dir, { 2: 7 }, "f1");
    const f2 = { 10: 70 };
    await commitA(dir, f2, "f2");
    await tdvOk(dir, ["switch", "-q", "main"]);
    const m1 = { 2: 8 };
    await commitA(dir, m1, "m1");
    await tdvOk(dir, ["switch", "-q", "feature"]);
    expect((await tdv(dir, ["rebase", "main"])).code).toBe(1);
    const s = await tdvOk(dir, ["rebase", "--skip"]);
    expect(s.stdout).toMatch(/dropped \(skipped\): f1/);
    expect(await valuesA(dir)).toEqual(await expected(dir, m1, f2));
    expect((await logOf(dir)).map((e) => e.message.split("\n")[0])).toEqual(["f2", "m1", "import"]);
  });

  it("keeps a commit empty from the start, drops one whose change upstream has already", async () => {
    const dir = await repoWithArray();
    await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
    await tdvOk(dir, ["commit", "-q", "--allow-empty", "-m", "empty from the start"]);
    await commitA(dir, { 4: 44 }, "same as upstream");
    await tdvOk(dir, ["switch", "-q", "main"]);
    await commitA(dir, { 4: 44, 7: 77 }, "m1");
    await tdvOk(dir, ["switch", "-q", "feature"]);
    const r = JSON.parse((await tdvOk(dir, ["rebase", "main", "--json"])).stdout) as { replayed: { subject: string; new: string | null; dropped?: string }[] };
    expect(r.replayed.map((s) => [s.subject, s.new === null ? s.dropped : "kept"])).toEqual([
      ["empty from the start", "kept"],
      ["same as upstream", "empty"],
    ]);
    expect((await logOf(dir)).map((e) => e.message.split("\n")[0])).toEqual(["empty from the start", "m1", "import"]);
    expect(await valuesA(dir)).toEqual(await expected(dir, { 4: 44, 7: 77 }));
  });

  it("--abort puts the working tree, the index, HEAD and every ref back byte for byte", async () => {
    const dir = await repoWithArray();
    await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
    await commitA(dir, { 5: 55 }, "f1");
    await commitA(dir, { 2: 7, 9: 90 }, "f2");
    await commitA(dir, { 11: 110 }, "f3");
    await tdvOk(dir, ["switch", "-q", "main"]);
    await commitA(dir, { 2: 8, 4: 40 }, "m1");
    await tdvOk(dir, ["switch", "-q", "feature"]);
    await tdvOk(dir, ["status"]); // the index's stat cache as a user's would be
    const before = await snapshotAll(dir);
    const values = await valuesA(dir);

    const r = await tdv(dir, ["rebase", "main"]);
    expect(r.code).toBe(1); // f1 replayed, stopped on f2
    expect(treeDiff(await snapshotAll(dir), before).length).toBeGreaterThan(0);
    const a = await tdv(dir, ["rebase", "--abort", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ kind: "aborted" });
    expect(treeDiff(await snapshotAll(dir), before)).toEqual([]);
    expect(await valuesA(dir)).toEqual(values);
    expect((await tdvOk(dir, ["status"])).stdout).toContain("nothing to commit, working tree clean");
    const again = await tdv(dir, ["rebase", "--abort"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no rebase is in progress/);
  });

  // some 25 CLI runs and their set-up: 16-19 s on a quiet machine, over 60 s at a load of 8 on two cores
  it("refuses local changes, a merge in progress and a detached HEAD without UPSTREAM; says up to date; fast-forwards; --onto; flattens merge commits", { timeout: 240_000 }, async () => {
    const dir = await repoWithArray();
    await tdvOk(dir, ["switch", "-q", "-c", "feature"]);
    await commitA(dir, { 0: 1000 }, "f1");
    // up to date: feature is main plus its own commit
    expect((await tdvOk(dir, ["rebase", "main"])).stdout).toMatch(/^Current branch feature is up to date\.$/m);
    // no upstream configured: the message says what to do
    const none = await tdv(dir, ["rebase"]);
    expect(none.code).toBe(2); // a usage error
    expect(none.stderr).toMatch(/feature has no upstream/);
    // local changes
    await setA(dir, { 1: 99 });
    const dirty = await tdv(dir, ["rebase", "main"]);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/local changes to tracked files/);
    await tdvOk(dir, ["restore", A]);
    // a detached HEAD without UPSTREAM
    await tdvOk(dir, ["checkout", (await logOf(dir))[0]!.oid]);
    const detached = await tdv(dir, ["rebase"]);
    expect(detached.code).toBe(2);
    expect(detached.stderr).toMatch(/HEAD is detached: name the upstream/);
    await tdvOk(dir, ["switch", "-q", "feature"]);

    // a fast-forward: main has no commits of its own
    await tdvOk(dir, ["switch", "-q", "main"]);
    expect((await tdvOk(dir, ["rebase", "feature"])).stdout).toMatch(/^Fast-forwarded main to [0-9a-f]{7} \(feature\)\.$/m);
    expect(await valuesA(dir)).toEqual(await expected(dir, { 0: 1000 }));

    // a merge in progress
    await commitA(dir, { 3: 3000 }, "m-conflict");
    await tdvOk(dir, ["switch", "-q", "-c", "side", "feature"]);
    await commitA(dir, { 3: 4000 }, "s-conflict");
    await tdvOk(dir, ["switch", "-q", "main"]);
    expect((await tdv(dir, ["merge", "side"])).code).toBe(1);
    const merging = await tdv(dir, ["rebase", "feature"]);
    expect(merging.code).toBe(1);
    expect(merging.stderr).toMatch(/a merge of 'side' is in progress/);
    await tdvOk(dir, ["merge", "--abort"]);

    // merge commits in the range are flattened: topic merges side2, then is rebased onto main
    await tdvOk(dir, ["switch", "-q", "-c", "topic", "feature"]);
    await commitA(dir, { 8: 800 }, "t1");
    await tdvOk(dir, ["switch", "-q", "-c", "side2", "feature"]);
    await commitA(dir, { 6: 600 }, "s1");
    await tdvOk(dir, ["switch", "-q", "topic"]);
    await tdvOk(dir, ["merge", "-q", "--no-ff", "side2", "-m", "merge side2"]);
    await commitA(dir, { 11: 1100 }, "t2");
    const r = JSON.parse((await tdvOk(dir, ["rebase", "main", "--json"])).stdout) as { kind: string; flattened: string[]; replayed: { subject: string }[] };
    expect(r.kind).toBe("rebased");
    expect(r.flattened).toHaveLength(1);
    expect(r.replayed.map((s) => s.subject)).toEqual(["t1", "s1", "t2"]);
    const log = await logOf(dir);
    expect(log.every((e) => e.parents.length <= 1)).toBe(true);
    expect(log.map((e) => e.message.split("\n")[0]).slice(0, 4)).toEqual(["t2", "s1", "t1", "m-conflict"]);
    expect(await valuesA(dir)).toEqual(await expected(dir, { 0: 1000, 3: 3000, 8: 800, 6: 600, 11: 1100 }));

    // --onto: the commits of topic since main, onto side (which lacks m-conflict)
    await tdvOk(dir, ["switch", "-q", "-c", "onto-test", "topic"]);
    const o = JSON.parse((await tdvOk(dir, ["rebase", "--onto", "side2", "main", "--json"])).stdout) as { replayed: { subject: string; new: string | null }[] };
    expect(o.replayed.map((s) => s.subject)).toEqual(["t1", "s1", "t2"]);
    // s1's change is side2's already: dropped as empty
    expect(o.replayed.find((s) => s.subject === "s1")?.new).toBeNull();
    expect(await valuesA(dir)).toEqual(await expected(dir, { 0: 1000, 8: 800, 6: 600, 11: 1100 }));
    expect((await tdvOk(dir, ["rebase", "--help"])).stdout).toMatch(/Examples:/);
  });
});

describe("tdv rebase killed with SIGKILL at random moments", () => {
  it("leaves a state fsck finds clean; --abort restores the branch and files, --continue finishes with the unkilled rebase's tree", { timeout: 600_000 }, async () => {
    const seed = seedFor("crash-rebase");
    const next = rng(seed);
    const dir = await tempDir();
    // a grid of 400 chunks of 4x4 float32 (uncompressed); feature rewrites chunks of the first half in 6 commits, main one of the second half
    const side = 20;
    const array = "data.zarr/grid";
    await fsp.mkdir(path.join(dir, array), { recursive: true });
    await fsp.writeFile(path.join(dir, "data.zarr/.zgroup"), JSON.stringify({ zarr_format: 2 }));
    await fsp.writeFile(path.join(dir, array, ".zarray"), JSON.stringify({ zarr_format: 2, shape: [side * 4, side * 4], chunks: [4, 4], dtype: "<f4", compressor: null, fill_value: 0, filters: null, order: "C" }));
    const chunk = (k: number) => `${array}/${Math.floor(k / side)}.${k % side}`;
    const bytes = () => Buffer.from(Float32Array.from({ length: 16 }, () => Math.round(next() * 1000)).buffer);
    for (let k = 0; k < side * side; k++) await fsp.writeFile(path.join(dir, chunk(k)), bytes());
    await runOk(dir, ["init", "-q"]);
    await runOk(dir, ["add", "-A"]);
    await runOk(dir, ["commit", "-q", "-m", "base"]);
    await runOk(dir, ["switch", "-q", "-c", "feature"]);
    for (let c = 0; c < 6; c++) {
      for (let j = 0; j < 30; j++) await fsp.writeFile(path.join(dir, chunk(Math.floor(next() * 200))), bytes());
      await runOk(dir, ["commit", "-q", "-a", "-m", `feature ${c}`]);
    }
    await runOk(dir, ["switch", "-q", "main"]);
    for (let j = 0; j < 40; j++) await fsp.writeFile(path.join(dir, chunk(200 + Math.floor(next() * 200))), bytes());
    await runOk(dir, ["commit", "-q", "-a", "-m", "main"]);
    await runOk(dir, ["switch", "-q", "feature"]);
    const orig = (await logOf(dir))[0] as LogEntry;
    const origFiles = await hashTree(dir);

    // an unkilled rebase: how long it takes and the tree it makes
    const full = await runOk(dir, ["rebase", "-q", "main"]);
    const want = (await logOf(dir))[0] as LogEntry;
    const wantFiles = await hashTree(dir);
    expect(want.tree).not.toBe(orig.tree);
    const reset = async () => {
      await runOk(dir, ["reset", "-q", "--hard", orig.oid]);
      expect(treeDiff(await hashTree(dir), origFiles)).toEqual([]);
    };
    await reset();

    const startup = await startupMs(dir);
    const stats = { trials: 0, killed: 0, aborted: 0, continued: 0, noState: 0 };
    for (let trial = 0; trial < 10; trial++) {
      const context = `rebase trial ${trial} (TDV_SEED=${seed})`;
      stats.trials++;
      const r = await runKilledAfter(dir, ["rebase", "-q", "main"], killMoment(next, startup, full.ms));
      if (!r.killed) expect(r.code, `${context}: ${r.stderr}`).toBe(0);
      else {
        stats.killed++;
        await fsckClean(dir, context, 3);
        await gitFsck(path.join(dir, ".tdv/git"));
      }
      const inProgress = existsSync(path.join(dir, ".tdv/rebase-state.json"));
      if (!inProgress) {
        // killed before it started, or after it finished: the branch is one or the other
        stats.noState++;
        const now = (await logOf(dir))[0] as LogEntry;
        expect([orig.tree, want.tree], context).toContain(now.tree);
        if (now.tree === orig.tree) {
          expect(now.oid).toBe(orig.oid);
          expect(treeDiff(await hashTree(dir), origFiles), context).toEqual([]);
        } else expect(treeDiff(await hashTree(dir), wantFiles), context).toEqual([]);
      } else if (trial % 2 === 0) {
        stats.aborted++;
        const a = await tdv(dir, ["rebase", "--abort"]);
        expect(a.code, `${context}: ${a.stderr}`).toBe(0);
        expect((await logOf(dir))[0]!.oid, context).toBe(orig.oid);
        expect((await tdvOk(dir, ["status"])).stdout, context).toMatch(/^On branch feature$/m);
        expect(treeDiff(await hashTree(dir), origFiles), context).toEqual([]);
      } else {
        stats.continued++;
        const c = await tdv(dir, ["rebase", "--continue"]);
        expect(c.code, `${context}: ${c.stdout}${c.stderr}`).toBe(0);
        const now = await logOf(dir);
        expect(now[0]!.tree, context).toBe(want.tree);
        expect(now.map((e) => e.message.split("\n")[0]).slice(0, 7), context).toEqual(["feature 5", "feature 4", "feature 3", "feature 2", "feature 1", "feature 0", "main"]);
        expect(treeDiff(await hashTree(dir), wantFiles), context).toEqual([]);
      }
      await fsckClean(dir, `${context}, after`, 3);
      await reset();
    }
    process.stderr.write(`[figures] crash-rebase: ${JSON.stringify({ ...stats, rebaseMs: Math.round(full.ms) })}\n`);
    expect(stats.killed).toBeGreaterThan(0);
  });
});

describe.skipIf(!py)("eight racing pushers with pull --rebase on a folder remote", () => {
  it("every commit lands, the history is linear (no merge commit), every value as computed", { timeout: 600_000 }, async () => {
    const PUSHERS = 8;
    const root = await tempDir();
    const remote = path.join(root, "remote");
    const origin = path.join(root, "origin");
    await fsp.mkdir(origin);
    // int32 [16] in chunks of 4: pusher i sets element 2i, so pushers 2k and 2k+1 edit one chunk at different elements
    await python(origin, `z = zarr.open('${A}', mode='w', shape=(16,), chunks=(4,), dtype='i4', compressor=Zlib(level=1)); z[:] = np.arange(16)`);
    await tdvOk(origin, ["init", "-q"]);
    await tdvOk(origin, ["add", "-A"]);
    await tdvOk(origin, ["commit", "-q", "-m", "import"]);
    await tdvOk(origin, ["push", "-q", remote, "main"]);
    const clones: string[] = [];
    for (let i = 0; i < PUSHERS; i++) {
      const dir = path.join(root, `c${i}`);
      await tdvOk(root, ["clone", "-q", remote, dir]);
      // half rebase by setting, half by option
      if (i % 2 === 0) await tdvOk(dir, ["config", "pull.rebase", "true"]);
      await python(dir, `zarr.open('${A}')[${2 * i}] = ${1000 + i}`);
      await tdvOk(dir, ["commit", "-q", "-a", "-m", `pusher ${i}`]);
      clones.push(dir);
    }
    const figures = { pushers: PUSHERS, rejections: 0, pulls: 0, unhandled: [] as string[] };
    await Promise.all(
      clones.map(async (dir, i) => {
        for (let round = 0; round < 40; round++) {
          const p = await tdv(dir, ["push", "-q"]);
          if (p.code === 0) return;
          if (!/non-fast-forward|not in your history|rejected/i.test(p.stderr)) {
            figures.unhandled.push(`pusher ${i}: ${p.stderr}`);
            return;
          }
          figures.rejections++;
          const pl = await tdv(dir, i % 2 === 0 ? ["pull", "-q"] : ["pull", "-q", "--rebase"]);
          figures.pulls++;
          if (pl.code !== 0) {
            figures.unhandled.push(`pusher ${i} pull: ${pl.stderr}`);
            return;
          }
        }
        figures.unhandled.push(`pusher ${i}: gave up after 40 rounds`);
      }),
    );
    process.stderr.write(`[figures] pull --rebase racers: ${JSON.stringify(figures)}\n`);
    expect(figures.unhandled).toEqual([]);
    const final = path.join(root, "final");
    await tdvOk(root, ["clone", "-q", remote, final]);
    const log = await logOf(final);
    expect(log.filter((e) => e.parents.length > 1)).toEqual([]);
    expect(log.map((e) => e.message.split("\n")[0]).filter((m) => m?.startsWith("pusher ")).sort()).toEqual(Array.from({ length: PUSHERS }, (_, i) => `pusher ${i}`).sort());
    expect(log).toHaveLength(PUSHERS + 1);
    const want = await pythonJson<number[]>(final, `e = np.arange(16, dtype='i4')\nfor i in range(${PUSHERS}): e[2 * i] = 1000 + i\nprint(json.dumps(e.tolist()))`);
    expect(await pythonJson<number[]>(final, `print(json.dumps(zarr.open('${A}')[:].tolist()))`)).toEqual(want);
    expect((await tdvOk(final, ["fsck"])).stdout).toMatch(/ok: every needed object is present/);
  });
});

describe.skipIf(!py)("tdv pull --rebase (CLI)", () => {
  it("stops on a conflicting element for resolve and rebase --continue; --no-rebase merges whatever pull.rebase says", { timeout: 300_000 }, async () => {
    const root = await tempDir();
    const remote = path.join(root, "remote");
    const origin = await repoWithArray();
    await tdvOk(origin, ["push", "-q", remote, "main"]);
    const [a, b] = [path.join(root, "a"), path.join(root, "b")];
    await tdvOk(root, ["clone", "-q", remote, a]);
    await tdvOk(root, ["clone", "-q", remote, b]);
    const a1 = { 2: 7 };
    await commitA(a, a1, "a1");
    await tdvOk(a, ["push", "-q"]);

    await tdvOk(b, ["config", "pull.rebase", "true"]);
    expect((await tdvOk(b, ["config", "pull.rebase"])).stdout.trim()).toBe("true");
    const b1 = { 2: 8, 0: 50 };
    await commitA(b, b1, "b1");
    const p = await tdv(b, ["pull", "--json"]);
    expect(p.code).toBe(1);
    const res = JSON.parse(p.stdout) as { status: string; rebase: { kind: string; conflicts: { conflict: { path: string } }[]; stopped: { subject: string } } };
    expect(res.status).toBe("conflicts");
    expect(res.rebase).toMatchObject({ kind: "conflicts", stopped: { subject: "b1" } });
    expect(res.rebase.conflicts.map((c) => c.conflict.path)).toEqual([`${A}/0`]);
    expect((await tdvOk(b, ["status"])).stdout).toMatch(/^rebase in progress: rebasing main onto [0-9a-f]{7} \(origin\/main\)/m);
    await tdvOk(b, ["resolve", A, "--theirs"]); // theirs: the commit replayed (b1)
    await tdvOk(b, ["rebase", "--continue", "-q"]);
    await tdvOk(b, ["push", "-q"]);
    const log = await logOf(b);
    expect(log.map((e) => e.message.split("\n")[0])).toEqual(["b1", "a1", "import"]);
    expect(log.every((e) => e.parents.length === 1 || e.message.startsWith("import"))).toBe(true);
    expect(await valuesA(b)).toEqual(await expected(b, a1, b1));

    // pull.rebase on, --no-rebase: a merge commit
    await tdvOk(a, ["config", "pull.rebase", "true"]);
    await commitA(a, { 5: 55 }, "a2");
    await tdvOk(a, ["pull", "-q", "--no-rebase"]);
    const merged = (await logOf(a))[0] as LogEntry;
    expect(merged.parents).toHaveLength(2);
    expect(await valuesA(a)).toEqual(await expected(a, a1, b1, { 5: 55 }));
    expect((await tdvOk(a, ["pull", "--help"])).stdout).toMatch(/--no-rebase/);
  });
});
