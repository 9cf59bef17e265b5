/**
 * gc and the commands that write objects exclude each other, so that gc can
 * never delete an object a running command has written or found present and
 * is about to name from a ref or the index.
 *
 * An age cutoff alone cannot do that: a writer that finds an old unreachable
 * object already stored (the same bytes give the same id) refreshes its time,
 * and gc's look at the time and its unlink are two steps a refresh can fall
 * between. So each side announces itself before it looks at the other
 * (Dekker's protocol, over files in `.tdv/locks/`):
 *
 *   writer: create `writer-<pid>-<tag>.json`, then list: a running gc there →
 *           remove its own file, wait until that gc ends, and start over;
 *   gc:     create `gc-<pid>-<tag>.json`, then list: another running gc → it
 *           gives way (refuses); running writers → it waits until they end
 *           (or refuses after a while, deleting nothing).
 *
 * Both create before they list, so when both run at once at least one of
 * them sees the other: a writer never works while gc marks and sweeps. The
 * file system orders one process's create before its listing, and another
 * process's listing sees every create that finished before it.
 *
 * A file whose owner provably died (see owner.ts) is ignored and removed by
 * whoever finds it: each name belongs to one process, so removing a dead
 * owner's file cannot take away anyone else's.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { GcRunningError, WritersRunningError } from "../errors.js";
import { asAccessError } from "./atomic.js";
import { describeOwner, holdFile, ownerAlive, ownerOf, parseOwner, type Owner } from "./owner.js";

/** the folder of `.tdv` that holds the announcements (and the working-copy lock's neighbours) */
export const LOCKS_DIR = "locks";

/** How long a writer waits for a running gc before it gives up (the CLI: env TDV_GC_WAIT_MS). */
const WRITER_WAIT_MS = 10 * 60_000;
/** How long gc waits for running writers before it refuses, deleting nothing (the CLI: env TDV_WRITERS_WAIT_MS). */
const GC_WAIT_MS = 60_000;

type Kind = "gc" | "writer";

export interface Announcement {
  readonly file: string;
  /** Withdraw it (idempotent). */
  release(): void;
}

export interface WaitOptions {
  /** milliseconds to wait for the other side; default the constant above */
  waitMs?: number;
  /** called once when the caller starts to wait, with who it waits for */
  onWait?: (message: string) => void;
}

interface Found {
  file: string;
  owner: Owner | null;
}

function announce(tdvDir: string, kind: Kind, command: string): Announcement {
  const dir = path.join(tdvDir, LOCKS_DIR);
  const name = `${kind}-${process.pid}-${randomBytes(6).toString("hex")}.json`;
  const file = path.join(dir, name);
  const tmp = path.join(dir, `.tmp-${name}`);
  const body = JSON.stringify(ownerOf(command));
  try {
    // written whole under a temp name, then renamed: a reader never sees a half-written owner
    try {
      fs.writeFileSync(tmp, body, { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(tmp, body, { flag: "wx" });
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw asAccessError(err, file);
  }
  return { file, release: holdFile(file) };
}

/** The live announcements of `kind` other than `self`; those of dead owners are removed on the way. */
function running(tdvDir: string, kind: Kind, self?: string): Found[] {
  const dir = path.join(tdvDir, LOCKS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw asAccessError(err, dir);
  }
  const found: Found[] = [];
  for (const name of names) {
    if (!name.startsWith(`${kind}-`) || !name.endsWith(".json")) continue;
    const file = path.join(dir, name);
    if (file === self) continue;
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // withdrawn meanwhile
      throw asAccessError(err, file);
    }
    const owner = parseOwner(text);
    if (owner && !ownerAlive(owner)) {
      fs.rmSync(file, { force: true }); // a killed command's: nothing runs under it any more
      continue;
    }
    found.push({ file, owner }); // an unreadable owner counts as running: every doubt keeps gc out
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Announce a writer: returns once no gc runs, with the announcement to
 * withdraw when the objects written are named by a ref or the index (or the
 * command failed). Waits for a running gc; throws GcRunningError after
 * `waitMs`, having written nothing.
 */
export async function enterWriter(tdvDir: string, command: string, { waitMs, onWait }: WaitOptions = {}): Promise<Announcement> {
  const deadline = Date.now() + (waitMs ?? WRITER_WAIT_MS);
  let told = false;
  for (;;) {
    // while a gc is known to run, look without announcing: a waiting writer's file would make gc wait in turn
    let gcs = running(tdvDir, "gc");
    if (gcs.length === 0) {
      const mine = announce(tdvDir, "writer", command);
      try {
        gcs = running(tdvDir, "gc");
      } catch (err) {
        mine.release();
        throw err;
      }
      if (gcs.length === 0) return mine;
      mine.release(); // give way: gc may be waiting for this very file
    }
    const who = describeOwner(gcs[0]?.owner ?? null);
    if (Date.now() >= deadline) throw new GcRunningError(who, gcs[0]?.file ?? "");
    if (!told) onWait?.(`waiting for ${who} to finish garbage collection…`);
    told = true;
    await sleep(20 + Math.random() * 40);
  }
}

/**
 * Announce gc: returns once no writer runs. Throws GcRunningError when another
 * gc runs, and WritersRunningError when writers are still running after
 * `waitMs`; either way gc must delete nothing.
 */
export async function enterGc(tdvDir: string, { waitMs, onWait }: WaitOptions = {}): Promise<Announcement> {
  const deadline = Date.now() + (waitMs ?? GC_WAIT_MS);
  const mine = announce(tdvDir, "gc", "gc");
  try {
    const rival = running(tdvDir, "gc", mine.file)[0];
    if (rival) throw new GcRunningError(describeOwner(rival.owner), rival.file);
    let told = false;
    for (;;) {
      const writers = running(tdvDir, "writer");
      if (writers.length === 0) return mine;
      const who = writers.map((w) => describeOwner(w.owner));
      if (Date.now() >= deadline) throw new WritersRunningError(who, writers.map((w) => w.file));
      if (!told) onWait?.(`waiting for ${who.join(", ")} to finish before collecting garbage…`);
      told = true;
      await sleep(20 + Math.random() * 40);
    }
  } catch (err) {
    mine.release();
    throw err;
  }
}
