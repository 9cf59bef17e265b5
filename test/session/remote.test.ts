/**
 * Read sessions over a file remote, without a clone (remoteSource): every
 * revision form reads the bytes a local session reads; only the objects a
 * read needs are fetched (GETs counted), kept in the local cache, verified
 * again when read from it; the cache stays under its limit; a damaged remote
 * object is refused.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addRemote,
  createTag,
  DEFAULT_CACHE_BYTES,
  defaultCacheDir,
  isTdvError,
  ObjectCache,
  openSession,
  parseSize,
  push,
  remoteRepository,
  remoteSource,
  resolveRevision,
  serve,
  type ReadSession,
  type Repository,
} from "../../src/index.js";
import { counting } from "../helpers/counting-backend.js";
import { tempDir } from "../helpers/fixture.js";
import { setMtime } from "../helpers/time.js";
import { commitAll, repoFrom, setPoints } from "../merge/helpers.js";

let repo: Repository;
let dir: string;
let store: string;
let remote: string;
let first: string;
let second: string;
const savedDate = process.env.TDV_AUTHOR_DATE;

/** Every file of a local session at `rev`, by key, with its bytes. */
async function localFiles(rev: string): Promise<Map<string, Uint8Array>> {
  const s = await openSession(repo, rev);
  const out = new Map<string, Uint8Array>();
  for await (const f of s.walk("")) out.set(f.path, await s.read(f));
  return out;
}

