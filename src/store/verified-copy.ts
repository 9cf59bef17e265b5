/**
 * Storing an object from a file, or reading one, with its bytes verified on
 * the way: the tasks a remote transfer hands to worker threads
 * (remote/verify-pool.ts), run by the worker module (worktree/worker.ts) and,
 * when no worker can take them, by the main thread: the same code on both.
 *
 * A copy reads its source in large blocks, hashes each block and writes it to
 * a temp file as it passes (one read, one write, nothing copied into JS), and
 * renames the temp file into place only once the whole hashed to the object's
 * name. Nothing is visible under an object's name before its bytes proved to
 * be it; a copy interrupted anywhere leaves at most its temp file, which it
 * removes when it can.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { freshen } from "./atomic.js";

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

/** What became of a task: written, already there (freshened), its bytes not the object's, or its source file absent. */
export type StoreOutcome = { wrote: true; bytes: number } | { wrote: false; bytes: number } | { corrupt: string } | { missing: true };

/** Copy file `src` into the store as object `id`. */
export type VerifyTask = { op: "copy"; src: string } & StoreTask;
export type VerifyOutcome = StoreOutcome;

/** A source file that is not there (the path, or a folder on it). */
export const isMissing = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
};

/** Do `t`, with `block` as the copy's buffer. */
export function runVerifyTask(t: VerifyTask, block: Buffer): VerifyOutcome {
  if (t.check && freshen(t.file)) return { wrote: false, bytes: 0 };
  const open = (): number => {
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
    try {
      return fs.openSync(t.tmp, flags, t.mode ?? 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fs.mkdirSync(path.dirname(t.tmp), { recursive: true });
      return fs.openSync(t.tmp, flags, t.mode ?? 0o666);
    }
  };
  let sfd: number;
  try {
    sfd = fs.openSync(t.src, "r");
  } catch (err) {
    if (isMissing(err)) return { missing: true };
    throw err;
  }
  let fd = -1;
  let placed = false;
  try {
    fd = open();
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = fs.readSync(sfd, block, 0, block.length, size);
      if (n === 0) break;
      hash.update(block.subarray(0, n));
      for (let off = 0; off < n; ) off += fs.writeSync(fd, block, off, n - off);
      size += n;
    }
    const actual = hash.digest("hex");
    if (actual !== t.id) return { corrupt: actual };
    if (t.durable) fs.fdatasyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(t.tmp, t.file);
    placed = true;
    return { wrote: true, bytes: size };
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    fs.closeSync(sfd);
    if (!placed) {
      try {
        fs.rmSync(t.tmp, { force: true });
      } catch {
        // the temp file stays; gc removes what killed writes leave
      }
    }
  }
}
