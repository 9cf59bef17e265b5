/**
 * A remote in a folder (a local disk, NFS, a mounted bucket): `file:///path`
 * or a plain path. Every write goes to a temp file, is fsynced and renamed, so
 * a reader sees a whole object or none. Conditional writes take Git's lock
 * (`key.lock`, created exclusively), compare the ETag, and rename the lock
 * file into place: the same compare-and-swap as local refs.
 *
 * The ETag of a file is its inode, size and mtime (ns), read from the same
 * open file as its bytes; every write makes a new inode, so it changes.
 */
import { promises as fsp, type BigIntStats } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { asAccessError, writeAtomic } from "../store/atomic.js";
import { acquireLock } from "../store/lock.js";
import type { BackendOptions, ListedObject, ObjectBackend, ObjectInfo, PutOptions } from "./backend.js";
import { PreconditionFailedError, UnsupportedUrlError } from "./errors.js";

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
    let fh;
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
    const dir = path.dirname(file);
    if (!this.made.has(dir)) {
      await fsp.mkdir(dir, { recursive: true }).catch((err) => {
        throw asAccessError(err, dir);
      });
      this.made.add(dir);
    }
    if (opts.ifMatch === undefined && opts.ifNoneMatch === undefined) {
      await writeAtomic(file, bytes, { durable: this.durable });
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

  async *list(prefix: string): AsyncIterable<string> {
    const dir = prefix.replace(/\/+$/, "");
    const stack: string[] = [dir];
    while (stack.length > 0) {
      const rel = stack.pop() as string;
      let ents;
      try {
        ents = await fsp.readdir(rel ? this.file(rel) : this.root, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") continue;
        throw asAccessError(err, rel);
      }
      for (const e of ents) {
        if (e.name.endsWith(".lock") || e.name.includes(".tmp-")) continue;
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

  async delete(key: string): Promise<void> {
    await fsp.rm(this.file(key), { force: true });
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
