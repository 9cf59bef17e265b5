/**
 * An error raised on the worker thread reaches the caller as the tdv error the
 * main thread raises for the same file: the same class, message, hint and
 * fields (so the same exit code). Messages between the threads are checked:
 * a malformed one is an error. The bundle's worker script (dist/bin/worker.js)
 * runs a job on its own.
 */
import { randomBytes } from "node:crypto";
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { CorruptObjectError, FileAccessError, UnsafePathError } from "../../src/errors.js";
import { add, commit, Repository } from "../../src/index.js";
import { readSnapshot, type SnapEntry } from "../../src/repo/snapshot.js";
import { copyChunks } from "../../src/worktree/checkout-copy.js";
import { storeChunkFiles } from "../../src/worktree/store-files.js";
import { parseJob, parseReply, receiveError, sendError } from "../../src/worktree/worker-protocol.js";
import { statOf, TreeWriter, type FileStat } from "../../src/worktree/worktree.js";
import { tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

const BUNDLED_WORKER = fileURLToPath(new URL("../../dist/bin/worker.js", import.meta.url));

/** The error a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`expected a rejection, got ${String(err)}`);
  return err;
}

/** What the caller (and the CLI) sees of an error. */
function seen(err: Error): unknown {
  return { class: err.constructor.name, message: err.message, json: (err as FileAccessError).toJSON() };
}

async function files(n: number): Promise<{ repo: Repository; rels: string[] }> {
  const dir = await tempDir();
  const { repo } = await Repository.init({ dir });
  const rels: string[] = [];
  await fsp.mkdir(path.join(dir, "data"), { recursive: true });
  for (let i = 0; i < n; i++) {
    rels.push(`data/${i}`);
    await fsp.writeFile(path.join(dir, "data", String(i)), randomBytes(70_000));
  }
  return { repo, rels };
}

/** A committed repository whose chunk object `bad` does not hash to its id, ready for a checkout into an empty tree. */
async function corrupted(): Promise<{ repo: Repository; writes: [string, SnapEntry][]; bad: SnapEntry }> {
  const { repo } = await files(6);
  await add(repo, { all: true });
  await commit(repo, { message: "import" });
  const head = await repo.refs.head();
  const snap = await readSnapshot(repo, (await repo.git.readCommit(head.oid!)).tree);
  const writes = [...snap.files].filter(([, e]) => e.store === "chunk") as [string, SnapEntry][];
  const bad = (writes[3] as [string, SnapEntry])[1];
  const object = repo.chunks.pathOf(bad.id as never);
  await fsp.chmod(object, 0o644);
  const bytes = await fsp.readFile(object);
  bytes[0] = (bytes[0] as number) ^ 1;
  await fsp.writeFile(object, bytes);
  await fsp.rm(path.join(repo.root, "data"), { recursive: true });
  repo.reflink = false; // the shared path is for file systems that cannot clone
  return { repo, writes, bad };
}

describe("errors on the worker thread", () => {
  it("a file that vanished before add stored it: the FileAccessError of the main thread", async () => {
    const { repo, rels } = await files(8);
    // stat data as the scan took it, before the file went away
    const stats = rels.map((rel) => statOf(fs.lstatSync(path.join(repo.root, rel))));
    const scanned = (i: number) => stats[i] as FileStat;
    await fsp.rm(path.join(repo.root, "data", "5"));
    const onMain = await rejection(storeChunkFiles(repo, rels, scanned, true, () => {}, { threads: false }));
    const onWorker = await rejection(storeChunkFiles(repo, rels, scanned, true, () => {}, { threads: true, mainShares: false }));
    expect(onMain).toBeInstanceOf(FileAccessError);
    expect(onWorker).toBeInstanceOf(FileAccessError);
    expect(seen(onWorker)).toEqual(seen(onMain));
    expect((onWorker as FileAccessError).code).toBe("ENOENT");
    expect((onWorker as FileAccessError).path).toBe(path.join(repo.root, "data", "5"));
    expect(onWorker.message).toContain("data/5");
  });

  it("a chunk whose bytes do not match its id, met by checkout: the CorruptObjectError of the main thread", async () => {
    const { repo, writes, bad } = await corrupted();
    const tmp = path.join(repo.tdvDir, "tmp");
    const onMain = await rejection(copyChunks(repo, new TreeWriter(repo.root, tmp), writes, () => {}, () => {}, { threads: false }));
    await fsp.rm(path.join(repo.root, "data"), { recursive: true, force: true });
    const onWorker = await rejection(copyChunks(repo, new TreeWriter(repo.root, tmp), writes, () => {}, () => {}, { threads: true, mainShares: false }));
    expect(onMain).toBeInstanceOf(CorruptObjectError);
    expect(onWorker).toBeInstanceOf(CorruptObjectError);
    expect(seen(onWorker)).toEqual(seen(onMain));
    expect((onWorker as CorruptObjectError).id).toBe(bad.id);
    expect((onWorker as CorruptObjectError).hint).toContain("fsck");
  });

  it("the bundle's worker script reports the same error as data, rebuilt as its class", async () => {
    const { repo, writes, bad } = await corrupted();
    const todo = writes.slice(0, 5);
    const tmpDir = path.join(repo.tdvDir, "tmp");
    await fsp.mkdir(tmpDir, { recursive: true });
    const w = new TreeWriter(repo.root, tmpDir);
    for (const [p] of todo) w.prepareParentSync(p);
    const job = {
      kind: "copy",
      claims: new SharedArrayBuffer(4),
      root: repo.root,
      names: todo.map(([p]) => p).join("\0"),
      ids: todo.map(([, e]) => e.id).join(""),
      sizes: Float64Array.from(todo, ([, e]) => e.size),
      chunksDir: repo.chunks.dir,
      tmpDir,
      block: 1 << 20,
      progress: new SharedArrayBuffer(16),
      outcome: new SharedArrayBuffer(todo.length * 4),
      stats: new SharedArrayBuffer(todo.length * 32),
    };
    const reply = await new Promise<unknown>((resolve, reject) => {
      const worker = new Worker(BUNDLED_WORKER, { workerData: job });
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const parsed = parseReply("copy", reply);
    if (parsed.kind !== "error") throw new Error(`expected an error reply, got ${JSON.stringify(parsed)}`);
    const err = receiveError(parsed.error);
    expect(err).toBeInstanceOf(CorruptObjectError);
    expect(err.message).toMatch(new RegExp(`^object ${bad.id} is corrupt: its bytes hash to [0-9a-f]{64}$`));
    // the files before it were placed
    expect(Array.from(new Int32Array(job.outcome)).slice(0, 3)).toEqual([1, 1, 1]);
  });
});

describe("messages between the threads", () => {
  it("a malformed job or reply is an error, not a cast", () => {
    expect(() => parseJob({ kind: "copy", claims: new SharedArrayBuffer(4), root: "/x" })).toThrow(/malformed worker job/);
    expect(() => parseJob({ kind: "nope", claims: new SharedArrayBuffer(4) })).toThrow(/malformed worker job/);
    expect(() => parseJob({ kind: "scan", claims: new ArrayBuffer(4), dirs: [], skipDirs: [] })).toThrow(/malformed worker job/);
    expect(parseJob({ kind: "scan", claims: new SharedArrayBuffer(4), dirs: [["a", "/r/a"]], skipDirs: [".tdv"] }).kind).toBe("scan");
    expect(() => parseReply("store", { kind: "store", files: -1 })).toThrow(/malformed reply to a store job/);
    expect(() => parseReply("store", { kind: "copy", files: 3 })).toThrow(/malformed reply to a store job/);
    expect(() => parseReply("scan", { kind: "scan", paths: "a", stats: [1, 2], folders: 1, bad: [] })).toThrow(/malformed/);
    expect(() => parseReply("copy", { kind: "error", error: { message: "x" } })).toThrow(/malformed worker error/);
    expect(parseReply("copy", { kind: "copy", files: 3 })).toEqual({ kind: "copy", files: 3 });
  });

  it("an error survives the trip as data (structured clone): class, fields, hint, cause, or an errno error's code and path", () => {
    const trip = (e: unknown) => receiveError(structuredClone(sendError(e)));
    const unsafe = new UnsafePathError("a/../b", "empty, '.' or '..' path component");
    const back = trip(unsafe);
    expect(back).toBeInstanceOf(UnsafePathError);
    expect((back as UnsafePathError).toJSON()).toEqual(unsafe.toJSON());
    expect(Object.keys(back)).toEqual(Object.keys(unsafe));

    const errno = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), { code: "ENOENT", path: "/x/y", errno: -2 });
    const access = trip(new FileAccessError("/x/y", "ENOENT", errno)) as FileAccessError;
    expect(access).toBeInstanceOf(FileAccessError);
    expect(access.message).toBe("cannot read or write /x/y (ENOENT)");
    expect(access.cause).toMatchObject({ code: "ENOENT", path: "/x/y", message: errno.message });

    const plain = trip(errno) as NodeJS.ErrnoException;
    expect(plain).toBeInstanceOf(Error);
    expect(plain).toMatchObject({ code: "ENOENT", path: "/x/y", errno: -2, message: errno.message });
  });
});
