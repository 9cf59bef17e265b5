/**
 * Clone straight from a local repository: a working copy's path or its
 * repository folder, whose layout (packed objects, an index, locks) is not a
 * remote's; read through its stores, every object verified. `--branch TAG`
 * detaches HEAD at the tag, as git clone does; a folder that holds no
 * repository is refused by name.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { createTag, log, Repository } from "../../src/index.js";
import { commitAll, rewriteChunk, writeArray } from "./dataset.js";

let parent: string;
let src: string;
let firstFiles: Map<string, Buffer>;
let history: string[];

beforeAll(async () => {
  parent = await tempDir();
  src = path.join(parent, "climate");
  const arr = await writeArray(src, "data.zarr", { chunks: 8, chunkBytes: 300 });
  const repo = await commitAll(src, "first");
  await createTag(repo, { name: "v1", message: "first release" }); // annotated: the clone peels it
  firstFiles = await listFiles(src);
  await rewriteChunk(arr, 2);
  await commitAll(src, "second");
  await repo.git.packAllLoose(); // a repository's own layout: its Git objects in a pack
  history = (await log(repo, {})).map((e) => e.oid);
});

describe("clone from a local repository", () => {
  it("a working copy's path: every commit and file, an ordinary clone with it as origin", async () => {
    await tdvOk(parent, ["clone", "-q", "climate", "mine"]);
    const dir = path.join(parent, "mine");
    expect(await listFiles(dir)).toEqual(await listFiles(src));
    const repo = await Repository.open({ durability: "none", dir });
    expect((await log(repo, {})).map((e) => e.oid)).toEqual(history);
    expect(repo.config.remotes?.origin?.url).toBe(src);
    expect(await tdvJson(dir, ["fsck", "--json"])).toMatchObject({ ok: true });
    // read-only: nothing is pushed into another working copy's repository
    const r = await tdv(dir, ["push"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${src} is a local repository`);
  });

  it("its repository folder with --branch TAG: HEAD detached at the tag's commit", async () => {
    const res = await tdvJson<{ branch: string | null; tag: string; oid: string }>(parent, ["clone", "--json", "-b", "v1", path.join(src, ".tdv"), "tagged"]);
    expect(res).toMatchObject({ branch: null, tag: "v1", oid: history[1] });
    const dir = path.join(parent, "tagged");
    expect(await listFiles(dir)).toEqual(firstFiles);
    expect((await fs.readFile(path.join(dir, ".tdv", "git", "HEAD"), "utf8")).trim()).toBe(history[1]);
  });

  it("--no-checkout writes nothing; switch does the first checkout; checkout REV -- PATH takes one file from a tag, staged", async () => {
    await tdvOk(parent, ["clone", "-q", "--no-checkout", "climate", "later"]);
    const dir = path.join(parent, "later");
    expect(await listFiles(dir)).toEqual(new Map());
    await tdvOk(dir, ["switch", "-q", "main"]);
    expect(await listFiles(dir)).toEqual(await listFiles(src));
    await tdvOk(dir, ["checkout", "-q", "v1", "--", "data.zarr/c/2"]);
    expect(await fs.readFile(path.join(dir, "data.zarr", "c", "2"))).toEqual(firstFiles.get("data.zarr/c/2"));
    const st = await tdvJson<{ staged: { path: string; change: string }[]; unstaged: unknown[] }>(dir, ["status", "--json"]);
    expect(st.staged).toEqual([expect.objectContaining({ path: "data.zarr/c/2", change: "modified" })]);
    expect(st.unstaged).toEqual([]);
  });

  it("a folder that holds no repository: refused, naming it; nothing made", async () => {
    await fs.mkdir(path.join(parent, "plain"));
    const r = await tdv(parent, ["clone", "plain", "copy"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'plain' is not a tdv repository");
    expect(await fs.stat(path.join(parent, "copy")).catch(() => null)).toBeNull();
  });
});
