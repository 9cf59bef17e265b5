/**
 * Write sessions straight into an S3 remote (the S3 test server), no clone:
 * zarrita writes arrays and a clone checks them out byte for byte; 32
 * independent sessions commit to one branch at once and every commit lands
 * (linear history, rebases counted, none lost); a real conflict keeps the
 * session; a worker killed midway leaves nothing on the branch and remote gc
 * removes its objects once its announcement lapsed, and nothing a commit
 * needs; 16 worker processes write disjoint time slabs of a float32 array
 * through forked sessions, gathered into one commit that zarr-python reads
 * back as numpy computes it, and remote fsck finds clean.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as zarr from "zarrita";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTdvError, openRemoteWriteSession, openSession, remoteFsck, remoteGc, remoteRepository, type ChangeSet, type RemoteWriteOptions, type SessionToken, type WriteSession } from "../../src/index.js";
import { tdv } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { hasZarrPython, pythonJson } from "../helpers/zarr-python.js";
import { s3Setup } from "../remote/dataset.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

const WORKER = fileURLToPath(new URL("./remote-write-worker.mjs", import.meta.url));
/**
 * Size of the ingested array in MiB (64 time steps of Y×1024 float32, 4 MiB chunks): 128 by default, as 1 GiB
 * takes minutes on the S3 test server of a loaded 2-core machine; TDV_TEST_INGEST_MIB=1024 runs the full size.
 */
const INGEST_MIB = Number(process.env.TDV_TEST_INGEST_MIB ?? 128);

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => {
  await s3?.stop();
});

async function options(): Promise<RemoteWriteOptions> {
  return { env, cacheDir: await tempDir() };
}

