/**
 * Group commit: committers that lost a race for a branch leave their commit
 * (a change set, its base and message: no bytes) in a queue beside the
 * branch, and one of them carries them all: it lands a chain of commits, one
 * per session, each with its own message and author, by one compare-and-swap
 * of the ref. Without it N committers on one branch land one per round trip
 * of the race (read the branch, rebase, write, move the ref), and the others'
 * work in each round is thrown away.
 *
 * Who carries: the session with the smallest id among those waiting (every
 * waiter lists the queue and knows); the others poll the branch and find
 * their commit's marker once it landed. A carrier at work beats (a number
 * beside the queue, changed every BEAT_MS); one that stalls (neither the
 * branch nor its beat moved for STALL_MS: it died, or hangs) is passed over,
 * and the next one carries its commit too. Without the beat, a carrier slowed
 * past STALL_MS on a loaded machine was passed over while it worked, by one
 * waiter after another, each starting the same work: 100 committers in their
 * own processes took minutes or did not finish. A waiter whose commit a chain passed over (a conflict in the
 * carrier's hands) commits on its own, as it would without the queue.
 *
 * Safety does not rest on the queue:
 * - each commit names its session (`Tdv-Session: ID` trailer), and a session
 *   lands only onto a tip whose first-parent history from the session's base
 *   was read and does not name it: the ref's compare-and-swap makes that
 *   history the one the chain lands on, so a session lands at most once;
 * - a carried commit's objects are checked present on the remote while the
 *   carrier holds its writer announcement (remote gc waits for it), so a
 *   chain never names an object a gc removed;
 * - a session reports failure only after withdrawing its record and reading
 *   the branch again (a carrier that read the record just before may have
 *   landed it: then it reports that commit).
 */
import { randomBytes } from "node:crypto";
import { checkEntryName, type Person } from "../format/git-object.js";
import type { GitOid } from "../format/hash.js";
import type { SnapEntry } from "../repo/snapshot.js";
import { mapLimit } from "../store/atomic.js";

/** The trailer naming the session a commit came from. */
export const SESSION_TRAILER = "Tdv-Session";
/** A carrier that has not moved the branch for this long is passed over. */
export const STALL_MS = 10_000;
/** How often a carrier at work says so (well within STALL_MS). */
export const BEAT_MS = STALL_MS / 4;
/** At most this many sessions in one chain. */
export const MAX_CARRY = 128;

/** A commit waiting to be carried (plain JSON in the queue). */
export interface PendingCommit {
  format: "tdv-pending-commit/1";
  id: string;
  branch: string;
  /** the commit its changes apply onto */
  base: GitOid | null;
  /** path → entry (null: deleted), as the session's change set names them */
  changes: [string, SnapEntry | null][];
  /** the whole message, trailers included */
  message: string;
  author: Person;
}

/** Where a branch's waiting commits are kept (a remote's `pending/`). */
export interface PendingQueue {
  publish(rec: PendingCommit): Promise<void>;
  /** the ids of the records in the queue now */
  ids(): Promise<string[]>;
  /** a record, checked as hostile input; null when gone or malformed */
  read(id: string): Promise<PendingCommit | null>;
  /** note that session `id` landed as `commit` (for its owner, who waits) */
  markLanded(id: string, commit: GitOid): Promise<void>;
  landed(id: string): Promise<GitOid | null>;
  /** the record removed (its marker, if any, stays for its owner) */
  remove(id: string): Promise<void>;
  /** the record, its marker and its beat removed (by the owner, once it knows) */
  forget(id: string): Promise<void>;
  /** session `id` is carrying: its beat is now `n` */
  beat(id: string, n: number): Promise<void>;
  /** the last beat of session `id` (null: none) */
  lastBeat(id: string): Promise<number | null>;
}

/**
 * Beat for session `id` (at once, then every BEAT_MS) while it carries;
 * the function returned stops it. A beat that cannot be written is skipped:
 * the waiters then see a stall, which costs time, never safety.
 */
export function beating(queue: PendingQueue, id: string): () => Promise<void> {
  let n = 0;
  let last = queue.beat(id, ++n).catch(() => undefined);
  const timer = setInterval(() => {
    last = queue.beat(id, ++n).catch(() => undefined);
  }, BEAT_MS);
  return async () => {
    clearInterval(timer);
    await last;
  };
}

export function newSessionId(): string {
  return randomBytes(10).toString("hex");
}

