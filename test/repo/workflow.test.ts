import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  add,
  checkout,
  commit,
  isTdvError,
  log,
  ls,
  Repository,
  reset,
  restore,
  status,
  switchBranch,
  cat,
  show,
} from "../../src/index.js";
import { listFiles, makeFixture, tempDir } from "../helpers/fixture.js";
import { backdate, past, setMtime } from "../helpers/time.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

async function repoWith(name: string): Promise<{ dir: string; repo: Repository }> {
  const src = await makeFixture(name);
  const dir = path.dirname(src);
  const { repo } = await Repository.init({ dir });
  return { dir, repo };
}

async function removeAllButTdv(dir: string): Promise<void> {
  for (const n of await fsp.readdir(dir)) if (n !== ".tdv") await fsp.rm(path.join(dir, n), { recursive: true });
}

function gitFsck(repo: Repository): void {
  execFileSync("git", ["--git-dir", path.join(repo.tdvDir, "git"), "fsck", "--strict", "--no-dangling"], { stdio: "pipe" });
}

describe("every fixture round-trips byte for byte", () => {
  for (const name of ["v2/weather.zarr", "v2/single.zarr", "v3/ocean.zarr", "v3/sharded.zarr", "v3/consolidated.zarr"]) {
    it(name, async () => {
      const { dir, repo } = await repoWith(name);
      const original = await listFiles(dir);
      const added = await add(repo, { all: true });
      expect(added.added.length).toBe(original.size);
      const c = await commit(repo, { message: `import ${name}` });
      expect(c.changes.arrays.length).toBeGreaterThan(0);
      expect((await status(repo)).clean).toBe(true);
      await removeAllButTdv(dir);
      expect((await status(repo)).unstaged.length).toBe(original.size);
      await reset(repo, { rev: "HEAD", mode: "hard" });
      expect(await listFiles(dir)).toEqual(original);
      expect((await status(repo)).clean).toBe(true);
      gitFsck(repo);
    });
  }
});

describe("arrays and chunks, not files", () => {
  it("classifies v2 nested chunks, v3 chunks, metadata and plain files", async () => {
    const { dir, repo } = await repoWith("v2/weather.zarr");
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const arrays = await ls(repo, {});
    const precip = arrays.find((a) => a.path === "weather.zarr/precip")!;
    expect(precip.zarrFormat).toBe(2);
    expect(precip.chunks).toBe(precip.gridChunks);
    const snow = arrays.find((a) => a.path === "weather.zarr/snow_depth")!;
    expect(snow.chunks).toBe(2);
    expect(snow.gridChunks).toBe(18);
    // edit one nested v2 chunk and the README
    await fsp.writeFile(path.join(dir, "weather.zarr/precip/0/0/0"), Buffer.alloc(10, 7));
    await fsp.appendFile(path.join(dir, "weather.zarr/README.txt"), "more\n");
    const st = await status(repo);
    expect(st.grouped.unstaged.arrays).toEqual([
      expect.objectContaining({ path: "weather.zarr/precip", chunks: { added: 0, modified: 1, deleted: 0 } }),
    ]);
    expect(st.grouped.unstaged.files.map((f) => f.path)).toEqual(["weather.zarr/README.txt"]);
    const c = await commit(repo, { message: "edit", all: true });
    expect(c.changes.arrays.map((a) => a.path)).toEqual(["weather.zarr/precip"]);
    expect(Buffer.from(await cat(repo, { rev: "HEAD", path: "weather.zarr/precip/0/0/0" }))).toEqual(Buffer.alloc(10, 7));
    expect((await show(repo, { rev: "HEAD" })).changes.files.map((f) => f.path)).toEqual(["weather.zarr/README.txt"]);
  });

  it("commit -a picks up new chunks of tracked arrays but not new arrays", async () => {
    const { dir, repo } = await repoWith("v3/ocean.zarr");
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    // a chunk of `flags` that was missing (fill value) is now written
    await fsp.writeFile(path.join(dir, "ocean.zarr/flags/c/0/0/1"), Buffer.from([1, 2, 3]));
    await fsp.mkdir(path.join(dir, "other.zarr"));
    await fsp.writeFile(path.join(dir, "other.zarr/zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group" }));
    const c = await commit(repo, { message: "fill", all: true });
    expect(c.changes.arrays).toEqual([expect.objectContaining({ path: "ocean.zarr/flags", chunks: { added: 1, modified: 0, deleted: 0 } })]);
    expect((await status(repo)).untracked.map((u) => u.path)).toEqual(["other.zarr/zarr.json"]);
  });

  it("stores chunk bytes outside Git and each distinct chunk once", async () => {
    const { dir, repo } = await repoWith("v3/ocean.zarr");
    const files = await listFiles(dir);
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const chunkFiles = [...files.keys()].filter((p) => !p.endsWith("zarr.json"));
    const distinct = new Set(chunkFiles.map((p) => files.get(p)!.toString("base64")));
    let objects = 0;
    for (const d of await fsp.readdir(path.join(repo.tdvDir, "chunks"))) objects += (await fsp.readdir(path.join(repo.tdvDir, "chunks", d))).length;
    expect(objects).toBe(distinct.size);
    // no Git blob holds chunk bytes: every blob is metadata or a manifest
    const out = execFileSync("git", ["--git-dir", path.join(repo.tdvDir, "git"), "ls-tree", "-r", "HEAD"], { encoding: "utf8" });
    for (const line of out.trim().split("\n")) expect(line).toMatch(/(zarr\.json|\.tdv-manifest\/[0-9.]+)$/);
  });
});

