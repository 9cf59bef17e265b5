/**
 * Push: make the remote hold what local branches and tags reach, then move
 * its refs.
 *
 * 1. Read the remote's refs (a listing of git/refs/, never of the bucket).
 * 2. Decide each ref's fate locally: new, fast-forward (the remote commit is
 *    an ancestor of ours), up to date, or rejected (non-fast-forward, unless
 *    --force).
 * 3. Negotiate (negotiate.ts): the remote has everything its refs reach; the
 *    objects to send are those reachable from the pushed commits and not
 *    from the remote's, found from the commit graph and snapshot diffs, so
 *    the work follows the size of what is new.
 * 4. Ask the remote which of those it already holds (probe.ts: a listing or
 *    HEADs, whichever is cheaper): an interrupted push left them there, and
 *    they are not sent again. With `verify`, every object the pushed refs
 *    reach is read back and re-hashed, and what is missing or damaged is
 *    sent again (the repair of a damaged remote).
 * 5. Upload in parallel (bounded), chunks first, each written whole (S3 PUT,
 *    or temp + rename). A file remote's leftover temp files of interrupted
 *    pushes are swept first.
 * 6. Only then move each remote ref with a conditional write: If-None-Match: *
 *    to create, If-Match: <ETag as read> to move. A ref that moved meanwhile
 *    is a non-fast-forward (unless --force).
 *
 * `delete` removes remote refs instead, each by a conditional delete.
 */
