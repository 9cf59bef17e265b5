/**
 * Remote gc and pushes exclude each other, over objects on the remote itself,
 * so that remote gc never deletes an object a running push has uploaded or
 * found present and is about to name from a ref. This is the local protocol
 * of store/writers.ts (Dekker's: each side announces itself, then looks for
 * the other), carried to an object store:
 *
 *   push: PUT `locks/push-<id>.json`, then LIST `locks/`: a live gc there →
 *         DELETE its own, wait until that gc ends, start over;
 *   gc:   PUT `locks/gc-<id>.json`, then LIST `locks/`: another live gc → it
 *         refuses; live pushes → it waits until they end (or refuses after a
 *         while, deleting nothing).
 *
 * Both write before they list, and S3 (since December 2020), a folder, and
 * every S3-compatible server tdv targets list an object once its PUT has
 * returned: when a push and a gc start together at least one sees the other.
 * So a push's whole window (reading the remote's refs, finding what it has,
 * uploading, moving its refs) never overlaps gc's (reading the refs, marking,
 * deleting).
 *
 * A process can die holding an announcement, and another machine's process
 * cannot be asked whether it lives, so an announcement is a lease: its owner
 * re-writes it every lease/4, and the other side ignores one whose
 * LastModified is older than the lease by the store's own clock (the time of
 * the reader's own announcement in the same listing, so client clocks do not
 * matter). An owner that could not renew for lease/2 (a suspended process, a
 * stalled network) stops before its next step that could race: push before
 * moving a ref (`check`), gc before deleting.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { performance } from "node:perf_hooks";
import type { Repository } from "../repo/repository.js";
import { openBackend, type BackendOptions, type ListedObject, type ObjectBackend } from "./backend.js";
import { resolveRemote } from "./config.js";
import { RemoteGcRunningError, RemoteLeaseLostError, RemoteRequestError, RemoteWritersRunningError } from "./errors.js";

export const REMOTE_LOCKS_PREFIX = "locks/";

/** How long an announcement counts after its last renewal (env TDV_REMOTE_LEASE_MS). */
export const DEFAULT_LEASE_MS = 10 * 60_000;
/** How long a push waits for a remote gc (env TDV_GC_WAIT_MS, as for local gc). */
const WRITER_WAIT_MS = 10 * 60_000;
/** How long remote gc waits for pushes (env TDV_WRITERS_WAIT_MS, as for local gc). */
const GC_WAIT_MS = 60_000;

type Kind = "gc" | "push";

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback;
}

export function leaseMs(): number {
  return envMs("TDV_REMOTE_LEASE_MS", DEFAULT_LEASE_MS);
}

export interface RemoteAnnouncement {
  readonly key: string;
  /** the store's time when it was announced (its LastModified) */
  readonly serverTime: Date;
  /** Throws RemoteLeaseLostError when the announcement may have lapsed (not renewed for lease/2). */
  check(): void;
  /** Withdraw it (idempotent). */
  release(): Promise<void>;
}

export interface RemoteWaitOptions {
  waitMs?: number;
  onWait?: (message: string) => void;
  /** what the announcement says is running ("push", "gc") */
  command?: string;
}

