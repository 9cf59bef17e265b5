/**
 * A remote in a folder (a local disk, NFS, a mounted bucket): `file:///path`
 * or a plain path. Every write goes to a temp file, is fsynced and renamed, so
 * a reader sees a whole object or none. Conditional writes take Git's lock
 * (`key.lock`, created exclusively), compare the ETag, and rename the lock
 * file into place: the same compare-and-swap as local refs.
 *
 * The ETag of a file is its inode, size and mtime (ns), read from the same
 * open file as its bytes; every write makes a new inode, so it changes.
 *
 * Temp files live in one folder, `.tdv-tmp/`, named after their owner (host,
 * pid, process start time): a process removes its own when it exits, and
 * `sweepTemporaries` (run by push) removes those of owners that are gone (a
 * kill -9) or that are older than an hour, by one listing of that folder.
 */
import { randomBytes } from "node:crypto";
import fs, { promises as fsp, type BigIntStats } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { asAccessError, writeAtomic } from "../store/atomic.js";
import { acquireLock } from "../store/lock.js";
import { ownerOf, processRuns } from "../store/owner.js";
import type { BackendOptions, DeleteOptions, ListedObject, ObjectBackend, ObjectInfo, PutOptions } from "./backend.js";
import { PreconditionFailedError, UnsupportedUrlError } from "./errors.js";
import { copyFile } from "./verify-pool.js";

/** The folder of temp files, at the remote's root. */
export const TEMP_DIR = ".tdv-tmp";
/** A temp file older than this is a leftover whatever its owner (an owner on another host cannot be checked). */
export const TEMP_MAX_AGE_MS = 60 * 60_000;

// this process's temp files in flight, removed if it exits meanwhile (process.exit, a signal handler that exits)
const inFlight = new Set<string>();
let exitHooked = false;
let tempCounter = 0;
let tempTag: string | undefined;

/** "<host>~<pid>~<start>~<random>-<n>": who owns a temp file, readable back by parseTempName. */
function tempFileName(): string {
  if (tempTag === undefined) {
    const me = ownerOf("push");
    tempTag = `${encodeURIComponent(me.host)}~${me.pid}~${me.start ?? "x"}~${randomBytes(4).toString("hex")}`;
  }
  return `${tempTag}-${(tempCounter++).toString(36)}`;
}

function parseTempName(name: string): { host: string; pid: number; start: string | null } | null {
  const m = /^([^~]+)~(\d+)~([^~]+)~[0-9a-f]+-[0-9a-z]+$/.exec(name);
  if (!m) return null;
  try {
    return { host: decodeURIComponent(m[1] as string), pid: Number(m[2]), start: m[3] === "x" ? null : (m[3] as string) };
  } catch {
    return null;
  }
}

function etagOf(st: BigIntStats): string {
  return `${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}`;
}

export class FileBackend implements ObjectBackend {
  readonly writable = true;
  readonly root: string;
  private readonly durable: boolean;
  /** folders known to exist (ab/ fan-outs): one mkdir each, not one per object */
  private readonly made = new Set<string>();

  constructor(
    readonly url: string,
    opts: BackendOptions = {},
  ) {
    try {
      this.root = fileURLToPath(url);
    } catch (err) {
      throw new UnsupportedUrlError(url, (err as Error).message);
    }
    this.durable = opts.durable ?? (opts.env ?? process.env).TDV_FSYNC !== "0";
  }

  private file(key: string): string {
    const parts = key.split("/");
    if (key.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) throw new UnsupportedUrlError(key, "not a valid object key");
    return path.join(this.root, ...parts);
  }