async function sameFiles(session: ReadSession, rev: string): Promise<void> {
  const want = await localFiles(rev);
  const walked: string[] = [];
  for await (const f of session.walk("")) walked.push(f.path);
  expect(walked.sort()).toEqual([...want.keys()].sort());
  for (const [key, bytes] of want) expect(Buffer.from((await session.get(`/${key}`)) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
}

beforeAll(async () => {
  process.env.TDV_AUTHOR_DATE = "2026-01-10T12:00:00Z";
  ({ repo, dir, store } = await repoFrom("v3/ocean.zarr"));
  await createTag(repo, { name: "v1" });
  process.env.TDV_AUTHOR_DATE = "2026-02-10T12:00:00Z";
  await setPoints(dir, `${store}/sst`, { "0,0,0": 42.5 });
  await commitAll(repo, "fix one sst value");
  first = await resolveRevision(repo, "v1");
  second = await resolveRevision(repo, "main");
  remote = path.join(await tempDir(), "remote");
  await addRemote(repo, { name: "origin", url: remote });
  await push(repo, { remote: "origin", refs: ["main"], tags: true });
});

afterAll(() => {
  if (savedDate === undefined) delete process.env.TDV_AUTHOR_DATE;
  else process.env.TDV_AUTHOR_DATE = savedDate;
});

describe("remoteSource over a file remote", () => {
  it("opens a branch, a tag, a commit id (full and short), REV~1 and BRANCH@{DATE}, reading what a local session reads", async () => {
    const src = await remoteSource(remote, { cacheDir: await tempDir() });
    expect(src.name).toBe(remote);
    const cases: [string, string][] = [
      ["main", second],
      ["v1", first],
      [first, first],
      [first.slice(0, 8), first],
      ["main~1", first],
      ["main@{2026-01-20T00:00:00Z}", first],
      ["main@{2026-03-01}", second],
    ];
    for (const [rev, want] of cases) {
      const s = await src.open(rev);
      expect(s.commit, rev).toBe(want);
      expect(await src.resolve(rev)).toBe(want);
    }
    await sameFiles(await src.open("v1"), "v1");
    const refs = await src.refs();
    expect(Object.fromEntries(refs.branches)).toEqual({ main: second });
    expect(Object.fromEntries(refs.tags)).toEqual({ v1: first });
    expect(refs.head).toBe("main");
    const r = await remoteRepository(remote, { cacheDir: await tempDir() });
    expect(() => r.git.readCommitSync(first as never)).toThrow(/not read yet/);
    expect(await r.git.mergeBase(second as never, first as never)).toEqual([first]);
    expect(r.git.readCommitSync(first as never).oid).toBe(first); // read by the walk
  });

  it("fetches only the objects on a chunk's path, once; a second source on the same cache fetches nothing", async () => {
    const cacheDir = await tempDir();
    const log: string[] = [];
    const rounds = new Map<string, number>();
    const src = await remoteSource(remote, { cacheDir, wrapBackend: counting(log, rounds) });
    log.length = 0;
    const session = await src.open("main");
    expect(log.slice(0, 2)).toEqual(["git/refs/heads/main", `git/objects/${second.slice(0, 2)}/${second.slice(2)}`]); // the ref once, the commit
    // the session is open; in the background it reads the revision's folder trees with their
    // metadata documents and manifest trees (never a shard, never a chunk)
    await src.warmed(session);
    expect(log.filter((k) => k.startsWith("chunks/"))).toEqual([]);
    const warmed = new Set(log);
    log.length = 0;
    const opened = Math.max(...rounds.values());
    const key = `/${store}/sst/c/0/0/0`;
    expect(await session.get(key)).toBeDefined();
    // the first byte of a chunk: its manifest shard, then the chunk (two round trips, one object each)
    const chunkGets = log.filter((k) => k.startsWith("chunks/"));
    expect(chunkGets).toHaveLength(1);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/^git\/objects\//); // the shard: not read by the walk
    expect(warmed.has(log[0] as string)).toBe(false);
    expect(rounds.get(log[0] as string)).toBe(opened + 1);
    expect((rounds.get(chunkGets[0] as string) as number) - opened).toBeLessThanOrEqual(2);
    expect(warmed.size).toBeGreaterThan(2);
    // another chunk of the same array: the chunk alone
    log.length = 0;
    expect(await session.get(`/${store}/sst/c/1/0/0`)).toBeDefined();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^chunks\//);
    // the same chunk again, from another session: nothing
    log.length = 0;
    await (await src.open("main")).get(key);
    expect(log.filter((k) => k.startsWith("git/objects/") || k.startsWith("chunks/"))).toEqual([]);

    // a new source on the same cache (another run): no object fetched, only the refs and tdv.json
    const log2: string[] = [];
    const again = await remoteSource(remote, { cacheDir, wrapBackend: counting(log2) });
    const s2 = await again.open("main");
    expect(Buffer.from((await s2.get(key)) as Uint8Array).equals(Buffer.from((await session.get(key)) as Uint8Array))).toBe(true);
    expect(log2.filter((k) => k.startsWith("git/objects/") || k.startsWith("chunks/"))).toEqual([]);
  });

  it("serve over a remote: a branch URL's ref GET and its chunk's GETs go out together (the file is looked up in the branch's last commit meanwhile)", async () => {
    const log: string[] = [];
    const rounds = new Map<string, number>();
    const src = await remoteSource(remote, { cacheDir: await tempDir(), wrapBackend: counting(log, rounds) });
    const server = await serve(src, { port: 0 });
    try {
      const get = async (rev: string, key: string) => {
        const res = await fetch(`${server.url}${rev}/${key}`);
        expect(res.status).toBe(200);
        return { commit: res.headers.get("x-tdv-commit"), bytes: Buffer.from(await res.arrayBuffer()) };
      };
      const key = `${store}/sst/c/0/0/0`;
      expect((await get("main", key)).commit).toBe(second);
      await src.warmed(await src.open(second));
      log.length = 0;
      const other = `${store}/sst/c/1/0/0`;
      const got = await get("main", other);
      expect(got.commit).toBe(second);
      expect(got.bytes.equals(Buffer.from((await (await openSession(repo, "main")).get(`/${other}`)) as Uint8Array))).toBe(true);
      const ref = log.find((k) => k.startsWith("git/refs/"));
      const chunk = log.find((k) => k.startsWith("chunks/"));
      expect(ref).toBe("git/refs/heads/main"); // resolved live, on every request
      expect(rounds.get(chunk as string)).toBe(rounds.get(ref as string)); // the same round trip, not one after the other
    } finally {
      await server.close();
    }
  });

  it("concurrent reads of one object fetch it once", async () => {
    const log: string[] = [];
    const src = await remoteSource(remote, { cacheDir: await tempDir(), wrapBackend: counting(log) });
    const session = await src.open("main");
    const key = `/${store}/sst/c/0/1/0`;
    const all = await Promise.all(Array.from({ length: 8 }, () => session.get(key)));
    expect(new Set(all.map((b) => Buffer.from(b as Uint8Array).toString("hex"))).size).toBe(1);
    expect(log.filter((k) => k.startsWith("chunks/"))).toHaveLength(1);
    const objects = log.filter((k) => k.startsWith("chunks/") || k.startsWith("git/objects/"));
    expect(new Set(objects).size).toBe(objects.length); // no object twice
  });

  it("a tampered cache file is dropped and fetched again, never returned", async () => {
    const cacheDir = await tempDir();
    const key = `/${store}/sst/c/0/0/0`;
    const good = Buffer.from((await (await remoteSource(remote, { cacheDir })).open("main").then((s) => s.get(key))) as Uint8Array);
    const file = await (await openSession(repo, "main")).file(key);
    const cached = new ObjectCache(cacheDir).pathOf("chunks", file?.id as string);
    await fsp.writeFile(cached, Buffer.concat([good.subarray(1), Buffer.from([good[0] ^ 1])]));
    const log: string[] = [];
    const s = await (await remoteSource(remote, { cacheDir, wrapBackend: counting(log) })).open("main");
    expect(Buffer.from((await s.get(key)) as Uint8Array).equals(good)).toBe(true);
    expect(log.filter((k) => k.startsWith("chunks/"))).toHaveLength(1);
    expect((await fsp.readFile(cached)).equals(good)).toBe(true); // repaired
    // a tampered Git object (a tree) likewise
    const tree = s.info.tree;
    const treeFile = new ObjectCache(cacheDir).pathOf("git", tree);
    await fsp.writeFile(treeFile, "tree 0\0");
    const log3: string[] = [];
    const again = await (await remoteSource(remote, { cacheDir, wrapBackend: counting(log3) })).open("main");
    expect(await again.list("")).toEqual(await (await openSession(repo, "main")).list(""));
    expect(log3).toContain(`git/objects/${tree.slice(0, 2)}/${tree.slice(2)}`);
  });

  it("evicts the least recently used objects first (a hit counts as a use)", async () => {
    const cache = new ObjectCache(await tempDir(), 3500);
    const ids = ["a", "b", "c", "d"].map((c) => c.repeat(64));
    const [a, b, c, d] = ids as [string, string, string, string];
    for (const id of [a, b, c]) await cache.put("chunks", id, new Uint8Array(1000));
    const t = Date.now();
    for (const [i, id] of [a, b, c].entries()) await setMtime(cache.pathOf("chunks", id), new Date(t - 10_000 + i * 1000));
    expect(await cache.get("chunks", a)).not.toBeNull(); // a is now the most recently used
    await cache.put("chunks", d, new Uint8Array(1000)); // 4000 > 3500: the oldest go until at most 90% is left
    const left = await Promise.all(ids.map((id) => cache.get("chunks", id).then((x) => x !== null)));
    expect(left).toEqual([true, false, true, true]);
    expect(cache.stats.evicted).toBe(1);
  });

  it("refuses a damaged chunk on the remote, an unknown revision, and writes", async () => {
    const copy = path.join(await tempDir(), "damaged");
    await fsp.cp(remote, copy, { recursive: true });
    const file = await (await openSession(repo, "main")).file(`${store}/sst/c/0/0/0`);
    const id = file?.id as string;
    await fsp.writeFile(path.join(copy, "chunks", id.slice(0, 2), id.slice(2)), "not the chunk");
    const src = await remoteSource(copy, { cacheDir: await tempDir() });
    const s = await src.open("main");
    const err = await s.get(`/${store}/sst/c/0/0/0`).catch((e: unknown) => e);
    expect(isTdvError(err, "RemoteObjectCorruptError")).toBe(true);
    expect((err as Error).message).toContain(id);
    expect((err as Error).message).toContain(copy);
    // a damaged Git object (main's root tree)
    const tree = s.info.tree;
    await fsp.writeFile(path.join(copy, "git", "objects", tree.slice(0, 2), tree.slice(2)), "not zlib");
    const bad = await (await remoteSource(copy, { cacheDir: await tempDir() })).open("main");
    const treeErr = await bad.list("").catch((e: unknown) => e);
    expect(isTdvError(treeErr, "CorruptObjectError")).toBe(true);
    expect((treeErr as Error).message).toContain(copy);
    const unknown = await src.open("no-such-branch").catch((e: unknown) => e);
    expect(isTdvError(unknown, "UnknownRevisionError")).toBe(true);
    const before = await src.open("main@{2025-01-01}").catch((e: unknown) => e);
    expect(isTdvError(before, "UnknownRevisionError")).toBe(true);
    const r = await remoteRepository(copy, { cacheDir: await tempDir() });
    const write = await r.git.writeBlob(new Uint8Array(1)).catch((e: unknown) => e);
    expect((write as Error).message).toContain("read-only");
    expect(isTdvError(await r.refs.update("refs/heads/x", { expected: null, next: first as never, who: { name: "a", email: "b", timestamp: 0, tzOffset: 0 }, message: "" }).catch((e: unknown) => e), "UsageError")).toBe(true);
  });

  it("is safe for concurrent writers of one object, and sweeps what killed writers left", async () => {
    const dir = await tempDir();
    const [one, two] = [new ObjectCache(dir), new ObjectCache(dir)];
    const bytes = Buffer.alloc(200_000, 7);
    const id = "e".repeat(64);
    const seen = await Promise.all(
      Array.from({ length: 12 }, (_, i) => ((i % 2 ? one : two).put("chunks", id, bytes) as Promise<unknown>).then(() => one.get("chunks", id))),
    );
    for (const got of seen) expect(got?.equals(bytes)).toBe(true); // whole or absent, never half
    expect(await fsp.readdir(path.join(dir, "tmp"))).toEqual([]);
    const stale = path.join(dir, "tmp", "left-by-a-killed-writer");
    const fresh = path.join(dir, "tmp", "being-written-now");
    await fsp.writeFile(stale, "x");
    await fsp.writeFile(fresh, "x");
    await setMtime(stale, new Date(Date.now() - 2 * 3600_000));
    await one.evict();
    expect(await fsp.readdir(path.join(dir, "tmp"))).toEqual(["being-written-now"]);
  });

  it("finds a remote by name in a repository's config; an unknown name is refused", async () => {
    const src = await remoteSource("origin", { repo, cacheDir: await tempDir() });
    expect((await src.open("main")).commit).toBe(second);
    expect(isTdvError(await remoteSource("nope", { repo }).catch((e: unknown) => e), "UnknownRemoteError")).toBe(true);
  });

  it("parses cache sizes", () => {
    expect(parseSize("500M")).toBe(500 * 1024 ** 2);
    expect(parseSize("2G")).toBe(2 * 1024 ** 3);
    expect(parseSize("1.5GiB")).toBe(1.5 * 1024 ** 3);
    expect(parseSize("1024")).toBe(1024);
    expect(parseSize("64kb")).toBe(64 * 1024);
    expect(() => parseSize("lots")).toThrow(/not a size/);
  });

  it("finds the cache and its limit in the environment", () => {
    expect(defaultCacheDir({ TDV_CACHE_DIR: "/data/cache", XDG_CACHE_HOME: "/xdg", HOME: "/home/a" })).toBe("/data/cache");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/xdg", HOME: "/home/a" })).toBe("/xdg/tdv");
    expect(defaultCacheDir({ HOME: "/home/a" })).toBe("/home/a/.cache/tdv");
    const cache = ObjectCache.open({ env: { TDV_CACHE_DIR: "/data/cache", TDV_CACHE_SIZE: "500M" } });
    expect([cache.dir, cache.limitBytes]).toEqual(["/data/cache", 500 * 1024 ** 2]);
    expect(ObjectCache.open({ env: { HOME: "/home/a" } }).limitBytes).toBe(DEFAULT_CACHE_BYTES);
    expect(ObjectCache.open({ cacheDir: "/c", cacheBytes: 10, env: { TDV_CACHE_SIZE: "1G" } }).limitBytes).toBe(10);
    expect(() => ObjectCache.open({ env: { TDV_CACHE_SIZE: "big" } })).toThrow(/TDV_CACHE_SIZE/);
  });
});
