/**
 * The bulk of a checkout: chunk objects copied to working files, each hashed
 * as it passes and renamed into place only once its bytes proved to be the
 * object's. On a file system without reflinks a full checkout is ~10,000
 * reads, hashes and writes of 50 kB (medium bench), so the main thread and a
 * worker thread share the files (shareWork).
 *
 * The main thread makes every parent folder first (TreeWriter refuses a
 * symbolic link on the way), and checks every path; the worker then only
 * writes new files in `.tdv/tmp` and renames them over their checked paths,
 * as TreeWriter.placeSync does.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import fs from "node:fs";
import { CorruptObjectError } from "../errors.js";
import type { ChunkId } from "../format/hash.js";
import { asAccessError } from "../store/atomic.js";
import type { Repository } from "../repo/repository.js";
import { shareWork, workerSource } from "./shared-work.js";
import type { SnapEntry } from "../repo/snapshot.js";
import { renameOverWith, writeAllSync, type FileStat, type TreeWriter } from "./worktree.js";

/** Read and write buffer of a checkout: most chunk files fit in one read. */
const COPY_BLOCK = 1 << 20;

/**
 * Copy the chunk object of `e` to the working file `rel`, hashing its bytes as
 * they pass (one read and one write per file; no separate verifying read). The file
 * is renamed into place only once its bytes proved to be the object's. Null
 * when the object is not in the local store (a lazy clone fetches it: the
 * caller takes the slow path).
 */
