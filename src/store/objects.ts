/**
 * Chunk objects: the exact bytes of chunk (or shard) files and large plain
 * files, stored once under `.tdv/chunks/ab/cdef…` by their SHA-256.
 */
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import { CorruptObjectError, MissingObjectError, UnavailableChunkError } from "../errors.js";
import { sha256, type ChunkId } from "../format/hash.js";
import { asAccessError, exists, writeObjectFile } from "./atomic.js";
import type { BufferPool } from "./buffer-pool.js";
import { Durability } from "./durability.js";
import type { ChunkReadOptions, ChunkSource, ChunkStore } from "./types.js";

export type { ChunkReadOptions, ChunkSource, ChunkStore } from "./types.js";

/**
 * Objects of this size or larger are read whole, after a stat: for them the
 * stat costs nothing much, and a manifest that lies about a size (a hostile
 * repository) never makes a read allocate more than this.
 */
const ONE_READ_MAX = 16 * 1024 * 1024;

/** Chunk objects in a folder on disk (`dir`, `pathOf` and `durability` are file-system only: checkout copies and workers use the files). */
export class FileChunkStore implements ChunkStore {
  /** a lazy clone's source of missing objects (set by Repository.open); its bytes are verified and stored */
  fallback: ChunkSource | undefined;

  constructor(
    readonly dir: string,
    readonly durability: Durability = new Durability(dir, "fsync"),
  ) {}

  pathOf(id: ChunkId): string {
    return path.join(this.dir, id.slice(0, 2), id.slice(2));
  }

  has(id: ChunkId): Promise<boolean> {
    return exists(this.pathOf(id));
  }

  /** Store bytes whose id the caller computed; returns true when newly written. */
  async put(id: ChunkId, bytes: Uint8Array): Promise<boolean> {
    const file = this.pathOf(id);
    const wrote = await writeObjectFile(file, bytes, this.durability.syncEachWrite);
    if (wrote) this.durability.written(file, bytes.byteLength);
    return wrote;
  }

  /**
   * Read an object and verify its bytes against its id; `what` (the working
   * file that needs it) names it in a lazy clone's errors. With the object's
   * `size` (a manifest's), one read into a buffer of `pool` when given; the
   * bytes returned hash to `id` either way.
   */
  async get(id: ChunkId, what?: string, opts?: ChunkReadOptions): Promise<Buffer> {
    if (opts?.size !== undefined && opts.size >= 0 && opts.size < ONE_READ_MAX) {
      const bytes = await readSized(this.pathOf(id), opts.size, opts.pool).catch(() => null);
      if (bytes && sha256(bytes) === id) return bytes;
      if (bytes) opts.pool?.give(bytes);
      // missing, another size, damaged, unreadable: the whole file, with the errors each case has
    }
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.pathOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        if (this.fallback) return this.fetchMissing(id, this.fallback, what);
        throw new MissingObjectError(id, "chunk object");
      }
      throw asAccessError(err, this.pathOf(id));
    }
    const actual = sha256(bytes);
    if (actual !== id) throw new CorruptObjectError(id, `its bytes hash to ${actual}`);
    return bytes;
  }

  /** Download an object a lazy clone lacks, verify it and store it. */
  private async fetchMissing(id: ChunkId, source: ChunkSource, what: string | undefined): Promise<Buffer> {
    const got = await source.fetch(id);
    if (!got) throw new UnavailableChunkError(id, source.remote, source.url, "missing", null, what ?? null);
    const bytes = Buffer.from(got.buffer, got.byteOffset, got.byteLength);
    const actual = sha256(bytes);
    if (actual !== id) throw new UnavailableChunkError(id, source.remote, source.url, "corrupt", actual, what ?? null);
    await this.put(id, bytes);
    return bytes;
  }
}

const noop = () => undefined;

/**
 * The bytes of a file expected to hold `size` bytes, in one read (no stat,
 * no read to find the end: `size + 1` bytes are asked for), into a buffer of
 * `pool` when given; null when the read gives another count (the caller
 * reads the file as a whole then). A short read is caught by the caller's
 * hash check, as a damaged file is.
 */
function readSized(file: string, size: number, pool: BufferPool | undefined): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    fs.open(file, "r", (err, fd) => {
      if (err) return reject(err);
      let buf: Buffer;
      try {
        buf = pool ? pool.take(size + 1) : Buffer.allocUnsafeSlow(size + 1);
      } catch (e) {
        fs.close(fd, noop);
        return reject(e);
      }
      fs.read(fd, buf, 0, size + 1, 0, (err, n) => {
        fs.close(fd, noop);
        if (err || n !== size) {
          pool?.give(buf);
          return err ? reject(err) : resolve(null);
        }
        resolve(buf.subarray(0, size));
      });
    });
  });
}
