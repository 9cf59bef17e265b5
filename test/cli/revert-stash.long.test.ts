/**
 * `tdv revert` and `tdv stash`, spawned as a user runs them: plain files for
 * the workflow, a zarr-python array for the element-by-element merge that
 * keeps later edits of the same chunk.
 */
import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { hasZarrPython, python } from "../helpers/zarr-python.js";

interface Entry {
  oid: string;
  message: string;
  parents: string[];
}

async function repoWith(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [p, text] of Object.entries(files)) await fsp.writeFile(path.join(dir, p), text);
  await tdvOk(dir, ["init"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-m", "one"]);
  return dir;
}

const read = (dir: string, p: string) => fsp.readFile(path.join(dir, p), "utf8");

describe.concurrent("revert", () => {
  it("undoes one commit with a new commit, keeping later changes; refuses a conflict and changes nothing", async () => {
    const dir = await repoWith({ "a.txt": "a1\n", "b.txt": "b1\n" });
    await fsp.writeFile(path.join(dir, "a.txt"), "a2 (bad)\n");
    await tdvOk(dir, ["commit", "-a", "-m", "bad edit"]);
    await fsp.writeFile(path.join(dir, "b.txt"), "b2\n");
    await tdvOk(dir, ["commit", "-a", "-m", "later edit"]);

    const r = await tdvOk(dir, ["revert", "HEAD~1"]);
    expect(r.stdout).toMatch(/^\[main [0-9a-f]{7}\] Revert "bad edit"$/m);
    expect(await read(dir, "a.txt")).toBe("a1\n");
    expect(await read(dir, "b.txt")).toBe("b2\n");
    const [top] = await tdvJson<Entry[]>(dir, ["log", "-1", "--json"]);
    expect(top?.message).toMatch(/^Revert "bad edit"\n\nThis reverts commit [0-9a-f]{40}\./);

    // b.txt changed again since "later edit": reverting that one conflicts
    await fsp.writeFile(path.join(dir, "b.txt"), "b3\n");
    await tdvOk(dir, ["commit", "-a", "-m", "b again"]);
    const before = await tdvJson<Entry[]>(dir, ["log", "--json"]);
    const c = await tdv(dir, ["revert", "HEAD~2"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^error: cannot revert HEAD~2: later commits changed the same data \(1 conflict\); nothing was changed:\n  b\.txt/m);
    expect(await read(dir, "b.txt")).toBe("b3\n");
    expect(await tdvJson<Entry[]>(dir, ["log", "--json"])).toEqual(before);

    await fsp.writeFile(path.join(dir, "a.txt"), "local\n");
    const dirty = await tdv(dir, ["revert", "HEAD"]);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/cannot revert HEAD: the working copy has local changes to tracked files:\n  a\.txt/);
  });

  it.skipIf(!hasZarrPython())("merges the undo into a chunk a later commit also changed, element by element", async () => {
    const dir = await tempDir();
    await python(dir, "z = zarr.open('data.zarr', mode='w', shape=(8,), chunks=(8,), dtype='i4'); z[:] = np.arange(8)");
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "ingest"]);
    await python(dir, "z = zarr.open('data.zarr'); z[1] = -1");
    await tdvOk(dir, ["commit", "-a", "-m", "bad QC flag"]);
    await python(dir, "z = zarr.open('data.zarr'); z[6] = 60");
    await tdvOk(dir, ["commit", "-a", "-m", "good fix"]);
    await tdvOk(dir, ["revert", "HEAD~1"]);
    const out = await python(dir, "print(json.dumps(zarr.open('data.zarr', mode='r')[:].tolist()))");
    expect(JSON.parse(out)).toEqual([0, 1, 2, 3, 4, 5, 60, 7]);
  });
});

