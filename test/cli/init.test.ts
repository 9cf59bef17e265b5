/** `tdv init`: what it reports, a store root (the repository beside it), --separate-repo and re-attaching, -b. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvOk } from "../helpers/cli.js";
import { hasZarrPython, python } from "../helpers/zarr-python.js";
import { listFiles, makeFixture, tempDir } from "../helpers/fixture.js";

describe.concurrent("tdv init", () => {
  it("counts arrays and groups and says what to do next", async () => {
    const dir = path.dirname(await makeFixture("v2/weather.zarr"));
    const r = await tdvOk(dir, ["init"]);
    expect(r.stdout).toBe(
      `Initialized empty tdv repository in ${dir}/.tdv\nFound 10 Zarr arrays and 2 groups, 1 other file. Next:\n  tdv add -A && tdv commit -m "Import dataset"\n`,
    );
    expect(r.stderr).toBe("");
    const again = await tdv(dir, ["init"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
  });

  it("in an empty folder given as DIR, with another initial branch", async () => {
    const parent = await tempDir();
    const r = await tdvOk(parent, ["init", "data", "-b", "production"]);
    expect(r.stdout).toContain(`Initialized empty tdv repository in ${parent}/data/.tdv`);
    expect(r.stdout).toContain("No Zarr arrays found yet");
    expect((await tdvOk(path.join(parent, "data"), ["status"])).stdout).toMatch(/^On branch production\n\nNo commits yet\n/);
  });

  it("in a store root keeps the repository beside the store (../NAME.tdv); --inside keeps it in, with a warning", async () => {
    const store = await makeFixture("v3/ocean.zarr");
    const repoDir = path.join(path.dirname(store), "ocean.tdv");
    const r = await tdvOk(store, ["init"]);
    expect(r.stdout).toContain(`Initialized empty tdv repository in ${repoDir} (working tree ${store})\n`);
    expect(r.stdout).toContain(`ocean.zarr is a Zarr store root, which zarr's mode="w" deletes whole: the repository is beside it,`);
    expect(r.stderr).toBe("");
    expect(await fsp.readFile(path.join(store, ".tdv"), "utf8")).toBe(`tdvdir: ${repoDir}\n`);
    expect(JSON.parse(await fsp.readFile(path.join(repoDir, "tdv.json"), "utf8")).worktree).toBe(store);

    const other = await makeFixture("v2/single.zarr");
    const inside = await tdvOk(path.dirname(other), ["init", "single.zarr", "--inside", "-q"]);
    expect(inside.stdout).toBe("");
    expect(inside.stderr).toMatch(/^warning: .*single\.zarr is a Zarr store root: xarray's to_zarr\(mode="w"\) and zarr\.open\(mode="w"\) delete it whole/m);
    expect((await fsp.stat(path.join(other, ".tdv"))).isDirectory()).toBe(true);
  });

  it("a store root whose sibling NAME.tdv is taken is refused, naming --separate-repo and --inside", async () => {
    const store = await makeFixture("v2/single.zarr");
    await fsp.mkdir(path.join(path.dirname(store), "single.tdv"));
    await fsp.writeFile(path.join(path.dirname(store), "single.tdv", "notes.txt"), "mine");
    const r = await tdv(store, ["init"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("single.tdv, is taken");
    expect(r.stderr).toMatch(/hint: name another with --separate-repo DIR \(or keep the repository in the store with --inside/);
    expect(await fsp.lstat(path.join(store, ".tdv")).catch(() => null)).toBeNull();
  });

  it("--separate-repo keeps the repository outside the store; init re-attaches the store after it was deleted", async () => {
    const store = await makeFixture("v2/single.zarr");
    const original = await listFiles(store);
    const repoDir = path.join(path.dirname(store), "single.tdv");
    const r = await tdvOk(store, ["init", "--separate-repo", "../single.tdv"]);
    expect(r.stdout).toContain(`Initialized empty tdv repository in ${repoDir} (working tree ${store})`);
    expect(r.stderr).toBe("");
    expect((await fsp.readFile(path.join(store, ".tdv"), "utf8")).trim()).toBe(`tdvdir: ${repoDir}`);
    const added = await tdvOk(store, ["add", "-A"]);
    expect(added.stderr).toBe("");
    await tdvOk(store, ["commit", "-m", "import"]);
    // a tool rewrites the store: everything, .tdv pointer included, is gone
    await fsp.rm(store, { recursive: true });
    await fsp.mkdir(store);
    const lost = await tdv(store, ["status"]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`(the working copy of ${repoDir} lost its pointer file .tdv)`);
    expect(lost.stderr).toContain(`hint: a tool that rewrote the folder deleted it; re-attach with: cd ${store} && tdv init --separate-repo ${repoDir}`);
    // plain init finds the repository beside the folder that records it (the folder, empty now, is no store root)
    const again = await tdvOk(store, ["init"]);
    expect(again.stdout).toContain(`Reinitialized existing tdv repository in ${repoDir} (working tree ${store})`);
    await tdvOk(store, ["reset", "--hard"]);
    expect(await listFiles(store)).toEqual(original);
    // another folder may not take a repository that records a working copy
    const stranger = await tempDir();
    const taken = await tdv(stranger, ["init", "--separate-repo", repoDir]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`${repoDir} is the repository of another working copy, ${store}`);
  });

  it.skipIf(!hasZarrPython())("zarr-python's mode=\"w\" over an initialized store: history survives, init re-attaches, status shows the rewrite", async () => {
    const parent = await tempDir();
    const store = path.join(parent, "climate.zarr");
    const write = (scale: number, chunk: number) =>
      python(parent, `g = zarr.open_group('climate.zarr', mode='w')\ng.create_dataset('t', data=np.arange(36).reshape(6, 6) * ${scale}, chunks=(${chunk}, ${chunk}))`);
    await write(1, 2);
    await tdvOk(store, ["init", "-q"]);
    await tdvOk(store, ["add", "-A"]);
    await tdvOk(store, ["commit", "-m", "v1"]);
    // rechunked: 9 chunk files become 4, and zarr deletes the folder, pointer file included
    await write(2, 3);
    expect(await fsp.lstat(path.join(store, ".tdv")).catch(() => null)).toBeNull();
    const re = await tdvOk(store, ["init", "--separate-repo", "../climate.tdv"]);
    expect(re.stdout).toContain(`Reinitialized existing tdv repository in ${path.join(parent, "climate.tdv")}`);
    const st = await tdvOk(store, ["status", "--json"]);
    // no warning for the pointer file, none for the old chunk keys that are gone
    expect(st.stderr).toBe("");
    const doc = JSON.parse(st.stdout) as { head: string | null; unstaged: { path: string; change: string }[] };
    expect(doc.head).toMatch(/^[0-9a-f]{40}$/);
    expect(doc.unstaged.filter((c) => c.change === "modified").map((c) => c.path)).toEqual(["t/.zarray", "t/0.0", "t/0.1", "t/1.0", "t/1.1"]);
    expect(doc.unstaged.filter((c) => c.change === "deleted")).toHaveLength(5);
  });
});
