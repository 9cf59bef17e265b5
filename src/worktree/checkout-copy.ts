/**
 * The bulk of a checkout: chunk objects copied to working files, each hashed
 * as it passes and renamed into place only once its bytes proved to be the
 * object's. On a file system without reflinks a full checkout is ~10,000
 * reads, hashes and writes of 50 kB (medium bench), so the main thread and a
 * worker thread share the files (shareWork).
 *
 * The main thread makes every parent folder first (TreeWriter refuses a
 * symbolic link on the way), and checks every path; the worker then copies
 * its files with the same function through a TreeWriter of its own, which
 * writes them in `.tdv/tmp` and renames them over their paths.
 */
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CorruptObjectError, type FileAccessError, isTdvError } from "../errors.js";
import type { ChunkId } from "../format/hash.js";
import { asAccessError } from "../store/atomic.js";
import type { Repository } from "../repo/repository.js";
import { shareWork, takeItems } from "./shared-work.js";
import type { CopyJob, CountResult } from "./worker-protocol.js";
import type { SnapEntry } from "../repo/snapshot.js";
import { TreeWriter, writeAllSync, type FileStat } from "./worktree.js";

/** Read and write buffer of a checkout: most chunk files fit in one read. */
const COPY_BLOCK = 1 << 20;

/**
 * Copy the object file of chunk `e`, which this process verified moments
 * before (a clone's fetch hashed it on the way in and stored it), to the
 * working file `rel` without reading it again: a reflink where the file
 * system clones, else a copy made in the kernel (copy_file_range). Null when
 * the object is gone from the store or the file could not be placed this way
 * (the caller then takes the verifying copy, or the slow path).
 */
function copyVerified(repo: Repository, w: TreeWriter, rel: string, e: SnapEntry): FileStat | null {
  const src = repo.chunks.pathOf(e.id as ChunkId);
  try {
    return w.cloneSync(rel, src, { orCopy: true });
  } catch (err) {
    // the object removed since (a gc from another process): the verifying paths deal with it
    if (isTdvError(err, "FileAccessError") && (err as FileAccessError).code === "ENOENT" && !fs.existsSync(src)) return null;
    throw err;
  }
}

/**
 * Copy the chunk object of `e` to the working file `rel`, hashing its bytes as
 * they pass (one read and one write per file; no separate verifying read). The file
 * is renamed into place only once its bytes proved to be the object's. Null
 * when the object is not in the local store (a lazy clone fetches it: the
 * caller takes the slow path).
 */
function copyChunk(repo: Repository, w: TreeWriter, rel: string, e: SnapEntry, buf: Buffer): FileStat | null {
  return copyObject(repo.chunks.pathOf(e.id as ChunkId), e.id, e.size, w, rel, buf, repo);
}

/**
 * copyChunk of the object file `src` (id `id`, `size` bytes): what both
 * threads do with each file. `fs.reflink` says whether the file system clones
 * (undefined: not known yet, settled by this copy).
 */