function copyChunk(repo: Repository, w: TreeWriter, rel: string, e: SnapEntry, buf: Buffer): FileStat | null {
  const src = repo.chunks.pathOf(e.id as ChunkId);
  let sfd: number;
  try {
    sfd = fs.openSync(src, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw asAccessError(err, src);
  }
  try {
    const verify = (hash: Hash) => {
      const actual = hash.digest("hex");
      if (actual !== e.id) throw new CorruptObjectError(e.id, `its bytes hash to ${actual}`);
    };
    if (repo.reflink !== false) {
      // verify first, then clone where the file system can (the clone shares the verified blocks)
      const hash = createHash("sha256");
      readBlocks(sfd, buf, e.size, src, (n) => hash.update(buf.subarray(0, n)));
      verify(hash);
      const st = w.cloneSync(rel, src);
      repo.reflink = st !== null;
      if (st) return st;
    }
    return w.placeSync(rel, (fd) => {
      const hash = createHash("sha256");
      readBlocks(sfd, buf, e.size, src, (n) => {
        hash.update(buf.subarray(0, n));
        writeAllSync(fd, buf, n);
      });
      verify(hash);
    });
  } finally {
    fs.closeSync(sfd);
  }
}

/** Read the open file `fd` from its start in blocks of `buf`'s size, expecting `size` bytes. */
function readBlocks(fd: number, buf: Buffer, size: number, file: string, each: (n: number) => void): void {
  readBlocksWith(fs, fd, buf, size, each, (err) => asAccessError(err, file));
}

/**
 * readBlocks, self-contained (no imports, no outer names): the checkout worker
 * runs its source text. A failed read throws what `readError` makes of it.
 */
function readBlocksWith(fsm: typeof fs, fd: number, buf: Buffer, size: number, each: (n: number) => void, readError?: (err: unknown) => unknown): void {
  let pos = 0;
  for (;;) {
    let n: number;
    try {
      n = fsm.readSync(fd, buf, 0, buf.length, pos);
    } catch (err) {
      throw readError ? readError(err) : err;
    }
    if (n === 0) return;
    each(n);
    pos += n;
    // a short read that ends at the expected size is the end of the file: no read for EOF
    if (n < buf.length && pos === size) return;
  }
}

/** Below this many files, or bytes, the worker's start (~30 ms of a core) costs more than it saves. */
const PARALLEL_MIN_FILES = 64;
const PARALLEL_MIN_BYTES = 16 << 20;
/** what the worker reports of a file, in shared memory: size, mtimeMs, ctimeMs, ino */
const FIELDS = 4;
/** a file's outcome on the worker (shared memory): placed, or its object missing (a lazy clone's: the main thread fetches it) */
const PLACED = 1;
const MISSING = 2;

/** The worker's answer; its results are in the shared buffers the main thread gave it. */
type WorkerResult = { files: number };

/** The worker's side: copy the files it takes from the shared counter; self-contained (its source text runs in the worker). */
function workerMain(
  fsm: typeof fs,
  crypto: typeof import("node:crypto"),
  pathm: typeof import("node:path"),
  wt: typeof import("node:worker_threads"),
  renameOver: typeof renameOverWith,
  readBlocks: typeof readBlocksWith,
): void {
  const { root, names, ids, sizes, chunksDir, claims, progress, outcome, stats, tmpDir, tempTag, block } = wt.workerData as {
    root: string;
    /** the working files' paths relative to root (checked, parents made), joined by NUL */
    names: string;
    /** the objects' ids, 64 hex digits each, one after the other */
    ids: string;
    sizes: Float64Array;
    chunksDir: string;
    claims: SharedArrayBuffer;
    progress: SharedArrayBuffer;
    /** per file: PLACED or MISSING, written with Atomics after its stats */
    outcome: SharedArrayBuffer;
    stats: SharedArrayBuffer;
    tmpDir: string;
    tempTag: string;
    block: number;
  };
  const rels = names === "" ? [] : names.split("\0");
  const next = new Int32Array(claims);
  const shown = new Float64Array(progress);
  const flags = new Int32Array(outcome);
  const out = new Float64Array(stats);
  const buf = Buffer.allocUnsafe(block);
  let count = 0;
  let temps = 0;
  const copyOne = (i: number): void => {
    const id = ids.slice(i * 64, i * 64 + 64);
    const size = sizes[i] as number;
    const dest = pathm.join(root, ...(rels[i] as string).split("/")); // as TreeWriter.abs
    let sfd: number;
    try {
      sfd = fsm.openSync(pathm.join(chunksDir, id.slice(0, 2), id.slice(2)), "r"); // as ChunkStore.pathOf
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        Atomics.store(flags, i, 2); // MISSING
        count++;
        return;
      }
      throw err;
    }
    try {
      const tmp = `${tmpDir}/${tempTag}-${(temps++).toString(36)}.tmp`;
      const fd = fsm.openSync(tmp, fsm.constants.O_WRONLY | fsm.constants.O_CREAT | fsm.constants.O_EXCL, 0o666);
      let done = false;
      try {
        const hash = crypto.createHash("sha256");
        readBlocks(fsm, sfd, buf, size, (n) => {
          hash.update(buf.subarray(0, n));
          for (let off = 0; off < n; ) off += fsm.writeSync(fd, buf, off, n - off);
        });
        const actual = hash.digest("hex");
        if (actual !== id) throw Object.assign(new Error(`object ${id}: its bytes hash to ${actual}`), { corrupt: { id, actual } });
        // the main thread proved .tdv/tmp on the working tree's file system before sharing (placesViaTmp)
        if (!renameOver(fsm, tmp, dest)) throw Object.assign(new Error(`cannot rename ${tmp} to ${dest} across file systems`), { code: "EXDEV", path: dest });
        done = true;
        const st = fsm.fstatSync(fd); // after the rename, which changes ctime
        out.set([st.size, st.mtimeMs, st.ctimeMs, st.ino], i * 4);
        Atomics.store(flags, i, 1); // PLACED
        count++;
        shown[0] = (shown[0] as number) + 1;
        shown[1] = (shown[1] as number) + st.size;
      } finally {
        fsm.closeSync(fd);
        if (!done) fsm.rmSync(tmp, { force: true });
      }
    } finally {
      fsm.closeSync(sfd);
    }
  };
  try {
    for (let i = Atomics.add(next, 0, 1); i < rels.length; i = Atomics.add(next, 0, 1)) copyOne(i);
    const result: WorkerResult = { files: count };
    wt.parentPort?.postMessage(result);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { corrupt?: { id: string; actual: string } };
    wt.parentPort?.postMessage({ error: { message: e.message, code: e.code, path: e.path, corrupt: e.corrupt } });
  }
}

const WORKER_SOURCE = workerSource(workerMain, ["node:fs", "node:crypto", "node:path", "node:worker_threads"], [renameOverWith, readBlocksWith]);

/**
 * Copy the chunk objects of `writes` to their working files, calling `placed`
 * for each, or `missing` when its object is not in the local store. The first
 * copy settles whether the file system clones (reflink) and whether `.tdv/tmp`
 * is on the same file system; a worker thread helps only when neither clone
 * nor in-place writes are in play.
 */