describe.concurrent("stash", () => {
  it("push saves the index and tracked files and cleans the working copy; list, pop, apply and drop work the stack", async () => {
    const dir = await repoWith({ "a.txt": "a1\n", "b.txt": "b1\n" });
    await fsp.writeFile(path.join(dir, "a.txt"), "a staged\n");
    await tdvOk(dir, ["add", "a.txt"]);
    await fsp.writeFile(path.join(dir, "b.txt"), "b working\n");
    await fsp.writeFile(path.join(dir, "untracked.txt"), "u\n");

    const p1 = await tdvOk(dir, ["stash"]);
    expect(p1.stdout).toMatch(/^saved working copy and index: WIP on main: [0-9a-f]{7} one/m);
    expect(await read(dir, "a.txt")).toBe("a1\n");
    expect(await read(dir, "b.txt")).toBe("b1\n");
    expect(await read(dir, "untracked.txt")).toBe("u\n");
    expect((await tdvOk(dir, ["stash"])).stdout.trim()).toBe("no local changes to save");

    await fsp.writeFile(path.join(dir, "b.txt"), "b second\n");
    await tdvOk(dir, ["stash", "push", "-m", "second"]);
    const list = await tdvOk(dir, ["stash", "list"]);
    expect(list.stdout).toMatch(/^stash@\{0\}: On main: second\nstash@\{1\}: WIP on main: [0-9a-f]{7} one\n$/);
    // stored as git stores a stash: W with parents HEAD and the index commit, refs/stash its reflog
    const gitdir = path.join(dir, ".tdv", "git");
    const parents = execFileSync("git", ["--git-dir", gitdir, "log", "-1", "--format=%P", "stash@{1}"], { encoding: "utf8" }).trim().split(" ");
    expect(parents).toHaveLength(2);
    expect(execFileSync("git", ["--git-dir", gitdir, "show", "stash@{1}^2:a.txt"], { encoding: "utf8" })).toBe("a staged\n");

    // apply stash@{1}: its changes come back, unstaged; the stash stays
    const ap = await tdvOk(dir, ["stash", "apply", "stash@{1}"]);
    expect(ap.stdout).toMatch(/^applied stash@\{1\}: WIP on main/m);
    expect(await read(dir, "a.txt")).toBe("a staged\n");
    expect(await read(dir, "b.txt")).toBe("b working\n");
    expect((await tdvJson<{ files: unknown[] }>(dir, ["diff", "--cached", "--json"])).files).toEqual([]);
    const dirty = await tdv(dir, ["stash", "pop"]);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/cannot apply stash@\{0\}: the working copy has local changes/);
    await tdvOk(dir, ["commit", "-a", "-m", "took the first stash"]);

    // pop stash@{0} ("second" changed b.txt, as the commit did): a conflict keeps the stash and the files
    const c = await tdv(dir, ["stash", "pop"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/cannot apply stash@\{0\}: .*nothing was changed and the stash is kept/);
    expect(await read(dir, "b.txt")).toBe("b working\n");
    expect((await tdvOk(dir, ["stash", "drop", "stash@{1}"])).stdout).toMatch(/^dropped stash@\{1\} \([0-9a-f]{7}\)$/m);
    expect((await tdvOk(dir, ["stash", "list"])).stdout).toMatch(/^stash@\{0\}: On main: second\n$/);
    await tdvOk(dir, ["stash", "drop"]);
    expect((await tdvOk(dir, ["stash", "list"])).stdout).toBe("");
    const none = await tdv(dir, ["stash", "pop"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no stash entries$/m);
    expect((await tdvOk(dir, ["fsck"])).code).toBe(0);
  });

  it("pop merges into a chunk changed since, element by element, and drops the stash", async () => {
    if (!hasZarrPython()) return;
    const dir = await tempDir();
    await python(dir, "z = zarr.open('data.zarr', mode='w', shape=(8,), chunks=(8,), dtype='i4'); z[:] = np.arange(8)");
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "ingest"]);
    await python(dir, "z = zarr.open('data.zarr'); z[0] = 100");
    await tdvOk(dir, ["stash"]);
    await python(dir, "z = zarr.open('data.zarr'); z[7] = 700");
    await tdvOk(dir, ["commit", "-a", "-m", "meanwhile"]);
    const r = await tdvOk(dir, ["stash", "pop"]);
    expect(r.stdout).toMatch(/^dropped stash@\{0\}/m);
    const out = await python(dir, "print(json.dumps(zarr.open('data.zarr', mode='r')[:].tolist()))");
    expect(JSON.parse(out)).toEqual([100, 1, 2, 3, 4, 5, 6, 700]);
    expect((await tdvOk(dir, ["stash", "list"])).stdout).toBe("");
  });
});
