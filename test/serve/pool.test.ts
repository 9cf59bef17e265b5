/**
 * Buffers lent for chunk reads (`tdv serve` reads each chunk into one and
 * gives it back once the response is sent): the pool never lends a buffer
 * twice at once; a sized chunk read returns exactly the object's bytes or
 * the errors a whole read gives; and a server under many concurrent,
 * partly aborted requests sends every chunk byte for byte.
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, isTdvError, Repository, repositorySource, serve, type ChunkId } from "../../src/index.js";
import { BufferPool } from "../../src/store/buffer-pool.js";
import { Durability } from "../../src/store/durability.js";
import { FileChunkStore } from "../../src/store/objects.js";
import { tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex") as ChunkId;

describe("BufferPool", () => {
  it("lends a buffer again only once given back, once; ignores buffers it did not lend; keeps at most maxBytes", () => {
    const pool = new BufferPool(2.5 * 1024 * 1024, 4 * 1024 * 1024);
    const a = pool.take(1_000_001);
    expect(a.length).toBeGreaterThanOrEqual(1_000_001);
    const b = pool.take(1_000_001);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a.subarray(0, 10)); // a view of it gives it back
    pool.give(a); // twice: ignored
    expect(pool.freeBytes).toBe(a.buffer.byteLength);
    const c = pool.take(900_000);
    const d = pool.take(900_000);
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer); // the second give did not put it back twice
    pool.give(Buffer.alloc(2_000_000)); // never lent: ignored
    expect(pool.freeBytes).toBe(0);
    for (const x of [b, c, d]) pool.give(x);
    expect(pool.freeBytes).toBeLessThanOrEqual(2.5 * 1024 * 1024); // one of the three did not fit
    expect(pool.freeBytes).toBe(2 * a.buffer.byteLength);
    const big = pool.take(5 * 1024 * 1024); // above maxBuffer: allocated, not pooled
    pool.give(big);
    expect(pool.freeBytes).toBe(2 * a.buffer.byteLength);
  });
});

describe("FileChunkStore.get with a size and a pool", () => {
  it("returns the object's exact bytes in one read; another size, damage or absence get a whole read's answer", async () => {
    const dir = await tempDir();
    const store = new FileChunkStore(path.join(dir, "chunks"), new Durability(dir, "none"));
    const pool = new BufferPool();
    const bytes = randomBytes(300_000);
    const id = sha256(bytes);
    await store.put(id, bytes);

    const got = await store.get(id, "a/c/0", { size: bytes.length, pool });
    expect(Buffer.from(got).equals(bytes)).toBe(true);
    expect(got.buffer.byteLength).toBeGreaterThan(bytes.length); // read into a pooled buffer
    pool.give(got);
    // a manifest naming another size still gets the object's bytes (read whole; a huge one allocates nothing of its size)
    for (const size of [0, 10, bytes.length - 1, bytes.length + 1, 10_000_000, 2 ** 30, 2 ** 31, 2 ** 53]) expect(Buffer.from(await store.get(id, "a/c/0", { size, pool })).equals(bytes)).toBe(true);
    const empty = Buffer.alloc(0);
    await store.put(sha256(empty), empty);
    expect((await store.get(sha256(empty), "e", { size: 0, pool })).length).toBe(0);

    // damaged: refused, and the buffer it was read into is lent again
    const file = store.pathOf(id);
    await fsp.chmod(file, 0o644);
    await fsp.writeFile(file, Buffer.concat([Buffer.from("rot"), bytes.subarray(3)]));
    const free = pool.freeBytes;
    const err = await store.get(id, "a/c/0", { size: bytes.length, pool }).catch((e: unknown) => e);
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
    expect(pool.freeBytes).toBe(free);
    // absent
    const missing = await store.get(sha256(Buffer.from("nope")), "a/c/1", { size: 4, pool }).catch((e: unknown) => e);
    expect(isTdvError(missing, "MissingObjectError")).toBe(true);
  });
});

/**
 * GET `p` on `agent`. A "slow" reader stops reading at the body's first bytes for a while (the server's
 * socket then holds most of the chunk, unsent), an "abort" one hangs up there.
 */
function get(agent: http.Agent, port: number, p: string, how: "read" | "slow" | "abort" = "read", headers: Record<string, string> = {}): Promise<{ status: number; etag: string | undefined; body: Buffer } | null> {
  const abortAfterFirst = how === "abort";
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: p, agent, headers }, (res) => {
      const parts: Buffer[] = [];
      let first = true;
      res.on("data", (b: Buffer) => {
        if (abortAfterFirst) {
          req.destroy();
          resolve(null);
          return;
        }
        parts.push(b);
        if (first && how === "slow") {
          res.pause();
          setTimeout(() => res.resume(), 150);
        }
        first = false;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body: Buffer.concat(parts) }));
      res.on("error", () => resolve(null));
    });
    req.on("error", (e) => (abortAfterFirst ? resolve(null) : reject(e)));
  });
}

describe("tdv serve with lent buffers", () => {
  it("many concurrent readers, some slow and some hanging up mid-chunk: every chunk answered is its exact bytes", async () => {
    const dir = await tempDir();
    const N = 8;
    const SIZE = 4 << 20; // a socket takes a chunk this large only bit by bit, so a reused buffer would show
    await fsp.mkdir(path.join(dir, "big.zarr/c"), { recursive: true });
    const meta = { zarr_format: 3, node_type: "array", shape: [N * SIZE], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [SIZE] } }, chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: 0, codecs: [{ name: "bytes" }], attributes: {} };
    await fsp.writeFile(path.join(dir, "big.zarr/zarr.json"), JSON.stringify(meta));
    const chunks: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      chunks.push(randomBytes(SIZE));
      await fsp.writeFile(path.join(dir, `big.zarr/c/${i}`), chunks[i] as Buffer);
    }
    const { repo } = await Repository.init({ durability: "none", dir });
    await add(repo, { all: true });
    await commit(repo, { message: "chunks" });
    const server = await serve(repositorySource(repo, dir), { port: 0 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 12 });
    try {
      const jobs: Promise<void>[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < N; i++) {
          const want = chunks[i] as Buffer;
          jobs.push(
            get(agent, server.port, `/main/big.zarr/c/${i}`, i % 2 ? "slow" : "read").then((r) => {
              expect([i, r?.status, r?.body.equals(want), r?.etag]).toEqual([i, 200, true, `"${sha256(want)}"`]);
            }),
          );
          if (i % 3 === 0) jobs.push(get(new http.Agent(), server.port, `/main/big.zarr/c/${(i + 1) % N}`, "abort").then(() => undefined));
          if (i % 5 === 0) {
            jobs.push(
              get(agent, server.port, `/main/big.zarr/c/${i}`, "read", { range: "bytes=1000-2999" }).then((r) => {
                expect([i, r?.status, r?.body.equals(want.subarray(1000, 3000))]).toEqual([i, 206, true]);
              }),
            );
          }
        }
      }
      await Promise.all(jobs);
    } finally {
      agent.destroy();
      await server.close();
    }
  }, 60_000);
});
