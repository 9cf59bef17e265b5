import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, Repository, status } from "../../src/index.js";
import { diffFileMaps } from "../../src/repo/changes.js";
import { classifyWith } from "../../src/repo/hierarchy.js";
import { readSnapshot, storedHierarchy, writeSnapshot } from "../../src/repo/snapshot.js";
import { updateSnapshot } from "../../src/repo/snapshot-update.js";
import { makeFixture } from "../helpers/fixture.js";

/** weather.zarr (v2) and ocean.zarr (v3) side by side, committed once. */
async function imported() {
  const weather = await makeFixture("v2/weather.zarr");
  const root = path.dirname(weather);
  await fsp.cp(await makeFixture("v3/ocean.zarr"), path.join(root, "ocean.zarr"), { recursive: true });
  const { repo } = await Repository.init({ dir: root });
  await add(repo, { all: true });
  await commit(repo, { message: "import" });
  return { root, weather, repo };
}

/** Every packed object made a loose file (stock git's unpack-objects), the packs removed; the repository opened again. */
async function unpackAll(repo: Repository): Promise<Repository> {
  const dir = path.join(repo.tdvDir, "git/objects/pack");
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".pack"))) {
    const moved = path.join(repo.tdvDir, name);
    fs.renameSync(path.join(dir, name), moved);
    fs.rmSync(path.join(dir, name.replace(/\.pack$/, ".idx")));
    execFileSync("git", ["--git-dir", path.join(repo.tdvDir, "git"), "unpack-objects", "-q"], { input: fs.readFileSync(moved) });
    fs.rmSync(moved);
  }
  return Repository.open({ dir: repo.root });
}

/** Staged changes as a full comparison of HEAD's snapshot with the index says them. */
async function fullStaged(repo: Repository) {
  const index = await repo.readIndex();
  const head = (await repo.refs.head()).oid!;
  const snap = await readSnapshot(repo, (await repo.git.readCommit(head)).tree);
  const ih = storedHierarchy(repo, index.entries, false);
  return diffFileMaps(snap.files, index.entries, (rel, side) => (side === "before" ? classifyWith(snap.arrays, rel) : ih.classify(rel)));
}

/** The tree the full snapshot writer makes of the index's files. */
async function fullTree(repo: Repository): Promise<string> {
  return writeSnapshot(repo, (await repo.readIndex()).entries);
}

const zarray = (shape: number[], chunks: number[], sep?: string) =>
  JSON.stringify({
    zarr_format: 2,
    shape,
    chunks,
    dtype: "<i4",
    compressor: null,
    fill_value: 0,
    order: "C",
    filters: null,
    ...(sep ? { dimension_separator: sep } : {}),
  });

