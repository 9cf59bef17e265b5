/**
 * Many small arrays in one hierarchy: a commit's cost follows what changed,
 * not the number of arrays. Counted, not timed: the metadata documents read
 * from the working tree.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { add, commit, Repository, status } from "../../src/index.js";
import { writeSnapshot } from "../../src/repo/snapshot.js";
import { tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

const N = 40;

function arrayMeta(): string {
  return JSON.stringify({
    zarr_format: 3,
    node_type: "array",
    shape: [16],
    data_type: "float32",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [16] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    fill_value: 0,
  });
}

/** A group of N one-chunk arrays, a0 … a(N-1), in a fresh folder. */
async function manyArrays(): Promise<string> {
  const dir = await tempDir();
  const store = path.join(dir, "many.zarr");
  fs.mkdirSync(store);
  fs.writeFileSync(path.join(store, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }));
  for (let i = 0; i < N; i++) {
    fs.mkdirSync(path.join(store, `a${i}/c`), { recursive: true });
    fs.writeFileSync(path.join(store, `a${i}/zarr.json`), arrayMeta());
    fs.writeFileSync(path.join(store, `a${i}/c/0`), Buffer.alloc(64, i));
  }
  return dir;
}

/** The working-tree metadata documents (zarr.json) read while `fn` runs. */
async function metadataReads(dir: string, fn: () => Promise<unknown>): Promise<string[]> {
  const read: string[] = [];
  const real = fs.readFileSync;
  const spy = vi.spyOn(fs, "readFileSync").mockImplementation(((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (typeof file === "string" && file.startsWith(dir) && file.endsWith("zarr.json")) read.push(path.relative(dir, file).split(path.sep).join("/"));
    return (real as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.readFileSync);
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return read.sort();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("many arrays", () => {
  it("commit -a of a few changed chunks reads the metadata of their arrays only", async () => {
    const dir = await manyArrays();
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    fs.writeFileSync(path.join(dir, "many.zarr/a3/c/0"), Buffer.alloc(64, 200));
    fs.writeFileSync(path.join(dir, "many.zarr/a17/c/0"), Buffer.alloc(64, 201));
    let c: Awaited<ReturnType<typeof commit>> | undefined;
    const reads = await metadataReads(dir, async () => {
      c = await commit(repo, { message: "edit", all: true });
    });
    expect(c!.changes.arrays.map((a) => [a.path, a.chunks.modified])).toEqual([
      ["many.zarr/a17", 1],
      ["many.zarr/a3", 1],
    ]);
    // the two arrays changed (and the group above them, on the way up), not the N - 2 others
    expect(reads.filter((r) => /\/a\d+\//.test(r))).toEqual(["many.zarr/a17/zarr.json", "many.zarr/a3/zarr.json"]);
    expect(reads.length).toBeLessThanOrEqual(4);
    expect((await status(repo)).clean).toBe(true);
  });

  it("commit -a takes a new chunk of a tracked array, not a new array beside it, and reads no other array's metadata", async () => {
    const dir = await manyArrays();
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    fs.writeFileSync(path.join(dir, "many.zarr/a5/c/1"), Buffer.alloc(64, 5)); // outside the grid of one chunk: still the array's file
    fs.mkdirSync(path.join(dir, "many.zarr/new/c"), { recursive: true });
    fs.writeFileSync(path.join(dir, "many.zarr/new/zarr.json"), arrayMeta());
    fs.writeFileSync(path.join(dir, "many.zarr/new/c/0"), Buffer.alloc(64, 9));
    let c: Awaited<ReturnType<typeof commit>> | undefined;
    const reads = await metadataReads(dir, async () => {
      c = await commit(repo, { message: "edit", all: true });
    });
    expect(c!.changes.arrays.map((a) => a.path)).toEqual(["many.zarr/a5"]);
    expect(reads.filter((r) => /\/a\d+\//.test(r))).toEqual(["many.zarr/a5/zarr.json"]);
    const st = await status(repo);
    expect(st.untracked.map((u) => u.path)).toEqual(["many.zarr/new/c/0", "many.zarr/new/zarr.json"]);
  });

  it("the first add writes the index's snapshot, from the documents it read once; the commit then writes no tree", async () => {
    const dir = await manyArrays();
    const { repo } = await Repository.init({ dir });
    const reads = await metadataReads(dir, () => add(repo, { all: true }));
    expect(reads.length).toBe(N + 1); // each array's zarr.json and the group's, once
    const index = await repo.readIndex();
    expect(index.tree).not.toBeNull();
    // the tree the snapshot writer makes of the same files, read from the object store
    expect(await writeSnapshot(repo, index.entries)).toBe(index.tree);
    const c = await commit(repo, { message: "import" });
    expect(c.tree).toBe(index.tree);
    expect(c.changes.arrays).toHaveLength(N);
    expect(c.changes.arrays.find((a) => a.path === "many.zarr/a7")).toMatchObject({ change: "added", chunks: { added: 1, modified: 0, deleted: 0 }, bytesAdded: 64 });
    expect(c.changes.files).toEqual([expect.objectContaining({ path: "many.zarr/zarr.json", change: "added", kind: "meta", array: null })]);
    expect((await status(repo)).clean).toBe(true);
  });
});
