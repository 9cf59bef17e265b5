/**
 * Read sessions over an S3 remote (the S3 test server) and an http remote (a
 * static web server over a folder remote), without a clone: every revision
 * form reads what a local session reads, zarrita reads the values a checkout
 * holds, only the objects a read needs are fetched (the server's request log
 * counts them), a second process on the same cache fetches no chunk, and a
 * damaged object on the remote is refused.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRemote, createTag, isTdvError, ObjectCache, openSession, push, remoteSource, resolveRevision, type ReadSession, type Repository } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { startStaticServer, type StaticServer } from "../helpers/static-server.js";
import { commitAll, repoFrom, setPoints } from "../merge/helpers.js";
import { s3Setup } from "./dataset.js";

const INDEX = fileURLToPath(new URL("../../dist/src/index.js", import.meta.url));

let s3: S3TestServer;
let env: Record<string, string>;
let web: StaticServer;
let repo: Repository;
let dir: string;
let store: string;
let first: string;
let second: string;
let s3Url: string;
const savedDate = process.env.TDV_AUTHOR_DATE;

async function sameFiles(session: ReadSession, rev: string): Promise<void> {
  const local = await openSession(repo, rev);
  const want = new Map<string, Uint8Array>();
  for await (const f of local.walk("")) want.set(f.path, await local.read(f));
  const walked: string[] = [];
  for await (const f of session.walk("")) walked.push(f.path);
  expect(walked.sort()).toEqual([...want.keys()].sort());
  for (const [key, bytes] of want) expect(Buffer.from((await session.get(`/${key}`)) as Uint8Array).equals(Buffer.from(bytes)), key).toBe(true);
}

/** The requests the S3 server saw for objects (not refs or tdv.json) under the test's prefix. */
const objectGets = () => s3.requests.filter((r) => r.key.startsWith("sessions/git/objects/") || r.key.startsWith("sessions/chunks/"));

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
  process.env.TDV_AUTHOR_DATE = "2026-01-10T12:00:00Z";
  ({ repo, dir, store } = await repoFrom("v3/ocean.zarr"));
  await createTag(repo, { name: "v1" });
  process.env.TDV_AUTHOR_DATE = "2026-02-10T12:00:00Z";
  await setPoints(dir, `${store}/sst`, { "0,0,0": 42.5 });
  await commitAll(repo, "fix one sst value");
  first = await resolveRevision(repo, "v1");
  second = await resolveRevision(repo, "main");
  s3Url = `s3://${s3.bucket}/sessions`;
  await addRemote(repo, { name: "s3", url: s3Url });
  await push(repo, { remote: "s3", refs: ["main"], tags: true, backend: { env } });
  const folder = path.join(await tempDir(), "published");
  await addRemote(repo, { name: "folder", url: folder });
  await push(repo, { remote: "folder", refs: ["main"], tags: true });
  web = await startStaticServer(folder);
});

afterAll(async () => {
  if (savedDate === undefined) delete process.env.TDV_AUTHOR_DATE;
  else process.env.TDV_AUTHOR_DATE = savedDate;
  await web?.stop();
  await s3?.stop();
});

