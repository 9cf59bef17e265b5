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
 */
import { execFile } from "node:child_process";
import { promises as fsp } from "node:fs";
import { mapLimit } from "./atomic.js";

export type DurabilityMode = "deferred" | "fsync" | "none";

export class Durability {
  private pending: string[] = [];
  private syncfsWorks: boolean | undefined;

  constructor(
    readonly dir: string,
    public mode: DurabilityMode = "deferred",
  ) {}

  /** Whether a new object file must be fsynced by its writer right away. */
  get syncEachWrite(): boolean {
    return this.mode === "fsync";
  }

  /** Record an object file written without fsync. */
  written(file: string): void {
    if (this.mode === "deferred") this.pending.push(file);
  }

  /** Make every object written so far durable. Cheap when nothing was written. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const files = this.pending;
    this.pending = [];
    if (this.syncfsWorks !== false) {
      this.syncfsWorks = await new Promise<boolean>((resolve) => {
        execFile("sync", ["-f", this.dir], (err) => resolve(!err));
      });
      if (this.syncfsWorks) return;
    }
    await mapLimit(files, 16, async (f) => {
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
