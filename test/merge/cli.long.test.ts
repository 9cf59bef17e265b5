/**
 * The built CLI, spawned as a user runs it: merge (clean, conflicts, resolve,
 * --continue, --abort, --ff-only, --dry-run, --strategy), status during a
 * merge, commit concluding a merge, and log --graph.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { committed, tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles } from "../helpers/fixture.js";
import { setPoints, values } from "./helpers.js";

const DEPTH = "ocean.zarr/depth"; // int32 [10] in chunks of 4

/** main and feature both changed chunk 0 of depth: element 1 on both (a conflict), 0 and 2 on one side each. */
async function conflicted({ newArray = false } = {}): Promise<string> {
  const dir = await committed("v3/ocean.zarr");
  await tdvOk(dir, ["switch", "-c", "feature"]);
  await setPoints(dir, DEPTH, { "1": 50, "2": 7 });
  if (newArray) {
    // feature also adds an array: a copy of depth, as landmask
    await fsp.cp(path.join(dir, DEPTH), path.join(dir, "ocean.zarr/landmask"), { recursive: true });
    await tdvOk(dir, ["add", "ocean.zarr/landmask"]);
  }
  await tdvOk(dir, ["commit", "-a", "-m", "theirs"]);
  await tdvOk(dir, ["switch", "main"]);
  await setPoints(dir, DEPTH, { "1": 60, "0": 3 });
  await tdvOk(dir, ["commit", "-a", "-m", "ours"]);
  return dir;
}

