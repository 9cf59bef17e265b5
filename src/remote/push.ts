/**
 * Push: make the remote hold what local branches and tags reach, then move
 * its refs.
 *
 * 1. Read the remote's refs (a listing of git/refs/, never of the bucket).
 * 2. Decide each ref's fate locally: new, fast-forward (the remote commit is
 *    an ancestor of ours), up to date, or rejected (non-fast-forward, unless
 *    --force).
 * 3. What the remote lacks, from the commit graph: every object reachable
 *    from the remote's ref tips that we know is there (a remote ref only ever
 *    names complete history); the walk from our tips stops at those commits,
 *    and objects in the remote tips' snapshots are skipped. Only when a remote
 *    tip is unknown here are the remaining objects HEAD-checked.
 * 4. Upload the missing chunks and Git objects in parallel (bounded), each
 *    written whole (S3 PUT, or temp + rename).
 * 5. Only then move each remote ref with a conditional write: If-None-Match: *
 *    to create, If-Match: <ETag as read> to move. A ref that moved meanwhile
 *    is a non-fast-forward (unless --force).
 */
import { RefNotFoundError, UsageError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { isAncestor } from "../repo/log.js";
import type { Repository } from "../repo/repository.js";
import { peelObject } from "../repo/revision.js";
import { walkReachable } from "../repo/walk.js";
import type { BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { InfoRefsNotUpdatedError, NonFastForwardError, ReadOnlyRemoteError } from "./errors.js";
import { encodeLoose, type GitType } from "./git-objects.js";
import { chunkKey, gitObjectKey, RemoteRepo, type RemoteRef } from "./layout.js";
import { asRemoteWriter } from "./remote-writers.js";
import { addCount, mapSettled, meter, zeroCounts, type OnTransferProgress, type TransferCounts } from "./transfer.js";

export interface PushOptions {
  /** a remote name or URL (default: origin, or the only remote) */
  remote?: string;
  /** branches or tags (short or full names); default: the current branch */
  refs?: string[];
  /** push every tag as well */
  tags?: boolean;
  /** move remote refs even when that drops commits from them */
  force?: boolean;
  /** requests in flight (default 16) */
  concurrency?: number;
  onProgress?: OnTransferProgress;
  backend?: BackendOptions;
  /** called before the first remote ref moves (throws to stop the push there) */
  beforeRefUpdate?: () => void;
}

export type RefStatus = "created" | "fast-forward" | "forced" | "up-to-date" | "rejected";

export interface RefUpdate {
  ref: string;
  /** the remote's value before (null: it did not exist) */
  old: GitOid | null;
  new: GitOid;
  status: RefStatus;
}

export interface PushResult {
  remote: string | null;
  url: string;
  refs: RefUpdate[];
  uploaded: TransferCounts;
  /** objects the pushed commits need that the remote already had (bytes: chunks only) */
  skipped: { objects: number; bytes: number };
  /** objects HEAD-checked because a remote tip was unknown here */
  checked: number;
}

interface Upload {
  kind: "chunk" | "git";
  key: string;
  size: number;
  id: string;
  gitType?: GitType;
}

export function push(repo: Repository, opts?: Parameters<typeof _push>[1]): ReturnType<typeof _push> {
  // announced on the remote for its whole run, so that a remote gc never races it (remote-writers.ts)
  return repo.writing("push", () => asRemoteWriter(repo, opts ?? {}, (beforeRefUpdate) => _push(repo, { ...opts, beforeRefUpdate })));
}

async function _push(repo: Repository, opts: PushOptions = {}): Promise<PushResult> {
  const { force = false, concurrency = 16, onProgress } = opts;
  const { name, url } = resolveRemote(repo, opts.remote);
  const label = name ?? url;
  const remote = await RemoteRepo.open(url, opts.backend);
  if (!remote.backend.writable) throw new ReadOnlyRemoteError(url);

  const localRefs = await refsToPush(repo, opts);
  await remote.readConfig(); // refuses a newer format before anything is written
  const remoteRefs = await remote.listRefs();

  // 2. each ref's fate
  const updates: (RefUpdate & { expected: RemoteRef | null })[] = [];
  for (const [ref, oid] of localRefs) {
    const r = remoteRefs.get(ref) ?? null;
    let status: RefStatus;
    if (!r) status = "created";
    else if (r.oid === oid) status = "up-to-date";
    else if (!ref.startsWith("refs/tags/") && (await isFastForward(repo, r.oid, oid))) status = "fast-forward";
    else status = force ? "forced" : "rejected";
    updates.push({ ref, old: r?.oid ?? null, new: oid, status, expected: r });
  }
  const moving = updates.filter((u) => u.status !== "up-to-date" && u.status !== "rejected");

  // 3. what the remote lacks
  const haveTips: GitOid[] = [];
  let unsure = false;
  for (const r of new Set([...remoteRefs.values()].map((x) => x.oid))) {
    if (await repo.git.typeOf(r)) {
      haveTips.push(r);
      const peeled = await peelObject(repo, r);
      if (peeled.oid !== r) haveTips.push(peeled.oid);
    } else unsure = true;
  }
  const haveObjects = new Set<string>();
  if (moving.length > 0 && haveTips.length > 0) {
    await walkReachable(repo, { roots: haveTips, history: false }, { git: (oid) => void haveObjects.add(oid), chunk: (id) => void haveObjects.add(id) });
  }
  const uploads: Upload[] = [];
  const skipped = { objects: 0, bytes: 0 };
  if (moving.length > 0) {
    await walkReachable(
      repo,
      { roots: [...new Set(moving.map((u) => u.new))], haveCommits: new Set(haveTips) },
      {
        git: (oid, type) => {
          if (haveObjects.has(oid)) skipped.objects++;
          else uploads.push({ kind: "git", key: gitObjectKey(oid), size: 0, id: oid, gitType: type });
        },
        chunk: (id, size) => {
          if (haveObjects.has(id)) {
            skipped.objects++;
            skipped.bytes += size;
          } else uploads.push({ kind: "chunk", key: chunkKey(id), size, id });
        },
      },
    );
  }
  let checked = 0;
  let todo = uploads;
  if (unsure && uploads.length > 0) {
    const present = await mapSettled(uploads, concurrency, async (u) => (await remote.backend.head(u.key)) !== null);
    checked = uploads.length;
    todo = uploads.filter((u, i) => {
      if (!present[i]) return true;
      skipped.objects++;
      if (u.kind === "chunk") skipped.bytes += u.size;
      return false;
    });
  }

  // 4. upload
  const uploaded = zeroCounts();
  if (moving.length > 0) await remote.ensureConfig();
  if (todo.length > 0) {
    // Git objects are small: encode them first so the totals are exact
    const gitBytes = new Map<string, Uint8Array>();
    await mapSettled(
      todo.filter((u) => u.kind === "git"),
      concurrency,
      async (u) => {
        const o = await repo.git.readObject(u.id as GitOid, `${u.gitType} ${u.id}`);
        const bytes = encodeLoose(o.type as GitType, o.content);
        gitBytes.set(u.id, bytes);
        u.size = bytes.byteLength;
      },
    );
    const m = meter(onProgress, "uploading", todo.length, todo.reduce((s, u) => s + u.size, 0));
    // chunks first: a remote interrupted mid-push then holds data, not dangling metadata
    const ordered = [...todo.filter((u) => u.kind === "chunk"), ...todo.filter((u) => u.kind === "git")];
    await mapSettled(ordered, concurrency, async (u) => {
      const bytes = u.kind === "git" ? (gitBytes.get(u.id) as Uint8Array) : await repo.chunks.get(u.id as ChunkId);
      await remote.backend.put(u.key, bytes, u.kind === "chunk" ? { contentSha256: u.id } : {});
      addCount(uploaded, u.kind, bytes.byteLength);
      m.add(bytes.byteLength);
    });
  }

  // 5. move the refs, each by compare-and-swap
  if (moving.length > 0) opts.beforeRefUpdate?.();
  const rejected: RefUpdate[] = updates.filter((u) => u.status === "rejected");
  const done: RefUpdate[] = [];
  /** refs another push moved while this one ran: the value they had */
  const raced = new Map<string, GitOid | null>();
  for (const u of moving) {
    const was = u.old;
    const ok = await casRef(repo, remote, u, force);
    if (ok) done.push(strip(u));
    else {
      raced.set(u.ref, was);
      rejected.push({ ...strip(u), status: "rejected" });
    }
  }
  const firstBranch = done.find((u) => u.ref.startsWith("refs/heads/"));
  if (firstBranch) await remote.ensureHead(firstBranch.ref);
  // also when nothing moved: a git/info/refs left stale (an interrupted push) is rewritten;
  // when it cannot be, that is said after the tracking refs follow and after any rejection
  const infoRefs = await remote.updateInfoRefs().then(
    () => null,
    (err: unknown) => {
      if (err instanceof InfoRefsNotUpdatedError) return err;
      throw err;
    },
  );

  // remote-tracking refs follow what the remote now holds
  if (name) {
    const landed = new Set([...done.map((d) => d.ref), ...updates.filter((x) => x.status === "up-to-date").map((x) => x.ref)]);
    for (const u of updates) {
      if (!u.ref.startsWith("refs/heads/") || !landed.has(u.ref)) continue;
      const tracking = `refs/remotes/${name}/${u.ref.slice("refs/heads/".length)}`;
      const cur = await repo.refs.read(tracking);
      if (cur !== u.new) await repo.refs.update(tracking, { expected: cur, next: u.new, who: repo.identity(), message: "update by push" });
    }
  }

  const result: PushResult = {
    remote: name,
    url,
    refs: updates.map((u) => rejected.find((r) => r.ref === u.ref) ?? done.find((d) => d.ref === u.ref) ?? strip(u)),
    uploaded,
    skipped,
    checked,
  };
  if (rejected.length > 0) {
    throw new NonFastForwardError(
      label,
      rejected.map((r) => ({ ref: r.ref, remote: r.old, local: r.new, ...(raced.has(r.ref) ? { raced: true, was: raced.get(r.ref) ?? null } : {}) })),
      result.refs.filter((r) => r.status !== "rejected"),
    );
  }
  if (infoRefs) throw infoRefs;
  return result;
}

function strip(u: RefUpdate & { expected?: unknown }): RefUpdate {
  return { ref: u.ref, old: u.old, new: u.new, status: u.status };
}

/**
 * Move one remote ref by compare-and-swap (RemoteRepo.moveRef). Found moved
 * by another push: it moves over that value only with `force` or when ours
 * is a fast-forward from it. Returns false when rejected; `u.old` is then
 * what was found, `u.old` of a move the value it replaced.
 */
async function casRef(repo: Repository, remote: RemoteRepo, u: RefUpdate & { expected: RemoteRef | null }, force: boolean): Promise<boolean> {
  const r = await remote.moveRef(u.ref, u.new, u.expected, async (now) => force || now === null || (!u.ref.startsWith("refs/tags/") && (await isFastForward(repo, now.oid, u.new))));
  u.old = r.moved ? r.old : (r.now?.oid ?? null);
  return r.moved;
}

async function isFastForward(repo: Repository, remoteOid: GitOid, localOid: GitOid): Promise<boolean> {
  if (!(await repo.git.typeOf(remoteOid))) return false; // work we do not have: `tdv pull` first
  const from = await peelObject(repo, remoteOid);
  const to = await peelObject(repo, localOid);
  if (from.type !== "commit" || to.type !== "commit") return false;
  return isAncestor(repo, from.oid, to.oid);
}

/** Full ref name → local value, for the refs a push names. */
async function refsToPush(repo: Repository, opts: PushOptions): Promise<Map<string, GitOid>> {
  const out = new Map<string, GitOid>();
  const names = opts.refs ?? [];
  if (names.length === 0 && !opts.tags) {
    const head = await repo.refs.head();
    if (!head.branch) throw new UsageError("HEAD is detached: which branch to push?", { hint: "name it: `tdv push origin BRANCH`" });
    if (!head.oid) throw new UsageError(`branch ${head.branch.replace("refs/heads/", "")} has no commits yet`, { hint: "commit first: `tdv commit -m ...`" });
    out.set(head.branch, head.oid);
  }
  for (const n of names) {
    const candidates = n.startsWith("refs/") ? [n] : [`refs/heads/${n}`, `refs/tags/${n}`];
    let found = false;
    for (const ref of candidates) {
      const oid = await repo.refs.read(ref).catch(() => null);
      if (oid) {
        out.set(ref, oid);
        found = true;
        break;
      }
    }
    if (!found) throw new RefNotFoundError(n, "`tdv branch --list` and `tdv tag --list` show what can be pushed");
  }
  if (opts.tags) for (const [ref, oid] of await repo.refs.list("refs/tags/")) out.set(ref, oid);
  return out;
}
