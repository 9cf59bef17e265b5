/**
 * Verify and store objects in transit without holding up the main thread,
 * which keeps receiving and sending (HTTP, the next requests) meanwhile.
 *
 * - `copyFile`: a file on this machine (a folder remote's object, or this
 *   store's object going to a folder remote) is read in large blocks on a
 *   worker thread, each block hashed and written to a temp file as it passes
 *   (one read, one write, nothing copied into JS), and renamed into place
 *   only once the whole hashed to the object's name;
 * - `readVerified`: a store object read whole and hashed on a worker (an
 *   upload's body); its buffer is handed back, not copied;
 * - `storeBytes`: bytes already in memory (an S3 or HTTP download) are
 *   hashed here, then written on libuv's threads. Handing them to a worker
 *   costs more than hashing them: measured here, a postMessage of a fetched
 *   body copies it (~2 ms/MB against ~0.8 ms/MB of SHA-256).
 * Each is all-or-nothing for its object: nothing is visible under an
 * object's name before its bytes proved to be it, and a write interrupted
 * anywhere leaves at most a temp file.
 *
 * The workers run source text (`new Worker(source, { eval: true })`), so the
 * same code serves the bundle, tsc's output and the tests. The pool holds the
 * event loop only while tasks are pending; if no worker can start, or one
 * dies, the main thread does its tasks itself.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { FRESH_MS, freshen, freshenWith, writeAtomic } from "../store/atomic.js";

/** Objects smaller than this are hashed and written on the main thread: a worker's round trip costs more. */
export const OFFLOAD_MIN_BYTES = 32 * 1024;
/** Read and write block of a copy. */
const BLOCK = 1 << 20;

export interface StoreTask {
  /** the object's SHA-256 (hex): the bytes must hash to it */
  id: string;
  /** where it goes, and the temp file beside it (same file system) that is renamed there */
  file: string;
  tmp: string;
  /** fdatasync the temp file before the rename */
  durable: boolean;
  /** first see whether `file` exists (content-addressed: then it is freshened, not written) */
  check: boolean;
  /** permission bits of a new file (default 0o666, less the umask) */
  mode?: number;
}

/** What became of a task: written, already there (freshened), its bytes not the object's, or its source file absent; a read's bytes. */
export type StoreOutcome = { wrote: true; bytes: number } | { wrote: false; bytes: number } | { corrupt: string } | { missing: true };
export type ReadOutcome = { read: Uint8Array } | { corrupt: string } | { missing: true };

type Task = ({ op: "copy"; src: string } & StoreTask) | { op: "read"; src: string; id: string };
type Msg = Task & { seq: number };
type Outcome = StoreOutcome | ReadOutcome;

/** The work itself; self-contained (the workers run its source text, the main thread calls it directly). */
function runTask(fsm: typeof fs, crypto: typeof import("node:crypto"), pathm: typeof path, fresh: typeof freshenWith, freshMs: number, buf: Buffer | null, t: Msg): Outcome {
  if (t.op === "read") {
    // a whole file into memory, verified: what an upload sends
    let bytes: Buffer;
    try {
      bytes = fsm.readFileSync(t.src);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return { missing: true };
      throw err;
    }
    const actual = crypto.createHash("sha256").update(bytes).digest("hex");
    return actual === t.id ? { read: bytes } : { corrupt: actual };
  }
  if (t.check && fresh(fsm, t.file, freshMs)) return { wrote: false, bytes: 0 };
  const open = (): number => {
    const flags = fsm.constants.O_WRONLY | fsm.constants.O_CREAT | fsm.constants.O_EXCL;
    try {
      return fsm.openSync(t.tmp, flags, t.mode ?? 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fsm.mkdirSync(pathm.dirname(t.tmp), { recursive: true });
      return fsm.openSync(t.tmp, flags, t.mode ?? 0o666);
    }
  };
  const writeAll = (fd: number, b: Uint8Array, n: number) => {
    for (let off = 0; off < n; ) off += fsm.writeSync(fd, b, off, n - off);
  };
  let sfd: number;
  try {
    sfd = fsm.openSync(t.src, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { missing: true };
    throw err;
  }
  let fd = -1;
  let placed = false;
  try {
    fd = open();
    const hash = crypto.createHash("sha256");
    const block = buf ?? Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const n = fsm.readSync(sfd, block, 0, block.length, size);
      if (n === 0) break;
      hash.update(block.subarray(0, n));
      writeAll(fd, block, n);
      size += n;
    }
    const actual = hash.digest("hex");
    if (actual !== t.id) return { corrupt: actual };
    if (t.durable) fsm.fdatasyncSync(fd);
    fsm.closeSync(fd);
    fd = -1;
    fsm.renameSync(t.tmp, t.file);
    placed = true;
    return { wrote: true, bytes: size };
  } finally {
    if (fd >= 0) fsm.closeSync(fd);
    fsm.closeSync(sfd);
    if (!placed) {
      try {
        fsm.rmSync(t.tmp, { force: true });
      } catch {
        /* nothing to clean */
      }
    }
  }
}

/** The worker: answers each task with its outcome, or the error it threw (message, code, path). */
function workerMain(fsm: typeof fs, crypto: typeof import("node:crypto"), pathm: typeof path, wt: typeof import("node:worker_threads"), run: typeof runTask, fresh: typeof freshenWith, freshMs: number): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  wt.parentPort?.on("message", (t: Msg) => {
    try {
      const outcome = run(fsm, crypto, pathm, fresh, freshMs, buf, t);
      // a read's bytes are handed over, not copied
      const read = "read" in outcome ? outcome.read : null;
      const own = read !== null && read.byteOffset === 0 && read.byteLength === read.buffer.byteLength;
      wt.parentPort?.postMessage({ seq: t.seq, outcome }, own ? [read.buffer as ArrayBuffer] : []);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      wt.parentPort?.postMessage({ seq: t.seq, error: { message: e.message, code: e.code, path: e.path, syscall: e.syscall } });
    }
  });
}