interface Found extends ListedObject {
  kind: Kind;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Lease implements RemoteAnnouncement {
  private lastRenewed = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  serverTime = new Date(0);

  constructor(
    private readonly backend: ObjectBackend,
    readonly key: string,
    private readonly body: Uint8Array,
    private readonly kind: Kind,
    private readonly lease: number,
  ) {}

  /** the renewal in flight: release waits for it, so that it cannot re-create the announcement after the delete */
  private renewing: Promise<void> | null = null;

  async write(): Promise<void> {
    const started = performance.now();
    await this.backend.put(this.key, this.body);
    this.lastRenewed = started;
  }

  startRenewing(): void {
    this.timer = setInterval(() => {
      if (this.released || this.renewing) return;
      this.renewing = this.write()
        .catch(() => {}) // a failed renewal shows in check()
        .finally(() => {
          this.renewing = null;
        });
    }, Math.max(10, Math.floor(this.lease / 4)));
    this.timer.unref();
  }

  check(): void {
    const silent = performance.now() - this.lastRenewed;
    if (silent > this.lease / 2) throw new RemoteLeaseLostError(this.backend.url, this.kind, silent);
  }

  private releasing: Promise<void> | null = null;

  /** Idempotent: a second call waits for the first one's delete. */
  release(): Promise<void> {
    this.releasing ??= (async () => {
      this.released = true;
      clearInterval(this.timer);
      await this.renewing;
      await this.backend.delete(this.key).catch(() => {});
    })();
    return this.releasing;
  }
}

async function announce(backend: ObjectBackend, kind: Kind, command: string, lease: number): Promise<Lease> {
  const id = `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
  const body = new TextEncoder().encode(`${JSON.stringify({ kind, command, host: os.hostname(), pid: process.pid, started: new Date().toISOString() })}\n`);
  const l = new Lease(backend, `${REMOTE_LOCKS_PREFIX}${kind}-${id}.json`, body, kind, lease);
  await l.write();
  return l;
}

/** Every announcement on the remote, and the store's time of `own` (found in the same listing). */
async function scan(backend: ObjectBackend, own: string | null): Promise<{ found: Found[]; now: Date | null }> {
  for (let attempt = 0; ; attempt++) {
    const found: Found[] = [];
    let now: Date | null = null;
    for await (const o of backend.listObjects(REMOTE_LOCKS_PREFIX)) {
      const m = /^locks\/(gc|push)-[0-9a-z]+-[0-9a-f]+\.json$/.exec(o.key);
      if (!m) continue;
      if (o.key === own) now = o.lastModified;
      else found.push({ ...o, kind: m[1] as Kind });
    }
    if (own === null || now !== null) return { found, now };
    // the listing lacks what we just wrote: a store without list-after-write consistency cannot run this protocol
    if (attempt >= 4) throw new RemoteRequestError(backend.url, 200, "", `a listing of ${REMOTE_LOCKS_PREFIX} does not show ${own}, written just before; remote gc and push need a store that lists what it has stored`);
    await sleep(50 * 2 ** attempt);
  }
}

function live(found: Found[], kind: Kind, now: Date, lease: number): Found[] {
  return found.filter((f) => f.kind === kind && now.getTime() - f.lastModified.getTime() <= lease);
}

async function describe(backend: ObjectBackend, f: Found): Promise<string> {
  const got = await backend.get(f.key).catch(() => null);
  try {
    const b = JSON.parse(new TextDecoder().decode(got?.bytes ?? new Uint8Array())) as { command?: string; host?: string; pid?: number };
    return `tdv ${b.command ?? f.kind} (pid ${b.pid ?? "?"} on ${b.host ?? "?"}, ${f.key})`;
  } catch {
    return `tdv ${f.kind} (${f.key})`;
  }
}

/**
 * Announce a push: returns once no remote gc runs, with the announcement to
 * `check()` before moving a ref and to release at the end. Waits for a
 * running gc; throws RemoteGcRunningError after `waitMs`, having written
 * nothing but its own (withdrawn) announcement.
 */
export async function enterRemoteWriter(backend: ObjectBackend, { waitMs, onWait, command = "push" }: RemoteWaitOptions = {}): Promise<RemoteAnnouncement> {
  const lease = leaseMs();
  const deadline = Date.now() + (waitMs ?? envMs("TDV_GC_WAIT_MS", WRITER_WAIT_MS));
  let told = false;
  let skew: number | null = null; // store time - local time, once known
  for (;;) {
    let gcs: Found[] = [];
    if (skew !== null) {
      // while a gc is known to run, look without announcing: a waiting push's announcement would make gc wait in turn
      gcs = live((await scan(backend, null)).found, "gc", new Date(Date.now() + skew), lease);
    }
    if (gcs.length === 0) {
      const mine = await announce(backend, "push", command, lease);
      try {
        const { found, now } = await scan(backend, mine.key);
        mine.serverTime = now as Date;
        skew = (now as Date).getTime() - Date.now();
        gcs = live(found, "gc", now as Date, lease);
      } catch (err) {
        await mine.release();
        throw err;
      }
      if (gcs.length === 0) {
        mine.startRenewing();
        return mine;
      }
      await mine.release(); // give way: gc may be waiting for this very announcement
    }
    const first = gcs[0] as Found;
    if (Date.now() >= deadline) throw new RemoteGcRunningError(backend.url, await describe(backend, first), first.key, Math.round(lease / 60_000));
    if (!told) onWait?.(`waiting for ${await describe(backend, first)} to finish garbage collection on ${backend.url}…`);
    told = true;
    await sleep(100 + Math.random() * 200);
  }
}

/**
 * Announce a remote gc: returns once no push runs. Throws RemoteGcRunningError
 * when another gc runs and RemoteWritersRunningError when pushes still run
 * after `waitMs`; either way gc must delete nothing.
 */
export async function enterRemoteGc(backend: ObjectBackend, { waitMs, onWait, command = "gc" }: RemoteWaitOptions = {}): Promise<RemoteAnnouncement> {
  const lease = leaseMs();
  const deadline = Date.now() + (waitMs ?? envMs("TDV_WRITERS_WAIT_MS", GC_WAIT_MS));
  const mine = await announce(backend, "gc", command, lease);
  mine.startRenewing();
  try {
    let told = false;
    for (;;) {
      const { found, now } = await scan(backend, mine.key);
      if (mine.serverTime.getTime() === 0) mine.serverTime = now as Date;
      const rival = live(found, "gc", now as Date, lease)[0];
      if (rival) throw new RemoteGcRunningError(backend.url, await describe(backend, rival), rival.key, Math.round(lease / 60_000));
      const pushes = live(found, "push", now as Date, lease);
      if (pushes.length === 0) {
        mine.check();
        return mine;
      }
      if (Date.now() >= deadline) throw new RemoteWritersRunningError(backend.url, await Promise.all(pushes.map((p) => describe(backend, p))));
      if (!told) onWait?.(`waiting for ${plural(pushes.length)} to finish before collecting garbage on ${backend.url}…`);
      told = true;
      await sleep(100 + Math.random() * 200);
    }
  } catch (err) {
    await mine.release();
    throw err;
  }
}

function plural(n: number): string {
  return n === 1 ? "a push" : `${n} pushes`;
}

/**
 * Run a push announced on its remote: `fn` gets the check to call before it
 * moves the first remote ref. A read-only remote is left to `fn` (it refuses).
 */
export async function asRemoteWriter<T>(
  repo: Repository,
  opts: { remote?: string; backend?: BackendOptions },
  /**
   * `beforeRefUpdate`: to call before moving a ref (throws when the announcement may have lapsed);
   * `refsMoved`: once every ref has moved (the objects are referenced): the announcement is withdrawn
   * then, beside what the writer still does (git/info/refs), instead of after it
   */
  fn: (beforeRefUpdate: () => void, refsMoved: () => void) => Promise<T>,
): Promise<T> {
  const { url } = resolveRemote(repo, opts.remote);
  const backend = await openBackend(url, opts.backend);
  if (!backend.writable) return fn(() => {}, () => {});
  const ann = await enterRemoteWriter(backend, { ...(repo.onNotice ? { onWait: repo.onNotice } : {}) });
  try {
    return await fn(
      () => ann.check(),
      () => void ann.release(),
    );
  } finally {
    await ann.release();
  }
}