describe("updateSnapshot (the snapshot written from the one before it)", () => {
  // each step edits the working tree; after `add`, the tree the index keeps (written from the
  // previous one) must be the tree the full writer makes of the same files, byte for byte
  const steps: [string, (w: string, root: string) => Promise<void>][] = [
    [
      "chunks modified, added and deleted; attributes; a plain file",
      async (w) => {
        await fsp.writeFile(path.join(w, "precip/1/0/2"), "new bytes");
        await fsp.rm(path.join(w, "temperature/0.0.0"));
        await fsp.writeFile(path.join(w, "temperature/3.0.0"), "outside the grid");
        await fsp.appendFile(path.join(w, "precip/.zattrs"), " ");
        await fsp.writeFile(path.join(w, "README.txt"), "changed");
      },
    ],
    [
      "a plain file grows past the blob limit, another shrinks below it, a large one appears in a new folder",
      async (w) => {
        await fsp.writeFile(path.join(w, "README.txt"), Buffer.alloc(100_000, 7));
        await fsp.writeFile(path.join(w, "big.bin"), Buffer.alloc(70_000, 1));
        await fsp.mkdir(path.join(w, "docs/deep"), { recursive: true });
        await fsp.writeFile(path.join(w, "docs/deep/large.nc"), Buffer.alloc(80_000, 2));
      },
    ],
    [
      "the array grows (same identity), one loses every chunk, a shard region appears",
      async (w) => {
        const meta = JSON.parse(await fsp.readFile(path.join(w, "temperature/.zarray"), "utf8"));
        meta.shape[0] *= 100;
        await fsp.writeFile(path.join(w, "temperature/.zarray"), JSON.stringify(meta));
        await fsp.writeFile(path.join(w, "temperature/200.0.0"), "far away");
        for (const f of await fsp.readdir(path.join(w, "precip"))) if (!f.startsWith(".")) await fsp.rm(path.join(w, "precip", f), { recursive: true });
      },
    ],
    [
      "an array changes its number of dimensions, another its key separator",
      async (w) => {
        await fsp.writeFile(path.join(w, "lon/.zarray"), zarray([4, 4], [2, 2]));
        await fsp.writeFile(path.join(w, "lon/0.0"), "2-d now");
        await fsp.writeFile(path.join(w, "station_id/.zarray"), zarray([6], [2], "/"));
        const meta = JSON.parse(await fsp.readFile(path.join(w, "temperature/.zarray"), "utf8"));
        await fsp.writeFile(path.join(w, "temperature/.zarray"), JSON.stringify({ ...meta, dimension_separator: "/" }));
        await fsp.mkdir(path.join(w, "temperature/0/1"), { recursive: true });
        await fsp.writeFile(path.join(w, "temperature/0/1/1"), "a chunk under the new separator");
      },
    ],
    [
      "an array appears inside another array's folder, and one nested array goes",
      async (w) => {
        await fsp.mkdir(path.join(w, "temperature/inner"), { recursive: true });
        await fsp.writeFile(path.join(w, "temperature/inner/.zarray"), zarray([2], [1]));
        await fsp.writeFile(path.join(w, "temperature/inner/0"), "inner chunk");
        await fsp.writeFile(path.join(w, "temperature/inner/1"), "inner chunk 2");
        // temperature/0/1/1 was chunk [0,1,1] of temperature: now it is chunk [1,1] of temperature/0
        await fsp.writeFile(path.join(w, "temperature/0/.zarray"), zarray([4, 4], [2, 2], "/"));
        await fsp.rm(path.join(w, "snow_depth/.zarray"));
      },
    ],
    [
      "the inner array goes again (its chunks become the outer array's plain files); a file becomes a folder",
      async (w) => {
        await fsp.rm(path.join(w, "temperature/inner/.zarray"));
        await fsp.rm(path.join(w, "temperature/0/.zarray"));
        await fsp.rm(path.join(w, "scalar/0"));
        await fsp.mkdir(path.join(w, "scalar/0"));
        await fsp.writeFile(path.join(w, "scalar/0/x"), "a folder where a chunk was");
      },
    ],
    [
      "a whole array and a whole store are removed; a v3 array is added",
      async (w, root) => {
        await fsp.rm(path.join(w, "temperature"), { recursive: true });
        await fsp.rm(path.join(root, "ocean.zarr"), { recursive: true });
        await fsp.mkdir(path.join(w, "v3a/c/0"), { recursive: true });
        await fsp.writeFile(
          path.join(w, "v3a/zarr.json"),
          JSON.stringify({
            zarr_format: 3,
            node_type: "array",
            shape: [4, 4],
            data_type: "int32",
            chunk_grid: { name: "regular", configuration: { chunk_shape: [2, 2] } },
            chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
            fill_value: 0,
            codecs: [{ name: "bytes", configuration: { endian: "little" } }],
          }),
        );
        await fsp.writeFile(path.join(w, "v3a/c/0/1"), "v3 chunk");
      },
    ],
    [
      "the root becomes an array",
      async (_w, root) => {
        await fsp.writeFile(path.join(root, ".zarray"), zarray([10], [5]));
        await fsp.writeFile(path.join(root, "0"), "root chunk");
      },
    ],
  ];

  it("writes the tree the full writer writes, step after step", async () => {
    const { root, weather, repo } = await imported();
    for (const [what, edit] of steps) {
      await edit(weather, root);
      await add(repo, { all: true });
      const index = await repo.readIndex();
      expect(index.tree, what).not.toBeNull();
      expect(index.tree, what).toBe(await fullTree(repo));
      // and it reads back as the index's files
      const snap = await readSnapshot(repo, index.tree);
      expect(new Map([...snap.files].map(([p, e]) => [p, e.id])), what).toEqual(new Map([...index.entries].map(([p, e]) => [p, e.id])));
      // status compares HEAD's tree with the index's: it says what a full comparison of the two file lists says
      const staged = (await status(repo)).staged;
      expect(staged.length, what).toBeGreaterThan(0);
      expect(staged, what).toEqual(await fullStaged(repo));
    }
  });

  it("commit -a writes the same tree as a full write; a commit after add writes no tree", async () => {
    const { root, weather, repo } = await imported();
    await steps[0]![1](weather, root);
    const c = await commit(repo, { message: "edit", all: true });
    expect(c.tree).toBe(await fullTree(repo));
    expect(c.changes.arrays.map((a) => a.path)).toEqual(["weather.zarr/precip", "weather.zarr/temperature"]);

    await steps[1]![1](weather, root);
    await add(repo, { all: true });
    const staged = (await repo.readIndex()).tree;
    const c2 = await commit(repo, { message: "large" });
    expect(c2.tree).toBe(staged);
    expect(c2.changes.files.map((f) => f.path)).toContain("weather.zarr/README.txt");
  });

  it("reads only the folders on the way to a change", async () => {
    const repo = await unpackAll((await imported()).repo); // the first add wrote its blobs and trees in one pack: one object can go missing only as a loose file
    const head = await repo.readIndex();
    // an unrelated array's tree goes missing: a full write would not need it either, but reading the
    // whole snapshot would fail; the update never looks at it
    const store = (await repo.git.readTree(head.tree!)).find((e) => e.name === "weather.zarr")!.oid;
    const lat = (await repo.git.readTree(store)).find((e) => e.name === "lat")!.oid;
    await fsp.rm(path.join(repo.tdvDir, "git/objects", lat.slice(0, 2), lat.slice(2)));
    repo.git.dropCache();
    const entries = new Map(head.entries);
    const chunk = "weather.zarr/precip/1/0/2";
    entries.set(chunk, { ...entries.get(chunk)!, store: "chunk", id: "a".repeat(64) as never, size: 7 });
    const tree = await updateSnapshot(repo, head.tree!, entries, [chunk]);
    const after = (await repo.git.readTree((await repo.git.readTree(tree)).find((e) => e.name === "weather.zarr")!.oid)).find((e) => e.name === "lat")!.oid;
    expect(after).toBe(lat);
    // kept by its id, never written again (a full write would have rewritten it)
    repo.git.dropCache();
    await expect(repo.git.readTree(lat)).rejects.toThrow(/missing/);
  });
});
