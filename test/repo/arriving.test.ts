/**
 * A first checkout written as its chunks arrive (a clone's): the files
 * ArrivingCheckout places hold the chunks' bytes; the checkout that follows
 * takes each as it is while its stat data is what was placed (no hashing,
 * the index records them), and a file changed after it was placed is not
 * taken for the target: it is hashed, and refused as a local change when it
 * no longer holds the target's bytes.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, isTdvError, Repository, status } from "../../src/index.js";
import type { ChunkId } from "../../src/format/hash.js";
import { readSnapshot } from "../../src/repo/snapshot.js";
import { ArrivingCheckout } from "../../src/worktree/arriving.js";
import { materialize } from "../../src/worktree/materialize.js";
import { tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

/** A committed repository of an array of `n` chunks of 1,000 bytes, then made as a clone is before its checkout: no index, no working files. */
async function beforeCheckout(n: number): Promise<{ repo: Repository; tree: string; files: Map<string, Buffer> }> {
  const dir = await tempDir();
  const { repo } = await Repository.init({ dir, durability: "none" });
  const files = new Map<string, Buffer>();
  await fsp.mkdir(path.join(dir, "data", "c"), { recursive: true });
  await fsp.writeFile(
    path.join(dir, "data", "zarr.json"),
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape: [n * 1000],
      data_type: "uint8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [1000] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: 0,
      codecs: [{ name: "bytes" }],
    }),
  );
  for (let i = 0; i < n; i++) {
    const bytes = randomBytes(1000);
    files.set(`data/c/${i}`, bytes);
    await fsp.writeFile(path.join(dir, "data", "c", String(i)), bytes);
  }
  await fsp.writeFile(path.join(dir, "README.md"), "not a chunk\n");
  await add(repo, { all: true });
  await commit(repo, { message: "import" });
  const tree = (await repo.git.readCommit((await repo.refs.head()).oid!)).tree;
  for (const name of await fsp.readdir(dir)) if (name !== ".tdv") await fsp.rm(path.join(dir, name), { recursive: true });
  await fsp.rm(repo.indexFile);
  return { repo: await Repository.open({ dir, durability: "none" }), tree, files };
}

async function place(repo: Repository, tree: string, files: Map<string, Buffer>): Promise<ArrivingCheckout> {
  const snap = await readSnapshot(repo, tree as never);
  const a = new ArrivingCheckout(repo, tree as never, snap.files);
  for (const [p, e] of snap.files) if (e.store === "chunk") await a.arrived(e.id as ChunkId, { parts: [files.get(p)!.subarray(0, 500), files.get(p)!.subarray(500)] });
  return a;
}

describe("a checkout written as its chunks arrive", () => {
  it("places every chunk file whole; the checkout takes them as placed and writes the rest; status is clean", async () => {
    const { repo, tree, files } = await beforeCheckout(20);
    const a = await place(repo, tree, files);
    expect(a.placed.size).toBe(20);
    for (const [p, bytes] of files) expect(await fsp.readFile(path.join(repo.root, p))).toEqual(bytes);
    expect(await fsp.readdir(path.join(repo.tdvDir, "tmp"))).toEqual([]);
    const res = await materialize(repo, { targetTree: tree as never, action: "clone", prePlaced: a.placed });
    expect(res.written).toBe(2); // README.md and the array's metadata: the chunk files were taken as they are
    expect(await fsp.readFile(path.join(repo.root, "README.md"), "utf8")).toBe("not a chunk\n");
    const index = await repo.readIndex();
    for (const [p, { id, stat }] of a.placed) expect(index.entries.get(p)).toMatchObject({ store: "chunk", id, ino: stat.ino, size: stat.size });
    const st = await status(repo, {});
    expect(st.clean).toBe(true);
  });

  it("a file changed after it was placed is not taken for the target: refused as a local change, nothing indexed", async () => {
    const { repo, tree, files } = await beforeCheckout(5);
    const a = await place(repo, tree, files);
    const changed = path.join(repo.root, "data", "c", "3");
    await fsp.writeFile(changed, randomBytes(1000)); // same size, other bytes
    const err = await materialize(repo, { targetTree: tree as never, action: "clone", prePlaced: a.placed }).catch((e: unknown) => e);
    expect(isTdvError(err, "DirtyWorkingCopyError")).toBe(true);
    expect(String((err as Error).message)).toContain("data/c/3");
    expect((await repo.readIndex()).entries.size).toBe(0);
  });

  it("a file changed back to the target's bytes after it was placed is hashed and taken", async () => {
    const { repo, tree, files } = await beforeCheckout(5);
    const a = await place(repo, tree, files);
    const rewritten = path.join(repo.root, "data", "c", "2");
    await fsp.rm(rewritten);
    await fsp.writeFile(rewritten, files.get("data/c/2")!); // a new inode: not the file placed
    await materialize(repo, { targetTree: tree as never, action: "clone", prePlaced: a.placed });
    const e = (await repo.readIndex()).entries.get("data/c/2")!;
    expect(e.ino).toBe((await fsp.stat(rewritten)).ino);
    expect((await status(repo, {})).clean).toBe(true);
  });
});