const SESSION_ID = /^[0-9a-f]{20}$/;

export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** The session a commit message names (its last `Tdv-Session:` trailer), or null. */
export function sessionOf(message: string): string | null {
  const m = /(?:^|\n)Tdv-Session: ([0-9a-f]{20})\s*$/.exec(message.trimEnd());
  return m ? (m[1] as string) : null;
}

/** A queue record parsed and checked (a remote may be hostile); null when it is not one. */
export function parsePending(bytes: Uint8Array, id: string, branch: string): PendingCommit | null {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  const r = v as Partial<PendingCommit>;
  if (r?.format !== "tdv-pending-commit/1" || r.id !== id || r.branch !== branch) return null;
  if (!(r.base === null || (typeof r.base === "string" && /^[0-9a-f]{40}$/.test(r.base)))) return null;
  if (typeof r.message !== "string" || sessionOf(r.message) !== id || !Array.isArray(r.changes)) return null;
  if (!isPerson(r.author)) return null;
  for (const c of r.changes) {
    if (!Array.isArray(c) || c.length !== 2 || typeof c[0] !== "string" || !safePath(c[0])) return null;
    const e = c[1] as Partial<SnapEntry> | null;
    if (e === null) continue;
    const ok = (e.store === "chunk" && typeof e.id === "string" && /^[0-9a-f]{64}$/.test(e.id)) || (e.store === "git" && typeof e.id === "string" && /^[0-9a-f]{40}$/.test(e.id));
    if (!ok || typeof e.size !== "number" || !Number.isSafeInteger(e.size) || e.size < 0) return null;
  }
  return r as PendingCommit;
}

function isPerson(p: unknown): p is Person {
  const q = p as Partial<Person>;
  const clean = (s: unknown) => typeof s === "string" && !/[<>\n\0]/.test(s);
  return clean(q?.name) && clean(q?.email) && Number.isSafeInteger(q?.timestamp) && Number.isInteger(q?.tzOffset) && Math.abs(q?.tzOffset as number) < 24 * 60;
}

function safePath(p: string): boolean {
  if (p === "" || p.startsWith("/")) return false;
  const parts = p.split("/");
  try {
    for (const part of parts) checkEntryName(part, "");
  } catch {
    return false;
  }
  const top = (parts[0] as string).toLowerCase();
  return top !== ".tdv" && top !== ".git";
}

/**
 * A branch's first-parent history as read so far: which session each commit
 * came from. Commits are read once.
 */
export class History {
  private readonly known = new Map<GitOid, { parent: GitOid | null; session: string | null }>();

  constructor(private readonly readCommit: (oid: GitOid) => Promise<{ parents: GitOid[]; message: string }>) {}

  /**
   * The sessions of the commits from `tip` down to (not including) `stop`
   * (null: the root), first parents only; null when `stop` is not met within
   * `limit` commits (it is not below `tip`, or too far).
   */
  async sessionsBetween(tip: GitOid | null, stop: GitOid | null, limit = 4096): Promise<Map<string, GitOid> | null> {
    const out = new Map<string, GitOid>();
    let at = tip;
    for (let n = 0; at !== stop; n++) {
      if (at === null || n >= limit) return null;
      let node = this.known.get(at);
      if (!node) {
        const c = await this.readCommit(at);
        node = { parent: c.parents[0] ?? null, session: sessionOf(c.message) };
        this.known.set(at, node);
      }
      if (node.session && !out.has(node.session)) out.set(node.session, at);
      at = node.parent;
    }
    return out;
  }
}

/** What a waiting session does next. */
export type Turn = { kind: "landed"; commit: GitOid } | { kind: "wait" } | { kind: "carry"; records: PendingCommit[] };

/** How often a waiter looks at the queue while the branch does not move (to see a carrier stall). */
const LOOK_MS = STALL_MS / 2;
/** A waiter reads the branch every PAUSE_MIN_MS at first, twice as long each time it did not move, at most PAUSE_MAX_MS (every waiter polls: the server's load stays low). */
const PAUSE_MIN_MS = 250;
const PAUSE_MAX_MS = 2000;
/** A new waiter's first look, after the others that lost the same race have queued too (so all agree whose turn it is). */
const SETTLE_MS = 500;

/**
 * One session's view of the queue while it waits: whose turn it is to carry,
 * which carriers stalled.
 */