describe("branches", () => {
  it("switching back and forth leaves exactly each branch's bytes, writing only what differs", async () => {
    const { dir, repo } = await repoWith("v3/sharded.zarr");
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const mainFiles = await listFiles(dir);
    await switchBranch(repo, { name: "fix", create: true });
    await fsp.writeFile(path.join(dir, "sharded.zarr/temperature/c/0/0"), Buffer.from("new shard"));
    await fsp.rm(path.join(dir, "sharded.zarr/counts/c/1/0/0"));
    await commit(repo, { message: "fix", all: true });
    const fixFiles = await listFiles(dir);
    const back = await switchBranch(repo, { name: "main" });
    expect(back.written).toBe(2);
    expect(back.deleted).toBe(0);
    expect(await listFiles(dir)).toEqual(mainFiles);
    const again = await switchBranch(repo, { name: "fix" });
    expect(again).toMatchObject({ written: 1, deleted: 1 });
    expect(await listFiles(dir)).toEqual(fixFiles);
    expect((await status(repo)).clean).toBe(true);
    // files are copies, never hard links into the object store, and writable
    const st = await fsp.stat(path.join(dir, "sharded.zarr/temperature/c/0/0"));
    expect(st.nlink).toBe(1);
    expect(st.mode & 0o200).toBe(0o200);
    gitFsck(repo);
  });

  it("refuses to switch over local changes, naming them, unless forced", async () => {
    const { dir, repo } = await repoWith("v3/ocean.zarr");
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await switchBranch(repo, { name: "b", create: true });
    await fsp.writeFile(path.join(dir, "ocean.zarr/sst/c/0/0/0"), "b-version");
    await commit(repo, { message: "b", all: true });
    await fsp.writeFile(path.join(dir, "ocean.zarr/sst/c/0/0/0"), "local edit");
    const err = await switchBranch(repo, { name: "main" }).catch((e) => e);
    expect(isTdvError(err, "DirtyWorkingCopyError")).toBe(true);
    expect(err.message).toContain("ocean.zarr/sst/c/0/0/0");
    expect(await fsp.readFile(path.join(dir, "ocean.zarr/sst/c/0/0/0"), "utf8")).toBe("local edit");
    // a local change to a file both branches share is carried over
    await fsp.writeFile(path.join(dir, "ocean.zarr/sst/c/0/0/0"), "b-version");
    await fsp.writeFile(path.join(dir, "ocean.zarr/depth/c/0"), "carried");
    await switchBranch(repo, { name: "main" });
    expect(await fsp.readFile(path.join(dir, "ocean.zarr/depth/c/0"), "utf8")).toBe("carried");
    await switchBranch(repo, { name: "b", force: true });
    expect(await fsp.readFile(path.join(dir, "ocean.zarr/depth/c/0"), "utf8")).not.toBe("carried");
  });

  it("checkout of an old commit detaches HEAD; restore brings back files", async () => {
    const { dir, repo } = await repoWith("v2/single.zarr");
    await add(repo, { all: true });
    const c1 = await commit(repo, { message: "one" });
    const v1 = await listFiles(dir);
    await fsp.writeFile(path.join(dir, "single.zarr/0.0"), "two");
    await commit(repo, { message: "two", all: true });
    const co = await checkout(repo, { rev: "HEAD~1" });
    expect(co).toMatchObject({ oid: c1.oid, detached: true, written: 1 });
    expect(await listFiles(dir)).toEqual(v1);
    await checkout(repo, { rev: "main" });
    await fsp.rm(path.join(dir, "single.zarr"), { recursive: true });
    await restore(repo, { paths: ["single.zarr"], source: "HEAD~1" });
    expect(await listFiles(dir)).toEqual(v1);
    expect((await log(repo, {})).map((e) => e.message.split("\n")[0])).toEqual(["two", "one"]);
  });
});

