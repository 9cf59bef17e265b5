/**
 * `tdv stage`: a worker uploads the files of a local folder as its change set
 * of a staged session on a remote (sessions.ts), with no repository.
 *
 * The folder holds what the worker wrote (with zarr-python or any Zarr
 * library): the stores' metadata and the worker's own chunks; a path in the
 * folder is the path in the tree ("era5.zarr/t2m/0.3"). Files are classified
 * as the repository does (repo/hierarchy.ts): metadata documents become Git
 * blobs (git/objects/, loose), everything else a chunk object named by its
 * SHA-256 (chunks/); the commit turns a small plain file into a blob, as a
 * write session does. Only objects the remote lacks are uploaded (a HEAD
 * first), then the change set is written. The stage announces itself on the
 * remote as a writer (remote-writers.ts), so a remote gc never runs while it
 * uploads; once its change set is written, gc keeps what it names.
 */
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { UnsafePathError, UsageError } from "../errors.js";
import { checkEntryName } from "../format/git-object.js";
import { isGitOid, sha1, sha256, type GitOid } from "../format/hash.js";
import { FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import { TDV_VERSION } from "../format/version.js";
import { Hierarchy, type FileKind } from "../repo/hierarchy.js";
import type { Repository } from "../repo/repository.js";
import type { SessionChange, SessionCommitResult, SessionToken } from "../session/write.js";
import { normalizeRemoteUrl, type BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { ReadOnlyRemoteError, StagedSessionEmptyError, StagedSessionMismatchError } from "./errors.js";
import { decodeLoose, encodeLoose } from "./git-objects.js";
import { chunkKey, gitObjectKey, RemoteRepo } from "./layout.js";
import { enterRemoteWriter } from "./remote-writers.js";
import { openRemoteWriteSession } from "./remote-write.js";
import { checkSessionId, dropSession, ensureSession, readSession, readSessionRecord, stagedTotals, writeChangeSet, type StagedChangeSet } from "./sessions.js";
import { checkJobs, DEFAULT_JOBS, mapSettled, meter, type OnTransferProgress } from "./transfer.js";

export interface StageOptions {
  /** a remote name (needs the repository) or URL */
  remote: string;
  session: string;
  /** the folder to stage */
  dir: string;
  /** the branch the session commits to (default: the session's, else the remote's default branch, else main) */
  branch?: string;
  /** the base commit: a commit id or a branch of the remote (default: the session's; for its first stage the branch's tip) */
  base?: string;
  /** this change set's name in the session (default: unique per run) */
  worker?: string;
  jobs?: number;
  onProgress?: OnTransferProgress;
  onNotice?: (message: string) => void;
  backend?: BackendOptions;
}

export interface StageResult {
  remote: string | null;
  url: string;
  session: string;
  worker: string;
  branch: string;
  base: GitOid | null;
  /** whether this stage started the session */
  started: boolean;
  files: { metadata: number; chunks: number; plain: number };
  /** objects the change set names, and their bytes */
  objects: number;
  bytes: number;
  uploaded: { objects: number; bytes: number };
  /** objects the remote had already */
  found: { objects: number; bytes: number };
  /** the change set's key on the remote */
  key: string;
}

interface LocalFile {
  rel: string;
  abs: string;
  size: number;
}

/** Every file under `root` as tree paths; refuses names tdv refuses, symlinks out of `root` or to folders. */
export async function walkStageDir(root: string): Promise<LocalFile[]> {
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new UsageError(`${root} is not a folder`, { hint: "stage the folder the worker wrote its files into" });
  const top = await realpath(root);
  const out: LocalFile[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      checkEntryName(e.name, rel || ".");
      if (e.name === MANIFEST_TREE || e.name === FILE_LIST) throw new UnsafePathError(rel ? `${rel}/${e.name}` : e.name, `'${e.name}' is reserved for tdv's manifests and file lists`);
      const abs = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await visit(abs, r);
        continue;
      }
      if (e.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => null);
        if (!target || (target !== top && !target.startsWith(top + path.sep))) throw new UnsafePathError(r, `a symbolic link to ${target ?? "nothing"}, outside the staged folder ${root}`);
        const ts = await stat(target);
        if (!ts.isFile()) throw new UnsafePathError(r, "a symbolic link to a folder: stage the folder itself");
        out.push({ rel: r, abs: target, size: ts.size });
        continue;
      }
      if (!e.isFile()) throw new UnsafePathError(r, "not a regular file");
      out.push({ rel: r, abs, size: (await lstat(abs)).size });
    }
  };
  await visit(top, "");
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

