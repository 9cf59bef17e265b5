/**
 * A read-only session on one commit: the arrays, a chunk's stored bytes and
 * its values, read from the repository as they were committed, compared with
 * the files of the working copy at that commit and what zarrita reads there.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import { createTag, isTdvError, ls, openSession, resolveRevision, type ReadSession, type Repository } from "../../src/index.js";
import { ndindex } from "../../src/zarr/decode.js";
import { commitAll, repoFrom, setPoints } from "../merge/helpers.js";

let repo: Repository;
let dir: string;
let store: string;
/** sst's chunk [0,0,0] file and values as the first commit (tag v1) holds them */
let before: { bytes: Buffer; data: ArrayLike<number> };
let v1: ReadSession;

beforeAll(async () => {
  ({ repo, dir, store } = await repoFrom("v3/ocean.zarr"));
  await createTag(repo, { name: "v1" });
  const sst = path.join(dir, store, "sst");
  const chunk = await zarr.open(new FileSystemStore(sst), { kind: "array" }).then((a) => a.getChunk([0, 0, 0]));
  before = { bytes: await fsp.readFile(path.join(sst, "c", "0", "0", "0")), data: chunk.data as ArrayLike<number> };
  v1 = await openSession(repo, "main"); // opened on the branch, pinned to its commit
  await setPoints(dir, `${store}/sst`, { "0,3,4": 11.5 });
  await commitAll(repo, "fix one sst tile");
});

describe("openSession", () => {
  it("is pinned to the commit the revision named when it opened", async () => {
    expect(v1.commit).toBe(await resolveRevision(repo, "v1"));
    expect(v1.commit).not.toBe(await resolveRevision(repo, "main"));
    expect(v1.info.message.split("\n")[0]).toBe("import");
    expect(v1.info.parents).toEqual([]);
    const sst = await v1.array(`${store}/sst`);
    expect(Buffer.from((await sst?.chunkBytes([0, 0, 0])) as Uint8Array).equals(before.bytes)).toBe(true);
    const now = await (await openSession(repo, "main")).array(`${store}/sst`);
    expect(Buffer.from((await now?.chunkBytes([0, 0, 0])) as Uint8Array).equals(before.bytes)).toBe(false);
  });

  it("lists the commit's arrays as ls does", async () => {
    const listed = (await ls(repo, { rev: "v1" })).map((a) => a.path).sort();
    expect(await v1.arrays()).toEqual(listed);
    expect(listed).toContain(`${store}/derived/sst_anomaly`);
  });

  it("decodes a chunk to the values zarrita reads from the files of that commit", async () => {
    const sst = await v1.array(`${store}/sst`);
    expect(sst?.meta.shape).toEqual([6, 16, 24]);
    const got = await sst?.chunk([0, 0, 0]);
    expect(Array.from(got?.data as ArrayLike<number>)).toEqual(Array.from(before.data));
  });

  it("an absent chunk has no bytes and decodes to the fill value; outside the shape there is no chunk", async () => {
    const flags = await v1.array(`${store}/flags`);
    if (!flags) throw new Error("no flags array");
    const stored = new Set((await flags.stored()).map((s) => s.index.join(",")));
    expect(stored.size).toBe(3);
    const grid = flags.meta.shape.map((n, d) => Math.ceil(n / (flags.meta.chunkShape[d] as number)));
    const absent = [...ndindex(grid)].find((i) => !stored.has(i.join(","))) as number[];
    expect(await flags.chunkBytes(absent)).toBeNull();
    const fill = await flags.chunk(absent);
    expect(new Set(Array.from(fill?.data as ArrayLike<unknown>, String))).toEqual(new Set([String(flags.meta.fillValue)]));
    expect(await flags.chunk(grid)).toBeNull();
    expect(await flags.chunkBytes(grid)).toBeNull();
  });

  it("a path with no array (a group, nothing) gives null; an unknown revision is refused", async () => {
    expect(await v1.array(store)).toBeNull();
    expect(await v1.array(`${store}/nope`)).toBeNull();
    const err = await openSession(repo, "no-such-branch").catch((e: unknown) => e);
    expect(isTdvError(err, "UnknownRevisionError")).toBe(true);
  });
});
