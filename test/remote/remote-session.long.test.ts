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
import { tdv, tdvOk } from "../helpers/cli.js";
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
    s3.resetLog();
    const session = await src.open("main");
    await src.warmed(session); // the revision's folder trees, read in the background once it opened
    expect(objectGets().filter((r) => r.key.includes("/chunks/"))).toEqual([]);
    s3.resetLog();
    const key = `/${store}/sst/c/0/0/0`;
    const bytes = Buffer.from((await session.get(key)) as Uint8Array);
    const gets = objectGets();
    expect(s3.requests.every((r) => r.method === "GET")).toBe(true);
    // the manifest shard, then the chunk: no tree, no listing, no ref
    expect(gets.map((r) => r.key.split("/")[1])).toEqual(["git", "chunks"]);
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
      child.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`)))); // "close": once its output is all read
    });
    expect(out).toBe(bytes.toString("hex"));
    expect(objectGets()).toEqual([]);
    expect(s3.requests.length).toBeGreaterThan(0); // it did read the refs
  });

  it("keeps the cache under its size limit (TDV_CACHE_SIZE's option)", async () => {
    const cacheDir = await tempDir();
    const limit = 6000;
    const src = await remoteSource(s3Url, { cacheDir, cacheBytes: limit, env });
    const session = await src.open("main");
    await sameFiles(session, "main");
    await src.warmed(session); // its background walk writes to the cache too
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

describe("tdv export --remote from the S3 remote", () => {
  /** Every object id of the array folder `array` at `rev` (trees, documents, manifest tree and shards, chunks), read locally. */
  async function objectsOf(rev: string, array: string): Promise<{ git: Set<string>; chunks: Set<string> }> {
    const git = new Set<string>();
    const visit = async (tree: string): Promise<void> => {
      git.add(tree);
      for (const e of await repo.git.readTree(tree as never)) {
        if (e.mode === "040000") await visit(e.oid);
        else git.add(e.oid);
      }
    };
    const session = await openSession(repo, rev);
    let tree = session.info.tree as string;
    for (const name of array.split("/")) tree = (await repo.git.readTree(tree as never)).find((e) => e.name === name)?.oid as string;
    await visit(tree);
    const chunks = new Set<string>();
    for await (const f of session.walk(array)) if (f.store === "chunk") chunks.add(f.id);
    return { git, chunks };
  }
  const keyId = (key: string) => key.split("/").slice(-2).join("");

  it("exports one array reading only that array's objects (GETs counted); a corrupted chunk fails naming it, nothing under the target's name", async () => {
    const arrays = await (await openSession(repo, "main")).arrays();
    const others = arrays.filter((a) => a !== `${store}/sst`);
    expect(others.length).toBeGreaterThan(0);
    const mine = await objectsOf("main", `${store}/sst`);
    const theirs = { git: new Set<string>(), chunks: new Set<string>() };
    for (const a of others.filter((a) => !`${store}/sst`.startsWith(a))) {
      const o = await objectsOf("main", a);
      for (const id of o.git) if (!mine.git.has(id)) theirs.git.add(id);
      for (const id of o.chunks) if (!mine.chunks.has(id)) theirs.chunks.add(id);
    }
    expect(theirs.chunks.size).toBeGreaterThan(0);

    // a remote of its own: the requests of this process's other sessions never show under its prefix
    const url = `s3://${s3.bucket}/exports`;
    await addRemote(repo, { name: "exports", url });
    await push(repo, { remote: "exports", refs: ["main"], backend: { env } });
    const elsewhere = await tempDir();
    const cliEnv = { ...env, TDV_CACHE_DIR: path.join(elsewhere, "cache") };
    s3.resetLog();
    await tdvOk(elsewhere, ["export", "main", `${store}/sst`, "--remote", url, "--to", "out"], { env: cliEnv });
    const gets = s3.requests.filter((r) => r.key.startsWith("exports/git/objects/") || r.key.startsWith("exports/chunks/"));
    const chunkIds = gets.filter((r) => r.key.startsWith("exports/chunks/")).map((r) => keyId(r.key));
    const gitIds = gets.filter((r) => r.key.startsWith("exports/git/")).map((r) => keyId(r.key));
    // every chunk of sst once, nothing else: no chunk, tree, document or shard of another array
    expect(chunkIds.sort()).toEqual([...mine.chunks].sort());
    expect(new Set(gitIds).size).toBe(gitIds.length);
    expect(gitIds.filter((id) => theirs.git.has(id))).toEqual([]);
    expect(s3.requests.filter((r) => r.key.startsWith("exports/") && r.method !== "GET" && r.method !== "HEAD")).toEqual([]);
    // the exported files are the checkout's
    const exported = await fsp.readFile(path.join(elsewhere, "out", store, "sst", "zarr.json"));
    expect(exported.equals(await fsp.readFile(path.join(dir, store, "sst", "zarr.json")))).toBe(true);

    // a chunk of sst damaged on the server: the export fails naming it; nothing appears under the target's name
    const id = [...mine.chunks][0] as string;
    const objectFile = s3.objectPath(`exports/chunks/${id.slice(0, 2)}/${id.slice(2)}`);
    const original = await fsp.readFile(objectFile);
    await fsp.writeFile(objectFile, Buffer.concat([original.subarray(1), Buffer.from([0])]));
    try {
      const fresh = { ...env, TDV_CACHE_DIR: path.join(elsewhere, "cache2") };
      const r = await tdv(elsewhere, ["export", "main", `${store}/sst`, "--remote", url, "--to", "bad"], { env: fresh });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(id);
      expect(r.stderr).toMatch(/corrupt|hash/i);
      await expect(fsp.stat(path.join(elsewhere, "bad"))).rejects.toThrow();
      expect((await fsp.readdir(elsewhere)).sort()).toEqual(["cache", "cache2", "out"]);
    } finally {
      await fsp.writeFile(objectFile, original);
    }
  }, 60_000);
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