/** The remote a stage (or session command) names: with a repository a remote name or URL, without one a URL. */
export function stageRemote(repo: Repository | null, remote: string): { name: string | null; url: string } {
  return repo ? resolveRemote(repo, remote) : { name: null, url: normalizeRemoteUrl(remote) };
}

function defaultWorker(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, "-").replace(/\.\.+/g, ".").slice(0, 60) || "host";
  return `${host}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** `--base REV`: a full commit id on the remote, or a branch of the remote. */
async function resolveBase(remote: RemoteRepo, rev: string): Promise<GitOid> {
  if (isGitOid(rev)) {
    const got = await remote.backend.get(gitObjectKey(rev));
    if (!got || decodeLoose(rev, got.bytes, `${remote.url}/${gitObjectKey(rev)}`).type !== "commit") {
      throw new UsageError(`--base ${rev}: no such commit on ${remote.url}`, { hint: "name a commit the remote has (push it first), or one of its branches" });
    }
    return rev;
  }
  const name = rev.startsWith("refs/heads/") ? rev.slice(11) : rev;
  const ref = await remote.readRef(`refs/heads/${name}`).catch(() => null);
  if (!ref) throw new UsageError(`--base ${rev}: the remote ${remote.url} has no branch ${name}`, { hint: "give a full commit id or a branch of the remote (`tdv ls-remote URL` lists them)" });
  return ref.oid;
}

export async function stage(repo: Repository | null, opts: StageOptions): Promise<StageResult> {
  const jobs = opts.jobs ?? DEFAULT_JOBS;
  checkJobs(jobs);
  checkSessionId(opts.session);
  const worker = opts.worker ?? defaultWorker();
  checkSessionId(worker, "worker name");
  // the folder is read and checked before the remote is touched: a hostile one leaves nothing behind
  const files = await walkStageDir(opts.dir);
  if (files.length === 0) throw new UsageError(`${opts.dir} holds no files: nothing to stage`, { hint: "write the worker's part into the folder first" });

  const { name, url } = stageRemote(repo, opts.remote);
  const remote = await RemoteRepo.open(url, opts.backend);
  if (!remote.backend.writable) throw new ReadOnlyRemoteError(url);
  const ann = await enterRemoteWriter(remote.backend, { command: "stage", ...(opts.onNotice ? { onWait: opts.onNotice } : {}) });
  try {
    await remote.ensureConfig();
    const existing = await readSessionRecord(remote, opts.session);
    const branch = opts.branch ?? existing?.branch ?? (await remote.defaultBranch())?.slice("refs/heads/".length) ?? "main";
    const baseRev = opts.base;
    const { record, created } = await ensureSession(
      remote,
      opts.session,
      branch,
      async () => (baseRev !== undefined ? resolveBase(remote, baseRev) : ((await remote.readRef(`refs/heads/${branch}`))?.oid ?? null)),
      baseRev !== undefined,
    );

    // classify as the repository does, from the folder's own metadata
    const root = path.resolve(opts.dir);
    const byRel = new Map(files.map((f) => [f.rel, f]));
    const h = new Hierarchy(async (rel) => {
      const f = byRel.get(rel);
      return f ? readFile(f.abs) : null;
    });
    const kinds = await Promise.all(files.map((f) => h.classify(f.rel)));
    const counts = { metadata: 0, chunks: 0, plain: 0 };
    for (const k of kinds) counts[k.kind === "meta" ? "metadata" : k.kind === "chunk" ? "chunks" : "plain"]++;

    const uploaded = { objects: 0, bytes: 0 };
    const found = { objects: 0, bytes: 0 };
    const m = meter(opts.onProgress, "staging", files.length, files.reduce((s, f) => s + f.size, 0));
    const changes: SessionChange[] = await mapSettled(files, jobs, async (f, i) => {
      const bytes = await readFile(f.abs).catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${path.join(root, f.rel)}: ${err.code ?? err.message}`, { hint: "the folder changed while it was staged: stage it again once the worker is done" });
      });
      const meta = (kinds[i] as FileKind).kind === "meta";
      let key: string;
      let id: string;
      let body: Uint8Array;
      if (meta) {
        id = sha1(Buffer.concat([Buffer.from(`blob ${bytes.byteLength}\0`), bytes]));
        key = gitObjectKey(id);
        body = encodeLoose("blob", bytes);
      } else {
        id = sha256(bytes);
        key = chunkKey(id);
        body = bytes;
      }
      if (await remote.backend.head(key)) {
        found.objects++;
        found.bytes += bytes.byteLength;
      } else {
        await remote.backend.put(key, body, meta ? {} : { contentSha256: id });
        uploaded.objects++;
        uploaded.bytes += bytes.byteLength;
      }
      m.add(bytes.byteLength);
      return { path: f.rel, store: meta ? "git" : "chunk", id, size: bytes.byteLength } as SessionChange;
    });

    const objects = new Map<string, number>();
    for (const c of changes) if ("store" in c) objects.set(`${c.store}:${c.id}`, c.size);
    const set: StagedChangeSet = {
      format: "tdv-change-set/1",
      branch: record.branch,
      base: record.base,
      changes,
      session: opts.session,
      worker,
      objects: objects.size,
      bytes: [...objects.values()].reduce((s, n) => s + n, 0),
      stagedBy: `tdv ${TDV_VERSION}`,
    };
    ann.check(); // a lapsed announcement: a gc may have removed what was found present
    const key = await writeChangeSet(remote, set);
    return { remote: name, url, session: opts.session, worker, branch: record.branch, base: record.base, started: created, files: counts, objects: set.objects, bytes: set.bytes, uploaded, found, key };
  } finally {
    await ann.release();
  }
}

