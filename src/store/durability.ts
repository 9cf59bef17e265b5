/**
 * When written objects reach the disk. Fsyncing each of thousands of small
 * objects dominates the cost of a commit, so by default objects are written
 * without a per-file fsync and made durable together, by one `syncfs` of the
 * repository's file system (`sync -f`), before anything refers to them: a ref
 * move or an index write. Where `sync -f` is unavailable, the files written
 * since the last flush are fsynced one by one instead.
 *
 * Modes: "deferred" (default), "fsync" (each object at once), "none"
 * (throwaway repositories, tests). The library takes the mode as an option
 * (Repository.open/init `durability`); the CLI reads it from TDV_FSYNC.
 *
 * A writer of many bytes does not leave them all to the flush: past every
 * WRITE_BACK_BYTES written, a `sync -f` starts in the background (writeBack),
 * so the disk takes the first bytes while the next are read and hashed, and
 * the flush, which awaits it and then syncs as always, waits for the rest.
 */
import { execFile } from "node:child_process";
import { promises as fsp } from "node:fs";
import { mapLimit } from "./atomic.js";

export type DurabilityMode = "deferred" | "fsync" | "none";

/** bytes written deferred between two background write-backs (see writeBack) */
export const WRITE_BACK_BYTES = 64 << 20;

export class Durability {
  private pending = new PendingFiles();
  private syncfsWorks: boolean | undefined;
  /** bytes written since the last background write-back started */
  private unsynced = 0;
  /** the background `sync -f` running, awaited by the next flush */
  private early: Promise<void> | null = null;
  /** background write-backs started (tests) */
  writeBacks = 0;

  constructor(
    readonly dir: string,
    public mode: DurabilityMode = "deferred",
  ) {}

  /** Whether a new object file must be fsynced by its writer right away. */
  get syncEachWrite(): boolean {
    return this.mode === "fsync";
  }

  /** Record an object file written without fsync, of `bytes` bytes (when known: they count towards a write-back). */
  written(file: string, bytes = 0): void {
    if (this.mode !== "deferred") return;
    this.pending.add(file);
    this.wrote(bytes);
  }

  /** Count `bytes` written deferred (recorded with `written`, or by another thread that will record them); a write-back starts past WRITE_BACK_BYTES. */
  wrote(bytes: number): void {
    if (this.mode !== "deferred") return;
    this.unsynced += bytes;
    if (this.unsynced >= WRITE_BACK_BYTES) this.writeBack();
  }

  /**
   * Start a `sync -f` of the file system in the background, unless one is
   * running or `sync -f` is known not to work. It makes nothing durable the
   * flush would not: the flush still syncs after it, and the objects count as
   * durable only then. What it saves is the flush's wait for bytes the disk
   * could have taken earlier.
   */
  writeBack(): void {
    if (this.mode !== "deferred" || this.early || this.syncfsWorks === false) return;
    this.unsynced = 0;
    this.writeBacks++;
    this.early = new Promise<void>((resolve) => {
      execFile("sync", ["-f", this.dir], () => {
        this.early = null;
        resolve();
      });
    });
  }

  /** Make every object written so far durable. Cheap when nothing was written. */
  async flush(): Promise<void> {
    if (this.early) await this.early; // one sync at a time: the flush's own starts after it
    if (this.pending.length === 0) return;
    this.unsynced = 0;
    const pending = this.pending;
    this.pending = new PendingFiles();
    if (this.syncfsWorks !== false) {
      this.syncfsWorks = await new Promise<boolean>((resolve) => {
        execFile("sync", ["-f", this.dir], (err) => resolve(!err));
      });
      if (this.syncfsWorks) return;
    }
    // the paths made only when each file must be synced on its own (a million of them were ~120 MB of strings)
    await mapLimit(pending.list(), 16, async (f) => {
      const fh = await fsp.open(f, "r").catch(() => null);
      if (!fh) return;
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }
}

/**
 * The files written since the last flush, kept small: an object's name is a
 * hash in hex, kept as its bytes beside the index of its folder (36 bytes a
 * chunk object instead of a ~120-byte path string; a million new files in one
 * `add` made these strings its largest single cost). Other names are kept as
 * they are. `list()` gives back the paths, in the order written.
 */
export class PendingFiles {
  private readonly dirs: string[] = [];
  private readonly dirIds = new Map<string, number>();
  /** per hex name: folder index u32 | byte count u8 | the bytes; other names: 0xffffffff | index into `other` (u32) */
  private bytes = Buffer.alloc(4096);
  private used = 0;
  private readonly other: string[] = [];
  length = 0;

  add(file: string): void {
    const cut = Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\"));
    const name = file.slice(cut + 1);
    this.room(5 + (name.length >> 1));
    if (name.length >= 2 && name.length <= 510 && name.length % 2 === 0 && /^[0-9a-f]+$/.test(name)) {
      const dir = file.slice(0, cut + 1);
      let id = this.dirIds.get(dir);
      if (id === undefined) {
        id = this.dirs.length;
        this.dirs.push(dir);
        this.dirIds.set(dir, id);
      }
      this.bytes.writeUInt32LE(id, this.used);
      this.bytes[this.used + 4] = name.length >> 1;
      this.used += 5 + this.bytes.write(name, this.used + 5, "hex");
    } else {
      this.bytes.writeUInt32LE(0xffffffff, this.used);
      this.bytes.writeUInt32LE(this.other.length, this.used + 4);
      this.used += 8;
      this.other.push(file);
    }
    this.length++;
  }

  private room(n: number): void {
    if (this.used + n + 8 <= this.bytes.length) return;
    const next = Buffer.alloc(Math.max(this.bytes.length * 2, this.used + n + 8));
    this.bytes.copy(next, 0, 0, this.used);
    this.bytes = next;
  }

  list(): string[] {
    const out: string[] = [];
    for (let p = 0; p < this.used; ) {
      const id = this.bytes.readUInt32LE(p);
      if (id === 0xffffffff) {
        out.push(this.other[this.bytes.readUInt32LE(p + 4)] as string);
        p += 8;
        continue;
      }
      const n = this.bytes[p + 4] as number;
      out.push(this.dirs[id] + this.bytes.toString("hex", p + 5, p + 5 + n));
      p += 5 + n;
    }
    return out;
  }
}