export class Waiter {
  private readonly records = new Map<string, PendingCommit | null>();
  private readonly stalled = new Set<string>();
  /** the carrier being watched, the branch and its beat when last seen to move, and since when */
  private watching: { carrier: string; tip: GitOid | null; beat: number | null; since: number } | null = null;
  /** the branch at the last look, and when; null before the first */
  private seen: { tip: GitOid | null; at: number } | null = null;
  /** the first look waits for the others that lost the same race to queue */
  private readonly firstLook = Date.now() + SETTLE_MS;
  /** reads of the branch since it last moved (the pause grows with them) */
  private polls = 0;
  /** times the branch moved without this session's commit while it waited */
  private passedOver = 0;

  constructor(
    private readonly queue: PendingQueue,
    readonly id: string,
    /** the base of this session's record */
    readonly base: GitOid | null,
    private readonly history: History,
  ) {}

  /** Whether to look at the queue now, the branch being at `tip`: it moved, or a while passed. */
  due(tip: GitOid | null): boolean {
    if (!this.seen) return Date.now() >= this.firstLook;
    const moved = this.seen.tip !== tip;
    if (moved) this.polls = 0;
    return moved || Date.now() - this.seen.at >= LOOK_MS;
  }

  /** How long to wait before reading the branch again (jittered, growing while it does not move). */
  pause(): number {
    const ms = Math.min(PAUSE_MAX_MS, PAUSE_MIN_MS * 2 ** this.polls++);
    return Math.round(ms / 2 + Math.random() * ms);
  }

  /** Whose turn at `tip`: carry (with the records this session can carry), wait, or this session landed already. */
  async turn(tip: GitOid | null): Promise<Turn> {
    const moved = this.seen !== null && this.seen.tip !== tip;
    this.seen = { tip, at: Date.now() };
    const mark = await this.queue.landed(this.id);
    if (mark) return { kind: "landed", commit: mark };
    if (moved) this.passedOver++;
    const ids = (await this.queue.ids()).filter(isSessionId).sort();
    const live = ids.filter((i) => !this.stalled.has(i));
    const carrier = live[0] ?? this.id;
    // passed over by chains (a conflict in a carrier's hands, a record it could not read): this session commits on its own
    if (carrier !== this.id && this.passedOver < 4) {
      const beat = await this.queue.lastBeat(carrier).catch(() => null);
      const now = Date.now();
      const w = this.watching;
      if (!w || w.carrier !== carrier || w.tip !== tip || w.beat !== beat) {
        // a new carrier, or one that moved the branch or beat since the last look: at work
        this.watching = { carrier, tip, beat, since: now };
        return { kind: "wait" };
      }
      if (now - w.since <= STALL_MS) return { kind: "wait" };
      // the carrier has neither moved the branch nor beaten for a while: pass it over (the next one carries its commit too)
      this.stalled.add(carrier);
      this.watching = null;
      if (live[1] !== this.id) return { kind: "wait" };
    }
    // this session's turn: it beats at once (reading the records takes a while, and a waiter that saw no beat for
    // STALL_MS would pass it over and start the same work); did it land already (a carrier that stopped before
    // marking it), and which records can it carry
    await this.queue.beat(this.id, 0).catch(() => undefined);
    const mine = await this.history.sessionsBetween(tip, this.base);
    const own = mine?.get(this.id);
    if (own) return { kind: "landed", commit: own };
    // the records not read before, at most MAX_CARRY, read at once (16 at a time)
    const unread = ids.filter((i) => i !== this.id && !this.records.has(i)).slice(0, MAX_CARRY);
    await mapLimit(unread, 16, async (i) => {
      // another session's record that cannot be read now is left for its owner (or the next look): never this session's failure
      const rec = await this.queue.read(i).catch(() => undefined);
      if (rec !== undefined) this.records.set(i, rec);
    });
    const records: PendingCommit[] = [];
    for (const i of ids) {
      if (i === this.id || records.length >= MAX_CARRY) continue;
      const rec = this.records.get(i);
      if (!rec) continue;
      // carried only onto a history read down to its base that does not name it
      const landed = rec.base === this.base && mine ? mine : await this.history.sessionsBetween(tip, rec.base);
      if (landed && !landed.has(rec.id)) records.push(rec);
    }
    return { kind: "carry", records };
  }

  /** This session's commit landed: its record and marker are removed. */
  async done(): Promise<void> {
    await this.queue.forget(this.id).catch(() => undefined);
  }
}