import { CorruptObjectError, RefNotFoundError, UsageError } from "../errors.js";
import { sha256, type ChunkId, type GitOid } from "../format/hash.js";
import { isAncestor } from "../repo/history.js";
import { asAccessError } from "../store/atomic.js";
import type { Repository, Stores } from "../repo/repository.js";
import { checkRevision, loadRules } from "../rules/check.js";
import { branchPolicy } from "../rules/parse.js";
import { ProtectedBranchError, RulesFailedError } from "../rules/errors.js";
import { remoteRepository } from "./remote-source.js";
import { peelObject } from "../repo/revision.js";
import { walkReachable } from "../repo/walk.js";
import type { BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { InfoRefsNotUpdatedError, NonFastForwardError, PreconditionFailedError, ReadOnlyRemoteError } from "./errors.js";
import { decodeLoose, encodeLoose, type GitType } from "./git-objects.js";
import { chunkKey, gitObjectKey, INFO_REFS_KEY, RemoteRepo, type RemoteRef } from "./layout.js";
import { objectsToSend } from "./negotiate.js";
import { probeRemote } from "./probe.js";
import { asRemoteWriter } from "./remote-writers.js";
import { readVerified } from "./verify-pool.js";
import { addCount, checkJobs, DEFAULT_JOBS, mapSettled, meter, zeroCounts, type OnTransferProgress, type TransferCounts } from "./transfer.js";

export interface PushOptions {
  /** a remote name or URL (default: origin, or the only remote) */
  remote?: string;
  /** branches or tags (short or full names); default: the current branch */
  refs?: string[];
  /** push every tag as well */
  tags?: boolean;
  /** move remote refs even when that drops commits from them; with `delete`, delete the default branch too */
  force?: boolean;
  /** delete these branches or tags on the remote instead of pushing them */
  delete?: boolean;
  /**
   * read back every object the pushed refs reach on the remote, re-hash it,
   * and upload again what is missing or damaged (even when the refs are up
   * to date): the repair of a damaged remote
   */
  verify?: boolean;
  /** requests in flight (1..256, default 16) */
  concurrency?: number;
  /**
   * skip the validation rules a branch's tdv-rules.toml runs at push; a
   * protected branch still moves only by fast-forward
   */
  noVerify?: boolean;
  onProgress?: OnTransferProgress;
  backend?: BackendOptions;
  /** called before the first remote ref moves (throws to stop the push there) */
  beforeRefUpdate?: () => void;
  /** called once every ref this push moves has moved (the push's announcement to remote gc may go) */
  refsMoved?: () => void;
  /**
   * called once the refs to move are known, before anything is uploaded or moved
   * (the pre-push hook): throws to stop the push with the remote untouched
   */
  beforeUpload?: (plan: { remote: string | null; url: string; refs: RefUpdate[]; remoteTips: GitOid[] }) => Promise<void>;
  /**
   * Stop early: once aborted, no new request starts, the ones in flight
   * finish, and push throws `signal.reason`. No remote ref has moved; what
   * was uploaded stays and the next push does not send it again.
   */
  signal?: AbortSignal;
}

export type RefStatus = "created" | "fast-forward" | "forced" | "up-to-date" | "rejected" | "deleted";

export interface RefUpdate {
  ref: string;
  /** the remote's value before (null: it did not exist) */
  old: GitOid | null;
  /** the value pushed (null: deleted) */
  new: GitOid | null;
  status: RefStatus;
}

export interface PushResult {
  remote: string | null;
  url: string;
  refs: RefUpdate[];
  /** commits the remote lacked */
  commits: number;
  uploaded: TransferCounts;
  /** objects the pushed commits need that the remote already had by its refs (bytes: chunks only) */
  skipped: { objects: number; bytes: number };
  /**
   * objects the remote lacked by its refs but held already, found by asking it: what an
   * interrupted push left there, or what a branch this repository has not fetched reaches.
   * Not sent again.
   */
  found: { objects: number; bytes: number };
  /** requests spent asking the remote what it holds (HEADs and listing pages) */
  checked: number;
  /** with `verify`: objects read back and re-hashed, and those sent again because they were missing or damaged */
  verified: number;
  repaired: { objects: number; bytes: number; missing: string[]; damaged: string[] };
  /** temp files of interrupted pushes removed from a file remote */
  temporariesRemoved: number;
}

interface Upload {
  kind: "chunk" | "git";
  key: string;
  size: number;
  id: string;
  gitType?: GitType;
  bytes?: Uint8Array;
}

export function push(repo: Repository, opts?: Parameters<typeof _push>[1]): ReturnType<typeof _push> {
  return repo.writing("push", async () => {
    // whether the server enforces conditional writes is asked at once, beside the announcement and the reads: the
    // push's first upload waits for the answer (ensureConfig), which is then most often in
    const early = opts?.delete ? null : checkConditionsEarly(repo, opts ?? {});
    try {
      // announced on the remote for its whole run, so that a remote gc never races it (remote-writers.ts)
      return await asRemoteWriter(repo, opts ?? {}, (beforeRefUpdate, refsMoved) => _push(repo, { ...opts, beforeRefUpdate, refsMoved }));
    } finally {
      await early; // no write of this push runs on after it
    }
  });
}

/**
 * The remote's conditional-writes check, started when a ref is likely to
 * move: a push whose refs all equal their remote-tracking refs most likely
 * moves nothing, and a push that moves nothing writes nothing (if it does
 * move one, the check runs then, as part of it). Settles without throwing
 * (the push's own call reports a failure).
 */
async function checkConditionsEarly(repo: Repository, opts: PushOptions): Promise<void> {
  try {
    const { name, url } = resolveRemote(repo, opts.remote);
    if (!(await likelyToMove(repo, opts, name))) return;
    const remote = await RemoteRepo.open(url, opts.backend);
    if (remote.backend.writable) await remote.checkConditionalWrites();
  } catch {
    // told by the push itself, which asks again
  }
}

/** Whether a ref the push names differs from its remote-tracking ref (a tag, or a URL with none: assumed to). */
async function likelyToMove(repo: Repository, opts: PushOptions, remote: string | null): Promise<boolean> {
  if (remote === null || opts.tags) return true;
  for (const [ref, oid] of await refsToPush(repo, opts)) {
    if (!ref.startsWith("refs/heads/")) return true;
    if ((await repo.refs.read(`refs/remotes/${remote}/${ref.slice("refs/heads/".length)}`).catch(() => null)) !== oid) return true;
  }
  return false;
}

async function _push(repo: Repository, opts: PushOptions = {}): Promise<PushResult> {
  const { force = false, concurrency = DEFAULT_JOBS, onProgress, signal, verify = false } = opts;
  checkJobs(concurrency);
  const { name, url } = resolveRemote(repo, opts.remote);
  const label = name ?? url;
  const remote = await RemoteRepo.open(url, opts.backend);
  if (!remote.backend.writable) throw new ReadOnlyRemoteError(url);
  if (opts.delete) return deleteRefs(repo, remote, name, opts);

  const localRefs = await refsToPush(repo, opts);
  // the remote's config and refs at once (two reads); a config of a newer format is refused first, before anything is written
  const [configRead, refsRead] = await Promise.allSettled([remote.readConfig(), remote.listRefs()]);
  if (configRead.status === "rejected") throw configRead.reason;
  if (refsRead.status === "rejected") throw refsRead.reason;
  const config = configRead.value;
  const remoteRefs = refsRead.value;

  // 2. each ref's fate
  const updates: (RefUpdate & { new: GitOid; expected: RemoteRef | null })[] = [];
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
  if (moving.length > 0) await opts.beforeUpload?.({ remote: name, url, refs: moving.map(strip), remoteTips: [...new Set([...remoteRefs.values()].map((r) => r.oid))] });
  // the rules, before anything is uploaded: protection as the remote's tip of the branch declares it
  const guarded = await guardBranches(repo, url, opts, moving);
  const result = emptyResult(name, url);

  // 3. what the remote lacks: everything reachable from its refs is had
  const haves: GitOid[] = [];
  for (const r of new Set([...remoteRefs.values()].map((x) => x.oid))) if (await repo.git.typeOf(r)) haves.push(r);
  const wants = [...new Set((verify ? updates.filter((u) => u.status !== "rejected") : moving).map((u) => u.new))];
  const uploads: Upload[] = [];
  // a push that moves a ref makes the remote a tdv repository if it is not one (and checks its conditional
  // writes): begun now, it runs beside the negotiation and the probe below, and ends before any upload
  const configured = moving.length > 0 ? settledLater(remote.ensureConfig(config)) : null;
  let todo: Upload[] = uploads;
  try {
    if (moving.length > 0 || (verify && wants.length > 0)) {
      if (remote.backend.sweepTemporaries) result.temporariesRemoved = await remote.backend.sweepTemporaries();
      const counting = meter(onProgress, "counting objects", null);
      const send = await objectsToSend(repo, { wants: moving.map((u) => u.new), haves, onObject: () => counting.add(0) });
      result.commits = send.commits;
      result.skipped = send.skipped;
      for (const [id, size] of send.chunks) uploads.push({ kind: "chunk", key: chunkKey(id), size, id });
      // Git objects are small: encode them now, so sizes (and totals) are exact
      const git = await mapSettled(send.git, concurrency, async ({ oid, type }) => {
        const o = await repo.git.readObject(oid, `${type} ${oid}`);
        const bytes = encodeLoose(o.type as GitType, o.content);
        return { kind: "git" as const, key: gitObjectKey(oid), size: bytes.byteLength, id: oid, gitType: type, bytes };
      });
      uploads.push(...git);
    }

    // 4. what the remote holds already (an interrupted push), or holds damaged (verify)
    todo = uploads;
    // a remote without tdv.json holds nothing of tdv's (every writer makes it before its first upload): nothing to ask
    if (uploads.length > 0 && config !== null) {
      const probe = await probeRemote(remote.backend, uploads, concurrency, signal);
      result.checked = probe.heads + probe.lists;
      todo = uploads.filter((u) => {
        if (!probe.present.has(u.key)) return true;
        result.found.objects++;
        if (u.kind === "chunk") result.found.bytes += u.size;
        return false;
      });
    }
    if (verify && wants.length > 0) {
      const bad = await verifyRemote(repo, remote, wants, new Set(uploads.map((u) => u.key)), { concurrency, onProgress, signal }, result);
      todo = [...todo, ...bad];
    }
  } catch (err) {
    await configured?.().catch(() => {}); // no write of this push runs on after it failed
    throw err;
  }

  // 5. upload
  const uploaded = result.uploaded;
  if (configured) await configured();
  else if (todo.length > 0) await remote.ensureConfig(config);
  if (todo.length > 0) {
    const m = meter(onProgress, "uploading", todo.length, todo.reduce((s, u) => s + u.size, 0));
    // chunks first: a remote interrupted mid-push then holds data, not dangling metadata
    const ordered = [...todo.filter((u) => u.kind === "chunk"), ...todo.filter((u) => u.kind === "git")];
    await mapSettled(ordered, concurrency, async (u) => {
      signal?.throwIfAborted();
      // a folder remote copies the chunk from the store, verified as it passes (no read into memory)
      if (u.kind === "chunk" && !u.bytes && remote.backend.putFromFile) {
        const out = await remote.backend.putFromFile(u.key, repo.chunks.pathOf(u.id as ChunkId), u.id, u.size);
        if ("corrupt" in out) throw new CorruptObjectError(u.id, `its bytes hash to ${out.corrupt}`);
        if ("ok" in out) {
          addCount(uploaded, u.kind, u.size);
          m.add(u.size);
          return;
        }
        // not in the store (a lazy clone's): read through it, which fetches it
      }
      let bytes = u.bytes;
      if (!bytes) {
        // read and verified off the main thread, which keeps sending
        const read = await readVerified(repo.chunks.pathOf(u.id as ChunkId), u.id).catch((err: unknown) => {
          throw asAccessError(err, repo.chunks.pathOf(u.id as ChunkId));
        });
        if ("corrupt" in read) throw new CorruptObjectError(u.id, `its bytes hash to ${read.corrupt}`);
        bytes = "read" in read ? read.read : await repo.chunks.get(u.id as ChunkId); // absent: a lazy clone's, fetched through the store
      }
      await remote.backend.put(u.key, bytes, u.kind === "chunk" ? { contentSha256: u.id } : {});
      addCount(uploaded, u.kind, bytes.byteLength);
      m.add(bytes.byteLength);
    });
  }
  signal?.throwIfAborted();

  // 6. move the refs, each by compare-and-swap
  if (moving.length > 0) opts.beforeRefUpdate?.();
  // git/info/refs as it is before any ref moves: the first read of its rewrite below, in flight beside the moves
  const infoRefsRead = remote.backend.get(INFO_REFS_KEY);
  infoRefsRead.catch(() => {}); // a failed read is the rewrite's error, when it awaits it
  const rejected: RefUpdate[] = updates.filter((u) => u.status === "rejected");
  const done: RefUpdate[] = [];
  /** refs another push moved while this one ran: the value they had */
  const raced = new Map<string, GitOid | null>();
  for (const u of moving) {
    const was = u.old;
    const ok = await casRef(repo, remote, u, force && !guarded.has(u.ref));
    if (ok) done.push(strip(u));
    else {
      raced.set(u.ref, was);
      rejected.push({ ...strip(u), status: "rejected" });
    }
  }
  // every object this push sent is named by a ref now (or, its ref rejected, is an orphan as it would be after the push):
  // the push's announcement to remote gc is withdrawn beside what follows
  opts.refsMoved?.();
  // the remote's HEAD, its git/info/refs and the local remote-tracking refs, at once (none depends on another)
  const firstBranch = done.find((u) => u.ref.startsWith("refs/heads/"));
  const [, infoRefs] = await Promise.all([
    firstBranch ? remote.ensureHead(firstBranch.ref) : null,
    // also when nothing moved: a git/info/refs left stale (an interrupted push) is rewritten;
    // when it cannot be, that is said after the tracking refs follow and after any rejection
    remote.updateInfoRefs(infoRefsRead).then(
      () => null,
      (err: unknown) => {
        if (err instanceof InfoRefsNotUpdatedError) return err;
        throw err;
      },
    ),
    // remote-tracking refs follow what the remote now holds
    (async () => {
      if (!name) return;
      const landed = new Set([...done.map((d) => d.ref), ...updates.filter((x) => x.status === "up-to-date").map((x) => x.ref)]);
      for (const u of updates) {
        if (!u.ref.startsWith("refs/heads/") || !landed.has(u.ref)) continue;
        const tracking = `refs/remotes/${name}/${u.ref.slice("refs/heads/".length)}`;
        const cur = await repo.refs.read(tracking);
        if (cur !== u.new) await repo.refs.update(tracking, { expected: cur, next: u.new, who: repo.identity(), message: "update by push" });
      }
    })(),
  ]);

  result.refs = updates.map((u) => rejected.find((r) => r.ref === u.ref) ?? done.find((d) => d.ref === u.ref) ?? strip(u));
  if (rejected.length > 0) {
    throw new NonFastForwardError(
      label,
      rejected.map((r) => ({ ref: r.ref, remote: r.old, local: r.new as GitOid, ...(raced.has(r.ref) ? { raced: true, was: raced.get(r.ref) ?? null } : {}) })),
      result.refs.filter((r) => r.status !== "rejected"),
    );
  }
  if (infoRefs) throw infoRefs;
  return result;
}

/**
 * Read back every object `roots` reach on the remote (except those in
 * `skip`, being uploaded anyway) and re-hash it: chunks by SHA-256, Git
 * objects by SHA-1 after inflating. Returns the uploads that replace what
 * is missing or damaged, and counts them in `result`.
 */
async function verifyRemote(
  repo: Repository,
  remote: RemoteRepo,
  roots: GitOid[],
  skip: ReadonlySet<string>,
  { concurrency, onProgress, signal }: { concurrency: number; onProgress: OnTransferProgress | undefined; signal: AbortSignal | undefined },
  result: PushResult,
): Promise<Upload[]> {
  const all: Upload[] = [];
  await walkReachable(
    repo,
    { roots },
    {
      git: (oid, type) => {
        const key = gitObjectKey(oid);
        if (!skip.has(key)) all.push({ kind: "git", key, size: 0, id: oid, gitType: type });
      },
      chunk: (id, size) => {
        const key = chunkKey(id);
        if (!skip.has(key)) all.push({ kind: "chunk", key, size, id });
      },
    },
  );
  const m = meter(onProgress, "verifying", all.length, all.reduce((s, u) => s + u.size, 0));
  const verdicts = await mapSettled(all, concurrency, async (u): Promise<"ok" | "missing" | "damaged"> => {
    signal?.throwIfAborted();
    const got = await remote.backend.get(u.key);
    m.add(got?.bytes.byteLength ?? 0);
    if (!got) return "missing";
    if (u.kind === "chunk") return sha256(got.bytes) === u.id ? "ok" : "damaged";
    try {
      decodeLoose(u.id as GitOid, got.bytes, u.key);
      return "ok";
    } catch {
      return "damaged";
    }
  });
  result.verified = all.length;
  const bad: Upload[] = [];
  for (let i = 0; i < all.length; i++) {
    const u = all[i] as Upload;
    const v = verdicts[i];
    if (v === "ok") continue;
    (v === "missing" ? result.repaired.missing : result.repaired.damaged).push(u.id);
    if (u.kind === "git") {
      const o = await repo.git.readObject(u.id as GitOid, `${u.gitType} ${u.id}`);
      u.bytes = encodeLoose(o.type as GitType, o.content);
      u.size = u.bytes.byteLength;
    }
    result.repaired.objects++;
    result.repaired.bytes += u.size;
    bad.push(u);
  }
  return bad;
}

/**
 * Delete remote branches or tags, each by a conditional delete of the
 * version read; the remote's default branch only with `force`. The
 * remote-tracking ref goes too, and info/refs is rewritten.
 */
async function deleteRefs(repo: Repository, remote: RemoteRepo, name: string | null, opts: PushOptions): Promise<PushResult> {
  const label = name ?? remote.url;
  const names = opts.refs ?? [];
  if (names.length === 0) throw new UsageError("which branch to delete on the remote?", { hint: "name it: `tdv push --delete origin BRANCH`" });
  if (!remote.backend.delete) throw new ReadOnlyRemoteError(remote.url);
  await remote.requireConfig();
  const remoteRefs = await remote.listRefs();
  const defaultBranch = await remote.defaultBranch();
  const targets: { ref: string; expected: RemoteRef }[] = [];
  for (const n of names) {
    const candidates = n.startsWith("refs/") ? [n] : [`refs/heads/${n}`, `refs/tags/${n}`];
    const ref = candidates.find((c) => remoteRefs.has(c));
    if (!ref) throw new RefNotFoundError(`${n} on ${label}`, `\`tdv fetch ${label}\` and \`tdv branch -r\` show the remote's branches`);
    if (ref === defaultBranch && !opts.force) {
      throw new UsageError(`refusing to delete ${n}: it is the default branch of ${label} (what clones check out)`, {
        hint: `add --force to delete it anyway: \`tdv push --delete --force ${label} ${n}\``,
      });
    }
    targets.push({ ref, expected: remoteRefs.get(ref) as RemoteRef });
  }
  const done: RefUpdate[] = [];
  const rejected: { ref: string; remote: string | null; local: string }[] = [];
  for (const t of targets) {
    let expected: RemoteRef | null = t.expected;
    let ok = false;
    for (let attempt = 0; attempt < 5 && expected; attempt++) {
      try {
        await remote.deleteRef(t.ref, expected);
        ok = true;
        break;
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
      const now = await remote.readRef(t.ref);
      if (!now) {
        ok = true; // deleted by someone else meanwhile: the outcome asked for
        break;
      }
      if (!opts.force) {
        rejected.push({ ref: t.ref, remote: now.oid, local: t.expected.oid });
        expected = null;
        break;
      }
      expected = now;
    }
    if (ok) done.push({ ref: t.ref, old: t.expected.oid, new: null, status: "deleted" });
  }
  if (done.length > 0) await remote.updateInfoRefs();
  if (name) {
    for (const d of done) {
      if (!d.ref.startsWith("refs/heads/")) continue;
      const tracking = `refs/remotes/${name}/${d.ref.slice("refs/heads/".length)}`;
      const cur = await repo.refs.read(tracking);
      if (cur !== null) await repo.refs.update(tracking, { expected: cur, next: null, who: repo.identity(), message: "deleted by push" });
    }
  }
  if (rejected.length > 0) throw new NonFastForwardError(label, rejected, done);
  return { ...emptyResult(name, remote.url), refs: done };
}

/**
 * A promise begun now and awaited later: its failure is held (not an
 * unhandled rejection while other work runs) and thrown when awaited.
 */
function settledLater<T>(p: Promise<T>): () => Promise<T> {
  const held = p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  return async () => {
    const r = await held;
    if (!r.ok) throw r.err;
    return r.value;
  };
}

/** A push's result before anything is counted. */
function emptyResult(remote: PushResult["remote"], url: string): PushResult {
  return {
    remote,
    url,
    refs: [],
    commits: 0,
    uploaded: zeroCounts(),
    skipped: { objects: 0, bytes: 0 },
    found: { objects: 0, bytes: 0 },
    checked: 0,
    verified: 0,
    repaired: { objects: 0, bytes: 0, missing: [], damaged: [] },
    temporariesRemoved: 0,
  };
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
async function casRef(repo: Repository, remote: RemoteRepo, u: RefUpdate & { new: GitOid; expected: RemoteRef | null }, force: boolean): Promise<boolean> {
  const r = await remote.moveRef(u.ref, u.new, u.expected, async (now) => force || now === null || (!u.ref.startsWith("refs/tags/") && (await isFastForward(repo, now.oid, u.new))));
  u.old = r.moved ? r.old : (r.now?.oid ?? null);
  return r.moved;
}

/**
 * The branches among `moving` that are protected, read from tdv-rules.toml
 * of the remote's tip of each (a new branch: of the pushed commit). A forced
 * move of a protected branch is refused (ProtectedBranchError); a branch whose
 * rules run at push has its pushed commit checked here, locally, and a
 * failing one refused (RulesFailedError) unless `noVerify`.
 */
async function guardBranches(repo: Repository, url: string, opts: PushOptions, moving: readonly RefUpdate[]): Promise<Set<string>> {
  const guarded = new Set<string>();
  let remoteRepo: Promise<Repository<Stores>> | null = null;
  for (const u of moving) {
    if (!u.ref.startsWith("refs/heads/") || u.new === null) continue;
    const branch = u.ref.slice("refs/heads/".length);
    const tip = u.old ?? u.new;
    // the remote's tip is ours when the move is a fast-forward; else (a forced push) read it from the remote
    const local = await repo.git.typeOf(tip);
    if (!local && remoteRepo === null) remoteRepo = remoteRepository(url, { repo, prefetch: false, ...(opts.backend ? { backend: opts.backend } : {}) });
    const from: Repository<Stores> = local ? repo : await (remoteRepo as Promise<Repository<Stores>>);
    const policy = branchPolicy(await loadRules(from, tip), branch);
    if (policy.protected) {
      guarded.add(u.ref);
      if (u.status === "forced") throw new ProtectedBranchError(branch, url);
    }
    if (!policy.checkOn.has("push") || opts.noVerify) continue;
    const verdict = await checkRevision(repo, u.new);
    if (!verdict.passed) {
      throw new RulesFailedError("push", branch, verdict.failures, `nothing was uploaded; fix the data in a new commit and push again (\`tdv push --no-verify\` skips the check${policy.protected ? ", but a protected branch still moves only by fast-forward" : ""})`);
    }
  }
  return guarded;
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