describe("read sessions over an S3 remote", () => {
  it("opens a branch, a tag, a commit id, REV~1 and BRANCH@{DATE}; zarrita reads what a checkout holds", async () => {
    const src = await remoteSource(s3Url, { cacheDir: await tempDir(), env });
    for (const [rev, want] of [
      ["main", second],
      ["v1", first],
      [first, first],
      [first.slice(0, 10), first],
      ["main~1", first],
      ["main@{2026-01-31T00:00:00Z}", first],
    ] as const) {
      expect((await src.open(rev)).commit, rev).toBe(want);
    }
    await sameFiles(await src.open("main"), "main");
    await sameFiles(await src.open("main~1"), "v1");
    const arr = await zarr.open(zarr.root(await src.open("main")).resolve(`${store}/sst`), { kind: "array" });
    const local = await zarr.open(new FileSystemStore(path.join(dir, store, "sst")), { kind: "array" });
    const [got, want] = await Promise.all([zarr.get(arr), zarr.get(local)]);
    expect(Array.from(got.data as ArrayLike<number>)).toEqual(Array.from(want.data as ArrayLike<number>));
    const refs = await src.refs();
    expect([...refs.branches]).toEqual([["main", second]]);
    expect([...refs.tags]).toEqual([["v1", first]]);
  });

  it("fetches the objects on a chunk's path and the chunk, then the next chunk alone; another process on the same cache fetches no object", async () => {
    const cacheDir = await tempDir();
    const src = await remoteSource(s3Url, { cacheDir, env });
    const session = await src.open("main");
    await session.list("");
    s3.resetLog();
    const key = `/${store}/sst/c/0/0/0`;
    const bytes = Buffer.from((await session.get(key)) as Uint8Array);
    const gets = objectGets();
    expect(s3.requests.every((r) => r.method === "GET")).toBe(true);
    expect(gets.filter((r) => r.key.includes("/chunks/"))).toHaveLength(1);
    // trees and metadata of ocean.zarr and sst, the manifest tree and shard: no listing, no ref
    expect(gets.length - 1).toBeLessThanOrEqual(6);
    expect(s3.requests).toHaveLength(gets.length);
    s3.resetLog();
    await session.get(`/${store}/sst/c/1/0/0`);
    expect(s3.requests.map((r) => r.key)).toEqual([expect.stringMatching(/^sessions\/chunks\//)]);

    // a new process, the cache found through TDV_CACHE_DIR
    s3.resetLog();
    const script = `const lib = await import(${JSON.stringify(INDEX)});
      const src = await lib.remoteSource(${JSON.stringify(s3Url)});
      const s = await src.open("main");
      process.stdout.write(Buffer.from(await s.get(${JSON.stringify(key)})).toString("hex"));`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env, TDV_CACHE_DIR: cacheDir }, stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (d: Buffer) => {
        text += d.toString();
      });
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    expect(out).toBe(bytes.toString("hex"));
    expect(objectGets()).toEqual([]);
    expect(s3.requests.length).toBeGreaterThan(0); // it did read the refs
  });

  it("keeps the cache under its size limit (TDV_CACHE_SIZE's option)", async () => {
    const cacheDir = await tempDir();
    const limit = 6000;
    const src = await remoteSource(s3Url, { cacheDir, cacheBytes: limit, env });
    await sameFiles(await src.open("main"), "main");
    const cache = new ObjectCache(cacheDir, limit);
    const { bytes, files } = await cache.usage();
    // scanned once an eighth of the limit was written since the last scan: over by at most that
    expect(bytes).toBeLessThanOrEqual(limit + limit / 8);
    expect(files.length).toBeGreaterThan(0);
    await cache.evict();
    expect((await cache.usage()).bytes).toBeLessThanOrEqual(limit);
    // the same reads through a cache without a tight limit keep more than that
    const big = await tempDir();
    await sameFiles(await (await remoteSource(s3Url, { cacheDir: big, env })).open("main"), "main");
    expect((await new ObjectCache(big).usage()).bytes).toBeGreaterThan(limit + limit / 8);
  });

  it("refuses a damaged chunk object on the remote, and an unknown revision", async () => {
    const file = await (await openSession(repo, "main")).file(`${store}/sst/c/0/1/0`);
    const id = file?.id as string;
    const objectFile = s3.objectPath(`sessions/chunks/${id.slice(0, 2)}/${id.slice(2)}`);
    const original = await fsp.readFile(objectFile);
    const damaged = Buffer.from(original);
    damaged[0] = (damaged[0] as number) ^ 0xff;
    await fsp.writeFile(objectFile, damaged);
    try {
      const src = await remoteSource(s3Url, { cacheDir: await tempDir(), env });
      const err = await (await src.open("main")).get(`/${store}/sst/c/0/1/0`).catch((e: unknown) => e);
      expect(isTdvError(err, "RemoteObjectCorruptError")).toBe(true);
      expect((err as Error).message).toContain(id);
      expect((err as Error).message).toContain(s3Url);
      const unknown = await src.open("nope~2").catch((e: unknown) => e);
      expect(isTdvError(unknown, "UnknownRevisionError")).toBe(true);
    } finally {
      await fsp.writeFile(objectFile, original);
    }
  });
});

describe("read sessions over an http remote", () => {
  it("reads every revision read-only through git/info/refs; an abbreviated id asks for the full one", async () => {
    const src = await remoteSource(web.url, { cacheDir: await tempDir() });
    expect((await src.open("main")).commit).toBe(second);
    expect((await src.open("v1")).commit).toBe(first);
    expect((await src.open("main~1")).commit).toBe(first);
    expect((await src.open(first)).commit).toBe(first);
    await sameFiles(await src.open("main"), "main");
    const short = await src.open(first.slice(0, 10)).catch((e: unknown) => e);
    expect(isTdvError(short, "UnknownRevisionError")).toBe(true);
    expect((short as Error).message).toContain("40 hex digits");
    expect(web.requests.every((r) => r.method === "GET" || r.method === "HEAD")).toBe(true);
    // a second read of the same chunk through the cache: no request
    const session = await src.open("main");
    await session.get(`/${store}/sst/c/0/0/0`);
    web.requests.length = 0;
    await (await src.open("main")).get(`/${store}/sst/c/0/0/0`);
    expect(web.requests.filter((r) => r.path.includes("/chunks/") || r.path.includes("/git/objects/"))).toEqual([]);
  });
});
