/**
 * Chunk objects: the exact bytes of chunk (or shard) files and large plain
 * files, stored once under `.tdv/chunks/ab/cdef…` by their SHA-256.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { CorruptObjectError, MissingObjectError, UnavailableChunkError } from "../errors.js";
import { sha256, type ChunkId } from "../format/hash.js";
import { asAccessError, exists, writeObjectFile } from "./atomic.js";
import { Durability } from "./durability.js";

/** Where a lazy clone gets the chunk objects it lacks: its remote. */
export interface ChunkSource {
  /** the remote's name and URL, for messages */
  remote: string;
  url: string;
  /** the object's bytes as the remote has them (unverified), or null when it has none */
  fetch(id: ChunkId): Promise<Uint8Array | null>;
  /** whether the remote has the object (fsck --promised); never downloads it */
  has(id: ChunkId): Promise<boolean>;
}

export class ChunkStore {
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
    if (wrote) this.durability.written(file);
    return wrote;
  }

  /** Read an object and verify its bytes against its id; `what` (the working file that needs it) names it in a lazy clone's errors. */
  async get(id: ChunkId, what?: string): Promise<Buffer> {
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