describe("tdv merge (CLI)", () => {
  it("stops on a conflicting element, status shows it, resolve --theirs and merge --continue conclude; log --graph draws the merge", async () => {
    const dir = await conflicted({ newArray: true });
    const m = await tdv(dir, ["merge", "feature"]);
    expect(m.code).toBe(1);
    // the array feature added is one line, as an array, not its files
    expect(m.stdout).toMatch(/^ {2}new array ocean\.zarr\/landmask \(\d+ chunks, [\d.]+ k?B\)$/m);
    expect(m.stdout).not.toContain("landmask/zarr.json");
    expect(m.stdout).toContain("CONFLICT (chunk): ocean.zarr/depth chunk [0]: 1 element changed on both sides to different values");
    expect(m.stdout).toMatch(/\[1\] {2}base 5 {2}ours 60 {2}theirs 50/);
    expect(m.stderr).toContain("tdv merge --continue");

    const st = await tdvOk(dir, ["status"]);
    expect(st.stdout).toContain("You are merging 'feature' and have 1 unresolved conflict.");
    expect(st.stdout).toMatch(/\[1\] {2}base 5 {2}ours 60 {2}theirs 50/);
    expect(st.stdout).not.toContain("nothing to commit");
    expect(st.stdout.trimEnd().split("\n").at(-1)).toBe('1 unresolved conflict (resolve, then "tdv merge --continue")');
    const json = await tdvJson<{ merge: { name: string; conflicts: { conflict: { _tag: string; chunk: number[] }; resolved: boolean }[] } }>(dir, ["status", "--json"]);
    expect(json.merge.conflicts.map((c) => [c.conflict._tag, c.conflict.chunk, c.resolved])).toEqual([["ChunkBothChanged", [0], false]]);
    expect((await tdvOk(dir, ["status", "-s"])).stdout).toContain(`UU ${DEPTH}/c/0`);
    expect(await fsp.readFile(path.join(dir, ".tdv/git/MERGE_HEAD"), "utf8")).toMatch(/^[0-9a-f]{40}\n$/);

    const early = await tdv(dir, ["merge", "--continue"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("not resolved");
    expect(early.stderr).toContain("ocean.zarr/depth chunk [0]");

    const r = await tdvOk(dir, ["resolve", DEPTH, "--chunk", "0", "--theirs"]);
    expect(r.stdout).toContain("Resolved 1 conflict with theirs");
    // as a merge killed while it wrote the working copy leaves its state: status and --continue agree that only --abort helps
    const stateFile = path.join(dir, ".tdv/MERGE_STATE.json");
    const saved = await fsp.readFile(stateFile, "utf8");
    await fsp.writeFile(stateFile, JSON.stringify({ ...JSON.parse(saved), interrupted: "it was stopped while it updated the working copy" }));
    const killed = await tdvOk(dir, ["status"]);
    expect(killed.stdout).toContain("The merge of 'feature' did not finish updating the working copy (it was stopped while it updated the working copy): it cannot be concluded.");
    expect(killed.stdout).not.toContain("All conflicts fixed");
    expect(killed.stdout.trimEnd().split("\n").at(-1)).toBe('the merge cannot be concluded (use "tdv merge --abort")');
    const refused = await tdv(dir, ["merge", "--continue"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("it cannot be concluded");
    expect(refused.stderr).toContain("tdv merge --abort");
    await fsp.writeFile(stateFile, saved);
    const fixed = await tdvOk(dir, ["status"]);
    expect(fixed.stdout).toContain("All conflicts fixed but you are still merging");
    expect(fixed.stdout.trimEnd().split("\n").at(-1)).toBe('ready to conclude the merge (use "tdv merge --continue")');
    const c = await tdvOk(dir, ["merge", "--continue"]);
    expect(c.stdout).toMatch(/^\[main [0-9a-f]{7}\] Merge branch 'feature'/);
    expect((await values(dir, DEPTH)).slice(0, 3)).toEqual([3, 50, 7]);
    expect((await tdvOk(dir, ["status"])).stdout).toContain("nothing to commit, working tree clean");

    const g = await tdvOk(dir, ["log", "--graph", "--oneline"]);
    const lines = g.stdout.trimEnd().split("\n").map((l) => l.replace(/[0-9a-f]{7}/, "ID"));
    expect(lines).toEqual(["* ID (HEAD -> main) Merge branch 'feature'", "|\\", "* | ID ours", "| * ID (feature) theirs", "|/", "* ID import"]);
    const full = await tdvOk(dir, ["log", "--graph"]);
    expect(full.stdout.split("\n")[1]).toMatch(/^\|\\ {2}Merge: [0-9a-f]{7} [0-9a-f]{7}$/);
    // stock git sees two parents too
    const show = await tdvOk(dir, ["show", "--json"]);
    expect(JSON.parse(show.stdout).commit.parents).toHaveLength(2);
  });

  it("--strategy ours settles the element; --dry-run changes nothing; --ff-only refuses diverged history", async () => {
    const dir = await conflicted();
    const before = await listFiles(dir);
    const dry = await tdv(dir, ["merge", "--dry-run", "feature"]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain("Would stop on 1 conflict.");
    const ff = await tdv(dir, ["merge", "--ff-only", "feature"]);
    expect(ff.code).toBe(1);
    expect(ff.stderr).toContain("not possible to fast-forward");
    const after = await listFiles(dir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    await expect(fsp.access(path.join(dir, ".tdv/MERGE_STATE.json"))).rejects.toThrow();

    const m = await tdvOk(dir, ["merge", "--strategy", "ours", "-m", "Merge with ours", "feature"]);
    expect(m.stdout).toContain("Merge made by tdv (2 parents)");
    expect((await values(dir, DEPTH)).slice(0, 3)).toEqual([3, 60, 7]);
    const bad = await tdv(dir, ["merge", "--strategy", "mine", "feature"]);
    expect(bad.code).toBe(2);
  });

  it("--abort puts back every byte; commit concludes a merge like --continue; fast-forward and up to date", async () => {
    const dir = await conflicted();
    const before = await listFiles(dir);
    const index = await fsp.readFile(path.join(dir, ".tdv/index"));
    expect((await tdv(dir, ["merge", "feature"])).code).toBe(1);
    expect((await tdv(dir, ["merge", "feature"])).stderr).toContain("a merge of 'feature' is in progress");
    // moving away would leave the merge's state behind: refused, nothing moves
    const stopped = await listFiles(dir);
    for (const args of [["switch", "feature"], ["checkout", "feature"], ["checkout", "HEAD~1"], ["switch", "-c", "elsewhere"]]) {
      const r = await tdv(dir, args);
      expect(r.code, `tdv ${args.join(" ")}`).toBe(1);
      expect(r.stderr).toContain("a merge of 'feature' is in progress");
      expect(r.stderr).toContain("tdv merge --abort");
    }
    expect([...(await listFiles(dir)).keys()]).toEqual([...stopped.keys()]);
    await fsp.access(path.join(dir, ".tdv/MERGE_STATE.json"));
    await tdvOk(dir, ["merge", "--abort"]);
    const after = await listFiles(dir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [p, b] of before) expect(after.get(p)!.equals(b), p).toBe(true);
    expect((await fsp.readFile(path.join(dir, ".tdv/index"))).equals(index)).toBe(true);
    expect((await tdv(dir, ["merge", "--abort"])).stderr).toContain("no merge is in progress");

    // edit the conflicting element by hand, add, and commit: a merge commit
    expect((await tdv(dir, ["merge", "feature"])).code).toBe(1);
    await setPoints(dir, DEPTH, { "1": 55 });
    await tdvOk(dir, ["add", DEPTH]);
    const c = await tdvOk(dir, ["commit", "-m", "Merge feature, depth[1] averaged"]);
    expect(c.stdout).toContain("Merge feature, depth[1] averaged");
    const head = JSON.parse((await tdvOk(dir, ["show", "--json"])).stdout);
    expect(head.commit.parents).toHaveLength(2);
    expect((await values(dir, DEPTH)).slice(0, 3)).toEqual([3, 55, 7]);

    // feature is behind main now: up to date; a branch behind main fast-forwards
    expect((await tdvOk(dir, ["merge", "feature"])).stdout).toContain("Already up to date.");
    await tdvOk(dir, ["switch", "feature"]);
    const ffm = await tdvOk(dir, ["merge", "main"]);
    expect(ffm.stdout).toContain("Fast-forward");
    expect((await values(dir, DEPTH)).slice(0, 3)).toEqual([3, 55, 7]);
  });

  it("switch --force away from a stopped merge abandons it, as reset --hard does", async () => {
    const dir = await conflicted();
    expect((await tdv(dir, ["merge", "feature"])).code).toBe(1);
    await tdvOk(dir, ["switch", "--force", "feature"]);
    await expect(fsp.access(path.join(dir, ".tdv/MERGE_STATE.json"))).rejects.toThrow();
    const st = JSON.parse((await tdvOk(dir, ["status", "--json"])).stdout);
    expect(st.merge).toBeUndefined();
    expect(st.branch).toBe("refs/heads/feature");
    expect(st.clean).toBe(true);
  });

  it("refuses to merge over local changes, naming the files", async () => {
    const dir = await conflicted();
    await setPoints(dir, DEPTH, { "9": 1 });
    const r = await tdv(dir, ["merge", "feature"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("local changes to tracked files");
    expect(r.stderr).toContain(`${DEPTH}/c/2`);
  });
});