function copyObject(src: string, id: string, size: number, w: TreeWriter, rel: string, buf: Buffer, fsys: { reflink?: boolean | undefined }): FileStat | null {
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
      if (actual !== id) throw new CorruptObjectError(id, `its bytes hash to ${actual}`);
    };
    if (fsys.reflink !== false) {
      // verify first, then clone where the file system can (the clone shares the verified blocks)
      const hash = createHash("sha256");
      readBlocks(sfd, buf, size, src, (n) => hash.update(buf.subarray(0, n)));
      verify(hash);
      const st = w.cloneSync(rel, src);
      fsys.reflink = st !== null;
      if (st) return st;
    }
    return w.placeSync(rel, (fd) => {
      const hash = createHash("sha256");
      readBlocks(sfd, buf, size, src, (n) => {
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
  let pos = 0;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, pos);
    } catch (err) {
      throw asAccessError(err, file);
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

/**
 * The worker's side: take files from the shared counter and copy each with
 * copyObject through a TreeWriter of its own on the same `.tdv/tmp` (the main
 * thread checked every path, made every folder, and proved that files rename
 * from there and that the file system does not clone).
 */
export async function copyOnWorker(job: CopyJob): Promise<CountResult> {
  const rels = job.names === "" ? [] : job.names.split("\0");
  const w = new TreeWriter(job.root, job.tmpDir);
  w.trustParents(rels); // checked and made by the main thread
  const fsys = { reflink: false };
  const shown = new Float64Array(job.progress);
  const flags = new Int32Array(job.outcome);
  const out = new Float64Array(job.stats);
  const buf = Buffer.allocUnsafe(job.block);
  let count = 0;
  await takeItems(job.claims, rels.length, (i) => {
    const id = job.ids.slice(i * 64, i * 64 + 64);
    const st = copyObject(path.join(job.chunksDir, id.slice(0, 2), id.slice(2)), id, job.sizes[i] as number, w, rels[i] as string, buf, fsys); // as ChunkStore.pathOf
    count++;
    if (!st) {
      Atomics.store(flags, i, MISSING);
      return;
    }
    out.set([st.size, st.mtimeMs, st.ctimeMs, st.ino], i * FIELDS);
    Atomics.store(flags, i, PLACED);
    shown[0] = (shown[0] as number) + 1;
    shown[1] = (shown[1] as number) + st.size;
  });
  return { kind: "copy", files: count };
}

/**
 * Copy the chunk objects of `allWrites` to their working files, calling `placed`
 * for each, or `missing` when its object is not in the local store. The first
 * copy settles whether the file system clones (reflink) and whether `.tdv/tmp`
 * is on the same file system; a worker thread helps only when neither clone
 * nor in-place writes are in play.
 */
export async function copyChunks(
  repo: Repository,
  w: TreeWriter,
  allWrites: readonly [string, SnapEntry][],
  placed: (rel: string, e: SnapEntry, st: FileStat) => void,
  missing: (rel: string, e: SnapEntry) => void,
  {
    threads,
    mainShares = true,
    byWorkerSoFar = { files: 0, bytes: 0 },
    verified,
  }: {
    threads?: boolean;
    mainShares?: boolean;
    /** files and bytes the worker has placed but not yet reported through `placed` (for a progress line) */
    byWorkerSoFar?: { files: number; bytes: number };
    /**
     * Chunk ids whose objects this process stored moments before, after hashing their bytes (a
     * clone's fetch): copied without a second verifying read. Every other object is verified as it is copied.
     */
    verified?: ReadonlySet<string>;
  } = {},
): Promise<{ byWorker: number }> {
  const buf = Buffer.allocUnsafe(COPY_BLOCK);
  const progress = new SharedArrayBuffer(16);
  const shown = new Float64Array(progress);
  let turn = Date.now();
  let writes = allWrites;
  if (verified && verified.size > 0) {
    // objects verified in this process: kernel copies (or reflinks) on this thread, the rest as below
    const rest: [string, SnapEntry][] = [];
    for (const item of writes) {
      const [p, e] = item;
      const st = verified.has(e.id) ? copyVerified(repo, w, p, e) : null;
      if (st) placed(p, e, st);
      else rest.push(item);
      if (Date.now() - turn > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        turn = Date.now();
      }
    }
    if (rest.length === 0) return { byWorker: 0 };
    writes = rest;
  }
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
  const { result } = await shareWork<CopyJob>(
      {
        kind: "copy",
        root: w.root,
        names: todo.map(([p]) => p).join("\0"),
        ids: todo.map(([, e]) => e.id).join(""),
        sizes: Float64Array.from(todo, ([, e]) => e.size),
        chunksDir: repo.chunks.dir,
        progress,
        outcome: outcomes,
        stats,
        tmpDir: w.tmpDir,
        block: COPY_BLOCK,
      },
      todo.length,
      (i) => one(first + i),
      mainShares,
    );
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