describe("errors", () => {
  it("an invalid zarr.json: add warns, naming it, and stages its folder as plain files", async () => {
    const { dir, repo } = await repoWith("v3/ocean.zarr");
    await fsp.writeFile(path.join(dir, "ocean.zarr/sst/zarr.json"), '{"zarr_format": 3, "node_type": "array", "shape": [-1]');
    const res = await add(repo, { all: true });
    expect(res.warnings.filter((w) => w.includes("ocean.zarr/sst/zarr.json"))).toHaveLength(1);
    expect(res.arrays).not.toContain("ocean.zarr/sst");
    expect(res.added).toContain("ocean.zarr/sst/zarr.json");
  });

  it("opening outside a repository says how to fix it", async () => {
    const dir = await tempDir();
    const err = await Repository.open({ dir }).catch((e) => e);
    expect(isTdvError(err, "NotARepositoryError")).toBe(true);
    expect(err.hint).toContain("tdv init");
  });

  it("refuses a repository of a newer format", async () => {
    const dir = await tempDir();
    const { repo } = await Repository.init({ dir });
    await fsp.writeFile(path.join(repo.tdvDir, "tdv.json"), JSON.stringify({ formatVersion: 99 }));
    const err = await Repository.open({ dir }).catch((e) => e);
    expect(isTdvError(err, "UnsupportedFormatError")).toBe(true);
  });

  it("a commit whose branch moved fails and keeps the staged work", async () => {
    const { dir, repo } = await repoWith("v3/ocean.zarr");
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await fsp.writeFile(path.join(dir, "ocean.zarr/sst/c/0/0/0"), "mine");
    await add(repo, { all: true });
    // another writer moves main meanwhile
    const head = await repo.refs.head();
    const other = await repo.git.writeCommit({
      tree: (await repo.git.readCommit(head.oid!)).tree,
      parents: [head.oid!],
      author: repo.identity(),
      committer: repo.identity(),
      message: "other\n",
    });
    const origUpdate = repo.refs.update.bind(repo.refs);
    repo.refs.update = async (ref, o) => {
      await origUpdate(ref, { ...o, expected: head.oid, next: other });
      return origUpdate(ref, o);
    };
    const err = await commit(repo, { message: "mine" }).catch((e) => e);
    repo.refs.update = origUpdate;
    expect(isTdvError(err, "BranchMovedError")).toBe(true);
    expect(await repo.refs.read("refs/heads/main")).toBe(other);
    const st = await status(repo);
    expect(st.staged.map((c) => c.path)).toEqual(["ocean.zarr/sst/c/0/0/0"]);
    const c = await commit(repo, { message: "mine again" });
    expect(c.parents).toEqual([other]);
  });
});

