/**
 * Storing many working files as chunk objects on both cores: read, SHA-256,
 * and (when new) write the object beside its final name and rename it in.
 * This is the bulk of a first `add` (medium bench: 10,000 files, 500 MB, 1.3 s
 * on one thread, most of it system calls and hashing), so the main thread and
 * a worker thread share the files (shareWork).
 *
 * The worker writes objects exactly as ChunkStore.put does without per-file
 * fsync: a temp name with `.tmp-` (gc sweeps leftovers), mode 0444, renamed
 * over the final name; an object already present is freshened instead. The
 * main thread records the files it wrote for the durability flush, so they
 * reach the disk before any ref or index names them.
 */
import path from "node:path";
import type { ChunkId } from "../format/hash.js";
import { randomBytes } from "node:crypto";
import { FRESH_MS } from "../store/atomic.js";
import type { IndexEntry } from "../store/index-file.js";
import type { Repository } from "./repository.js";
import { shareWork, workerSource } from "./shared-work.js";
import { hashWorkFile } from "./work-state.js";

/** Below this many files, or bytes, the worker's start (~30 ms of a core) costs more than it saves. */
const PARALLEL_MIN_FILES = 64;
const PARALLEL_MIN_BYTES = 16 << 20;
/** what the worker reports of a file: size, mtimeMs, ctimeMs, ino, written (1) or present (0) */
const FIELDS = 5;

type WorkerResult = { items: Int32Array; ids: string; stats: Float64Array };

export interface StoreOptions {
  /** use a worker thread: by default for 64+ files of 16 MB+ in all */
  threads?: boolean;
  /** false: the main thread leaves every file to the worker (tests of the worker's side) */
  mainShares?: boolean;
  /** files and bytes done so far on both threads, after each file the main thread does */
  onProgress?: (files: number, bytes: number) => void;
}

/** The worker's side: take files from the shared counter; self-contained (its source text runs in the worker). */
function workerMain(fsm: typeof import("node:fs"), crypto: typeof import("node:crypto"), pathm: typeof import("node:path"), wt: typeof import("node:worker_threads")): void {
  const { files, claims, progress, chunksDir, write, tempTag, freshMs } = wt.workerData as {
    files: string[];
    claims: SharedArrayBuffer;
    progress: SharedArrayBuffer;
    chunksDir: string;
    write: boolean;
    tempTag: string;
    freshMs: number;
  };
  const next = new Int32Array(claims);
  const shown = new Float64Array(progress); // files, bytes: read by the main thread for its progress line
  const items: number[] = [];
  const ids: string[] = [];
  const nums: number[] = [];
  let temps = 0;
  const store = (file: string, bytes: Buffer): number => {
    const st = fsm.statSync(file, { throwIfNoEntry: false });
    if (st) {
      if (Date.now() - st.mtimeMs >= freshMs) {
        try {
          const now = new Date();
          fsm.utimesSync(file, now, now);
        } catch {
          // deleted since (a gc: written below next time) or not ours to touch: present all the same
        }
      }
      return 0;
    }
    const tmp = `${file}.tmp-${tempTag}-${(temps++).toString(36)}`;
    try {
      try {
        fsm.writeFileSync(tmp, bytes, { flag: "wx", mode: 0o444 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        fsm.mkdirSync(pathm.dirname(file), { recursive: true });
        fsm.writeFileSync(tmp, bytes, { flag: "wx", mode: 0o444 });
      }
      fsm.renameSync(tmp, file);
    } catch (err) {
      fsm.rmSync(tmp, { force: true });
      throw err;
    }
    return 1;
  };
  try {
    for (let i = Atomics.add(next, 0, 1); i < files.length; i = Atomics.add(next, 0, 1)) {
      const abs = files[i] as string;
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
      const id = crypto.createHash("sha256").update(bytes).digest("hex");
      const wrote = write ? store(pathm.join(chunksDir, id.slice(0, 2), id.slice(2)), bytes) : 0;
      items.push(i);
      ids.push(id);
      nums.push(bytes.byteLength, st.mtimeMs, st.ctimeMs, st.ino, wrote);
      shown[0] = items.length;
      shown[1] = (shown[1] as number) + bytes.byteLength;
    }
    const result: WorkerResult = { items: Int32Array.from(items), ids: ids.join(""), stats: Float64Array.from(nums) };
    wt.parentPort?.postMessage(result);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    wt.parentPort?.postMessage({ error: { message: e.message, code: e.code, path: e.path } });
  }
}

const WORKER_SOURCE = workerSource(workerMain, ["node:fs", "node:crypto", "node:path", "node:worker_threads"]);

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
    const entry = await hashWorkFile(repo, rel, "chunk", write);
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
  const { result } = await shareWork<WorkerResult>(
    WORKER_SOURCE,
    {
      progress,
      files: rels.map((rel) => path.join(repo.root, ...rel.split("/"))),
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
  const { items, ids, stats } = result;
  for (let k = 0; k < items.length; k++) {
    const rel = rels[items[k] as number] as string;
    const id = ids.slice(k * 64, k * 64 + 64) as ChunkId;
    const o = k * FIELDS;
    if (stats[o + 4] === 1) repo.chunks.durability.written(repo.chunks.pathOf(id));
    done(rel, { store: "chunk", id, size: stats[o]!, mtimeMs: stats[o + 1]!, ctimeMs: stats[o + 2]!, ino: stats[o + 3]! });
    bytesDone += stats[o]!;
  }
  onProgress?.(rels.length, bytesDone);
  return { byWorker: items.length };
}
