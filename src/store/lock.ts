import { promises as fsp } from "node:fs";
import path from "node:path";
import { RefLockedError } from "../errors.js";
import { asAccessError, mkdirRaceproof } from "./atomic.js";
import { ownerAlive, ownerOf, parseOwner } from "./owner.js";

/** infix of a locked file's new content before its rename (ref listings and gc know ".tmp-" names) */
const COMMIT_TMP = ".tmp-commit-";

/**
 * Where a lock's owner `pid` writes the new content of `target`, up to a
 * random tail: `.<name>.tmp-commit-<pid>-` beside it. The leading dot makes
 * git's scans of loose refs and reflogs skip it: killed before its rename, an
 * empty or half-written one is no ref to stock `git fsck` ("invalid sha1
 * pointer"), as git's own `.lock` files are not.
 */
export function commitTempPrefix(target: string, pid: number): string {
  return path.join(path.dirname(target), `.${path.basename(target)}${COMMIT_TMP}${pid}-`);
}

export interface Lock {
  readonly file: string;
  /** Write the new content to a temp file beside the target, fsync it, rename it over the target, then remove the lock. */
  commit(content: string | Uint8Array): Promise<void>;
  /** Drop the lock without changing the target. */
  release(): Promise<void>;
}

/**
 * Take Git's lock on `target`: create `target.lock` exclusively, naming its
 * owner (createNamingOwner). The commit renames the new content over the
 * target, so the update is atomic, and a second writer fails fast instead of
 * overwriting.
 *
 * The lock file names its owner (store/owner.ts) for as long as it exists:
 * the commit writes the new content to a temp file beside the target,
 * renames that over the target, and then removes the lock. A lock whose
 * owner provably no longer runs (killed with SIGKILL while it held the
 * lock) is taken over, with the temp file that owner may have left; any
 * doubt (another host, a file being written, content that is not an owner)
 * keeps it. Git leaves such a lock for the user to remove; a killed `tdv
 * rebase` would then stop its own `--continue`.
 */
export async function acquireLock(target: string, what: string, waitMs = 0): Promise<Lock> {
  const file = `${target}.lock`;
  const deadline = Date.now() + waitMs;
  let missingDirRetries = 5;
  for (;;) {
    try {
      await createNamingOwner(file, JSON.stringify(ownerOf(what)), target);
      let done = false;
      return {
        file,
        async commit(content) {
          if (done) throw new Error(`lock ${file} already used`);
          done = true;
          // the new content goes to a file of its own, renamed over the target while the lock, still naming
          // its owner, is held: killed at any moment, this leaves a lock a later command can take over
          const tmp = `${commitTempPrefix(target, process.pid)}${Math.random().toString(36).slice(2)}`;
          try {
            const bytes = typeof content === "string" ? Buffer.from(content) : content;
            const out = await fsp.open(tmp, "wx");
            try {
              await out.write(bytes, 0, bytes.byteLength, 0);
              await out.datasync();
            } finally {
              await out.close();
            }
            await fsp.rename(tmp, target);
          } catch (err) {
            await fsp.rm(tmp, { force: true }).catch(() => {});
            await fsp.rm(file, { force: true }).catch(() => {});
            throw asAccessError(err, target);
          }
          await fsp.rm(file, { force: true }).catch(() => {}); // the target is written: a lock left here is taken over
        },
        async release() {
          if (done) return;
          done = true;
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
      if (await takeOverDead(file, target)) continue;
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

/**
 * Create the lock `file` exclusively, naming its owner from the moment it
 * exists: the owner is written to a temp file beside the target (its dead
 * owner's temp files are what takeOverDead removes), which is then
 * hard-linked to the lock's name, failing with EEXIST when the lock is held.
 * Opening the lock and then writing into it left, killed in between, an
 * empty lock that names no owner, which no later command may take over (the
 * long lane's killed `tdv rebase` left HEAD.lock so, and `--abort` stopped on
 * it). A file system without hard links gets that open and write.
 */
async function createNamingOwner(file: string, owner: string, target: string): Promise<void> {
  const tmp = `${commitTempPrefix(target, process.pid)}lock-${Math.random().toString(36).slice(2)}`;
  try {
    await fsp.writeFile(tmp, owner, { flag: "wx" });
    try {
      await fsp.link(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
      const fh = await fsp.open(file, "wx");
      try {
        await fh.write(owner);
      } catch (writeErr) {
        // the lock is not taken (a full disk): nothing of it stays
        await fsp.rm(file, { force: true }).catch(() => {});
        throw writeErr;
      } finally {
        await fh.close().catch(() => {});
      }
    }
  } finally {
    await fsp.rm(tmp, { force: true }).catch(() => {});
  }
}

/**
 * Remove `file` when it is a lock whose owner provably no longer runs: moved
 * aside first, and put back should what was moved not be the file read (a
 * new owner took the lock in between). True when the lock is gone.
 */
async function takeOverDead(file: string, target: string): Promise<boolean> {
  let read: { ino: number; text: string };
  try {
    const fh = await fsp.open(file, "r");
    try {
      read = { ino: (await fh.stat()).ino, text: await fh.readFile("utf8") };
    } finally {
      await fh.close();
    }
  } catch {
    return false; // gone already (the next try says), or unreadable: kept
  }
  const owner = parseOwner(read.text);
  if (!owner || ownerAlive(owner)) return false;
  // the new content the dead owner may have been writing, removed while its lock still stands (no live writer
  // can hold it): never renamed, so the target is as it was, or as the owner's rename left it
  const dir = path.dirname(target);
  const theirs = path.basename(commitTempPrefix(target, owner.pid));
  const older = theirs.slice(1); // named without the dot before 2026-12-05
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(theirs) || name.startsWith(older)) await fsp.rm(path.join(dir, name), { force: true }).catch(() => {});
  }
  // dot-named too: killed before it is removed, git's ref scans pass over it as well
  const aside = path.join(dir, `.${path.basename(target)}.tmp-stale-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    await fsp.rename(file, aside);
  } catch {
    return false;
  }
  const moved = await fsp.stat(aside).catch(() => null);
  if (moved && moved.ino !== read.ino) {
    await fsp.link(aside, file).catch(() => {}); // another's live lock: back where it was (unless a newer one is there)
    await fsp.rm(aside, { force: true });
    return false;
  }
  await fsp.rm(aside, { force: true });
  return true;
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

/** A ref lock older than this is stale: a ref update holds its lock for milliseconds. */
export const STALE_LOCK_SECONDS = 60;
