/**
 * A read session as a zarrita store: every file of a commit's tree answers
 * `get` with the bytes the working copy held at that commit (metadata,
 * chunks, plain files, v2 and v3, sharded), zarrita opens arrays through it,
 * byte ranges are cut as zarrita asks, and paths that are not canonical are
 * refused.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import { isTdvError, openSession, type ReadSession } from "../../src/index.js";
import { commitAll, repoFrom, setPoints } from "../merge/helpers.js";
import { tempDir } from "../helpers/fixture.js";

/** Every file under `root` (not .tdv), by path relative to it. */
async function filesOf(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const visit = async (dir: string): Promise<void> => {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      if (e.name === ".tdv") continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await visit(abs);
      else out.set(path.relative(root, abs).split(path.sep).join("/"), await fsp.readFile(abs));
    }
  };
  await visit(root);
  return out;
}

for (const fixture of ["v2/weather.zarr", "v3/ocean.zarr", "v3/sharded.zarr"]) {
  describe(`a session on ${fixture} as a store`, () => {
    let dir: string;
    let store: string;
    let first: ReadSession;
    let files: Map<string, Buffer>;

    beforeAll(async () => {
      const made = await repoFrom(fixture);
      ({ dir, store } = made);
      await fsp.writeFile(path.join(dir, "README.md"), "plain file beside the store\n");
      await commitAll(made.repo, "readme");
      files = await filesOf(dir);
      first = await openSession(made.repo, "main");
      // the next commit changes the working copy; the session stays on its commit
      const arrays = await first.arrays();
      const a = arrays.find((p) => p.startsWith(store) && p !== store) as string;
      const meta = (await first.array(a))?.meta;
      if (meta && !meta.innerChunkShape && /^u?int|^float/.test(meta.dtype)) {
        await setPoints(dir, a, { [meta.shape.map(() => 0).join(",")]: 7 });
        await commitAll(made.repo, "change one element");
      }
    });

    it("get returns each file's exact bytes at the commit, and walk lists exactly the tree's files", async () => {
      const walked: string[] = [];
      for await (const f of first.walk("")) walked.push(f.path);
      expect(walked.sort()).toEqual([...files.keys()].sort());
      for (const [rel, bytes] of files) {
        const got = await first.get(`/${rel}`);
        expect(got, rel).toBeDefined();
        expect(Buffer.from(got as Uint8Array).equals(bytes), rel).toBe(true);
      }
    });

    it("zarrita opens every array through the session and reads the values of the commit's files", async () => {
      const arrays = await first.arrays();
      expect(arrays.length).toBeGreaterThan(0);
      const snapshot = await tempDir(); // removed after the file
      for (const [rel, bytes] of files) {
        await fsp.mkdir(path.dirname(path.join(snapshot, rel)), { recursive: true });
        await fsp.writeFile(path.join(snapshot, rel), bytes);
      }
      for (const a of arrays) {
        const viaSession = await zarr.open(zarr.root(first).resolve(a), { kind: "array" });
        const viaFiles = await zarr.open(zarr.root(new FileSystemStore(snapshot)).resolve(a), { kind: "array" });
        const [x, y] = await Promise.all([zarr.get(viaSession), zarr.get(viaFiles)]);
        const flat = (v: unknown) => (typeof v === "object" && v !== null && "data" in v ? Array.from(v.data as ArrayLike<unknown>) : v);
        expect(flat(x), a).toEqual(flat(y));
      }
    });

    it("list gives a folder's files and subfolders, chunk keys included", async () => {
      const root = await first.list("");
      expect(root?.dirs).toEqual([store]);
      expect(root?.files.map((f) => f.path)).toEqual(["README.md"]);
      const arrays = await first.arrays();
      const a = arrays.find((p) => p !== "" && p !== store) as string;
      const listing = await first.list(a);
      const onDisk = await fsp.readdir(path.join(dir, a), { withFileTypes: true });
      expect(listing?.dirs).toEqual(onDisk.filter((e) => e.isDirectory()).map((e) => e.name).sort());
      expect(listing?.files.map((f) => path.posix.basename(f.path))).toEqual(onDisk.filter((e) => e.isFile()).map((e) => e.name).sort());
      expect(await first.list(`${a}/nothing-here`)).toBeNull();
    });
  });
}

describe("a session's keys and ranges", () => {
  let s: ReadSession;
  let shardFile: Buffer;
  const key = "sharded.zarr/counts/c/0/1/0";

  beforeAll(async () => {
    const { repo, dir } = await repoFrom("v3/sharded.zarr");
    shardFile = await fsp.readFile(path.join(dir, key));
    s = await openSession(repo, "main");
  });

  it("cuts offset, length and suffix ranges of a stored shard", async () => {
    const part = await s.getRange(`/${key}`, { offset: 3, length: 10 });
    expect(Buffer.from(part as Uint8Array).equals(shardFile.subarray(3, 13))).toBe(true);
    const tail = await s.getRange(`/${key}`, { suffixLength: 16 });
    expect(Buffer.from(tail as Uint8Array).equals(shardFile.subarray(shardFile.length - 16))).toBe(true);
    const past = await s.getRange(`/${key}`, { offset: shardFile.length + 5, length: 10 });
    expect(past?.length).toBe(0);
  });

  it("answers undefined for a chunk the manifest lacks and for paths the tree lacks", async () => {
    expect(await s.get("/sharded.zarr/counts/c/9/9/9")).toBeUndefined();
    expect(await s.get("/sharded.zarr/nothing/zarr.json")).toBeUndefined();
    expect(await s.get("/sharded.zarr/counts")).toBeUndefined(); // a folder, not a file
    expect(await s.get("/sharded.zarr/counts/.tdv-manifest")).toBeUndefined(); // tdv's own entries are not files
  });

  it("refuses paths that are not canonical", async () => {
    for (const bad of ["/sharded.zarr/../x", "/sharded.zarr//counts/zarr.json", "/./sharded.zarr/zarr.json", "/a\\b"]) {
      const err = await s.get(bad).catch((e: unknown) => e);
      expect(isTdvError(err, "UnsafePathError"), bad).toBe(true);
    }
  });

  it("file() names where the bytes are: chunk objects for chunks, blobs for metadata", async () => {
    const chunk = await s.file(key);
    expect(chunk).toMatchObject({ path: key, store: "chunk", kind: "chunk", size: shardFile.length });
    const doc = await s.file("sharded.zarr/counts/zarr.json");
    expect(doc).toMatchObject({ store: "git", kind: "file" });
  });
});
