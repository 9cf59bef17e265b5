/**
 * Verify and store objects off the main thread: the transfer path's SHA-256
 * of every byte and its write (temp file, rename) run on worker threads, so
 * the main thread keeps receiving (HTTP parsing, the next requests) while
 * earlier objects are hashed and written.
 *
 * Two tasks, each all-or-nothing for its object:
 * - `storeBytes`: bytes already in memory (an S3 or HTTP download) are hashed;
 *   only when they are the object's are they written to a temp file beside
 *   the target and renamed over it;
 * - `copyFile`: a file (a folder remote's object, or this store's object going
 *   to a folder remote) is read in large blocks, each hashed and written to
 *   the temp file as it passes (one read, one write, no copy into JS), and
 *   renamed into place only once the whole proved to be the object's.
 * Either way no object is ever visible under its name unless its bytes hash to
 * that name, and a write interrupted anywhere leaves at most a temp file.
 *
 * The workers run source text (`new Worker(source, { eval: true })`), so the
 * same code serves the bundle, tsc's output and the tests. The pool holds the
 * event loop only while tasks are pending; if no worker can start, or one
 * dies, the main thread does the tasks itself.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { FRESH_MS, freshenWith } from "../store/atomic.js";

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

type Task = ({ op: "store"; bytes: Uint8Array; size: number } & StoreTask) | ({ op: "copy"; src: string } & StoreTask) | { op: "read"; src: string; id: string };
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
  let sfd = -1;
  if (t.op === "copy") {
    try {
      sfd = fsm.openSync(t.src, "r");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return { missing: true };
      throw err;
    }
  } else {
    // in memory: the hash first, so a damaged object is never written at all
    const actual = crypto.createHash("sha256").update(t.bytes).digest("hex");
    if (actual !== t.id) return { corrupt: actual };
  }
  let fd = -1;
  let placed = false;
  try {
    fd = open();
    let size: number;
    if (t.op === "copy") {
      const hash = crypto.createHash("sha256");
      const block = buf ?? Buffer.allocUnsafe(1 << 20);
      size = 0;
      for (;;) {
        const n = fsm.readSync(sfd, block, 0, block.length, size);
        if (n === 0) break;
        hash.update(block.subarray(0, n));
        writeAll(fd, block, n);
        size += n;
      }
      const actual = hash.digest("hex");
      if (actual !== t.id) return { corrupt: actual };
    } else {
      writeAll(fd, t.bytes, t.bytes.byteLength);
      size = t.bytes.byteLength;
    }
    if (t.durable) fsm.fdatasyncSync(fd);
    fsm.closeSync(fd);
    fd = -1;
    fsm.renameSync(t.tmp, t.file);
    placed = true;
    return { wrote: true, bytes: size };
  } finally {
    if (fd >= 0) fsm.closeSync(fd);
    if (sfd >= 0) fsm.closeSync(sfd);
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
  private pendingTotal = 0;

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
      this.pendingTotal--;
      try {
        if (p.msg.op === "store" && p.msg.bytes.byteLength === 0 && p.msg.size > 0) {
          // its bytes were handed over to the worker: nothing here to redo it with
          throw new Error(`a worker thread stopped while it stored object ${p.msg.id}; nothing was stored under its name: run the command again`);
        }
        p.resolve(this.inline(p.msg));
      } catch (err) {
        p.reject(err);
      }
    }
    slot.pending.clear();
  }

  private settled(slot: Slot): void {
    this.pendingTotal--;
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
      this.pendingTotal++;
      slot.worker.ref();
      // bytes that own their whole buffer (a download's body) are handed over, not copied (two copies of every byte, and page faults)
      const b = full.op === "store" ? full.bytes : null;
      const own = b !== null && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
      slot.worker.postMessage(full, own ? [b.buffer as ArrayBuffer] : []);
    });
  }
}

const pool = new VerifyPool();

/**
 * Hash `bytes` and, when they are object `task.id`'s, store them at
 * `task.file` (via `task.tmp`); on a worker when large. The bytes are handed
 * over: when they own their whole buffer, the worker takes it (the caller's
 * view is left empty).
 */
export function storeBytes(bytes: Uint8Array, task: StoreTask): Promise<StoreOutcome> {
  return pool.run({ op: "store", bytes, size: bytes.byteLength, ...task }, bytes.byteLength >= OFFLOAD_MIN_BYTES) as Promise<StoreOutcome>;
}

/** Copy file `src` to `task.file` (via `task.tmp`), hashing as it passes; placed only when it is object `task.id`. `size` (when known) picks the thread. */
export function copyFile(src: string, task: StoreTask, size?: number): Promise<StoreOutcome> {
  return pool.run({ op: "copy", src, ...task }, size === undefined || size >= OFFLOAD_MIN_BYTES) as Promise<StoreOutcome>;
}

/** Read file `src` whole and check that its bytes hash to `id` (an upload's body, verified off the main thread when large). */
export function readVerified(src: string, id: string, size?: number): Promise<ReadOutcome> {
  return pool.run({ op: "read", src, id }, size === undefined || size >= OFFLOAD_MIN_BYTES) as Promise<ReadOutcome>;
}
