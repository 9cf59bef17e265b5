/**
 * Staged write sessions on a remote: the change sets workers upload with
 * `tdv stage`, gathered into one commit by `tdv commit --session`.
 *
 *   sessions/ID/session.json          {"format": "tdv-staged-session/1", id, branch, base, created}
 *                                     written once (If-None-Match: *) by the first stage:
 *                                     every worker of the session stages onto this base
 *   sessions/ID/sets/WORKER.json      a worker's change set (session/write.ts's ChangeSet:
 *                                     paths and object ids, no bytes), written once
 *                                     (If-None-Match: *): two workers never overwrite each other
 *
 * The objects a change set names (chunk objects under chunks/, metadata
 * documents as Git blobs under git/objects/) are uploaded before it is
 * written. Remote gc keeps them while the session is registered and younger
 * than gc's grace period (the newest of its registry files, by the store's
 * clock); `tdv session drop` removes the registry, leaving the objects to gc.
 */
import { CorruptObjectError, UsageError } from "../errors.js";
import { isChunkId, isGitOid, type GitOid } from "../format/hash.js";
import { TDV_VERSION } from "../format/version.js";
import type { ChangeSet, SessionChange } from "../session/write.js";
import { PreconditionFailedError, StagedChangeSetExistsError, StagedSessionMismatchError, StagedSessionNotFoundError } from "./errors.js";
import type { RemoteRepo } from "./layout.js";
import { mapSettled } from "./transfer.js";

export const SESSIONS_PREFIX = "sessions/";

/** What the first stage of a session records: the branch and the base every change set is written on. */
export interface StagedSessionRecord {
  format: "tdv-staged-session/1";
  id: string;
  branch: string;
  base: GitOid | null;
  /** when it was started, by the stager's clock (ISO) */
  created: string;
  createdBy: string;
}

/** A change set as staged: session/write.ts's ChangeSet, with who staged it and its totals. */
export interface StagedChangeSet extends ChangeSet {
  session: string;
  worker: string;
  /** objects (chunk objects and blobs) the change set names, and their bytes */
  objects: number;
  bytes: number;
  stagedBy: string;
}

export interface StagedSessionInfo {
  id: string;
  branch: string;
  base: GitOid | null;
  changeSets: number;
  workers: string[];
  /** distinct objects named by the change sets, and their bytes */
  objects: number;
  bytes: number;
  /** when the registry was last written, by the store's clock (ISO) */
  updated: string;
  /** seconds since `updated`, by this machine's clock */
  ageSeconds: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A session id or worker name: [A-Za-z0-9._-], 1 to 128 characters, not "." or "..", no "..". */
export function checkSessionId(id: string, what = "session id"): void {
  if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(id) || id.includes("..") || id === ".") {
    throw new UsageError(`'${String(id).slice(0, 80)}' is not a valid ${what}`, { hint: `a ${what} is 1 to 128 of A-Z a-z 0-9 . _ - (no '..'), e.g. era5-2026-03` });
  }
}

export function sessionKey(id: string): string {
  return `${SESSIONS_PREFIX}${id}/session.json`;
}

export function changeSetKey(id: string, worker: string): string {
  return `${SESSIONS_PREFIX}${id}/sets/${worker}.json`;
}

function parseJson<T>(bytes: Uint8Array, where: string): T {
  try {
    return JSON.parse(dec.decode(bytes)) as T;
  } catch {
    throw new CorruptObjectError(where, "not valid JSON");
  }
}

function checkRecord(r: StagedSessionRecord, id: string, where: string): StagedSessionRecord {
  if (r?.format !== "tdv-staged-session/1" || r.id !== id || typeof r.branch !== "string" || (r.base !== null && !isGitOid(String(r.base)))) {
    throw new CorruptObjectError(where, "not a staged-session record of this session");
  }
  return r;
}

/** The session's record, or null when no stage started it. */
export async function readSessionRecord(remote: RemoteRepo, id: string): Promise<StagedSessionRecord | null> {
  checkSessionId(id);
  const got = await remote.backend.get(sessionKey(id));
  if (!got) return null;
  const where = `${remote.url}/${sessionKey(id)}`;
  return checkRecord(parseJson<StagedSessionRecord>(got.bytes, where), id, where);
}

/**
 * The session's record, written now when this is its first stage (`branch`,
 * and `base()` called to find the base: the branch's tip unless pinned). Two
 * first stages racing: one writes it, the other reads the winner's. An
 * existing session on another branch, or another base than `pinned`, is
 * refused (StagedSessionMismatchError).
 */
