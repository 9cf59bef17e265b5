/**
 * The working-copy lock, git's `index.lock`: one command at a time writes the
 * index or the working tree. `.tdv/worktree.lock` is created exclusively and
 * holds its owner (owner.ts); a second command refuses at once, naming the
 * command that holds it.
 *
 * A lock whose owner provably died (kill -9, a crash) is broken by the next
 * command, which says so: every command that takes this lock leaves the
 * working copy in a state the next command can work from, so waiting for a
 * person to delete the file would add nothing. Breaking is itself guarded
 * (`worktree.lock.break`, created exclusively, and the lock re-read under it)
 * so that two commands that both found the same dead lock cannot both take
 * the lock: the second one re-reads a live owner and refuses.
 */
import fs from "node:fs";
import path from "node:path";
import { WorktreeLockedError } from "../errors.js";
import { asAccessError } from "./atomic.js";
import { holdFile, ownerAlive, ownerOf, parseOwner, type Owner } from "./owner.js";

export const WORKTREE_LOCK = "worktree.lock";

/** A lock file with no owner in it (damaged, or written by hand) counts as held until it is this old. */
const UNREADABLE_STALE_MS = 5_000;
/** A break marker lives for microseconds; one this old was left by a killed command. */
const BREAK_STALE_MS = 10_000;

export interface WorktreeLock {
  readonly file: string;
  /** the owner of a dead lock this one replaced, or null */
  readonly replaced: Owner | null;
  release(): void;
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw asAccessError(err, file);
  }
}

/** Remove `file` if it still holds `text` (a dead owner's lock); false when another command is breaking it. */
function breakDead(file: string, text: string): boolean {
  const marker = `${file}.break`;
  try {
    fs.writeFileSync(marker, String(process.pid), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw asAccessError(err, marker);
    if (ageMs(marker) > BREAK_STALE_MS) fs.rmSync(marker, { force: true });
    return false;
  }
  try {
    if (readOrNull(file) === text) fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(marker, { force: true });
  }
}

/**
 * Create `file` holding `body` unless it exists: written whole under a temp
 * name, then hard-linked in place. link fails when the target exists (an
 * exclusive create), and nobody ever sees the lock without its owner.
 */
function createWhole(file: string, body: string): boolean {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, body);
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw asAccessError(err, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Take the working-copy lock of the repository in `tdvDir` for `command`, or throw WorktreeLockedError. */
export function acquireWorktreeLock(tdvDir: string, command: string): WorktreeLock {
  const file = path.join(tdvDir, WORKTREE_LOCK);
  let replaced: Owner | null = null;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createWhole(file, JSON.stringify(ownerOf(command)))) {
      return { file, replaced, release: holdFile(file) };
    }
    const text = readOrNull(file);
    if (text === null) continue; // released meanwhile
    const owner = parseOwner(text);
    const dead = owner ? !ownerAlive(owner) : ageMs(file) > UNREADABLE_STALE_MS;
    if (!dead) throw new WorktreeLockedError(owner, file);
    if (breakDead(file, text)) replaced = owner ?? replaced;
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // another command is breaking it: look again shortly
  }
  throw new WorktreeLockedError(parseOwner(readOrNull(file) ?? ""), file);
}

/** Who holds the working-copy lock now, and whether that command still runs; null when nobody does. */
export function worktreeLockHolder(tdvDir: string): { file: string; owner: Owner | null; running: boolean } | null {
  const file = path.join(tdvDir, WORKTREE_LOCK);
  const text = readOrNull(file);
  if (text === null) return null;
  const owner = parseOwner(text);
  return { file, owner, running: owner ? ownerAlive(owner) : ageMs(file) <= UNREADABLE_STALE_MS };
}
