/**
 * A switch with nothing staged looks only at the files that differ between the
 * two commits: local changes elsewhere are carried over untouched (as git does),
 * local changes to a file the switch would write refuse the switch, and a file
 * behind a symbolic link is never taken for a working file.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, createBranch, gc, isTdvError, Repository, status, switchBranch } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";

async function gridRepo() {
  const dir = await tempDir();
  const arr = path.join(dir, "g.zarr");
  await fsp.mkdir(path.join(arr, "c/0"), { recursive: true });
  await fsp.writeFile(
    path.join(arr, "zarr.json"),
    JSON.stringify({ zarr_format: 3, node_type: "array", shape: [4, 16], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [4, 4] } }, chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: 0, codecs: [{ name: "bytes" }], attributes: {} }),
  );
  for (let x = 0; x < 4; x++) await fsp.writeFile(path.join(arr, `c/0/${x}`), Buffer.alloc(16, x));
  await fsp.mkdir(path.join(dir, "notes"));
  await fsp.writeFile(path.join(dir, "notes/readme.txt"), "shared by both branches");
  const { repo } = await Repository.init({ dir });
  await add(repo, { all: true });
  await commit(repo, { message: "base" });
  await createBranch(repo, { name: "other" });
  await switchBranch(repo, { name: "other" });
  await fsp.writeFile(path.join(arr, "c/0/1"), Buffer.alloc(16, 11));
  await commit(repo, { message: "other", all: true });
  await switchBranch(repo, { name: "main" });
  return { dir, arr, repo };
}

describe("switch with nothing staged", () => {
  it("carries a local change to a file both commits share, and writes the file they differ in", async () => {
    const { arr, repo } = await gridRepo();
    await fsp.writeFile(path.join(arr, "c/0/3"), "local edit");
    await switchBranch(repo, { name: "other" });
    expect(await fsp.readFile(path.join(arr, "c/0/1"))).toEqual(Buffer.alloc(16, 11));
    expect(await fsp.readFile(path.join(arr, "c/0/3"), "utf8")).toBe("local edit");
    const st = await status(repo);
    expect(st.staged).toEqual([]);
    expect(st.unstaged.map((c) => c.path)).toEqual(["g.zarr/c/0/3"]);
    // and back: the local edit still rides along
    await switchBranch(repo, { name: "main" });
    expect(await fsp.readFile(path.join(arr, "c/0/1"))).toEqual(Buffer.alloc(16, 1));
    expect(await fsp.readFile(path.join(arr, "c/0/3"), "utf8")).toBe("local edit");
  });

  it("refuses when the file it would write holds a local change, and changes nothing", async () => {
    const { arr, repo } = await gridRepo();
    await fsp.writeFile(path.join(arr, "c/0/1"), "mine");
    const err = await switchBranch(repo, { name: "other" }).catch((e: unknown) => e);
    expect(isTdvError(err, "DirtyWorkingCopyError"), String(err)).toBe(true);
    expect(String((err as Error).message)).toContain("g.zarr/c/0/1");
    expect(await fsp.readFile(path.join(arr, "c/0/1"), "utf8")).toBe("mine");
    expect((await repo.refs.head()).branch).toBe("refs/heads/main");
  });

  it("a folder replaced by a symbolic link is not looked through", async () => {
    const { dir, arr, repo } = await gridRepo();
    const outside = await tempDir();
    await fsp.mkdir(path.join(outside, "0"));
    await fsp.writeFile(path.join(outside, "0/1"), Buffer.alloc(16, 1)); // what main has: would look unchanged through the link
    await fsp.rm(path.join(arr, "c"), { recursive: true });
    await fsp.symlink(outside, path.join(arr, "c"));
    const err = await switchBranch(repo, { name: "other" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await fsp.readFile(path.join(outside, "0/1"))).toEqual(Buffer.alloc(16, 1)); // nothing written through the link
    expect((await fsp.lstat(path.join(dir, "g.zarr/c"))).isSymbolicLink()).toBe(true);
  });

  it("between two verified trees reads only the subtrees that differ; an unverified target is read and checked whole", async () => {
    const { arr, repo } = await gridRepo();
    const tree = async (rev: string) => (await repo.git.readCommit((await repo.refs.read(rev))!)).tree;
    expect(repo.isVerifiedTree(await tree("refs/heads/main")) && repo.isVerifiedTree(await tree("refs/heads/other"))).toBe(true); // both written by commits
    // the folder both branches share goes missing from the object store: a full read would fail on it
    const notes = (await repo.git.readTree(await tree("refs/heads/other"))).find((e) => e.name === "notes")!.oid;
    await fsp.rm(path.join(repo.tdvDir, "git/objects", notes.slice(0, 2), notes.slice(2)));
    repo.git.dropCache();
    await switchBranch(repo, { name: "other" });
    expect(await fsp.readFile(path.join(arr, "c/0/1"))).toEqual(Buffer.alloc(16, 11));
    expect((await status(repo)).clean).toBe(true);

    // without its marker the target is read whole, every check made: here that read meets the missing folder
    await fsp.rm(path.join(repo.tdvDir, "verified-trees"), { recursive: true });
    await expect(switchBranch(repo, { name: "main" })).rejects.toThrow(/missing/);
    expect((await repo.refs.head()).branch).toBe("refs/heads/other");
    expect(await fsp.readFile(path.join(arr, "c/0/1"))).toEqual(Buffer.alloc(16, 11));
  });

  it("gc keeps the markers of the tips only", async () => {
    const { arr, repo } = await gridRepo();
    const treeOf = async (oid: string) => (await repo.git.readCommit(oid as never)).tree;
    const first = (await repo.refs.head()).oid!;
    await fsp.writeFile(path.join(arr, "c/0/2"), "two");
    const second = await commit(repo, { message: "second", all: true });
    expect(repo.isVerifiedTree(await treeOf(first)) && repo.isVerifiedTree(second.tree)).toBe(true);
    await gc(repo);
    expect(repo.isVerifiedTree(await treeOf(first))).toBe(false); // no tip has it any more
    expect(repo.isVerifiedTree(second.tree)).toBe(true); // main
    expect(repo.isVerifiedTree(await treeOf((await repo.refs.read("refs/heads/other"))!))).toBe(true);
    // and the switch still works, reading the target whole where it has no marker
    await switchBranch(repo, { name: "other" });
    expect(await fsp.readFile(path.join(arr, "c/0/1"))).toEqual(Buffer.alloc(16, 11));
  });
});