export async function ensureSession(remote: RemoteRepo, id: string, branch: string, base: () => Promise<GitOid | null>, pinned: boolean): Promise<{ record: StagedSessionRecord; created: boolean }> {
  checkSessionId(id);
  let record = await readSessionRecord(remote, id);
  let created = false;
  if (!record) {
    const mine: StagedSessionRecord = { format: "tdv-staged-session/1", id, branch, base: await base(), created: new Date().toISOString(), createdBy: `tdv ${TDV_VERSION}` };
    try {
      await remote.backend.put(sessionKey(id), enc.encode(`${JSON.stringify(mine, null, 2)}\n`), { ifNoneMatch: "*" });
      record = mine;
      created = true;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      record = await readSessionRecord(remote, id);
      if (!record) throw err;
    }
  }
  if (record.branch !== branch) throw new StagedSessionMismatchError(remote.url, id, `was started on branch ${record.branch}, not ${branch}`);
  if (pinned && !created) {
    const want = await base();
    if (want !== record.base) throw new StagedSessionMismatchError(remote.url, id, `stages onto ${record.base?.slice(0, 10) ?? "(no commit)"}, not ${want?.slice(0, 10) ?? "(no commit)"}`);
  }
  return { record, created };
}

/** Write a worker's change set, once: a second one of the same worker name is refused. */
export async function writeChangeSet(remote: RemoteRepo, set: StagedChangeSet): Promise<string> {
  checkSessionId(set.session);
  checkSessionId(set.worker, "worker name");
  const key = changeSetKey(set.session, set.worker);
  try {
    await remote.backend.put(key, enc.encode(`${JSON.stringify(set)}\n`), { ifNoneMatch: "*" });
  } catch (err) {
    if (err instanceof PreconditionFailedError) throw new StagedChangeSetExistsError(remote.url, set.session, set.worker);
    throw err;
  }
  return key;
}

function checkChangeSet(s: StagedChangeSet, where: string): StagedChangeSet {
  const ok =
    s?.format === "tdv-change-set/1" &&
    Array.isArray(s.changes) &&
    s.changes.every(
      (c: SessionChange) =>
        typeof c?.path === "string" &&
        (("deleted" in c && c.deleted === true) || ("store" in c && ((c.store === "chunk" && isChunkId(String(c.id))) || (c.store === "git" && isGitOid(String(c.id)))) && Number.isSafeInteger(c.size) && c.size >= 0)),
    );
  if (!ok) throw new CorruptObjectError(where, "not a change set (tdv-change-set/1 with valid object ids)");
  return s;
}

export interface StagedSession {
  record: StagedSessionRecord;
  sets: StagedChangeSet[];
  /** the newest registry file's time, by the store's clock */
  updated: Date;
}

/** A session's record and every change set staged so far (sorted by worker); StagedSessionNotFoundError when there is none. */
export async function readSession(remote: RemoteRepo, id: string, concurrency = 16): Promise<StagedSession> {
  checkSessionId(id);
  const listed: { key: string; lastModified: Date }[] = [];
  for await (const o of remote.backend.listObjects(`${SESSIONS_PREFIX}${id}/`)) listed.push({ key: o.key, lastModified: o.lastModified });
  const record = await readSessionRecord(remote, id);
  if (!record) throw new StagedSessionNotFoundError(remote.url, id);
  const setKeys = listed.filter((o) => /^sessions\/[^/]+\/sets\/[A-Za-z0-9._-]+\.json$/.test(o.key)).sort((a, b) => (a.key < b.key ? -1 : 1));
  const sets = (
    await mapSettled(setKeys, concurrency, async (o) => {
      const got = await remote.backend.get(o.key);
      if (!got) return null; // dropped meanwhile
      const where = `${remote.url}/${o.key}`;
      return checkChangeSet(parseJson<StagedChangeSet>(got.bytes, where), where);
    })
  ).filter((s): s is StagedChangeSet => s !== null);
  const updated = new Date(Math.max(0, ...listed.map((o) => o.lastModified.getTime())));
  return { record, sets, updated };
}

/** Distinct objects named by change sets, and their bytes. */
export function stagedTotals(sets: readonly ChangeSet[]): { objects: number; bytes: number } {
  const seen = new Map<string, number>();
  for (const s of sets) for (const c of s.changes) if ("store" in c) seen.set(`${c.store}:${c.id}`, c.size);
  let bytes = 0;
  for (const n of seen.values()) bytes += n;
  return { objects: seen.size, bytes };
}

