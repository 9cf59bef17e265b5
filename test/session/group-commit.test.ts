/**
 * Group commit on a folder remote: sessions that lose the race for a branch
 * queue their commits and one of them carries the others, each as its own
 * commit; every session lands exactly once; a queue record from a hostile
 * remote is refused; the first-parent history names each session once.
 */
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as zarr from "zarrita";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openRemoteWriteSession, openSession, remoteGc, remoteRepository, type RemoteWriteOptions } from "../../src/index.js";
import { BEAT_MS, beating, History, parsePending, sessionOf, STALL_MS, Waiter, type PendingCommit, type PendingQueue } from "../../src/session/group-commit.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

let tmp: string;
let url: string;
let opts: RemoteWriteOptions;
const BYTES = [{ name: "bytes", configuration: { endian: "little" } }];

beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "tdv-group-"));
  url = path.join(tmp, "remote");
  opts = { cacheDir: path.join(tmp, "cache") };
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe("group commit", () => {
  it("8 sessions committing at once all land, once each, in a linear history with their own messages", async () => {
    const N = 8;
    const init = await openRemoteWriteSession(url, "main", opts);
    await zarr.create(zarr.root(init).resolve("grid"), { shape: [4 * N, 4], chunkShape: [4, 4], dtype: "float32", fillValue: 0, codecs: BYTES });
    const base = (await init.commit("init")).commit;
    // each with its own cache, as separate machines would be: they share nothing but the remote
    const sessions = await Promise.all(Array.from({ length: N }, (_, k) => openRemoteWriteSession(url, "main", { cacheDir: path.join(tmp, `cache-${k}`) })));
    await Promise.all(
      sessions.map(async (s, k) => {
        const a = await zarr.open(zarr.root(s).resolve("grid"), { kind: "array" });
        await zarr.set(a as never, [zarr.slice(4 * k, 4 * k + 4), null], k + 1);
      }),
    );
    const results = await Promise.all(sessions.map((s, k) => s.commit(`committer ${k}`)));

    const repo = await remoteRepository(url, opts);
    const tip = (await repo.refs.read("refs/heads/main")) as string;
    // the first-parent history from the tip to the base: exactly the N commits, each session once, each with its message
    const messages: string[] = [];
    const ids: string[] = [];
    for (let at = tip; at !== base; ) {
      const c = await repo.git.readCommit(at as never);
      expect(c.parents).toHaveLength(1);
      messages.push(c.message.split("\n")[0] as string);
      ids.push(sessionOf(c.message) as string);
      at = c.parents[0] as string;
    }
    expect(messages.sort()).toEqual(Array.from({ length: N }, (_, k) => `committer ${k}`).sort());
    expect(new Set(ids).size).toBe(N);
    // each session was told the commit that holds its change
    for (const [k, r] of results.entries()) {
      const c = await repo.git.readCommit(r.commit);
      expect(c.message.split("\n")[0]).toBe(`committer ${k}`);
    }
    // a chain's carrier counts the commits it carried: no commit counted twice
    expect(results.reduce((n, r) => n + r.carried, 0)).toBeLessThan(N);
    // every value is there
    const s = await openSession(repo as never, tip as never);
    const a = await zarr.open(zarr.root(s).resolve("grid"), { kind: "array" });
    const got = Array.from((await zarr.get(a, [null, 0])).data as Float32Array);
    expect(got).toEqual(Array.from({ length: 4 * N }, (_, i) => Math.floor(i / 4) + 1));
    // the queue is empty once everyone returned: no record, and no marker (each owner removes the one it read)
    const queue = path.join(url, "pending");
    const left = await fsp.readdir(queue, { recursive: true }).catch(() => []);
    expect(left.filter((f) => /[0-9a-f]{20}(\.json)?$/.test(String(f)))).toEqual([]);
  }, 60_000);

  it("remote gc removes the queued record of a session that died before a carrier took it, once as old as other garbage", async () => {
    const init = await openRemoteWriteSession(url, "main", opts);
    await zarr.create(zarr.root(init).resolve("grid"), { shape: [4, 4], chunkShape: [4, 4], dtype: "float32", fillValue: 0, codecs: BYTES });
    await init.commit("init");
    const dir = path.join(url, "pending", Buffer.from("main").toString("hex"));
    await fsp.mkdir(path.join(dir, "landed"), { recursive: true });
    await fsp.writeFile(path.join(dir, "0123456789abcdef0123.json"), "{}");
    await fsp.writeFile(path.join(dir, "landed", "0123456789abcdef0123"), "0".repeat(40));
    const young = await remoteGc(null, { remote: url });
    expect(young.queued).toEqual({ kept: 2, removed: 0 });
    const now = await remoteGc(null, { remote: url, prune: "now" });
    expect(now.queued).toEqual({ kept: 0, removed: 2 });
    expect(await fsp.readdir(dir, { recursive: true })).toEqual(["landed"]);
  });

  it("refuses queue records a hostile remote could plant", () => {
    const id = "0123456789abcdef0123";
    const good = {
      format: "tdv-pending-commit/1",
      id,
      branch: "main",
      base: null,
      changes: [["grid/c/0/0", { store: "chunk", id: "a".repeat(64), size: 64 }]],
      message: `x\n\nTdv-Session: ${id}\n`,
      author: { name: "A", email: "a@b", timestamp: 1, tzOffset: 0 },
    };
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(parsePending(enc(good), id, "main")).not.toBeNull();
    expect(parsePending(enc(good), id, "other")).toBeNull();
    expect(parsePending(enc({ ...good, changes: [["../../etc/passwd", null]] }), id, "main")).toBeNull();
    expect(parsePending(enc({ ...good, changes: [["/abs", null]] }), id, "main")).toBeNull();
    expect(parsePending(enc({ ...good, changes: [[".tdv/config", null]] }), id, "main")).toBeNull();
    expect(parsePending(enc({ ...good, changes: [["grid/c/0/0", { store: "chunk", id: "zz", size: 1 }]] }), id, "main")).toBeNull();
    expect(parsePending(enc({ ...good, message: "no trailer" }), id, "main")).toBeNull();
    expect(parsePending(enc({ ...good, author: { name: "A\nB", email: "a", timestamp: 1, tzOffset: 0 } }), id, "main")).toBeNull();
    expect(parsePending(new TextEncoder().encode("{not json"), id, "main")).toBeNull();
  });

  it("reads the sessions of a first-parent history once, and says when the stop is not below the tip", async () => {
    const commits: Record<string, { parents: string[]; message: string }> = {
      c3: { parents: ["c2", "x"], message: "m\n\nTdv-Session: 33333333333333333333\n" },
      c2: { parents: ["c1"], message: "plain commit\n" },
      c1: { parents: [], message: "m\n\nTdv-Session: 11111111111111111111\n" },
    };
    let reads = 0;
    const h = new History(async (oid) => {
      reads++;
      return commits[oid] as { parents: never[]; message: string };
    });
    const all = await h.sessionsBetween("c3" as never, null);
    expect([...(all as Map<string, string>).entries()]).toEqual([
      ["33333333333333333333", "c3"],
      ["11111111111111111111", "c1"],
    ]);
    expect(await h.sessionsBetween("c3" as never, "c1" as never)).toEqual(new Map([["33333333333333333333", "c3"]]));
    expect(await h.sessionsBetween("c2" as never, "c3" as never)).toBeNull();
    expect(reads).toBe(3);
  });

  it("passes over a carrier only when neither the branch nor its beat moved for the stall time: a slow carrier at work keeps its turn", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    try {
      const beats = new Map<string, number>();
      const ids = ["00000000000000000001", "00000000000000000002", "00000000000000000003"];
      const queue: PendingQueue = {
        publish: async () => {},
        ids: async () => ids,
        read: async () => null,
        markLanded: async () => {},
        landed: async () => null,
        remove: async () => {},
        forget: async () => {},
        beat: async (id, n) => void beats.set(id, n),
        lastBeat: async (id) => beats.get(id) ?? null,
      };
      const history = new History(async () => ({ parents: [], message: "" }));
      // the second session waits while the first carries; the third would carry after a stall
      const second = new Waiter(queue, ids[1] as string, null, history);
      const tip = "a".repeat(40) as never;
      const look = async () => (await second.turn(tip)).kind;
      const stop = beating(queue, ids[0] as string);
      for (let t = 0; t < 6 * STALL_MS; t += STALL_MS / 2) {
        expect(await look()).toBe("wait"); // the carrier beats: never passed over, however long it takes
        await vi.advanceTimersByTimeAsync(STALL_MS / 2);
      }
      expect(beats.get(ids[0] as string)).toBeGreaterThanOrEqual((6 * STALL_MS) / BEAT_MS);
      await stop();
      // the beat stops (the carrier died): after the stall time the next in line carries
      expect(await look()).toBe("wait");
      vi.advanceTimersByTime(STALL_MS + 1);
      const turn = await second.turn(tip);
      expect(turn.kind).toBe("carry");
      expect((turn as { records: PendingCommit[] }).records).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
