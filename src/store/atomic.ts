import { randomBytes } from "node:crypto";
import fs, { constants, promises as fsp } from "node:fs";
import path from "node:path";
import { FileAccessError } from "../errors.js";

// unique per process (pid and a random tag, for pid reuse across containers) and per call (a counter)
const TEMP_TAG = `${process.pid}-${randomBytes(4).toString("hex")}`;
let tempCounter = 0;

/** Name for a temp file; unique per process and call. */
export function tempName(base: string): string {
  const unique = `${TEMP_TAG}-${(tempCounter++).toString(36)}`;
  // in a Git object folder (objects/ab/), git's own temp name: stock `git fsck` passes over
  // the leftovers of a killed write instead of reporting "bad sha1 file"
  if (/[\\/]objects[\\/][0-9a-f]{2}[\\/][0-9a-f]{38}$/.test(base)) return path.join(path.dirname(base), `tmp_obj_${unique}`);
  return `${base}.tmp-${unique}`;
}

/**
 * Write `bytes` to `file` atomically: write a temp file beside it (or at
 * `tmp`, on the same file system), fsync it, then rename over the target.
 * Readers see the old bytes or the new, never half. `bytes` may come in
 * parts, written one after the other (no copy of a large buffer to join them).
 */
export async function writeAtomic(
  file: string,
  bytes: Uint8Array | string | readonly Uint8Array[],
  { durable = true, mode, tmp = tempName(file) }: { durable?: boolean; mode?: number; tmp?: string } = {},
): Promise<void> {
  try {
    const fh = await fsp.open(tmp, "wx", mode);
    try {
      if (Array.isArray(bytes)) await writeParts(fh, bytes as readonly Uint8Array[]);
      else await fh.writeFile(bytes as Uint8Array | string);
      if (durable) await fh.datasync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw asAccessError(err, file);
  }
}

/** `parts` one after the other from the handle's position: one writev call for up to 1,024 of them. */
async function writeParts(fh: fsp.FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  for (let i = 0; i < parts.length; i += 1024) {
    const batch = parts.slice(i, i + 1024);
    let want = 0;
    for (const b of batch) want += b.byteLength;
    let { bytesWritten: skip } = await fh.writev(batch as Uint8Array[]);
    if (skip === want) continue;
    // a short write (rare): the rest of the batch, from where it stopped
    for (const b of batch) {
      if (skip >= b.byteLength) {
        skip -= b.byteLength;
        continue;
      }
      await fh.writeFile(b.subarray(skip));
      skip = 0;
    }
  }
}

/**
 * Write a content-addressed object: like writeAtomic, but an existing target
 * is only freshened (same name means same bytes) and missing folders are made.
 */
export async function writeObjectFile(
  file: string,
  bytes: Uint8Array,
  durable: boolean,
  /** false when the caller has just found the object missing (freshen) */
  check = true,
): Promise<boolean> {
  if (!durable && bytes.byteLength <= SMALL_IO) return writeObjectFileSync(file, bytes, check);
  if (check && freshen(file)) return false;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeAtomic(file, bytes, { durable, mode: 0o444 });
  return true;
}

/**
 * Files up to this size are read and written with synchronous calls: for small
 * files the thread-pool round trips of the promise API cost more than the I/O.
 */
export const SMALL_IO = 1 << 20;

/**
 * When an object a writer needs already exists, set its mtime to now and say
 * so (git's "freshen"): gc deletes unreachable objects only once they are
 * older than its grace period, so a commit in progress that reuses an old,
 * unreachable object (a tree or chunk it would have written) keeps it alive.
 */
export function freshen(file: string): boolean {
  // a missing object is the common case when writing: a stat that returns nothing is cheaper than a failing utimes
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) return false;
  // touched in the last minutes (by this command: many equal chunks, one metadata blob for many arrays): young enough
  if (Date.now() - st.mtimeMs < FRESH_MS) return true;
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false; // deleted since the stat (a gc)
    // read-only repository or another owner: present, not freshened
  }
  return true;
}

/**
 * An object whose mtime is this recent is not touched again: freshening keeps
 * recently reused objects for gc's grace period, git's policy. gc's safety
 * beside running commands does not rest on it (store/writers.ts).
 */
export const FRESH_MS = 10 * 60_000;

/**
 * Write a content-addressed object without fsync: freshened when present
 * (when `check`), else written to a temp file beside it (read-only, its folder
 * made when missing) and renamed over its name. Returns whether it was written.
 */
function writeObjectFileSync(file: string, bytes: Uint8Array, check: boolean): boolean {
  const tmp = tempName(file);
  try {
    if (check && freshen(file)) return false;
    try {
      fs.writeFileSync(tmp, bytes, { flag: "wx", mode: 0o444 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, bytes, { flag: "wx", mode: 0o444 });
    }
    fs.renameSync(tmp, file);
    return true;
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing to clean */
    }
    throw asAccessError(err, file);
  }
}

/**
 * Open flags for reading a working file: never through a symbolic link (a
 * scan found the file regular; a link put in its place since is refused,
 * ELOOP, as a FileAccessError naming the file).
 */
export const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** Read a working file and the stat data of the same open file (synchronously when it is small), never through a symbolic link. */
export async function readWithStat(file: string): Promise<{ bytes: Buffer; stat: import("node:fs").Stats }> {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_NO_FOLLOW);
  } catch (err) {
    throw asAccessError(err, file);
  }
  try {
    const stat = fs.fstatSync(fd);
    const size = stat.size;
    if (size > SMALL_IO) {
      const fh = await fsp.open(file, READ_NO_FOLLOW);
      try {
        return { bytes: await fh.readFile(), stat: await fh.stat() };
      } finally {
        await fh.close();
      }
    }
    const bytes = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, bytes, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { bytes: off === size ? bytes : bytes.subarray(0, off), stat };
  } catch (err) {
    throw asAccessError(err, file);
  } finally {
    fs.closeSync(fd);
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** A whole file, or null when it does not exist (read synchronously: small files, where a thread-pool round trip costs more). */
export async function readFileOrNull(file: string): Promise<Buffer | null> {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw asAccessError(err, file);
  }
}

/** Wrap a Node file-system error into a FileAccessError naming the path. */
export function asAccessError(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return new FileAccessError(file, code, err);
  return err;
}

/**
 * Run `fn` over `items` with at most `limit` in flight; results keep input
 * order. After a failure nothing new starts, and the first error is thrown
 * once the calls in flight have settled: none of them still writes when the
 * caller cleans up (a clone removing its folder met ENOTEMPTY otherwise).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | null = null;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw (failed as { err: unknown }).err;
  return out;
}

/**
 * `mkdir -p` that survives a concurrent removal of an empty parent (a ref
 * delete pruning its folder): recursive mkdir then fails with ENOENT; retry.
 */
export async function mkdirRaceproof(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.mkdir(dir, { recursive: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 8) throw asAccessError(err, dir);
    }
  }
}