  async get(key: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const file = this.file(key);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, "r");
    } catch (err) {
      if (isMissing(err)) return null;
      throw asAccessError(err, file);
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) return null;
      return { bytes: await fh.readFile(), etag: etagOf(st) };
    } finally {
      await fh.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const st = await this.stat(this.file(key));
    return st ? { etag: etagOf(st), size: Number(st.size) } : null;
  }

  private async stat(file: string): Promise<BigIntStats | null> {
    try {
      const st = await fsp.stat(file, { bigint: true });
      return st.isFile() ? st : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw asAccessError(err, file);
    }
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions = {}): Promise<{ etag: string }> {
    const file = this.file(key);
    await this.makeDir(path.dirname(file));
    if (opts.ifMatch === undefined && opts.ifNoneMatch === undefined) {
      await this.writeViaTemp(file, bytes);
    } else {
      const lock = await acquireLock(file, key, 5000);
      try {
        const st = await this.stat(file);
        if (opts.ifNoneMatch === "*" && st) throw new PreconditionFailedError(key);
        if (opts.ifMatch !== undefined && (!st || etagOf(st) !== opts.ifMatch)) throw new PreconditionFailedError(key);
        await lock.commit(bytes);
      } finally {
        await lock.release();
      }
    }
    const st = await this.stat(file);
    return { etag: st ? etagOf(st) : "" };
  }

  localFile(key: string): string {
    return this.file(key);
  }

  /**
   * An unconditional write from a file on this machine (push from the local
   * store): copied in large blocks on a worker thread, hashed as it passes,
   * to a temp file in `.tdv-tmp/` that is fsynced (unless TDV_FSYNC=0) and
   * renamed over the object only when its bytes hash to `sha256`.
   */
  async putFromFile(key: string, src: string, sha256: string, size: number): Promise<{ ok: true } | { corrupt: string } | { missing: true }> {
    const file = this.file(key);
    await this.makeDir(path.dirname(file));
    const tmp = await this.newTemp();
    inFlight.add(tmp);
    try {
      const out = await copyFile(src, { id: sha256, file, tmp, durable: this.durable, check: false }, size);
      return "wrote" in out ? { ok: true } : out;
    } catch (err) {
      throw asAccessError(err, (err as NodeJS.ErrnoException).path ?? file);
    } finally {
      inFlight.delete(tmp);
    }
  }

  private async makeDir(dir: string): Promise<void> {
    if (this.made.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true }).catch((err) => {
      throw asAccessError(err, dir);
    });
    this.made.add(dir);
  }

  /** A new temp file's path in `.tdv-tmp/` (the folder made), removed at exit if still there. */
  private async newTemp(): Promise<string> {
    await this.makeDir(path.join(this.root, TEMP_DIR));
    if (!exitHooked) {
      exitHooked = true;
      process.on("exit", () => {
        for (const f of inFlight) fs.rmSync(f, { force: true });
      });
    }
    return path.join(this.root, TEMP_DIR, tempFileName());
  }

  /**
   * Write `bytes` to a temp file in `.tdv-tmp/`, fsync it, rename it over
   * `file`: a reader sees the whole object or none, and an interrupted write
   * leaves a temp file whose name says whose it was.
   */
  private async writeViaTemp(file: string, bytes: Uint8Array): Promise<void> {
    const tmp = await this.newTemp();
    inFlight.add(tmp);
    try {
      await writeAtomic(file, bytes, { durable: this.durable, tmp });
    } finally {
      inFlight.delete(tmp);
    }
  }

  /**
   * Remove the temp files that interrupted writers left: those of a process
   * of this host that no longer runs, and any older than an hour. Returns
   * how many were removed.
   */
  async sweepTemporaries(now = Date.now()): Promise<number> {
    const dir = path.join(this.root, TEMP_DIR);
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch (err) {
      if (isMissing(err)) return 0;
      throw asAccessError(err, dir);
    }
    const host = os.hostname();
    let removed = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      if (inFlight.has(file)) continue;
      const owner = parseTempName(name);
      let stale = owner !== null && owner.host === host && !processRuns(owner.pid, owner.start);
      if (!stale) {
        const st = await fsp.stat(file).catch(() => null);
        stale = st !== null && now - st.mtimeMs > TEMP_MAX_AGE_MS;
      }
      if (!stale) continue;
      await fsp.rm(file, { force: true, recursive: true }).catch(() => {});
      removed++;
    }
    return removed;
  }

  async *list(prefix: string): AsyncIterable<string> {
    const dir = prefix.replace(/\/+$/, "");
    const stack: string[] = [dir];
    while (stack.length > 0) {
      const rel = stack.pop() as string;
      let ents: fs.Dirent[];
      try {
        ents = await fsp.readdir(rel ? this.file(rel) : this.root, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") continue;
        throw asAccessError(err, rel);
      }
      for (const e of ents) {
        if (e.name.endsWith(".lock") || e.name.includes(".tmp-") || e.name === TEMP_DIR) continue;
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) stack.push(key);
        else if (e.isFile()) yield key;
      }
    }
  }

  async *listObjects(prefix: string): AsyncIterable<ListedObject> {
    for await (const key of this.list(prefix)) {
      const st = await this.stat(this.file(key));
      if (st) yield { key, size: Number(st.size), lastModified: new Date(Number(st.mtimeNs / 1_000_000n)) };
    }
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<void> {
    const file = this.file(key);
    if (opts.ifMatch === undefined) {
      await fsp.rm(file, { force: true });
      return;
    }
    // under the same lock as conditional writes: a compare-and-delete
    const lock = await acquireLock(file, key, 5000);
    try {
      const st = await this.stat(file);
      if (!st || etagOf(st) !== opts.ifMatch) throw new PreconditionFailedError(key);
      await fsp.rm(file, { force: true });
    } finally {
      await lock.release();
    }
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
