/**
 * Remote gc (`tdv remote gc NAME`): delete the objects on a remote that no
 * remote ref needs (what interrupted or rejected pushes left), once they are
 * older than the grace period.
 *
 * 1. Announce itself and wait until no push runs (remote-writers.ts); pushes
 *    that start meanwhile wait for gc. Its announcement's LastModified is
 *    "now" by the store's clock: the grace period is measured against the
 *    store's times, never against this machine's clock.
 * 2. Read every ref object under git/refs/ and walk the graph (Git objects
 *    from this repository when it has them, else downloaded and verified).
 *    A ref that holds no id, or an object a ref needs that is missing or
 *    damaged, stops gc before it deletes anything.
 * 3. List git/objects/ and chunks/ with sizes and times; delete each object
 *    that is not reachable and whose LastModified is at or before the cutoff.
 *    Before each deletion gc checks that its announcement still holds.
 *    Objects that staged sessions' change sets name (sessions.ts) are kept
 *    while the session is younger than the cutoff; the registries of older
 *    sessions are removed.
 *
 * Why a push cannot lose an object to it is argued in docs/decisions.md
 * ("Remote gc beside pushers").
 */
import { isChunkId, isGitOid } from "../format/hash.js";
import { DEFAULT_PRUNE, parsePrune } from "../repo/revision.js";
import type { Repository } from "../repo/repository.js";
import type { BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { ReadOnlyRemoteError, RemoteGcRefusedError } from "./errors.js";
import { RemoteRepo } from "./layout.js";
import { removeSessionFiles, stagedObjects } from "./sessions.js";
import { enterRemoteGc, type RemoteAnnouncement } from "./remote-writers.js";
import { readRemoteRoots, walkRemote, type WalkProblem } from "./remote-walk.js";
import { mapSettled, meter, type OnTransferProgress } from "./transfer.js";
import { PENDING_PREFIX } from "./remote-write.js";

export interface RemoteGcOptions {
  /** a remote name (needs `repo`) or URL; default: origin, or the only remote */
  remote?: string;
  /** delete unreachable objects older than this (as `tdv gc --prune`; default 2.weeks.ago, measured by the store's clock) */
  prune?: Date | string;
  /** report what would be deleted; delete nothing (and announce nothing) */
  dryRun?: boolean;
  concurrency?: number;
  onProgress?: OnTransferProgress;
  /** told when gc waits for pushes */
  onNotice?: (message: string) => void;
  /** how long to wait for running pushes before refusing (default TDV_WRITERS_WAIT_MS or 60 s) */
  waitMs?: number;
  backend?: BackendOptions;
}

export interface GcCounts {
  gitObjects: number;
  chunks: number;
  bytes: number;
}

export interface RemoteGcResult {
  remote: string | null;
  url: string;
  dryRun: boolean;
  /** the store's time when gc started (ISO) */
  serverTime: string;
  /** unreachable objects last written at or before this were deleted (ISO); null with --prune=never */
  cutoff: string | null;
  refs: string[];
  removed: GcCounts;
  /** unreachable objects kept because they are younger than the cutoff */
  recent: GcCounts;
  reachable: GcCounts;
  /** unreachable objects kept because a staged session younger than the cutoff names them */
  staged: GcCounts;
  /** staged sessions kept (younger than the cutoff), and those whose registry was removed (or would be) */
  sessions: { kept: string[]; removed: string[] };
  /** records of write sessions' queued commits (group commit) kept (younger than the cutoff), and removed (or that would be) */
  queued: { kept: number; removed: number };
  /** keys removed (or that would be, with dryRun) */
  removedKeys: string[];
}

export async function remoteGc(repo: Repository | null, opts: RemoteGcOptions = {}): Promise<RemoteGcResult> {
  const { concurrency = 16, onProgress, dryRun = false } = opts;
  const { name, url } = repo ? resolveRemote(repo, opts.remote) : { name: null, url: opts.remote ?? "" };
  const remote = await RemoteRepo.open(url, opts.backend);
  if (!remote.backend.writable) throw new ReadOnlyRemoteError(url);
  await remote.requireConfig();
  parsePrune(opts.prune ?? DEFAULT_PRUNE); // a bad --prune fails before anything is announced

  let ann: RemoteAnnouncement | null = null;
  if (!dryRun) {
    ann = await enterRemoteGc(remote.backend, { ...(opts.waitMs === undefined ? {} : { waitMs: opts.waitMs }), ...(opts.onNotice ? { onWait: opts.onNotice } : {}) });
  }
  try {
    const now = ann ? ann.serverTime : new Date();
    const cutoff = parsePrune(opts.prune ?? DEFAULT_PRUNE, now);
    return await collect(repo, remote, { name, url, cutoff, now, dryRun, concurrency, onProgress, ann });
  } finally {
    await ann?.release();
  }
}

async function collect(
  repo: Repository | null,
  remote: RemoteRepo,
  o: { name: string | null; url: string; cutoff: Date | null; now: Date; dryRun: boolean; concurrency: number; onProgress: OnTransferProgress | undefined; ann: RemoteAnnouncement | null },
): Promise<RemoteGcResult> {
  const refused: string[] = [];
  const { roots, problems: refProblems } = await readRemoteRoots(remote);
  for (const p of refProblems) refused.push(`ref ${p.ref} ${p.detail}`);
  if (refused.length > 0) throw new RemoteGcRefusedError(o.url, refused);

  const graph = await walkRemote(remote, {
    roots,
    local: repo,
    concurrency: o.concurrency,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    onProblem: (p: WalkProblem) => void refused.push(`${p.type} ${p.id} (needed by ${p.ref}${p.path ? ` at ${p.path}` : ""}) is ${p.kind === "missing" ? "missing" : `damaged: ${p.detail}`}`),
  });
  if (refused.length > 0) throw new RemoteGcRefusedError(o.url, refused);
  const staged = await stagedObjects(remote, o.cutoff);
  refused.push(...staged.problems);
  if (refused.length > 0) throw new RemoteGcRefusedError(o.url, refused);

  const result: RemoteGcResult = {
    remote: o.name,
    url: o.url,
    dryRun: o.dryRun,
    serverTime: o.now.toISOString(),
    cutoff: o.cutoff ? o.cutoff.toISOString() : null,
    refs: [...roots.keys()],
    removed: { gitObjects: 0, chunks: 0, bytes: 0 },
    recent: { gitObjects: 0, chunks: 0, bytes: 0 },
    reachable: { gitObjects: 0, chunks: 0, bytes: 0 },
    staged: { gitObjects: 0, chunks: 0, bytes: 0 },
    sessions: { kept: staged.live, removed: staged.expired },
    queued: { kept: 0, removed: 0 },
    removedKeys: [],
  };
  const doomed: { key: string; kind: "gitObjects" | "chunks"; size: number }[] = [];
  const seen = { git: new Set<string>(), chunks: new Set<string>() };
  for (const [prefix, kind] of [
    ["git/objects/", "gitObjects"],
    ["chunks/", "chunks"],
  ] as const) {
    for await (const obj of remote.backend.listObjects(prefix)) {
      const m = /^(?:git\/objects|chunks)\/([0-9a-f]{2})\/([0-9a-f]+)$/.exec(obj.key);
      const id = m ? `${m[1]}${m[2]}` : "";
      if (!(kind === "gitObjects" ? isGitOid(id) : isChunkId(id))) continue; // not an object tdv wrote: left alone
      const reachable = kind === "gitObjects" ? graph.git.has(id as never) : graph.chunks.has(id as never);
      if (reachable) {
        (kind === "gitObjects" ? seen.git : seen.chunks).add(id);
        result.reachable[kind]++;
        result.reachable.bytes += obj.size;
      } else if (kind === "gitObjects" ? staged.git.has(id) : staged.chunks.has(id)) {
        result.staged[kind]++;
        result.staged.bytes += obj.size;
      } else if (o.cutoff !== null && obj.lastModified.getTime() <= o.cutoff.getTime()) {
        doomed.push({ key: obj.key, kind, size: obj.size });
      } else {
        result.recent[kind]++;
        result.recent.bytes += obj.size;
      }
    }
  }
  // what a ref needs must be there: a graph read from this repository is checked against the listing
  for (const [id, need] of graph.git) if (!seen.git.has(id)) refused.push(`Git object ${id} (needed by ${need.ref}) is missing`);
  for (const [id, need] of graph.chunks) if (!seen.chunks.has(id)) refused.push(`chunk ${id} (needed by ${need.ref} at ${need.path}) is missing`);
  if (refused.length > 0) throw new RemoteGcRefusedError(o.url, refused);

  doomed.sort((a, b) => (a.key < b.key ? -1 : 1));
  const m = meter(o.onProgress, o.dryRun ? "finding garbage" : "deleting", doomed.length, doomed.reduce((s, d) => s + d.size, 0));
  await mapSettled(doomed, o.concurrency, async (d) => {
    if (!o.dryRun) {
      o.ann?.check();
      await remote.backend.delete(d.key);
    }
    result.removed[d.kind]++;
    result.removed.bytes += d.size;
    result.removedKeys.push(d.key);
    m.add(d.size);
  });
  // a queued commit's record outlives its session only when the session died before a carrier took it: gc holds
  // every session off while it runs, so none waits on these; removed once as old as other garbage
  const queued: string[] = [];
  for await (const obj of remote.backend.listObjects(PENDING_PREFIX)) {
    if (o.cutoff !== null && obj.lastModified.getTime() <= o.cutoff.getTime()) queued.push(obj.key);
    else result.queued.kept++;
  }
  result.queued.removed = queued.length;
  result.removedKeys.push(...queued);
  if (!o.dryRun) {
    await mapSettled(queued, o.concurrency, async (key) => {
      o.ann?.check();
      await remote.backend.delete(key);
    });
  }
  result.removedKeys.sort();
  if (!o.dryRun && staged.expired.length > 0) {
    o.ann?.check();
    await removeSessionFiles(remote, staged.expired);
  }
  return result;
}
