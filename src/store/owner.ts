/**
 * Who holds a lock or a registration: the process (pid, host, start time) and
 * the command it runs, written into the lock file so that another process can
 * tell a running owner from one that was killed.
 *
 * A pid alone is not enough: after a kill the pid can be given to another
 * process. The start time (Linux: /proc/<pid>/stat, field 22) tells them
 * apart. An owner on another host cannot be checked and counts as running,
 * and so does a file that cannot be read (being written): every doubt keeps
 * the lock.
 */
import fs from "node:fs";
import os from "node:os";

export interface Owner {
  pid: number;
  host: string;
  /** the process's start time in clock ticks since boot (Linux), or null where unknown */
  start: string | null;
  /** the command that holds it, for messages: "commit", "gc" */
  command: string;
  /** when it took the lock (ISO time) */
  since: string;
}

/** The start time of process `pid` (clock ticks since boot), or null when it cannot be read. */
function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    // the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null; // field 22 of the whole line
  } catch {
    return null;
  }
}

let self: Omit<Owner, "command" | "since"> | undefined;

/** This process as an owner of `command`. */
export function ownerOf(command: string): Owner {
  self ??= { pid: process.pid, host: os.hostname(), start: startTime(process.pid) };
  return { ...self, command, since: new Date().toISOString() };
}

/** Parse an owner written by `ownerOf`; null for anything else (a file being written, damage). */
export function parseOwner(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid !== "number" || typeof o.host !== "string" || typeof o.command !== "string") return null;
    return { pid: o.pid, host: o.host, start: typeof o.start === "string" ? o.start : null, command: o.command, since: String(o.since ?? "") };
  } catch {
    return null;
  }
}

/**
 * Whether the owner may still run. False only when it provably does not: on
 * this host, and its pid is gone or now belongs to a process that started at
 * another time.
 */
export function ownerAlive(owner: Owner): boolean {
  return owner.host !== os.hostname() || processRuns(owner.pid, owner.start);
}

/**
 * Whether process `pid` of this host runs, and is the one that started at
 * `start` when that is known (a pid given to another process after a kill is not).
 */
export function processRuns(pid: number, start: string | null): boolean {
  if (pid === process.pid) return start === null || start === ownerOf("").start;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: a process of another user has that pid; whose it is, the start time tells
  }
  if (start === null) return true;
  const now = startTime(pid);
  return now === null || now === start;
}

/** "commit (pid 4242, since 2026-12-03T17:40:00Z)" */
export function describeOwner(owner: Owner | null): string {
  if (!owner) return "a tdv command";
  const host = owner.host === os.hostname() ? "" : ` on ${owner.host}`;
  return `\`tdv ${owner.command}\` (pid ${owner.pid}${host}${owner.since ? `, since ${owner.since}` : ""})`;
}

const held = new Set<string>();
let exitHooked = false;

/**
 * This process now holds the lock or announcement `file`: returns the
 * function that removes it (once). Until then the file is also removed if
 * the process exits (process.exit, a signal handler that exits); a kill -9
 * leaves it, and the owner check above then recognises it as dead.
 */
export function holdFile(file: string): () => void {
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", () => {
      for (const f of held) fs.rmSync(f, { force: true });
    });
  }
  held.add(file);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    fs.rmSync(file, { force: true });
    held.delete(file);
  };
}
