/**
 * Storing many working files as chunk objects on both cores: read, SHA-256,
 * and (when new) write the object beside its final name and rename it in.
 * This is the bulk of a first `add` (medium bench: 10,000 files, 500 MB, 1.3 s
 * on one thread, most of it system calls and hashing), so the main thread and
 * a worker thread share the files (shareWork).
 *
 * The worker writes objects with the function ChunkStore.put uses without
 * per-file fsync (putObjectWith): a temp name with `.tmp-` (gc sweeps
 * leftovers), mode 0444, renamed over the final name; an object already
 * present is freshened instead (and written when gc deleted it meanwhile). The
 * main thread records the files it wrote for the durability flush, so they
 * reach the disk before any ref or index names them.
 */
import type { ChunkId } from "../format/hash.js";
import { randomBytes } from "node:crypto";
import { FRESH_MS, freshenWith, putObjectWith } from "../store/atomic.js";
import type { IndexEntry } from "../store/index-file.js";
import type { Repository } from "../repo/repository.js";
import { shareWork, workerSource } from "./shared-work.js";
import { hashWorkFile } from "./work-state.js";

/** Below this many files, or bytes, the worker's start (~30 ms of a core) costs more than it saves. */
const PARALLEL_MIN_FILES = 64;
const PARALLEL_MIN_BYTES = 16 << 20;
/** what the worker reports of a file, in shared memory: size, mtimeMs, ctimeMs, ino, written (1) or present (0) */
const FIELDS = 5;

/** The worker's answer; its results are in the shared buffers the main thread gave it. */
type WorkerResult = { files: number };

export interface StoreOptions {
  /** use a worker thread: by default for 64+ files of 16 MB+ in all */
  threads?: boolean;
  /** false: the main thread leaves every file to the worker (tests of the worker's side) */
  mainShares?: boolean;
  /** files and bytes done so far on both threads, after each file the main thread does */
  onProgress?: (files: number, bytes: number) => void;
}

/** The worker's side: take files from the shared counter; self-contained (its source text runs in the worker). */
function workerMain(
  fsm: typeof import("node:fs"),
  crypto: typeof import("node:crypto"),
  pathm: typeof import("node:path"),
  wt: typeof import("node:worker_threads"),
  fresh: typeof freshenWith,
  put: typeof putObjectWith,
): void {
  const { root, names, claims, progress, done, stats, ids, chunksDir, write, tempTag, freshMs } = wt.workerData as {
    root: string;
    /** the files' paths relative to root, joined by NUL (one string to copy, not one per file) */
    names: string;
    claims: SharedArrayBuffer;
    progress: SharedArrayBuffer;
    /** per file: 1 once the worker stored it (written with Atomics, after its stats and id) */
    done: SharedArrayBuffer;
    stats: SharedArrayBuffer;
    ids: SharedArrayBuffer;
    chunksDir: string;
    write: boolean;
    tempTag: string;
    freshMs: number;
  };
  const files = names === "" ? [] : names.split("\0");
  const next = new Int32Array(claims);
  const shown = new Float64Array(progress); // files, bytes: read by the main thread for its progress line
  const flags = new Int32Array(done);
  const out = new Float64Array(stats);
  const idBytes = new Uint8Array(ids);
  let count = 0;
  let temps = 0;
  try {
    for (let i = Atomics.add(next, 0, 1); i < files.length; i = Atomics.add(next, 0, 1)) {
      const abs = pathm.join(root, ...(files[i] as string).split("/"));
      const fd = fsm.openSync(abs, "r");
      let st: import("node:fs").Stats;
      let bytes: Buffer;
      try {
        st = fsm.fstatSync(fd); // before the read: a change in between shows as a stat change later
        bytes = Buffer.allocUnsafe(st.size);
        let off = 0;
        while (off < st.size) {
          const n = fsm.readSync(fd, bytes, off, st.size - off, off);
          if (n === 0) break;
          off += n;
        }
        if (off < st.size) bytes = bytes.subarray(0, off);
      } finally {
        fsm.closeSync(fd);
      }
      const digest = crypto.createHash("sha256").update(bytes).digest();
      const id = digest.toString("hex");
      const file = pathm.join(chunksDir, id.slice(0, 2), id.slice(2)); // as ChunkStore.pathOf
      const wrote = write && put(fsm, pathm, fresh, freshMs, file, bytes, `${file}.tmp-${tempTag}-${(temps++).toString(36)}`, true) ? 1 : 0;
      idBytes.set(digest, i * 32);
      out.set([bytes.byteLength, st.mtimeMs, st.ctimeMs, st.ino, wrote], i * 5);
      Atomics.store(flags, i, 1);
      shown[0] = ++count;
      shown[1] = (shown[1] as number) + bytes.byteLength;
    }
    const result: WorkerResult = { files: count };
    wt.parentPort?.postMessage(result);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    wt.parentPort?.postMessage({ error: { message: e.message, code: e.code, path: e.path } });
  }
}