describe("status", () => {
  it("hashes nothing on a clean tree, and re-hashes only what changed", async () => {
    const { dir, repo } = await repoWith("v2/weather.zarr");
    // the files' mtimes are set well before the index is written: none is "racy"
    // (modified in the index's clock tick, so read again whatever its stat says)
    await backdate(path.join(dir, "weather.zarr"), past(0));
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const clean = await status(repo);
    expect(clean).toMatchObject({ clean: true, hashed: 0 });
    // touch one chunk without changing its bytes, change another (both dated later, still long ago)
    const t = path.join(dir, "weather.zarr/temperature/0.0.0");
    const m = path.join(dir, "weather.zarr/mask/0.0");
    await fsp.writeFile(t, await fsp.readFile(t));
    await fsp.writeFile(m, "x");
    await setMtime(t, past(1));
    await setMtime(m, past(1));
    const st = await status(repo);
    expect(st.hashed).toBe(2);
    expect(st.unstaged.map((c) => c.path)).toEqual(["weather.zarr/mask/0.0"]);
    // the touched file's stat was refreshed; only the modified one is read again
    expect((await status(repo)).hashed).toBe(1);
    expect((await status(repo)).hashed).toBe(1);
  });

  it("warns about chunk keys outside the array's grid and still tracks them", async () => {
    const { dir, repo } = await repoWith("v3/ocean.zarr");
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    await fsp.mkdir(path.join(dir, "ocean.zarr/sst/c/99/0"), { recursive: true });
    await fsp.writeFile(path.join(dir, "ocean.zarr/sst/c/99/0/0"), "stray");
    const st = await status(repo);
    expect(st.warnings.join("\n")).toMatch(/1 chunk file outside the grid of array 'ocean\.zarr\/sst': ocean\.zarr\/sst\/c\/99\/0\/0/);
    expect(st.grouped.untracked.arrays).toEqual([expect.objectContaining({ path: "ocean.zarr/sst", chunks: { added: 1, modified: 0, deleted: 0 } })]);
    const added = await add(repo, { all: true });
    expect(added.warnings.length).toBe(1);
    await commit(repo, { message: "stray" });
    // many strays: one warning for the array, with a count; deleted ones are not warned about
    for (const i of [90, 91, 92, 93]) {
      await fsp.mkdir(path.join(dir, `ocean.zarr/sst/c/${i}/0`), { recursive: true });
      await fsp.writeFile(path.join(dir, `ocean.zarr/sst/c/${i}/0/0`), "stray");
    }
    await fsp.rm(path.join(dir, "ocean.zarr/sst/c/99"), { recursive: true });
    expect((await status(repo)).warnings).toEqual([
      "4 chunk files outside the grid of array 'ocean.zarr/sst': ocean.zarr/sst/c/90/0/0, ocean.zarr/sst/c/91/0/0, ocean.zarr/sst/c/92/0/0, …",
    ]);
    for (const i of [90, 91, 92, 93]) await fsp.rm(path.join(dir, `ocean.zarr/sst/c/${i}`), { recursive: true });
    await reset(repo, { rev: "HEAD", mode: "hard" });
    expect(await fsp.readFile(path.join(dir, "ocean.zarr/sst/c/99/0/0"), "utf8")).toBe("stray");
  });

  it("works with a separate repository folder", async () => {
    const src = await makeFixture("v2/single.zarr");
    const store = src; // init right in the store root
    const sep = path.join(path.dirname(src), "single.tdv");
    const { repo } = await Repository.init({ dir: store, separateRepo: sep });
    expect(repo.tdvDir).toBe(sep);
    expect(await fsp.readFile(path.join(store, ".tdv"), "utf8")).toContain(sep);
    const reopened = await Repository.open({ dir: store });
    await add(reopened, { all: true });
    await commit(reopened, { message: "import" });
    expect((await ls(reopened, {})).map((a) => a.path)).toEqual(["."]);
    // a tool that rewrites the store wipes its folder: the history survives
    const files = await listFiles(store);
    await fsp.rm(store, { recursive: true });
    await fsp.mkdir(store);
    await fsp.writeFile(path.join(store, ".tdv"), `tdvdir: ${sep}\n`);
    await reset(await Repository.open({ dir: store }), { rev: "HEAD", mode: "hard" });
    expect(await listFiles(store)).toEqual(files);
  });
});

describe("manifests", () => {
  it("a commit that changes a few chunks rewrites only the manifest shards that hold them", async () => {
    const dir = await tempDir();
    const arr = path.join(dir, "big.zarr");
    await fsp.mkdir(path.join(arr, "c"), { recursive: true });
    const n = 4096 * 2 + 10; // three regions of the 1-D grid: 0-4095, 4096-8191, 8192-8201
    await fsp.writeFile(
      path.join(arr, "zarr.json"),
      JSON.stringify({
        zarr_format: 3,
        node_type: "array",
        shape: [n],
        data_type: "uint8",
        chunk_grid: { name: "regular", configuration: { chunk_shape: [1] } },
        chunk_key_encoding: { name: "default", configuration: { separator: "." } },
        codecs: [{ name: "bytes" }],
        fill_value: 0,
      }),
    );
    for (let i = 0; i < n; i++) await fsp.writeFile(path.join(arr, `c.${i}`), Buffer.from([i % 251]));
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    const c1 = await commit(repo, { message: "import" });
    const shards = async (tree: string) => {
      const arrTree = (await repo.git.readTree(tree as never)).find((e) => e.name === "big.zarr")!.oid;
      const man = (await repo.git.readTree(arrTree)).find((e) => e.name === ".tdv-manifest")!.oid;
      return new Map((await repo.git.readTree(man)).map((e) => [e.name, e.oid]));
    };
    const before = await shards(c1.tree);
    expect([...before.keys()]).toEqual(["0", "1", "2"]);
    await fsp.writeFile(path.join(arr, "c.5000"), Buffer.from([255]));
    const c2 = await commit(repo, { message: "one chunk", all: true });
    expect(c2.changes.arrays).toEqual([expect.objectContaining({ path: "big.zarr", chunks: { added: 0, modified: 1, deleted: 0 } })]);
    const after = await shards(c2.tree);
    expect(after.get("0")).toBe(before.get("0"));
    expect(after.get("1")).not.toBe(before.get("1"));
    expect(after.get("2")).toBe(before.get("2"));
    // the same state always gives the same manifest ids
    await fsp.writeFile(path.join(arr, "c.5000"), Buffer.from([5000 % 251]));
    const c3 = await commit(repo, { message: "back", all: true });
    expect(c3.tree).toBe(c1.tree);
  });
});
