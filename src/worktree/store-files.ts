/**
 * Storing many working files as chunk objects on both cores: read, SHA-256,
 * and (when new) write the object beside its final name and rename it in.
 * This is the bulk of a first `add` (medium bench: 10,000 files, 500 MB, 1.3 s
 * on one thread, most of it system calls and hashing), so the main thread and
 * a worker thread share the files (shareWork).
 *
 * Both threads store a file with hashChunkFile, the worker through a
 * FileChunkStore of its own without per-file fsync (a file is stored this way
 * only when the repository does not fsync each object). The main thread
 * records the files the worker wrote for the durability flush, so they reach
 * the disk before any ref or index names them.
 */
import fs from "node:fs";
import path from "node:path";
import { sha256, type ChunkId } from "../format/hash.js";
import { asAccessError, READ_NO_FOLLOW, readWithStat, SMALL_IO } from "../store/atomic.js";
import { BufferPool } from "../store/buffer-pool.js";
import { Durability } from "../store/durability.js";
import type { IndexEntry } from "../store/index-file.js";
import { FileChunkStore } from "../store/objects.js";
import type { ChunkStore } from "../store/types.js";
import type { Repository } from "../repo/repository.js";
import { shareWork, takeItems } from "./shared-work.js";
import type { CountResult, StoreJob } from "./worker-protocol.js";
import type { FileStat } from "./worktree.js";

/** Below this many files, or bytes, the worker's start (~30 ms of a core) costs more than it saves. */
const PARALLEL_MIN_FILES = 64;
const PARALLEL_MIN_BYTES = 16 << 20;
/** a file's slot in shared memory: store byte (1), id (32 bytes), size, mtimeMs, ctimeMs, ino (Float64, little endian): an index entry's bytes after its path; the stat data is the scan's, written before the files are stored */
const SLOT = 1 + 32 + 32;
/** what `done` says of a file the worker stored: its object was already there, or the worker wrote it */
const PRESENT = 1;
const WRITTEN = 2;

export interface StoreOptions {
  /** use a worker thread: by default for 64+ files of 16 MB+ in all */
  threads?: boolean;
  /** false: the main thread leaves every file to the worker (tests of the worker's side) */
  mainShares?: boolean;
  /** files and bytes done so far on both threads, after each file the main thread does */
  onProgress?: (files: number, bytes: number) => void;
  /**
   * where the worker writes what it stored of file i (shared memory): its
   * index entry's bytes after the path (store, id, stat data) at `bytes[at[i]]`;
   * `done` is then called only for the files the main thread stored. Without
   * it the worker writes into slots of its own and `done` is called for every file.
   */
  into?: { bytes: Buffer; at: Uint32Array };
}

/** A durability record that counts the objects written (the worker tells the main thread which, by file). */
class Counted extends Durability {
  count = 0;
  override written(): void {
    this.count++;
  }
}

/**
 * Hash the working file `abs` as a chunk object (storing it when `write`):
 * what both threads do with each file.
 */
