import { promises as fsp } from "node:fs";
import path from "node:path";
import { RefLockedError } from "../errors.js";
import { asAccessError, mkdirRaceproof } from "./atomic.js";

export interface Lock {
  readonly file: string;
  /** Write the new content into the lock file, fsync it, and rename it over the target. */
  commit(content: string | Uint8Array): Promise<void>;
  /** Drop the lock without changing the target. */
  release(): Promise<void>;
}

/**
 * Take Git's lock on `target`: create `target.lock` exclusively. The lock file
 * becomes the new content of the target on commit (rename), so the update is
 * atomic and a second writer fails fast instead of overwriting.
 */
export async function acquireLock(target: string, what: string, waitMs = 0): Promise<Lock> {
  const file = `${target}.lock`;
  const deadline = Date.now() + waitMs;
  let missingDirRetries = 5;
  for (;;) {
    try {
      const fh = await fsp.open(file, "wx");
      let done = false;
      return {
        file,
        async commit(content) {
          if (done) throw new Error(`lock ${file} already used`);
          done = true;
          try {
            await fh.writeFile(content);
            await fh.datasync();
            await fh.close();
            await fsp.rename(file, target);
          } catch (err) {
            await fh.close().catch(() => {});
            await fsp.rm(file, { force: true }).catch(() => {});
            throw asAccessError(err, target);
          }
        },
        async release() {
          if (done) return;
          done = true;
          await fh.close().catch(() => {});
          await fsp.rm(file, { force: true });
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && missingDirRetries-- > 0) {
        // a concurrent ref delete pruned the empty folder since it was made (git's raceproof_create_file)
        await mkdirRaceproof(path.dirname(file));
        continue;
      }
      if (code !== "EEXIST") throw asAccessError(err, file);
      if (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        continue;
      }
      const age = await fsp
        .stat(file)
        .then((s) => (Date.now() - s.mtimeMs) / 1000)
        .catch(() => 0);
      throw new RefLockedError(what, file, age);
    }
  }
}

/** Hold the lock on `target` while `fn` runs; `fn` gets the lock to commit through. */
export async function withLock<T>(
  target: string,
  what: string,
  fn: (lock: Lock) => Promise<T>,
  waitMs = 0,
): Promise<T> {
  const lock = await acquireLock(target, what, waitMs);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
