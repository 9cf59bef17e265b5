/**
 * Verify and store objects in transit without holding up the main thread,
 * which keeps receiving and sending (HTTP, the next requests) meanwhile.
 *
 * - `copyFile`: a file on this machine (a folder remote's object, or this
 *   store's object going to a folder remote) is read in large blocks on a
 *   worker thread, each block hashed and written to a temp file as it passes
 *   (one read, one write, nothing copied into JS), and renamed into place
 *   only once the whole hashed to the object's name;
 * - `readVerified`: a store object read whole and hashed (an upload's
 *   body), both on libuv's threads: the file read, and WebCrypto's digest;
 * - `storeBytes`: bytes already in memory (an S3 or HTTP download) are
 *   hashed here, then written on libuv's threads. Handing them to a worker
 *   costs more than hashing them: measured here, a postMessage of a fetched
 *   body copies it (~2 ms/MB against ~0.8 ms/MB of SHA-256).
 * Each is all-or-nothing for its object: nothing is visible under an
 * object's name before its bytes proved to be it, and a write interrupted
 * anywhere leaves at most a temp file.
 *
 * The workers are the worker module (worktree/worker.ts) started as a
 * pool's, running the same task code as the main thread
 * (store/verified-copy.ts); their errors come back as the same classes. The
 * pool holds the event loop only while tasks are pending; if no worker can
 * start, or one dies, the main thread does its tasks itself.
 */
import { createHash, webcrypto } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { asAccessError, freshen, writeAtomic } from "../store/atomic.js";
import { isMissing, runVerifyTask, type StoreOutcome, type StoreTask, type VerifyOutcome, type VerifyTask } from "../store/verified-copy.js";
import { workerUrl } from "../worktree/shared-work.js";
import { parseVerifyAnswer, receiveError, type VerifyAnswer, type VerifyMessage } from "../worktree/worker-protocol.js";

export type { StoreOutcome, StoreTask };

/** An upload's body read whole: its bytes, or that they are not the object's, or that the file is absent. */
export type ReadOutcome = { read: Uint8Array } | { corrupt: string } | { missing: true };

/** Objects smaller than this are hashed and written on the main thread: a worker's round trip costs more. */
const OFFLOAD_MIN_BYTES = 32 * 1024;
/** Read and write block of a copy. */
const BLOCK = 1 << 20;


interface Slot {
  worker: Worker;
  pending: Map<number, { msg: VerifyMessage; resolve: (o: VerifyOutcome) => void; reject: (e: unknown) => void }>;
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
        const worker = new Worker(workerUrl(), { workerData: { kind: "verify-pool" } });
        const slot: Slot = { worker, pending: new Map() };
        worker.on("message", (a: unknown) => this.answered(slot, a));
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

  private answered(slot: Slot, m: unknown): void {
    let a: VerifyAnswer;
    try {
      a = parseVerifyAnswer(m);
    } catch {
      // a worker that says what it should not cannot be trusted with the rest: its tasks are done here
      void slot.worker.terminate();
      this.lost(slot);
      return;
    }
    const p = slot.pending.get(a.seq);
    if (!p) return;
    slot.pending.delete(a.seq);
    this.settled(slot);
    if ("error" in a) p.reject(receiveError(a.error));
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

  private inline(msg: VerifyMessage): VerifyOutcome {
    return runVerifyTask(msg, this.mainBuf);
  }

  run(task: VerifyTask, offload: boolean): Promise<VerifyOutcome> {
    const full: VerifyMessage = { ...task, seq: this.seq++ };
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
    return new Promise<VerifyOutcome>((resolve, reject) => {
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

/**
 * storeBytes for a body in the pieces it arrived in: each hashed in turn,
 * and all written with one writev, never copied into one buffer.
 */
export async function storeParts(parts: readonly Uint8Array[], task: StoreTask): Promise<StoreOutcome> {
  const h = createHash("sha256");
  let total = 0;
  for (const p of parts) {
    h.update(p);
    total += p.byteLength;
  }
  const actual = h.digest("hex");
  if (actual !== task.id) return { corrupt: actual };
  if (task.check && freshen(task.file)) return { wrote: false, bytes: 0 };
  const dir = path.dirname(task.file);
  if (!madeDirs.has(dir)) await fs.promises.mkdir(dir, { recursive: true });
  try {
    await writePartsAtomic(parts, total, task);
  } catch (err) {
    // a folder this process made before may be gone since (a failed clone removed, then begun again)
    if (fs.existsSync(dir)) throw err;
    await fs.promises.mkdir(dir, { recursive: true });
    await writePartsAtomic(parts, total, task);
  }
  madeDirs.add(dir);
  return { wrote: true, bytes: total };
}

/** writeAtomic of pieces: temp file (exclusive), writev, fdatasync when durable, rename; the temp removed on failure. */
async function writePartsAtomic(parts: readonly Uint8Array[], total: number, task: StoreTask): Promise<void> {
  try {
    const fh = await fs.promises.open(task.tmp, "wx", task.mode);
    try {
      let { bytesWritten } = await fh.writev(parts as Uint8Array[]);
      // a short write (rare on a file): the rest, from where it stopped
      while (bytesWritten < total) {
        const rest = Buffer.concat(parts as Uint8Array[]).subarray(bytesWritten);
        const w = await fh.write(rest, 0, rest.byteLength, bytesWritten);
        if (w.bytesWritten === 0) throw Object.assign(new Error(`short write to ${task.tmp}`), { code: "EIO" });
        bytesWritten += w.bytesWritten;
      }
      if (task.durable) await fh.datasync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(task.tmp, task.file);
  } catch (err) {
    await fs.promises.rm(task.tmp, { force: true }).catch(() => {});
    throw asAccessError(err, task.file);
  }
}

/** Copy file `src` to `task.file` (via `task.tmp`), hashing as it passes; placed only when it is object `task.id`. `size` (when known) picks the thread. */
export function copyFile(src: string, task: StoreTask, size?: number): Promise<StoreOutcome> {
  return pool.run({ op: "copy", src, ...task }, size === undefined || size >= OFFLOAD_MIN_BYTES) as Promise<StoreOutcome>;
}

/**
 * Read file `src` whole and check that its bytes hash to `id` (an upload's
 * body). Both run on libuv's threads (the read, and WebCrypto's digest), so
 * this thread goes on sending meanwhile, with no worker to start or message.
 */
export async function readVerified(src: string, id: string): Promise<ReadOutcome> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(src);
  } catch (err) {
    if (isMissing(err)) return { missing: true };
    throw err;
  }
  const actual = Buffer.from(await webcrypto.subtle.digest("SHA-256", bytes)).toString("hex");
  return actual === id ? { read: bytes } : { corrupt: actual };
}
