/**
 * Chunk objects: the exact bytes of chunk (or shard) files and large plain
 * files, stored once under `.tdv/chunks/ab/cdef…` by their SHA-256.
 */
import { constants, promises as fsp } from "node:fs";
import path from "node:path";
import { CorruptObjectError, MissingObjectError } from "../errors.js";
import { sha256, type ChunkId } from "../format/hash.js";
import { asAccessError, exists, writeObjectFile } from "./atomic.js";

export class ChunkStore {
  constructor(
    readonly dir: string,
    readonly durable = true,
  ) {}

  pathOf(id: ChunkId): string {
    return path.join(this.dir, id.slice(0, 2), id.slice(2));
  }

  has(id: ChunkId): Promise<boolean> {
    return exists(this.pathOf(id));
  }

  /** Store bytes whose id the caller computed; returns true when newly written. */
  put(id: ChunkId, bytes: Uint8Array): Promise<boolean> {
    return writeObjectFile(this.pathOf(id), bytes, this.durable);
  }

  /** Read an object and verify its bytes against its id. */
  async get(id: ChunkId): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.pathOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new MissingObjectError(id, "chunk object");
      throw asAccessError(err, this.pathOf(id));
    }
    const actual = sha256(bytes);
    if (actual !== id) throw new CorruptObjectError(id, `its bytes hash to ${actual}`);
    return bytes;
  }

  /**
   * Write object `id` to `dest` (a path the caller checked is safe), verified.
   * Returns the bytes written.
   */
  async checkoutTo(id: ChunkId, dest: string): Promise<number> {
    const bytes = await this.get(id);
    await fsp.rm(dest, { force: true });
    try {
      await fsp.writeFile(dest, bytes, { flag: constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY });
    } catch (err) {
      throw asAccessError(err, dest);
    }
    return bytes.byteLength;
  }
}