export async function copyChunks(
  repo: Repository,
  w: TreeWriter,
  writes: readonly [string, SnapEntry][],
  placed: (rel: string, e: SnapEntry, st: FileStat) => void,
  missing: (rel: string, e: SnapEntry) => void,
  {
    threads,
    mainShares = true,
    byWorkerSoFar = { files: 0, bytes: 0 },
  }: {
    threads?: boolean;
    mainShares?: boolean;
    /** files and bytes the worker has placed but not yet reported through `placed` (for a progress line) */
    byWorkerSoFar?: { files: number; bytes: number };
  } = {},
): Promise<{ byWorker: number }> {
  const buf = Buffer.allocUnsafe(COPY_BLOCK);
  const progress = new SharedArrayBuffer(16);
  const shown = new Float64Array(progress);
  let turn = Date.now();
  const one = async (i: number): Promise<void> => {
    const [p, e] = writes[i] as [string, SnapEntry];
    const st = copyChunk(repo, w, p, e, buf);
    byWorkerSoFar.files = shown[0] as number;
    byWorkerSoFar.bytes = shown[1] as number;
    if (st) placed(p, e, st);
    else missing(p, e);
    if (Date.now() - turn > 50) {
      // give the event loop a turn now and then (progress, signals)
      await new Promise((resolve) => setImmediate(resolve));
      turn = Date.now();
    }
  };
  let first = 0;
  while (first < writes.length && repo.reflink === undefined) await one(first++);
  let bytes = 0;
  for (let i = first; i < writes.length; i++) bytes += (writes[i] as [string, SnapEntry])[1].size;
  const rest = writes.length - first;
  const parallel = threads ?? (rest >= PARALLEL_MIN_FILES && bytes >= PARALLEL_MIN_BYTES);
  if (!parallel || repo.reflink !== false || !w.placesViaTmp || w.tmpDir === undefined) {
    for (let i = first; i < writes.length; i++) await one(i);
    return { byWorker: 0 };
  }
  const todo = writes.slice(first);
  // every path checked and its folders made here, before the worker writes any of them
  for (const [p] of todo) {
    w.abs(p);
    w.prepareParentSync(p);
  }
  fs.mkdirSync(w.tmpDir, { recursive: true });
  const outcomes = new SharedArrayBuffer(todo.length * 4);
  const stats = new SharedArrayBuffer(todo.length * FIELDS * 8);
  let outcome: { result: WorkerResult | null };
  try {
    outcome = await shareWork<WorkerResult>(
      WORKER_SOURCE,
      {
        root: w.root,
        names: todo.map(([p]) => p).join("\0"),
        ids: todo.map(([, e]) => e.id).join(""),
        sizes: Float64Array.from(todo, ([, e]) => e.size),
        chunksDir: repo.chunks.dir,
        progress,
        outcome: outcomes,
        stats,
        tmpDir: w.tmpDir,
        tempTag: `${process.pid}-w${randomBytes(4).toString("hex")}`,
        block: COPY_BLOCK,
      },
      todo.length,
      (i) => one(first + i),
      mainShares,
    );
  } catch (err) {
    const corrupt = (err as { corrupt?: { id: string; actual: string } }).corrupt;
    if (corrupt) throw new CorruptObjectError(corrupt.id, `its bytes hash to ${corrupt.actual}`);
    throw asAccessError(err, (err as NodeJS.ErrnoException).path ?? w.root);
  }
  const { result } = outcome;
  // the worker's files are reported one by one now: each leaves the worker's count as it is placed,
  // so the sum a progress line shows stays where it was (never drops back to the main thread's share)
  byWorkerSoFar.files = shown[0] as number;
  byWorkerSoFar.bytes = shown[1] as number;
  if (!result) {
    byWorkerSoFar.files = byWorkerSoFar.bytes = 0;
    return { byWorker: 0 };
  }
  const flags = new Int32Array(outcomes);
  const f = new Float64Array(stats);
  for (let i = 0; i < todo.length; i++) {
    const outcome = Atomics.load(flags, i);
    const [p, e] = todo[i] as [string, SnapEntry];
    const o = i * FIELDS;
    if (outcome === PLACED) {
      byWorkerSoFar.files = Math.max(0, byWorkerSoFar.files - 1);
      byWorkerSoFar.bytes = Math.max(0, byWorkerSoFar.bytes - f[o]!);
      placed(p, e, { size: f[o]!, mtimeMs: f[o + 1]!, ctimeMs: f[o + 2]!, ino: f[o + 3]! });
    } else if (outcome === MISSING) missing(p, e);
  }
  byWorkerSoFar.files = byWorkerSoFar.bytes = 0;
  return { byWorker: result.files };
}
