/**
 * Write sessions straight into a folder remote, with no clone (in-process,
 * small): zarrita writes, one commit moves the remote branch; a second
 * session that lost the race rebases; a real conflict keeps the session; a
 * fork opens from its token alone; nothing is visible before the commit.
 */
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as zarr from "zarrita";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isTdvError, openRemoteWriteSession, openSession, remoteRepository, type RemoteWriteOptions, type WriteSession } from "../../src/index.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

let tmp: string;
let url: string;
let opts: RemoteWriteOptions;

beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "tdv-wr-fast-"));
  url = path.join(tmp, "remote");
  opts = { cacheDir: path.join(tmp, "cache") };
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function makeArray(s: WriteSession): Promise<void> {
  const root = zarr.root(s as zarr.Mutable);
  await zarr.create(root.resolve("era.zarr"), { attributes: { title: "remote" } });
  const a = await zarr.create(root.resolve("era.zarr/t2m"), { shape: [8, 8], chunkShape: [4, 4], dtype: "float32", fillValue: 0, codecs: [{ name: "bytes", configuration: { endian: "little" } }] });
  await zarr.set(a, null, { data: Float32Array.from({ length: 64 }, (_, k) => k), shape: [8, 8], stride: [8, 1] });
}

async function setPoint(s: WriteSession, i: number, j: number, v: number): Promise<void> {
  const a = await zarr.open(zarr.root(s).resolve("era.zarr/t2m"), { kind: "array" });
  await zarr.set(a as zarr.Array<"float32", WriteSession>, [zarr.slice(i, i + 1), zarr.slice(j, j + 1)], v);
}

async function remoteValues(rev = "main"): Promise<{ values: number[]; commit: string }> {
  const repo = await remoteRepository(url, opts);
  const commit = (await repo.refs.read(`refs/heads/${rev}`)) as string;
  const s = await openSession(repo as never, commit as never);
  const a = await zarr.open(zarr.root(s).resolve("era.zarr/t2m"), { kind: "array" });
  return { values: Array.from((await zarr.get(a)).data as Float32Array), commit };
}

describe("write sessions into a folder remote", () => {
  it("commit into an empty remote, then rebase the session that lost the race onto the winner", async () => {
    const first = await openRemoteWriteSession(url, "main", opts);
    await makeArray(first);
    const r0 = await first.commit("first data");
    expect(r0.parent).toBeNull();
    expect((await remoteValues()).values).toEqual(Array.from({ length: 64 }, (_, k) => k));
    expect(await fsp.readFile(path.join(url, "git/HEAD"), "utf8")).toBe("ref: refs/heads/main\n");

    const a = await openRemoteWriteSession(url, "main", opts);
    const b = await openRemoteWriteSession(url, "main", opts);
    await setPoint(a, 0, 0, -1); // chunk 0/0
    await setPoint(b, 7, 7, -2); // chunk 1/1: disjoint
    expect((await remoteValues()).commit).toBe(r0.commit); // nothing visible before the commit
    const ra = await a.commit("a");
    const rb = await b.commit("b");
    expect(ra.rebased).toBe(0);
    expect(rb.rebased).toBe(1);
    expect(rb.parent).toBe(ra.commit); // linear: b's commit sits on a's
    const { values, commit } = await remoteValues();
    expect(commit).toBe(rb.commit);
    expect([values[0], values[63], values[9]]).toEqual([-1, -2, 9]);
    // the sessions withdrew their announcements on the remote
    expect(await fsp.readdir(path.join(url, "locks")).catch(() => [])).toEqual([]);
  });

  it("refuse a real conflict with its path and keep the session; a fork opens from its token alone", async () => {
    const first = await openRemoteWriteSession(url, "main", opts);
    await makeArray(first);
    await first.commit("first data");
    const a = await openRemoteWriteSession(url, "main", opts);
    const b = await openRemoteWriteSession(url, "main", opts);
    await setPoint(a, 2, 2, 5);
    await setPoint(b, 2, 2, 6);
    const landed = await a.commit("a");
    const err = await b.commit("b").catch((e: unknown) => e);
    expect(isTdvError(err, "SessionConflictError")).toBe(true);
    expect((err as Error).message).toContain("era.zarr/t2m/c/0/0");
    expect((await remoteValues()).commit).toBe(landed.commit);
    const arr = await zarr.open(zarr.root(b).resolve("era.zarr/t2m"), { kind: "array" });
    expect(((await zarr.get(arr)).data as Float32Array)[2 * 8 + 2]).toBe(6); // its own write, still there
    await b.close();

    const parent = await openRemoteWriteSession(url, "main", opts);
    const token = JSON.parse(JSON.stringify(parent.fork()));
    expect(token.remote).toBe(`file://${url}`); // the remote itself, not a name: a worker needs nothing else
    const worker = await openRemoteWriteSession(token, opts);
    await setPoint(worker, 4, 4, 400);
    const set = JSON.parse(JSON.stringify(worker.changeSet()));
    await worker.close();
    await parent.absorb([set]);
    const r = await parent.commit("from a fork");
    expect(r.parent).toBe(landed.commit);
    expect((await remoteValues()).values[4 * 8 + 4]).toBe(400);
    // a token of a local repository is not a remote's
    await expect(openRemoteWriteSession({ ...token, remote: undefined, tdvDir: "/x/.tdv" }, opts)).rejects.toThrow(/names no remote/);
  });
});