const SOURCE = `(${workerMain.toString()})(require("node:fs"), require("node:crypto"), require("node:path"), require("node:worker_threads"), ${runTask.toString()}, ${freshenWith.toString()}, ${FRESH_MS})`;

type Answer = { seq: number; outcome: Outcome } | { seq: number; error: { message: string; code?: string; path?: string; syscall?: string } };

interface Slot {
  worker: Worker;
  pending: Map<number, { msg: Msg; resolve: (o: Outcome) => void; reject: (e: unknown) => void }>;
}

/**
 * A few worker threads (one per core, at most 4) that verify and store
 * objects. Tasks go to the worker with the fewest pending; the pool starts
 * its workers on first use and keeps them (unreferenced while idle) for the
 * process's life.
 */
class VerifyPool {
  private slots: Slot[] | null = null;
  private seq = 0;
  private readonly mainBuf = Buffer.allocUnsafe(BLOCK);

  private start(): Slot[] {
    if (this.slots) return this.slots;
    const n = Math.max(1, Math.min(4, os.availableParallelism()));
    const slots: Slot[] = [];
    for (let i = 0; i < n; i++) {
      try {
        const worker = new Worker(SOURCE, { eval: true });
        const slot: Slot = { worker, pending: new Map() };
        worker.on("message", (a: Answer) => this.answered(slot, a));
        // a worker that fails or exits: its pending tasks are done on the main thread (each is all-or-nothing)
        worker.on("error", () => this.lost(slot));
        worker.on("exit", () => this.lost(slot));
        worker.unref();
        slots.push(slot);
      } catch {
        break; // no threads here: the main thread does the work
      }
    }
    this.slots = slots;
    return slots;
  }

  private answered(slot: Slot, a: Answer): void {
    const p = slot.pending.get(a.seq);
    if (!p) return;
    slot.pending.delete(a.seq);
    this.settled(slot);
    if ("error" in a) p.reject(Object.assign(new Error(a.error.message), a.error));
    else p.resolve(a.outcome);
  }

  private lost(slot: Slot): void {
    if (!this.slots?.includes(slot)) return;
    this.slots = this.slots.filter((s) => s !== slot);
    for (const p of slot.pending.values()) {
      try {
        p.resolve(this.inline(p.msg));
      } catch (err) {
        p.reject(err);
      }
    }
    slot.pending.clear();
  }

  private settled(slot: Slot): void {
    if (slot.pending.size === 0) slot.worker.unref();
  }

  private inline(msg: Msg): Outcome {
    return runTask(fs, { createHash } as typeof import("node:crypto"), path, freshenWith, FRESH_MS, this.mainBuf, msg);
  }

  run(task: Task, offload: boolean): Promise<Outcome> {
    const full: Msg = { ...task, seq: this.seq++ };
    const slots = offload ? this.start() : [];
    if (slots.length === 0) {
      try {
        return Promise.resolve(this.inline(full));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let slot = slots[0] as Slot;
    for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
    return new Promise<Outcome>((resolve, reject) => {
      slot.pending.set(full.seq, { msg: full, resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage(full);
    });
  }
}

const pool = new VerifyPool();

/** Folders known to exist (a store's fan-outs): one mkdir each. */
const madeDirs = new Set<string>();

/**
 * Hash `bytes` and, when they are object `task.id`'s, store them at
 * `task.file` (via `task.tmp`). The hash runs here (bytes already in memory
 * cost more to hand to a worker than to hash: measured, a postMessage of a
 * fetched body copies it); the write runs on libuv's threads, so this thread
 * goes on receiving meanwhile.
 */
export async function storeBytes(bytes: Uint8Array, task: StoreTask): Promise<StoreOutcome> {
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== task.id) return { corrupt: actual };
  if (task.check && freshen(task.file)) return { wrote: false, bytes: 0 };
  const dir = path.dirname(task.file);
  const opts = { durable: task.durable, tmp: task.tmp, ...(task.mode === undefined ? {} : { mode: task.mode }) };
  if (!madeDirs.has(dir)) await fs.promises.mkdir(dir, { recursive: true });
  try {
    await writeAtomic(task.file, bytes, opts);
  } catch (err) {
    // a folder this process made before may be gone since (a failed clone removed, then begun again)
    if (fs.existsSync(dir)) throw err;
    await fs.promises.mkdir(dir, { recursive: true });
    await writeAtomic(task.file, bytes, opts);
  }
  madeDirs.add(dir);
  return { wrote: true, bytes: bytes.byteLength };
}

/** Copy file `src` to `task.file` (via `task.tmp`), hashing as it passes; placed only when it is object `task.id`. `size` (when known) picks the thread. */
export function copyFile(src: string, task: StoreTask, size?: number): Promise<StoreOutcome> {
  return pool.run({ op: "copy", src, ...task }, size === undefined || size >= OFFLOAD_MIN_BYTES) as Promise<StoreOutcome>;
}

/** Read file `src` whole and check that its bytes hash to `id` (an upload's body, verified off the main thread when large). */
export function readVerified(src: string, id: string, size?: number): Promise<ReadOutcome> {
  return pool.run({ op: "read", src, id }, size === undefined || size >= OFFLOAD_MIN_BYTES) as Promise<ReadOutcome>;
}
