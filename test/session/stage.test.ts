/**
 * The staged-session registry (remote/sessions.ts) over a folder remote, in
 * process: ids are checked, a session's record is written once and binds its
 * branch, a worker's change set is never overwritten, list and drop, and
 * remote gc keeps what a staged session names until it is dropped or older
 * than the grace period. The CLI end to end (workers, S3) is stage.long.test.ts.
 */
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import {
  checkSessionId,
  dropSession,
  isTdvError,
  listSessions,
  readSession,
  remoteGc,
  type ChunkId,
  type StagedChangeSet,
} from "../../src/index.js";
import { ensureSession, sessionKey, stagedObjects, writeChangeSet } from "../../src/remote/sessions.js";
import { sha256 } from "../../src/format/hash.js";
import { chunkKey, RemoteRepo } from "../../src/remote/layout.js";
import { tempDir } from "../helpers/fixture.js";
import { setMtime } from "../helpers/time.js";

let dir: string;
let remote: RemoteRepo;

beforeEach(async () => {
  dir = await tempDir();
  remote = await RemoteRepo.open(dir);
  await remote.ensureConfig();
});

function set(worker: string, chunk: ChunkId, size: number): StagedChangeSet {
  return { format: "tdv-change-set/1", branch: "main", base: null, changes: [{ path: `a.zarr/x/${worker}`, store: "chunk", id: chunk, size }], session: "run-1", worker, objects: 1, bytes: size, stagedBy: "test" };
}

async function putChunk(text: string): Promise<{ id: ChunkId; size: number }> {
  const bytes = new TextEncoder().encode(text);
  const id = sha256(bytes);
  await remote.backend.put(chunkKey(id), bytes);
  return { id, size: bytes.length };
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

describe("staged sessions on a remote", () => {
  it("refuses session ids that are not plain names", () => {
    for (const bad of ["", "..", "a..b", "a/b", "../x", ".", "a b", "x".repeat(129)]) {
      expect(() => checkSessionId(bad), bad).toThrow(/not a valid session id/);
    }
    for (const ok of ["run-42", "era5.2026_03", "A"]) expect(() => checkSessionId(ok)).not.toThrow();
  });

  it("writes the record once, binds its branch, never overwrites a worker's change set; list and drop", async () => {
    const first = await ensureSession(remote, "run-1", "main", async () => null, false);
    expect(first.created).toBe(true);
    const again = await ensureSession(remote, "run-1", "main", async () => "f".repeat(40) as never, false);
    expect(again).toMatchObject({ created: false, record: { base: null, branch: "main" } });
    await expect(ensureSession(remote, "run-1", "dev", async () => null, false)).rejects.toSatisfy((e) => isTdvError(e, "StagedSessionMismatchError"));
    await expect(ensureSession(remote, "run-1", "main", async () => "f".repeat(40) as never, true)).rejects.toSatisfy((e) => isTdvError(e, "StagedSessionMismatchError"));

    const c = await putChunk("worker a's chunk");
    await writeChangeSet(remote, set("a", c.id, c.size));
    await expect(writeChangeSet(remote, set("a", c.id, c.size))).rejects.toSatisfy((e) => isTdvError(e, "StagedChangeSetExistsError"));
    await writeChangeSet(remote, set("b", c.id, c.size));

    const s = await readSession(remote, "run-1");
    expect(s.sets.map((x) => x.worker)).toEqual(["a", "b"]);
    const [info] = await listSessions(remote);
    expect(info).toMatchObject({ id: "run-1", branch: "main", base: null, changeSets: 2, workers: ["a", "b"], objects: 1, bytes: c.size });

    expect(await dropSession(remote, "run-1")).toEqual({ id: "run-1", changeSets: 2 });
    expect(await listSessions(remote)).toEqual([]);
    await expect(readSession(remote, "run-1")).rejects.toSatisfy((e) => isTdvError(e, "StagedSessionNotFoundError"));
    await expect(dropSession(remote, "run-1")).rejects.toSatisfy((e) => isTdvError(e, "StagedSessionNotFoundError"));
  });

  it("remote gc keeps a staged session's objects until it is dropped", async () => {
    await ensureSession(remote, "run-1", "main", async () => null, false);
    const c = await putChunk("an old chunk the worker found present");
    await setMtime(path.join(dir, chunkKey(c.id)), daysAgo(3)); // older than the grace period
    await writeChangeSet(remote, set("a", c.id, c.size));

    const kept = await remoteGc(null, { remote: dir, prune: "1.day.ago" });
    expect(kept.staged).toMatchObject({ chunks: 1 });
    expect(kept.removed.chunks).toBe(0);
    expect(kept.sessions).toEqual({ kept: ["run-1"], removed: [] });
    expect(await remote.backend.head(chunkKey(c.id))).not.toBeNull();

    await dropSession(remote, "run-1");
    const gone = await remoteGc(null, { remote: dir, prune: "1.day.ago" });
    expect(gone.removedKeys).toEqual([chunkKey(c.id)]);
  });

  it("remote gc collects a session older than the grace period, with its registry", async () => {
    await ensureSession(remote, "old", "main", async () => null, false);
    const c = await putChunk("abandoned");
    await writeChangeSet(remote, { ...set("a", c.id, c.size), session: "old" });
    for (const f of [chunkKey(c.id), sessionKey("old"), "sessions/old/sets/a.json"]) await setMtime(path.join(dir, f), daysAgo(3));
    expect((await stagedObjects(remote, daysAgo(1))).expired).toEqual(["old"]);

    const res = await remoteGc(null, { remote: dir, prune: "1.day.ago" });
    expect(res.removedKeys).toEqual([chunkKey(c.id)]);
    expect(res.sessions.removed).toEqual(["old"]);
    const left: string[] = [];
    for await (const k of remote.backend.list("sessions/")) left.push(k);
    expect(left).toEqual([]);
  });

  it("remote gc refuses to run past a change set it cannot read, deleting nothing", async () => {
    await ensureSession(remote, "bad", "main", async () => null, false);
    const c = await putChunk("kept");
    await setMtime(path.join(dir, chunkKey(c.id)), daysAgo(3));
    await remote.backend.put("sessions/bad/sets/w.json", new TextEncoder().encode("{not json"));
    await expect(remoteGc(null, { remote: dir, prune: "1.day.ago" })).rejects.toSatisfy((e) => isTdvError(e, "RemoteGcRefusedError") && /session drop/.test((e as Error).message));
    expect(await remote.backend.head(chunkKey(c.id))).not.toBeNull();
  });
});