/** The ids of the sessions registered on the remote. */
async function sessionIds(remote: RemoteRepo): Promise<string[]> {
  const ids = new Set<string>();
  for await (const key of remote.backend.list(SESSIONS_PREFIX)) {
    const m = /^sessions\/([A-Za-z0-9._-]{1,128})\//.exec(key);
    if (m && !(m[1] as string).includes("..")) ids.add(m[1] as string);
  }
  return [...ids].sort();
}

/** Every staged session on the remote, with its totals (a session whose record is gone, being dropped, is left out). */
export async function listSessions(remote: RemoteRepo, now = new Date()): Promise<StagedSessionInfo[]> {
  const out: StagedSessionInfo[] = [];
  for (const id of await sessionIds(remote)) {
    let s: StagedSession;
    try {
      s = await readSession(remote, id);
    } catch (err) {
      if (err instanceof StagedSessionNotFoundError) continue;
      throw err;
    }
    const t = stagedTotals(s.sets);
    out.push({
      id,
      branch: s.record.branch,
      base: s.record.base,
      changeSets: s.sets.length,
      workers: s.sets.map((x) => x.worker),
      ...t,
      updated: s.updated.toISOString(),
      ageSeconds: Math.max(0, Math.round((now.getTime() - s.updated.getTime()) / 1000)),
    });
  }
  return out;
}

/**
 * Remove a session's registry (its change sets first, its record last); the
 * objects stay for remote gc. StagedSessionNotFoundError when there is none.
 */
export async function dropSession(remote: RemoteRepo, id: string): Promise<{ id: string; changeSets: number }> {
  checkSessionId(id);
  const keys: string[] = [];
  for await (const key of remote.backend.list(`${SESSIONS_PREFIX}${id}/`)) keys.push(key);
  if (keys.length === 0) throw new StagedSessionNotFoundError(remote.url, id);
  const sets = keys.filter((k) => k !== sessionKey(id));
  await mapSettled(sets, 16, (k) => remote.backend.delete(k));
  await remote.backend.delete(sessionKey(id));
  return { id, changeSets: sets.filter((k) => k.endsWith(".json")).length };
}

/**
 * For remote gc: the objects staged sessions name, kept while the session is
 * younger than `cutoff` (its newest registry file written after it; null:
 * every session is live), and the sessions older than it (their registries
 * are removed by gc with their objects). A change set gc cannot read stops
 * gc (it cannot tell what it names): the problem is returned.
 */
export async function stagedObjects(remote: RemoteRepo, cutoff: Date | null): Promise<{ git: Set<string>; chunks: Set<string>; live: string[]; expired: string[]; problems: string[] }> {
  const byId = new Map<string, { keys: string[]; newest: number }>();
  for await (const o of remote.backend.listObjects(SESSIONS_PREFIX)) {
    const m = /^sessions\/([^/]+)\//.exec(o.key);
    if (!m) continue;
    const e = byId.get(m[1] as string) ?? { keys: [], newest: 0 };
    e.keys.push(o.key);
    e.newest = Math.max(e.newest, o.lastModified.getTime());
    byId.set(m[1] as string, e);
  }
  const out = { git: new Set<string>(), chunks: new Set<string>(), live: [] as string[], expired: [] as string[], problems: [] as string[] };
  for (const [id, e] of [...byId].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (cutoff !== null && e.newest <= cutoff.getTime()) {
      out.expired.push(id);
      continue;
    }
    out.live.push(id);
    for (const key of e.keys.filter((k) => /\/sets\/[^/]+\.json$/.test(k))) {
      const got = await remote.backend.get(key);
      if (!got) continue;
      try {
        const set = checkChangeSet(parseJson<StagedChangeSet>(got.bytes, key), key);
        for (const c of set.changes) if ("store" in c) (c.store === "git" ? out.git : out.chunks).add(c.id);
      } catch (err) {
        out.problems.push(`staged change set ${key} cannot be read (${(err as Error).message}); drop the session with \`tdv session drop --remote REMOTE ${id}\``);
      }
    }
  }
  return out;
}

/** Remove the registry files of sessions (gc, for those past the grace period). */
export async function removeSessionFiles(remote: RemoteRepo, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (const id of ids) {
    const keys: string[] = [];
    for await (const key of remote.backend.list(`${SESSIONS_PREFIX}${id}/`)) keys.push(key);
    await mapSettled(keys, 16, (k) => remote.backend.delete(k));
    n += keys.length;
  }
  return n;
}