const BYTES = [{ name: "bytes", configuration: { endian: "little" } }];
const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/** Run the worker on `token`; resolves with its change set (or, for "hang", with the child and its set once written). */
function startWorker(token: SessionToken, job: object, extraEnv: Record<string, string> = {}) {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(token), JSON.stringify(job)], {
    env: { ...process.env, ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const written = new Promise<ChangeSet>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const line = /^(?:written )?(\{.*\})\n/m.exec(out);
      if (line) resolve(JSON.parse(line[1] as string) as ChangeSet);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") reject(new Error(`worker exited ${code ?? signal}: ${err}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, written, exited };
}

/** The values of a float32 array at the tip of `branch` on the remote. */
async function remoteValues(url: string, array: string, branch = "main"): Promise<Float32Array> {
  const repo = await remoteRepository(url, await options());
  const s = await openSession(repo as never, (await repo.refs.read(`refs/heads/${branch}`)) as never);
  const a = await zarr.open(zarr.root(s).resolve(array), { kind: "array" });
  return (await zarr.get(a)).data as Float32Array;
}

/** The first-parent chain from the tip of `branch`, newest first, with each commit's parent count. */
async function history(url: string, branch = "main"): Promise<{ oid: string; parents: number }[]> {
  const repo = await remoteRepository(url, await options());
  const out: { oid: string; parents: number }[] = [];
  for (let c = await repo.refs.read(`refs/heads/${branch}`); c; ) {
    const commit = await repo.git.readCommit(c);
    out.push({ oid: c, parents: commit.parents.length });
    c = commit.parents[0] ?? null;
  }
  return out;
}

/** A store that records what is written through it (the bytes a checkout must hold). */
function recording(s: WriteSession, written: Map<string, Uint8Array>): WriteSession {
  return new Proxy(s, {
    get(target, prop) {
      if (prop === "set") return async (key: string, value: Uint8Array) => {
        written.set(key.replace(/^\//, ""), new Uint8Array(value));
        return target.set(key, value);
      };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("write sessions into an S3 remote", () => {
  it("zarrita writes arrays through a session; a clone checks them out byte for byte; a real conflict keeps the session", async () => {
    const url = `s3://${s3.bucket}/zarrita`;
    const written = new Map<string, Uint8Array>();
    const s = await openRemoteWriteSession(url, "main", await options());
    const store = recording(s, written) as unknown as zarr.Mutable;
    const root = zarr.root(store);
    await zarr.create(root.resolve("ocean.zarr"), { attributes: { title: "written in place" } });
    const sst = await zarr.create(root.resolve("ocean.zarr/sst"), { shape: [6, 10], chunkShape: [4, 4], dtype: "float32", fillValue: Number.NaN, codecs: BYTES });
    await zarr.set(sst, null, { data: Float32Array.from({ length: 60 }, (_, k) => k / 8), shape: [6, 10], stride: [10, 1] });
    const mask = await zarr.create(root.resolve("ocean.zarr/mask"), { shape: [16], chunkShape: [4], dtype: "int16", fillValue: 0, codecs: BYTES });
    await zarr.set(mask, [zarr.slice(4, 8)], 7); // one chunk; the others stay the fill value (no object)
    await s.set("README.md", new TextEncoder().encode("written by a remote session\n"));
    written.set("README.md", new TextEncoder().encode("written by a remote session\n"));
    const r = await s.commit("ocean, written in place");
    expect(r.parent).toBeNull();

    const parent = await tempDir();
    const c = await tdv(parent, ["clone", "-q", url, "copy"], { env });
    expect(c.code, c.stderr).toBe(0);
    const files = await listFiles(path.join(parent, "copy"));
    const got = new Map([...files].filter(([k]) => !k.startsWith(".tdv")).map(([k, v]) => [k.split(path.sep).join("/"), v]));
    expect([...got.keys()].sort()).toEqual([...written.keys()].sort());
    for (const [key, bytes] of written) expect(Buffer.from(bytes).equals(got.get(key) as Buffer), key).toBe(true);

    // two sessions change the same element: the second names the chunk and stays usable
    const a = await openRemoteWriteSession(url, "main", await options());
    const b = await openRemoteWriteSession(url, "main", await options());
    for (const [w, v] of [
      [a, 1.5],
      [b, 2.5],
    ] as const) {
      const arr = await zarr.open(zarr.root(w).resolve("ocean.zarr/sst"), { kind: "array" });
      await zarr.set(arr as zarr.Array<"float32", WriteSession>, [1, 1], v);
    }
    const landed = await a.commit("a");
    const err = await b.commit("b").catch((e: unknown) => e);
    expect(isTdvError(err, "SessionConflictError")).toBe(true);
    expect((err as Error).message).toContain("ocean.zarr/sst/c/0/0");
    expect((await history(url))[0]?.oid).toBe(landed.commit);
    const mine = await zarr.open(zarr.root(b).resolve("ocean.zarr/sst"), { kind: "array" });
    expect(((await zarr.get(mine, [1, 1])) as number)).toBe(2.5);
    await b.close();
  });

  it("32 independent sessions commit to one branch at once: every commit lands on a linear history, none lost", async () => {
    const url = `s3://${s3.bucket}/race`;
    const init = await openRemoteWriteSession(url, "main", await options());
    const grid = await zarr.create(zarr.root(init).resolve("grid"), { shape: [64, 16], chunkShape: [4, 16], dtype: "float32", fillValue: 0, codecs: BYTES });
    await zarr.set(grid, null, -1);
    const base = await init.commit("init");
    const N = 32;
    // writer k writes rows 2k and 2k+1: writers 2m and 2m+1 share chunk m (merged element by element), others are disjoint
    const results = await Promise.allSettled(
      Array.from({ length: N }, async (_, k) => {
        const s = await openRemoteWriteSession(url, "main", await options());
        const a = await zarr.open(zarr.root(s).resolve("grid"), { kind: "array" });
        await zarr.set(a as zarr.Array<"float32", WriteSession>, [zarr.slice(2 * k, 2 * k + 2), null], k + 1);
        return s.commit(`writer ${k}`, { attempts: 2 * N });
      }),
    );
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
    const landed = results.map((r) => (r as PromiseFulfilledResult<{ commit: string; rebased: number; merged: string[] }>).value);
    const rebases = landed.reduce((n, r) => n + r.rebased, 0);
    const merges = landed.reduce((n, r) => n + r.merged.length, 0);
    console.log(`32 writers: ${rebases} automatic rebases, ${merges} chunks merged element by element`);
    expect(rebases).toBeGreaterThan(0);
    const chain = await history(url);
    expect(chain).toHaveLength(N + 1);
    expect(chain.every((c) => c.parents <= 1)).toBe(true);
    expect(new Set(chain.map((c) => c.oid))).toEqual(new Set([base.commit, ...landed.map((r) => r.commit)]));
    const v = await remoteValues(url, "grid");
    for (let row = 0; row < 64; row++) expect(v[row * 16 + 5], `row ${row}`).toBe(Math.floor(row / 2) + 1);
    // every session withdrew its announcement
    const locks = await fsp.readdir(path.dirname(s3.objectPath("race/locks/x"))).catch(() => [] as string[]);
    expect(locks.filter((n) => n.startsWith("push-") && n.endsWith("._S3rver_object"))).toEqual([]);
  }, 120_000);

  it("a worker killed midway leaves nothing on the branch; remote gc waits for its lease, then removes its objects and nothing a commit needs", async () => {
    const url = `s3://${s3.bucket}/killed`;
    const init = await openRemoteWriteSession(url, "main", await options());
    const cube = await zarr.create(zarr.root(init).resolve("cube"), { shape: [8, 32, 32], chunkShape: [4, 32, 32], dtype: "float32", fillValue: 0, codecs: BYTES });
    await zarr.set(cube, null, 3);
    const base = await init.commit("init");
    const before = await remoteValues(url, "cube");

    const parent = await openRemoteWriteSession(url, "main", await options());
    const token = parent.fork();
    await parent.close();
    const lease = 2000;
    const w = startWorker(token, { mode: "hang", array: "cube", t0: 0, t1: 8 }, { TDV_CACHE_DIR: await tempDir(), TDV_REMOTE_LEASE_MS: String(lease) });
    const set = await w.written;
    const keys = set.changes.map((c) => ("id" in c ? `killed/chunks/${c.id.slice(0, 2)}/${c.id.slice(2)}` : ""));
    expect(keys).toHaveLength(2);
    for (const k of keys) await fsp.stat(s3.objectPath(k)); // uploaded before any commit
    w.child.kill("SIGKILL");
    await w.exited;
    expect((await history(url))[0]?.oid).toBe(base.commit); // nothing on the branch

    const saved = process.env.TDV_REMOTE_LEASE_MS;
    process.env.TDV_REMOTE_LEASE_MS = String(lease);
    try {
      // its announcement is still live: gc waits, then refuses, deleting nothing
      const refused = await remoteGc(null, { remote: url, prune: "now", waitMs: 200, backend: { env } }).catch((e: unknown) => e);
      expect(isTdvError(refused, "RemoteWritersRunningError")).toBe(true);
      for (const k of keys) await fsp.stat(s3.objectPath(k));
      await new Promise((r) => setTimeout(r, lease + 500));
      const gc = await remoteGc(null, { remote: url, prune: "now", backend: { env } });
      expect(gc.removedKeys).toEqual(expect.arrayContaining(keys.map((k) => k.slice("killed/".length))));
    } finally {
      if (saved === undefined) delete process.env.TDV_REMOTE_LEASE_MS;
      else process.env.TDV_REMOTE_LEASE_MS = saved;
    }
    for (const k of keys) await expect(fsp.stat(s3.objectPath(k))).rejects.toThrow();
    const fsck = await remoteFsck(null, { remote: url, backend: { env } });
    expect(fsck.problems).toEqual([]);
    expect(await remoteValues(url, "cube")).toEqual(before);
  }, 60_000);

  it.skipIf(!hasZarrPython())(`16 worker processes write disjoint time slabs of a ${INGEST_MIB} MiB float32 array through forked sessions; one commit`, async () => {
    const url = `s3://${s3.bucket}/ingest`;
    const [T, X] = [64, 1024];
    const Y = Math.max(512, Math.round(INGEST_MIB / 128) * 512);
    const nChunks = (T / 4) * (Y / 512) * (X / 512);
    const chunks = [4, 512, 512];
    const init = await openRemoteWriteSession(url, "main", await options());
    await init.set("big.zarr/.zgroup", json({ zarr_format: 2 }));
    await init.set("big.zarr/t/.zarray", json({ zarr_format: 2, shape: [T, Y, X], chunks, dtype: "<f4", compressor: null, fill_value: 0, order: "C", filters: null }));
    await init.set("big.zarr/t/.zattrs", json({ units: "K" }));
    const meta = await init.commit("an empty array to fill");

    const started = performance.now();
    const session = await openRemoteWriteSession(url, "main", await options());
    const token = JSON.parse(JSON.stringify(session.fork())) as SessionToken;
    const W = 16;
    const per = T / W;
    const workers = await Promise.all(
      Array.from({ length: W }, async (_, i) => startWorker(token, { mode: "slab", array: "big.zarr/t", t0: i * per, t1: (i + 1) * per }, { TDV_CACHE_DIR: await tempDir() })),
    );
    const sets = await Promise.all(workers.map((w) => w.written));
    await Promise.all(workers.map((w) => w.exited));
    const wrote = performance.now();
    await session.absorb(sets);
    const r = await session.commit(`${W} workers, ${T} time steps`);
    const done = performance.now();
    const mib = (T * Y * X * 4) / 2 ** 20;
    console.log(`ingest: ${mib} MiB by ${W} workers in ${((done - started) / 1000).toFixed(1)} s (${(mib / ((done - started) / 1000)).toFixed(0)} MiB/s; gather + commit ${((done - wrote) / 1000).toFixed(1)} s)`);
    expect(r.parent).toBe(meta.commit);
    expect(r.rebased).toBe(0);
    expect(r.changed).toBe(nChunks);
    expect(sets.reduce((n, s) => n + s.changes.length, 0)).toBe(nChunks);

    const fsck = await remoteFsck(null, { remote: url, backend: { env } });
    expect(fsck.problems).toEqual([]);
    expect(fsck.checked.chunks).toBe(nChunks);

    const parent = await tempDir();
    const c = await tdv(parent, ["clone", "-q", url, "copy"], { env });
    expect(c.code, c.stderr).toBe(0);
    const check = await pythonJson<{ equal: boolean; shape: number[] }>(
      path.join(parent, "copy"),
      `z = zarr.open('big.zarr/t', mode='r')
T, Y, X = z.shape
y = np.arange(Y, dtype=np.int64)[None, :, None]
x = np.arange(X, dtype=np.int64)[None, None, :]
equal = True
for t0 in range(0, T, 8):
    t = np.arange(t0, t0 + 8, dtype=np.int64)[:, None, None]
    want = (((t * 7919 + y * 31 + x) % 65536) / 4).astype('<f4')
    equal = equal and bool(np.array_equal(z[t0:t0 + 8], want))
print(json.dumps({'equal': equal, 'shape': list(z.shape)}))`,
    );
    expect(check).toEqual({ equal: true, shape: [T, Y, X] });
  }, 300_000);
});