export interface CommitStagedOptions {
  /** a remote name (needs the repository) or URL */
  remote: string;
  session: string;
  message: string;
  /** the branch to commit to: must be the session's (default) */
  branch?: string;
  trailers?: Record<string, string>;
  /** skip the validation rules the branch's tdv-rules.toml runs at commit (recorded as a Tdv-No-Verify trailer when they fail) */
  noVerify?: boolean;
  onNotice?: (message: string) => void;
  backend?: BackendOptions;
}

export interface CommitStagedResult extends SessionCommitResult {
  remote: string | null;
  url: string;
  session: string;
  base: GitOid | null;
  changeSets: number;
  workers: string[];
  objects: number;
  bytes: number;
}

/**
 * `tdv commit --session`: gather every change set staged in the session and
 * commit them on the remote through a remote write session opened on the
 * session's base (remote-write.ts: absorb checks each object is on the
 * remote, reading no chunk bytes; commit writes the changed manifest shards
 * and moves the branch by compare-and-swap, rebasing when it moved). The
 * session's registry is dropped once the branch moved; on any failure (a
 * conflict with what landed on the branch meanwhile) it is kept.
 */
export async function commitStaged(repo: Repository | null, opts: CommitStagedOptions): Promise<CommitStagedResult> {
  checkSessionId(opts.session);
  if (opts.message.trim() === "") throw new UsageError("the commit message is empty", { hint: 'say what the workers wrote: `tdv commit --session ID -m "what and why"`' });
  const { name, url } = stageRemote(repo, opts.remote);
  const remote = await RemoteRepo.open(url, opts.backend);
  if (!remote.backend.writable) throw new ReadOnlyRemoteError(url);
  const staged = await readSession(remote, opts.session);
  const { record, sets } = staged;
  if (opts.branch !== undefined) {
    const b = opts.branch.startsWith("refs/heads/") ? opts.branch.slice(11) : opts.branch;
    if (b !== record.branch) throw new StagedSessionMismatchError(url, opts.session, `was staged for branch ${record.branch}, not ${b}`);
  }
  if (sets.length === 0) throw new StagedSessionEmptyError(url, opts.session);
  const token: SessionToken = { format: "tdv-session/1", remote: remote.backend.url, branch: record.branch, base: record.base };
  const session = await openRemoteWriteSession(token, { ...(repo ? { repo } : {}), ...(opts.backend ? { backend: opts.backend } : {}), ...(opts.onNotice ? { onNotice: opts.onNotice } : {}) });
  let res: SessionCommitResult;
  try {
    await session.absorb(sets);
    res = await session.commit(opts.message, { trailers: { "Tdv-Session": opts.session, ...(opts.trailers ?? {}) }, noVerify: opts.noVerify === true });
  } finally {
    await session.close();
  }
  // the branch moved: a registry left behind (a failed delete) is harmless, gc removes it after the grace period
  await dropSession(remote, opts.session).catch((err: unknown) => opts.onNotice?.(`session ${opts.session} was committed but its registry stays on ${url} (${(err as Error).message}); drop it with \`tdv session drop\``));
  return { ...res, remote: name, url, session: opts.session, base: record.base, changeSets: sets.length, workers: sets.map((s) => s.worker), ...stagedTotals(sets) };
}