export async function hashChunkFile(
  chunks: ChunkStore,
  abs: string,
  write: boolean,
  /** the file's bytes, read after `stat` was taken (a metadata document the hierarchy read) */
  known?: { bytes: Buffer; stat: FileStat },
): Promise<IndexEntry> {
  // stat data older than the bytes is safe: a change in between shows as a stat change, and is hashed again
  const { bytes, stat: st } = known ?? (await readWithStat(abs));
  const id = sha256(bytes);
  if (write) await chunks.put(id, bytes);
  return { store: "chunk", id, size: bytes.byteLength, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

/**
 * Hash (and when `write`, store) the working file `abs` whose stat data the
 * scan took: what both threads do with each file of a bulk store. A file of
 * up to SMALL_IO bytes is read into a buffer lent by `pool` and given back
 * once its object is written, so storing many files allocates no buffer a
 * file (at a million files, half a gigabyte of garbage); its stat data is
 * the scan's, taken before the read (older than the bytes: safe, as in
 * hashChunkFile), so the open file is not stat'ed again. Larger files, and
 * a file that grew past SMALL_IO since the scan, take hashChunkFile's way.
 */
export async function hashScannedFile(chunks: ChunkStore, abs: string, write: boolean, st: FileStat, pool: BufferPool): Promise<IndexEntry> {
  const bytes = st.size <= SMALL_IO ? readSmall(abs, st.size, pool) : null;
  if (!bytes) return hashChunkFile(chunks, abs, write);
  try {
    const id = sha256(bytes);
    // a store that may keep the bytes after put (not a file store) is given a copy
    if (write) await chunks.put(id, chunks instanceof FileChunkStore ? bytes : Buffer.from(bytes));
    return { store: "chunk", id, size: bytes.byteLength, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
  } finally {
    pool.give(bytes);
  }
}

/**
 * The bytes of `file` in a buffer lent by `pool` (the caller gives it back),
 * read until a short read (the end of a regular file), with room for `expect`
 * bytes and one more; null, with the buffer given back, once the file holds
 * more than SMALL_IO bytes.
 */
function readSmall(file: string, expect: number, pool: BufferPool): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_NO_FOLLOW);
  } catch (err) {
    throw asAccessError(err, file);
  }
  let buf = pool.take(expect + 1);
  try {
    let off = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      off += n;
      if (n === 0 || off < buf.length) return buf.subarray(0, off);
      // the file grew since the scan: a larger buffer, unless it is no longer small
      if (off > SMALL_IO) {
        pool.give(buf);
        return null;
      }
      const more = pool.take(buf.length * 2);
      buf.copy(more, 0, 0, off);
      pool.give(buf);
      buf = more;
    }
  } catch (err) {
    pool.give(buf);
    throw asAccessError(err, file);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The worker's side: take files from the shared counter and store each with
 * hashScannedFile, writing objects without per-file fsync (the main thread
 * records the ones written for its durability flush).
 */
export async function storeOnWorker(job: StoreJob): Promise<CountResult> {
  const names = Buffer.from(job.names);
  const starts = new Float64Array(job.nameStarts);
  const total = starts.length - 1;
  const durability = new Counted(job.chunksDir, "none");
  const chunks = new FileChunkStore(job.chunksDir, durability);
  const shown = new Float64Array(job.progress); // files, bytes: read by the main thread for its progress line
  const flags = new Int32Array(job.done);
  const out = Buffer.from(job.slots);
  const dv = new DataView(job.slots);
  const at = new Uint32Array(job.at);
  const pool = new BufferPool();
  let count = 0;
  await takeItems(job.claims, total, async (i) => {
    const before = durability.count;
    const rel = names.toString("utf8", starts[i] as number, starts[i + 1] as number);
    const e = await hashScannedFile(chunks, path.join(job.root, ...rel.split("/")), job.write, readSlotStat(dv, at[i] as number), pool);
    writeSlot(out, dv, at[i] as number, e);
    Atomics.store(flags, i, durability.count > before ? WRITTEN : PRESENT);
    shown[0] = ++count;
    shown[1] = (shown[1] as number) + e.size;
  });
  return { kind: "store", files: count };
}

/** The stat data a slot at `p` holds (the scan's, written before the files are stored). */
function readSlotStat(dv: DataView, p: number): FileStat {
  return { size: dv.getFloat64(p + 33, true), mtimeMs: dv.getFloat64(p + 41, true), ctimeMs: dv.getFloat64(p + 49, true), ino: dv.getFloat64(p + 57, true) };
}

/** The scan's stat data into the slot at `p`, before the file is stored. */
function writeSlotStat(dv: DataView, p: number, st: FileStat): void {
  dv.setFloat64(p + 33, st.size, true);
  dv.setFloat64(p + 41, st.mtimeMs, true);
  dv.setFloat64(p + 49, st.ctimeMs, true);
  dv.setFloat64(p + 57, st.ino, true);
}

/** A chunk entry's bytes after its path (as the index has them) at `p`. */
function writeSlot(b: Buffer, dv: DataView, p: number, e: IndexEntry): void {
  if (p + SLOT > b.length || b.write(e.id, p + 1, 32, "hex") !== 32) throw new Error(`internal: no slot for ${e.id} at ${p}`);
  b[p] = 1;
  writeSlotStat(dv, p, e);
}

/**
 * Hash the working files `rels` as chunk objects (storing them when `write`),
 * calling `done` once for each with its place in `rels` and its index entry.
 * `stats` gives file i's stat data from the scan: what its entry records,
 * and by the sizes whether a worker thread is worth starting.
 */
export async function storeChunkFiles(
  repo: Repository,
  rels: readonly string[],
  stats: (i: number) => FileStat,
  write: boolean,
  done: (i: number, entry: IndexEntry) => void,
  { threads, mainShares = true, onProgress, into }: StoreOptions = {},
): Promise<{ byWorker: number }> {
  const progress = new SharedArrayBuffer(16);
  const byWorker = new Float64Array(progress);
  let files = 0;
  let bytesDone = 0;
  const pool = new BufferPool();
  /** the worker's bytes counted towards the durability's write-backs so far (its objects are recorded at the end) */
  let workerCounted = 0;
  const one = async (i: number) => {
    const rel = rels[i] as string;
    const entry = await hashScannedFile(repo.chunks, path.join(repo.root, ...rel.split("/")), write, stats(i), pool);
    done(i, entry);
    files++;
    bytesDone += entry.size;
    const workerBytes = byWorker[1] as number;
    if (write) repo.chunks.durability.wrote(workerBytes - workerCounted);
    workerCounted = workerBytes;
    onProgress?.(files + (byWorker[0] as number), bytesDone + workerBytes);
  };
  let bytes = 0;
  for (let i = 0; i < rels.length; i++) bytes += stats(i).size;
  const parallel = threads ?? (rels.length >= PARALLEL_MIN_FILES && bytes >= PARALLEL_MIN_BYTES && !(write && repo.chunks.durability.syncEachWrite));
  if (!parallel) {
    for (let i = 0; i < rels.length; i++) await one(i);
    return { byWorker: 0 };
  }
  const finished = new SharedArrayBuffer(rels.length * 4);
  // the worker's slots: the caller's (the new index's bytes), or slots of our own
  let slots = into;
  if (!slots) {
    const at = new Uint32Array(new SharedArrayBuffer(rels.length * 4));
    for (let i = 0; i < rels.length; i++) at[i] = i * SLOT;
    slots = { bytes: Buffer.from(new SharedArrayBuffer(rels.length * SLOT)), at };
  }
  if (!(slots.bytes.buffer instanceof SharedArrayBuffer) || slots.bytes.byteOffset !== 0 || !(slots.at.buffer instanceof SharedArrayBuffer) || slots.at.length !== rels.length) {
    throw new Error("internal: a store worker's slots are not shared memory, one a file");
  }
  const slotView = new DataView(slots.bytes.buffer, slots.bytes.byteOffset, slots.bytes.byteLength);
  for (let i = 0; i < rels.length; i++) writeSlotStat(slotView, slots.at[i] as number, stats(i));
  const { result } = await shareWork<StoreJob>(
    {
      kind: "store",
      progress,
      done: finished,
      slots: slots.bytes.buffer,
      at: slots.at.buffer,
      root: repo.root,
      ...sharedNames(rels),
      chunksDir: repo.chunks.dir,
      write,
    },
    rels.length,
    one,
    mainShares,
  );
  if (!result) return { byWorker: 0 };
  const flags = new Int32Array(finished);
  const b = slots.bytes;
  for (let i = 0; i < rels.length; i++) {
    const flag = Atomics.load(flags, i);
    if (flag === 0) continue; // the main thread's
    const p = slots.at[i] as number;
    const st = readSlotStat(slotView, p);
    if (flag === WRITTEN) repo.chunks.durability.written(repo.chunks.pathOf(b.toString("hex", p + 1, p + 33) as ChunkId));
    if (!into) done(i, { store: "chunk", id: b.toString("hex", p + 1, p + 33) as ChunkId, ...st });
    bytesDone += st.size;
  }
  onProgress?.(rels.length, bytesDone);
  return { byWorker: result.files };
}

/** Paths as UTF-8 in one shared buffer, with where each starts: what the worker reads them from. */
function sharedNames(rels: readonly string[]): { names: SharedArrayBuffer; nameStarts: SharedArrayBuffer } {
  const nameStarts = new SharedArrayBuffer((rels.length + 1) * 8);
  const starts = new Float64Array(nameStarts);
  let total = 0;
  for (let i = 0; i < rels.length; i++) {
    starts[i] = total;
    total += Buffer.byteLength(rels[i] as string, "utf8");
  }
  starts[rels.length] = total;
  const names = new SharedArrayBuffer(total);
  const b = Buffer.from(names);
  for (let i = 0; i < rels.length; i++) b.write(rels[i] as string, starts[i] as number, "utf8");
  return { names, nameStarts };
}
