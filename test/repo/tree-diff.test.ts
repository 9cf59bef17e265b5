import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, Repository } from "../../src/index.js";
import { diffFileMaps, groupChanges } from "../../src/repo/changes.js";
import { classifyWith } from "../../src/repo/hierarchy.js";
import { readSnapshot } from "../../src/repo/snapshot.js";
import { diffTrees } from "../../src/repo/tree-diff.js";
import { makeFixture } from "../helpers/fixture.js";

async function fullDiff(repo: Repository, a: string | null, b: string | null) {
  const x = await readSnapshot(repo, a as never);
  const y = await readSnapshot(repo, b as never);
  return diffFileMaps(x.files, y.files, (rel, side) => classifyWith(side === "before" ? x.arrays : y.arrays, rel));
}

/** weather.zarr (v2) committed once. */
async function imported() {
  const src = await makeFixture("v2/weather.zarr");
  const { repo } = await Repository.init({ dir: path.dirname(src) });
  await add(repo, { all: true });
  return { src, repo, c1: await commit(repo, { message: "import" }) };
}

/** Changes to tracked files: a chunk modified, one deleted, one added to a tracked array, attributes, a plain file. */
async function editTracked(src: string): Promise<void> {
    await fsp.writeFile(path.join(src, "precip/0/0/0"), "new");
    await fsp.rm(path.join(src, "temperature/0.0.0"));
    await fsp.writeFile(path.join(src, "snow_depth/0.0.0"), "filled");
    await fsp.appendFile(path.join(src, "precip/.zattrs"), " ");
    await fsp.writeFile(path.join(src, "README.txt"), "changed");
}

describe("diffTrees", () => {
  it("says what a full comparison of both snapshots says, reading only what differs", async () => {
    const { src, repo, c1 } = await imported();
    // chunks modified, added, deleted; metadata; plain files; a new array; a removed array; a large plain file
    await editTracked(src);
    await fsp.writeFile(path.join(src, "big.bin"), Buffer.alloc(100_000, 3));
    // a new folder of plain files inside an array: the array's plain files, though no array is in the folder
    await fsp.mkdir(path.join(src, "precip/notes"));
    await fsp.writeFile(path.join(src, "precip/notes/readme.txt"), "about precip");
    await fsp.rm(path.join(src, "sub"), { recursive: true });
    await fsp.cp(path.join(src, "mask"), path.join(src, "mask2"), { recursive: true });
    await add(repo, { all: true });
    const c2 = await commit(repo, { message: "edit" });
    const full = await fullDiff(repo, c1.tree, c2.tree);
    expect(full.length).toBeGreaterThan(10);
    expect(await diffTrees(repo, c1.tree, c2.tree)).toEqual(full);
    expect(await diffTrees(repo, c2.tree, c1.tree)).toEqual(await fullDiff(repo, c2.tree, c1.tree));
    expect(await diffTrees(repo, null, c1.tree)).toEqual(await fullDiff(repo, null, c1.tree));
    expect(await diffTrees(repo, c1.tree, c1.tree)).toEqual([]);

    // unchanged arrays are never read: remove one's tree object, then diff
    await fsp.writeFile(path.join(src, "lat/0"), "x");
    const c3 = await commit(repo, { message: "lat", all: true });
    const store = (await repo.git.readTree(c3.tree)).find((e) => e.name === "weather.zarr")!.oid;
    const tempTree = (await repo.git.readTree(store)).find((e) => e.name === "temperature")!.oid;
    await fsp.rm(path.join(repo.tdvDir, "git/objects", tempTree.slice(0, 2), tempTree.slice(2)));
    repo.git.dropCache(); // this process wrote and read it: forget it, as a new process would not know it
    await expect(readSnapshot(repo, c3.tree)).rejects.toThrow(/missing/);
    expect((await diffTrees(repo, c2.tree, c3.tree)).map((c) => c.path)).toEqual(["weather.zarr/lat/0"]);
  });

  it("commit -a on a clean index reports from what it staged exactly what comparing the trees reports", async () => {
    const { src, repo, c1 } = await imported();
    // chunks modified, added (in a tracked array), deleted; metadata and a plain file changed
    await editTracked(src);
    const c2 = await commit(repo, { message: "edit", all: true });
    expect(c2.changes.arrays.length).toBeGreaterThanOrEqual(3);
    expect(c2.changes).toEqual(groupChanges(await diffTrees(repo, c1.tree, c2.tree)));
  });

  it("a first commit reports from the snapshot writer exactly what comparing with no tree reports", async () => {
    for (const fixture of ["v2/weather.zarr", "v3/ocean.zarr", "v3/sharded.zarr"]) {
      const src = await makeFixture(fixture);
      const { repo } = await Repository.init({ dir: path.dirname(src) });
      await fsp.writeFile(path.join(src, "big.bin"), Buffer.alloc(100_000, 3)); // a large plain file: a file list
      await add(repo, { all: true });
      const c1 = await commit(repo, { message: "import" });
      expect(c1.changes.arrays.length, fixture).toBeGreaterThan(0);
      expect(c1.changes, fixture).toEqual(groupChanges(await diffTrees(repo, null, c1.tree)));
    }
  });
});