const WORKER_SOURCE = workerSource(workerMain, ["node:fs", "node:crypto", "node:path", "node:worker_threads"], [freshenWith, putObjectWith]);

/**
 * Hash the working files `rels` as chunk objects (storing them when `write`),
 * calling `done` once for each with its index entry. `sizes` (from the scan)
 * decides whether a worker thread is worth starting.
 */
export async function storeChunkFiles(
  repo: Repository,
  rels: readonly string[],
  sizes: (rel: string) => number,
  write: boolean,
  done: (rel: string, entry: IndexEntry) => void,
  { threads, mainShares = true, onProgress }: StoreOptions = {},
): Promise<{ byWorker: number }> {
  const progress = new SharedArrayBuffer(16);
  const byWorker = new Float64Array(progress);
  let files = 0;
  let bytesDone = 0;
  const one = async (i: number) => {
    const rel = rels[i] as string;
    const entry = await hashWorkFile(repo, rel, "chunk", write && repo.git); // a chunk: stored in the chunk store
    done(rel, entry);
    files++;
    bytesDone += entry.size;
    onProgress?.(files + (byWorker[0] as number), bytesDone + (byWorker[1] as number));
  };
  let bytes = 0;
  for (const rel of rels) bytes += sizes(rel);
  const parallel = threads ?? (rels.length >= PARALLEL_MIN_FILES && bytes >= PARALLEL_MIN_BYTES && !(write && repo.chunks.durability.syncEachWrite));
  if (!parallel) {
    for (let i = 0; i < rels.length; i++) await one(i);
    return { byWorker: 0 };
  }
  const finished = new SharedArrayBuffer(rels.length * 4);
  const stats = new SharedArrayBuffer(rels.length * FIELDS * 8);
  const ids = new SharedArrayBuffer(rels.length * 32);
  const { result } = await shareWork<WorkerResult>(
    WORKER_SOURCE,
    {
      progress,
      done: finished,
      stats,
      ids,
      root: repo.root,
      names: rels.join("\0"),
      chunksDir: repo.chunks.dir,
      write,
      tempTag: `${process.pid}-w${randomBytes(4).toString("hex")}`,
      freshMs: FRESH_MS,
    },
    rels.length,
    one,
    mainShares,
  );
  if (!result) return { byWorker: 0 };
  const flags = new Int32Array(finished);
  const f = new Float64Array(stats);
  const idBytes = Buffer.from(ids);
  for (let i = 0; i < rels.length; i++) {
    if (Atomics.load(flags, i) !== 1) continue; // the main thread's
    const id = idBytes.toString("hex", i * 32, i * 32 + 32) as ChunkId;
    const o = i * FIELDS;
    if (f[o + 4] === 1) repo.chunks.durability.written(repo.chunks.pathOf(id));
    done(rels[i] as string, { store: "chunk", id, size: f[o]!, mtimeMs: f[o + 1]!, ctimeMs: f[o + 2]!, ino: f[o + 3]! });
    bytesDone += f[o]!;
  }
  onProgress?.(rels.length, bytesDone);
  return { byWorker: result.files };
}
