/** Where rules run, in process: merge (fast-forward and merge commit) and push to a file remote. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, clone, commit, isTdvError, merge, openWriteSession, pull, push, readMergeState, readRebaseState, rebase, rebaseContinue, Repository, reset, resolveRevision, revert, switchBranch, type RulesFailedError } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";
import { RULES, T2M, writeChunk, writeForecast } from "./dataset.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

async function setup(): Promise<{ dir: string; repo: Repository }> {
  const dir = await tempDir();
  await writeForecast(dir);
  await fsp.writeFile(path.join(dir, "tdv-rules.toml"), RULES);
  const { repo } = await Repository.init({ durability: "none", dir });
  await add(repo, { all: true });
  await commit(repo, { message: "forecast" });
  return { dir, repo };
}

async function refused<T>(p: Promise<T>): Promise<RulesFailedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isTdvError(err, "RulesFailedError")) throw new Error(`expected RulesFailedError, got ${String(err)}`);
  return err;
}

const message = async (repo: Repository, rev: string) => (await repo.git.readCommit(await resolveRevision(repo, rev))).message;

describe("rules at merge", () => {
  it("refuse a NaN-filled branch by fast-forward and by merge commit; nothing moves; --no-verify is recorded", async () => {
    const { dir, repo } = await setup();
    const main = await resolveRevision(repo, "main");
    await switchBranch(repo, { name: "feature", create: true });
    await writeChunk(path.join(dir, T2M), "<f4", [3, 0], [Number.NaN, Number.NaN]);
    await add(repo, { all: true });
    await commit(repo, { message: "nan" }); // feature is not protected
    await switchBranch(repo, { name: "main" });
    const before = await fsp.readFile(path.join(dir, T2M, "3.0"));

    let err = await refused(merge(repo, { rev: "feature" }));
    expect(err.action).toBe("merge");
    expect(err.message).toContain("fc.zarr/t2m chunk [3,0] (time 2024-01-04, lat 10): max_nan_fraction");
    expect(await resolveRevision(repo, "main")).toBe(main);
    expect(await fsp.readFile(path.join(dir, T2M, "3.0"))).toEqual(before);

    // main moves on: now a merge commit, refused before the working copy moves
    await fsp.writeFile(path.join(dir, "README.md"), "forecast\n");
    await add(repo, { all: true });
    await commit(repo, { message: "readme" });
    const tip = await resolveRevision(repo, "main");
    err = await refused(merge(repo, { rev: "feature" }));
    expect(err.failures).toEqual([expect.objectContaining({ rule: "max_nan_fraction", array: T2M, chunk: [3, 0] })]);
    expect(await resolveRevision(repo, "main")).toBe(tip);
    expect(await readMergeState(repo)).toBeNull();
    expect(await fsp.readFile(path.join(dir, T2M, "3.0"))).toEqual(before);

    const res = await merge(repo, { rev: "feature", noVerify: true });
    expect(res.kind).toBe("merged");
    expect(await message(repo, "main")).toContain("Tdv-No-Verify: 1 rule failure");
  });
});

describe("rules at a write session's commit", () => {
  it("refuse a pipeline's NaN written straight into the protected branch; the session stays open", async () => {
    const { repo } = await setup();
    await switchBranch(repo, { name: "review", create: true }); // main is not checked out: a session may write it
    const tip = await resolveRevision(repo, "main");
    const s = await openWriteSession(repo, "main");
    await s.set(`${T2M}/1.0`, new Uint8Array(new Float32Array([Number.NaN, 280]).buffer));
    const err = await refused(s.commit("pipeline run"));
    expect(err.message).toContain("fc.zarr/t2m chunk [1,0] (time 2024-01-02, lat 10): max_nan_fraction: 1 of 2 values are NaN");
    expect(await resolveRevision(repo, "main")).toBe(tip);
    const res = await s.commit("pipeline run", { noVerify: true });
    expect(await message(repo, res.commit)).toContain("Tdv-No-Verify: 1 rule failure");
    expect(await resolveRevision(repo, "main")).toBe(res.commit);
  });
});

describe("rules at rebase", () => {
  it("refuse to move the protected branch to a failing replayed tip; --continue --no-verify moves it", async () => {
    const { dir, repo } = await setup();
    await switchBranch(repo, { name: "side", create: true });
    await fsp.writeFile(path.join(dir, "README.md"), "side\n");
    await add(repo, { all: true });
    await commit(repo, { message: "side readme" });
    await switchBranch(repo, { name: "main" });
    await writeChunk(path.join(dir, T2M), "<f4", [2, 0], [Number.NaN, 280]);
    await add(repo, { all: true });
    await commit(repo, { message: "nan", noVerify: true });
    const before = await resolveRevision(repo, "main");
    const err = await refused(rebase(repo, { upstream: "side" }));
    expect(err.action).toBe("rebase");
    expect(err.message).toContain("fc.zarr/t2m chunk [2,0] (time 2024-01-03, lat 10): max_nan_fraction");
    expect(err.hint).toContain("tdv rebase --abort");
    expect(await resolveRevision(repo, "main")).toBe(before);
    expect(await readRebaseState(repo)).not.toBeNull();
    const res = await rebaseContinue(repo, { noVerify: true });
    expect(res.kind).toBe("rebased");
    expect(await resolveRevision(repo, "main")).toBe(res.head);
    expect((await repo.git.readCommit(res.head)).parents[0]).toBe(await resolveRevision(repo, "side"));
  });
});

describe("rules at revert", () => {
  it("refuse a revert whose result breaks the rules, before the working copy moves", async () => {
    const { dir, repo } = await setup();
    await writeChunk(path.join(dir, T2M), "<f4", [3, 0], [Number.NaN, Number.NaN]);
    await add(repo, { all: true });
    await commit(repo, { message: "step 3 as NaN", noVerify: true });
    await writeChunk(path.join(dir, T2M), "<f4", [3, 0], [281, 282]);
    await add(repo, { all: true });
    await commit(repo, { message: "step 3 fixed" });
    const tip = await resolveRevision(repo, "main");
    // reverting the fix brings the NaN back
    const err = await refused(revert(repo, { rev: "HEAD" }));
    expect(err.message).toContain("fc.zarr/t2m chunk [3,0] (time 2024-01-04, lat 10): max_nan_fraction");
    expect(await resolveRevision(repo, "main")).toBe(tip);
    expect(new Float32Array((await fsp.readFile(path.join(dir, T2M, "3.0"))).buffer.slice(0))).toEqual(new Float32Array([281, 282]));
    await revert(repo, { rev: "HEAD", noVerify: true });
    expect(await message(repo, "main")).toContain("Tdv-No-Verify: 1 rule failure");
  });
});

describe("rules at push", () => {
  it("a protected branch takes only passing commits, by fast-forward; --no-verify skips the check, never the fast-forward", async () => {
    const { dir, repo } = await setup();
    const remote = path.join(await tempDir(), "remote");
    await push(repo, { remote });
    const pushed = await resolveRevision(repo, "main");

    await writeChunk(path.join(dir, T2M), "<f4", [0, 0], [Number.NaN, 280]);
    await add(repo, { all: true });
    await commit(repo, { message: "nan", noVerify: true });
    const err = await refused(push(repo, { remote }));
    expect(err.action).toBe("push");
    expect(err.message).toContain("fc.zarr/t2m chunk [0,0] (time 2024-01-01, lat 10): max_nan_fraction: 1 of 2 values are NaN");
    expect(err.hint).toContain("nothing was uploaded");
    const remoteRef = async () => (await fsp.readFile(path.join(remote, "git/refs/heads/main"), "utf8").catch(() => "")).trim();
    expect(await remoteRef()).toBe(pushed);

    const res = await push(repo, { remote, noVerify: true });
    expect(res.refs[0]).toMatchObject({ ref: "refs/heads/main", status: "fast-forward" });

    // a clone at the passing commit: pull's fast-forward to the failing one is a merge its rules refuse
    const other = path.join(await tempDir(), "other");
    await clone({ url: remote, dir: other });
    const theirs = await Repository.open({ dir: other, durability: "none" });
    await reset(theirs, { rev: "HEAD~1", mode: "hard" });
    const pulled = await refused(pull(theirs, {}));
    expect(pulled.message).toContain("fc.zarr/t2m chunk [0,0]");
    expect(await resolveRevision(theirs, "main")).toBe(pushed);
    expect((await pull(theirs, { noVerify: true })).status).toBe("fast-forward");

    // history rewritten locally: --force (with or without --no-verify) cannot move the protected branch
    await reset(repo, { rev: "HEAD~1", mode: "hard" });
    await fsp.writeFile(path.join(dir, "README.md"), "other\n");
    await add(repo, { all: true });
    await commit(repo, { message: "other" });
    for (const noVerify of [false, true]) {
      const e = await push(repo, { remote, force: true, noVerify }).catch((x: unknown) => x);
      expect(isTdvError(e, "ProtectedBranchError")).toBe(true);
      expect((e as Error).message).toContain("branch 'main' is protected");
    }
    expect(await remoteRef()).not.toBe(await resolveRevision(repo, "main"));

    // another repository, none of whose commits the remote's main holds: the protection is read from the remote
    const stranger = await tempDir();
    await fsp.writeFile(path.join(stranger, "README.md"), "unrelated\n");
    const { repo: s } = await Repository.init({ durability: "none", dir: stranger });
    await add(s, { all: true });
    await commit(s, { message: "unrelated" });
    const e = await push(s, { remote, force: true }).catch((x: unknown) => x);
    expect(isTdvError(e, "ProtectedBranchError")).toBe(true);

    // a branch the rules do not protect: pushed as before, failing data and all
    await switchBranch(repo, { name: "scratch", create: true });
    await writeChunk(path.join(dir, T2M), "<f4", [1, 0], [Number.NaN, 280]);
    await add(repo, { all: true });
    await commit(repo, { message: "scratch nan" });
    expect((await push(repo, { remote, refs: ["scratch"] })).refs[0]).toMatchObject({ status: "created" });
  });
});
