/**
 * The transfer path verifies every chunk before it is visible under its name,
 * on each of its routes: a folder remote's object copied block by block on a
 * worker thread (32 kB and more; smaller ones on the main thread), an S3 body
 * hashed before anything is written, an upload read and verified on a worker.
 * A damaged object, on the remote (fetch, clone) or in the local store (push),
 * fails the transfer naming it, and leaves neither the object nor a temp file
 * behind.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clone, fetch, isTdvError, push, Repository } from "../../src/index.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { storeBytes } from "../../src/remote/verify-pool.js";
import { commitAll, s3Setup, writeArray } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => s3?.stop());

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const objectPath = (root: string, id: string) =>
  path.join(root, "chunks", id.slice(0, 2), id.slice(2));

async function flipByte(file: string): Promise<void> {
  await fs.chmod(file, 0o644);
  const b = await fs.readFile(file);
  b[Math.floor(b.length / 2)]! ^= 0x40;
  await fs.writeFile(file, b);
}

/** A working copy with a large-chunk array (worker route) and a small-chunk one (main thread); its chunk ids. */
async function dataset(): Promise<{
  repo: Repository;
  big: string[];
  small: string[];
}> {
  const dir = await tempDir();
  const bigDir = await writeArray(dir, "big.zarr", {
    chunks: 3,
    chunkBytes: 64 * 1024,
  });
  const smallDir = await writeArray(dir, "small.zarr", {
    chunks: 2,
    chunkBytes: 4096,
  });
  const repo = await commitAll(dir);
  const ids = async (a: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, async (_, i) =>
        sha(await fs.readFile(path.join(a, "c", String(i)))),
      ),
    );
  return { repo, big: await ids(bigDir, 3), small: await ids(smallDir, 2) };
}

/** Files whose names say they are temporaries, anywhere under `dir`. */
async function temporaries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, {
    recursive: true,
    withFileTypes: true,
  }))
    if (e.isFile() && /\.tmp-|tmp_obj_|~\d+~/.test(e.name)) out.push(e.name);
  return out;
}

async function caught(p: Promise<unknown>): Promise<Error & { id?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure, but it succeeded");
}

describe("a folder remote", () => {
  it("push copies each chunk verified, clone and fetch bring them back; a damaged one is refused and not kept", async () => {
    const { repo, big, small } = await dataset();
    const remote = path.join(await tempDir(), "r.tdv");
    await push(repo, { remote });
    for (const id of [...big, ...small])
      expect(sha(await fs.readFile(objectPath(remote, id)))).toBe(id);
    expect(await temporaries(remote)).toEqual([]);

    const copy = (
      await clone({ url: remote, dir: path.join(await tempDir(), "copy") })
    ).dir;
    const want = await listFiles(repo.root);
    const got = await listFiles(copy);
    for (const name of ["big.zarr/c/0", "big.zarr/c/2", "small.zarr/c/1"])
      expect(got.get(name)).toEqual(want.get(name));

    await flipByte(objectPath(remote, big[1]!));
    await flipByte(objectPath(remote, small[0]!));
    const { repo: empty } = await Repository.init({ dir: await tempDir() });
    const err = await caught(fetch(empty, { remote }));
    expect(isTdvError(err, "RemoteObjectCorruptError")).toBe(true);
    expect([big[1], small[0]]).toContain(err.id);
    expect(err.message).toMatch(/is damaged: its bytes hash to [0-9a-f]{64}/);
    for (const id of [big[1]!, small[0]!])
      await expect(fs.stat(empty.chunks.pathOf(id as never))).rejects.toThrow();
    expect(await temporaries(empty.chunks.dir)).toEqual([]);
    expect(await empty.refs.list("refs/")).toEqual(new Map());
  });

  it("push refuses a chunk damaged in the local store, and writes nothing under its name", async () => {
    const { repo, big } = await dataset();
    await flipByte(repo.chunks.pathOf(big[2] as never));
    const remote = path.join(await tempDir(), "r.tdv");
    const err = await caught(push(repo, { remote }));
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
    expect(err.id).toBe(big[2]);
    await expect(fs.stat(objectPath(remote, big[2]!))).rejects.toThrow();
    expect(await temporaries(remote)).toEqual([]);
    await expect(
      fs.stat(path.join(remote, "git", "refs", "heads", "main")),
    ).rejects.toThrow();
  });
});

describe("an S3 remote", () => {
  it("push reads each large chunk verified (read and hashed off the main thread) and refuses a damaged one, uploading none of it", async () => {
    const { repo, big } = await dataset();
    await flipByte(repo.chunks.pathOf(big[1] as never));
    const url = `s3://${s3.bucket}/damaged-here`;
    s3.resetLog();
    const err = await caught(push(repo, { remote: url, backend: { env } }));
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
    expect(err.id).toBe(big[1]);
    expect(s3.requests.filter((q) => q.method === "PUT" && q.key.endsWith(big[1]!.slice(2)))).toEqual([]);
    expect(s3.requests.filter((q) => q.method === "PUT" && q.key.includes("git/refs/"))).toEqual([]);
  });

  it("fetch refuses a damaged chunk (hashed before anything is written) and keeps none of it", async () => {
    const { repo, big } = await dataset();
    const url = `s3://${s3.bucket}/verified`;
    await push(repo, { remote: url, backend: { env } });
    await flipByte(
      s3.objectPath(
        `verified/chunks/${big[0]!.slice(0, 2)}/${big[0]!.slice(2)}`,
      ),
    );
    const { repo: empty } = await Repository.init({ dir: await tempDir() });
    const err = await caught(fetch(empty, { remote: url, backend: { env } }));
    expect(isTdvError(err, "RemoteObjectCorruptError")).toBe(true);
    expect(err.id).toBe(big[0]);
    await expect(
      fs.stat(empty.chunks.pathOf(big[0] as never)),
    ).rejects.toThrow();
    expect(await temporaries(empty.chunks.dir)).toEqual([]);
    // the undamaged ones were stored, verified
    for (const id of big.slice(1))
      expect(sha(await fs.readFile(empty.chunks.pathOf(id as never)))).toBe(id);
  });
});

describe("storeBytes", () => {
  it("writes only bytes that hash to the id, and makes again a folder removed since its last write", async () => {
    const dir = path.join(await tempDir(), "store", "ab");
    const bytes = Buffer.from("some chunk bytes");
    const id = sha(bytes);
    const file = path.join(dir, "obj");
    const task = (tmp: string) => ({ id, file, tmp: path.join(dir, tmp), durable: false, check: true, mode: 0o444 });
    expect(await storeBytes(Buffer.from("other bytes"), task("t0"))).toEqual({ corrupt: sha(Buffer.from("other bytes")) });
    await expect(fs.stat(file)).rejects.toThrow();
    expect(await storeBytes(bytes, task("t1"))).toEqual({ wrote: true, bytes: bytes.length });
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
    expect(await storeBytes(bytes, task("t2"))).toEqual({ wrote: true, bytes: bytes.length });
    expect(await fs.readFile(file)).toEqual(bytes);
    expect(await fs.readdir(dir)).toEqual(["obj"]);
  });
});
