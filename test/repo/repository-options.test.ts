/**
 * What a repository gets from its caller instead of reading the environment
 * or importing the remote layer: its stores (any implementation of
 * store/types.ts), the durability mode, the waits for gc and writers, and a
 * lazy clone's chunk fetcher. The CLI reads the environment (cli/env.ts).
 */
import { describe, expect, it } from "vitest";
import { durabilityFromEnv, repoOptions } from "../../cli/env.js";
import { isTdvError } from "../../src/errors.js";
import { sha256, type ChunkId } from "../../src/format/hash.js";
import { Repository, type Stores } from "../../src/repo/repository.js";
import { Durability } from "../../src/store/durability.js";
import type { ChunkSource, ChunkStore } from "../../src/store/types.js";
import { enterGc, enterWriter } from "../../src/store/writers.js";
import { tempDir } from "../helpers/fixture.js";

async function lazyRepo(): Promise<string> {
  const dir = await tempDir();
  const { repo } = await Repository.init({ dir, durability: "none" });
  await repo.updateConfig((c) => {
    c.lazy = { remote: "origin" };
  });
  return dir;
}

describe("repository options", () => {
  it("takes the durability mode as an option, deferred by default, whatever TDV_FSYNC says", async () => {
    const saved = process.env.TDV_FSYNC;
    process.env.TDV_FSYNC = "0";
    try {
      const dir = await tempDir();
      expect((await Repository.init({ dir, durability: "none" })).repo.durability.mode).toBe("none");
      expect((await Repository.open({ dir })).durability.mode).toBe("deferred");
      expect((await Repository.open({ dir, durability: "fsync" })).durability.mode).toBe("fsync");
    } finally {
      if (saved === undefined) delete process.env.TDV_FSYNC;
      else process.env.TDV_FSYNC = saved;
    }
  });

  it("the CLI maps TDV_FSYNC, TDV_GC_WAIT_MS and TDV_WRITERS_WAIT_MS to those options", () => {
    expect(durabilityFromEnv({})).toBe("deferred");
    expect(durabilityFromEnv({ TDV_FSYNC: "0" })).toBe("none");
    expect(durabilityFromEnv({ TDV_FSYNC: "each" })).toBe("fsync");
    expect(durabilityFromEnv({ TDV_FSYNC: "1" })).toBe("deferred");
    expect(repoOptions({ TDV_GC_WAIT_MS: "300", TDV_WRITERS_WAIT_MS: "0" })).toEqual({ durability: "deferred", gcWaitMs: 300, writersWaitMs: 0 });
    expect(repoOptions({ TDV_GC_WAIT_MS: "soon" })).toEqual({ durability: "deferred" });
  });

  it("a writer waits for a running gc as long as gcWaitMs says, gc for writers as long as writersWaitMs says", async () => {
    const dir = await tempDir();
    const { repo } = await Repository.init({ dir, durability: "none", gcWaitMs: 0, writersWaitMs: 0 });
    const gc = await enterGc(repo.tdvDir);
    const err = await repo.writing("test", async () => "wrote").catch((e: unknown) => e);
    expect(isTdvError(err, "GcRunningError")).toBe(true);
    gc.release();
    const writer = await enterWriter(repo.tdvDir, "test");
    const reopened = await Repository.open({ dir, durability: "none", writersWaitMs: 0 });
    const { gc: runGc } = await import("../../src/commands/gc.js");
    const gcErr = await runGc(reopened, {}).catch((e: unknown) => e);
    expect(isTdvError(gcErr, "WritersRunningError")).toBe(true);
    writer.release();
  });

  it("a lazy clone reads missing chunks through the fetcher it was opened with, and has none without one", async () => {
    const dir = await lazyRepo();
    const bytes = Buffer.from("a chunk the remote has");
    const id = sha256(bytes) as ChunkId;
    const asked: string[] = [];
    const fetcher = (_repo: Repository, remote: string): ChunkSource => {
      asked.push(remote);
      return { remote, url: "mem://", fetch: async (want) => (want === id ? bytes : null), has: async (want) => want === id };
    };
    const plain = await Repository.open({ dir, durability: "none" });
    expect(plain.chunks.fallback).toBeUndefined();
    const err = await plain.chunks.get(id).catch((e: unknown) => e);
    expect(isTdvError(err, "MissingObjectError")).toBe(true);

    const lazy = await Repository.open({ dir, durability: "none", chunkFetcher: fetcher });
    expect(asked).toEqual(["origin"]);
    expect(Buffer.from(await lazy.chunks.get(id))).toEqual(bytes);
    expect(await plain.chunks.has(id)).toBe(true); // fetched, verified and kept
  });

  it("is made of the stores it is given: any ObjectStore, RefStore and ChunkStore", async () => {
    const dir = await tempDir();
    const { repo: disk } = await Repository.init({ dir, durability: "none" });
    const kept = new Map<ChunkId, Buffer>();
    const memChunks: ChunkStore = {
      fallback: undefined,
      has: async (id) => kept.has(id),
      put: async (id, bytes) => !kept.has(id) && Boolean(kept.set(id, Buffer.from(bytes))),
      get: async (id) => {
        const b = kept.get(id);
        if (!b) throw new Error(`no ${id}`);
        return b;
      },
    };
    const stores: Stores = { git: disk.git, refs: disk.refs, chunks: memChunks };
    const repo = new Repository<Stores>(disk.root, disk.tdvDir, disk.config, stores, new Durability(disk.tdvDir, "none"));
    const bytes = Buffer.from("kept in memory");
    const id = sha256(bytes) as ChunkId;
    expect(await repo.chunks.put(id, bytes)).toBe(true);
    expect(Buffer.from(await repo.readStored({ store: "chunk", id }, "x"))).toEqual(bytes);
    expect(await disk.chunks.has(id)).toBe(false); // not on disk: the repository used the store it was given
  });
});
