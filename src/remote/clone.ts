/**
 * Clone: a new working copy of a remote: init (with `origin` and a marker
 * that the clone is in progress), fetch (all of it, or metadata only with
 * `lazy`), check out the branch (the remote's default, or `branch`; its
 * chunk files written as the fetch verifies each chunk: worktree/arriving.ts),
 * then drop the marker. Until the marker is gone, every other command refuses the
 * folder ("this clone did not finish") instead of working on half a clone.
 *
 * A clone that fails or is interrupted (`signal`) removes what it made (the
 * folder, if it made it; else the folder's content), as git clone does, and
 * never touches anything else. A clone killed outright (SIGKILL, power) leaves
 * the marker: the same `tdv clone URL DIR` then resumes it, keeping what was
 * downloaded (objects are stored before anything names them, and a checkout
 * takes files that already hold the target's bytes as they are).
 */
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { InterruptedError, RefNotFoundError, UsageError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../worktree/materialize.js";
import { ArrivingCheckout, type PrePlaced } from "../worktree/arriving.js";
import { readSparse } from "../worktree/sparse-set.js";
import { readSnapshot } from "../repo/snapshot.js";
import { processRuns } from "../store/owner.js";
import { Repository, type CloneMarker, type RepoConfig, type RepoOptions } from "../repo/repository.js";
import { readFileOrNull } from "../store/atomic.js";
import type { BackendOptions } from "./backend.js";
import { cloneDirName, normalizeRemoteUrl, schemeOf } from "./backend.js";
import { NotARemoteRepositoryError } from "./errors.js";
import { openRepository } from "./lazy.js";
import { fetch, type FetchResult, type OpenedRemote } from "./fetch.js";
import { RemoteRepo } from "./layout.js";
import type { OnTransferProgress } from "./transfer.js";

/** What to clone, and how (RepoOptions: how the new repository behaves). */
export interface CloneOptions extends RepoOptions {
  url: string;
  /** the new working copy (default: named after the URL's last component, in cwd) */
  dir?: string;
  /** the branch to check out (default: the remote's default branch), or a tag (HEAD detached there, as git) */
  branch?: string;
  lazy?: boolean;
  /** set HEAD but write no file (and no index): a later `checkout`, `switch` or `sparse set` does the first checkout */
  noCheckout?: boolean;
  cwd?: string;
  concurrency?: number;
  onProgress?: OnTransferProgress;
  onCheckoutProgress?: ProgressFn;
  backend?: BackendOptions;
  /**
   * Stop the clone (the CLI aborts it on SIGINT and SIGTERM, with an
   * InterruptedError as the reason): transfers stop starting, the ones in
   * flight and a checkout under way finish, then what this clone made is
   * removed and an InterruptedError is thrown.
   */
  signal?: AbortSignal;
  /** told, before any transfer, whether the clone starts afresh or resumes one that did not finish */
  onStart?: (how: CloneStart) => void;
}

/** "new": into an absent or empty folder; "resumed": an unfinished clone of the same URL; "restarted": an interrupted removal finished first */
export type CloneStart = "new" | "resumed" | "restarted";

export interface CloneResult extends CheckoutResult {
  dir: string;
  url: string;
  branch: string | null;
  /** `branch` named a tag: HEAD is detached at its commit */
  tag: string | null;
  oid: GitOid | null;
  /** the remote has no branches yet */
  empty: boolean;
  /** how it began: a resumed clone kept what an earlier, unfinished run had downloaded */
  start: CloneStart;
  fetch: FetchResult;
}

/** Where the clone goes: a fresh start (the folder absent, or empty) or the repository of an unfinished clone to resume. */
type Target = { kind: "new"; start: "new" | "restarted"; createdDir: boolean } | { kind: "resume"; repo: Repository };

export async function clone(opts: CloneOptions): Promise<CloneResult> {
  const cwd = opts.cwd ?? process.cwd();
  const url = normalizeRemoteUrl(opts.url, cwd);
  const dir = path.resolve(cwd, opts.dir ?? cloneDirName(url));
  const { signal } = opts;
  const repoOpts = pickRepoOptions(opts);
  const target = await prepareTarget(dir, url, repoOpts);
  opts.onStart?.(target.kind === "resume" ? "resumed" : target.start);

  let repo: Repository | null = target.kind === "resume" ? target.repo : null;
  try {
    signal?.throwIfAborted();
    const remote = await RemoteRepo.open(url, opts.backend);
    // what the fetch starts from, read at once with the config (not again by the fetch)
    const scanned = remote.scanRefs();
    const remoteHead = remote.readHead();
    scanned.catch(() => {});
    remoteHead.catch(() => {});
    if (!(await remote.readConfig())) {
      if (schemeOf(url) !== "file") throw new NotARemoteRepositoryError(url);
      throw new UsageError(`'${opts.url}' is not a tdv repository: no working copy, repository folder or remote at ${url}`, {
        hint: "clone a working copy (`tdv clone ../climate mine`), a repository folder (`tdv clone /data/era5.tdv`), a remote folder, or s3:// or https:// URL",
      });
    }
    const opened: OpenedRemote = { url, remote, refs: await scanned, head: await remoteHead };
    const initial = opts.branch ?? opened.head.branch?.slice("refs/heads/".length) ?? "main";
    signal?.throwIfAborted();
    if (!repo) {
      const cloning: CloneMarker = { url, ...whoClones(), createdDir: target.kind === "new" && target.createdDir };
      ({ repo } = await Repository.init({ dir, initialBranch: initial, config: { remotes: { origin: { url } }, cloning }, ...repoOpts }));
    }
    const r = repo;
    signal?.throwIfAborted();
    const lazy = opts.lazy === true;
    // chunks this fetch hashes and stores: the checkout below copies them without reading them again
    const verified = new Set<ChunkId>();
    // the working files of the branch written as their chunks arrive (the checkout below takes them as they are)
    let arriving: ArrivingCheckout | null = null;
    const writeAsArriving = !lazy && !opts.noCheckout && readSparse(r) === null;
    const fetchOpts: Parameters<typeof fetch>[1] = {
      verifiedInto: verified,
      ...(writeAsArriving
        ? {
            onMetadata: async ({ git, refs }) => {
              const at = refs.get(`refs/heads/${initial}`);
              if (!at) return undefined; // a tag, or a branch the remote lacks: the checkout writes every file
              const view = new Repository(r.root, r.tdvDir, r.config, { git, refs: r.refs, chunks: r.chunks }, r.durability);
              const tree = (await git.readCommit(at)).tree;
              const a = new ArrivingCheckout(r, tree, (await readSnapshot(view, tree)).files);
              arriving = a;
              return (id, got) => a.arrived(id, got);
            },
          }
        : {}),
      remote: "origin",
      opened,
      lazy,
      // resumed without --lazy after a lazy start: every chunk, as a full clone has
      ...(!lazy && r.config.lazy ? { allChunks: true } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(signal ? { signal } : {}),
    };
    // writing working files: under the working-copy lock, as the checkout below
    const fetched = await (writeAsArriving ? r.exclusive("clone", () => fetch(r, fetchOpts)) : fetch(r, fetchOpts));
    const heads = fetched.refs.filter((f) => f.ref.startsWith("refs/heads/") && f.new);
    const empty = heads.length === 0;
    let found = heads.find((f) => f.ref === `refs/heads/${initial}`);
    if (!found && !opts.branch && !empty) {
      // the remote's HEAD names no branch it has: take main, else the first
      found = heads.find((f) => f.ref === "refs/heads/main") ?? heads[0];
    }
    if (found && (await r.refs.head()).branch !== found.ref) await r.refs.setHead({ branch: found.ref }, r.identity(), "clone: default branch");
    // --branch TAG: HEAD detached at the tag's commit, as git clone does
    const tag = !found && opts.branch ? fetched.refs.find((f) => f.ref === `refs/tags/${opts.branch}` && f.new) : undefined;
    if (!found && opts.branch && !tag) {
      const tags = fetched.refs.filter((f) => f.ref.startsWith("refs/tags/") && f.new).map((f) => f.ref.slice(10));
      throw new RefNotFoundError(
        `origin/${opts.branch}`,
        `the remote has no branch or tag '${opts.branch}'; its branches: ${heads.map((h) => h.ref.slice(11)).join(", ") || "(none)"}${tags.length ? `; its tags: ${tags.slice(0, 20).join(", ")}` : ""}`,
      );
    }
    if (tag) {
      let at = tag.new as GitOid;
      while ((await r.git.typeOf(at)) === "tag") at = (await r.git.readTag(at)).object; // an annotated tag names its commit
      signal?.throwIfAborted();
      const tree = (await r.git.readCommit(at)).tree;
      const progress = opts.onCheckoutProgress ? { onProgress: opts.onCheckoutProgress } : {};
      const pre = await prePlaced(arriving, tree);
      const res: CheckoutResult = opts.noCheckout ? { written: 0, deleted: 0, bytes: 0 } : await r.exclusive("clone", () => materialize(r, { targetTree: tree, action: "clone", verified, ...pre, ...progress }));
      await r.refs.setHead({ oid: at }, r.identity(), `clone: from ${url}, tag ${opts.branch}`);
      signal?.throwIfAborted();
      await r.updateConfig((c) => void delete c.cloning);
      const start = target.kind === "resume" ? "resumed" : target.start;
      return { dir, url, branch: null, tag: opts.branch ?? null, oid: at, empty, start, fetch: fetched, ...res };
    }
    signal?.throwIfAborted();
    let res: CheckoutResult = { written: 0, deleted: 0, bytes: 0 };
    let oid: GitOid | null = null;
    if (found) {
      oid = found.new as GitOid;
      const tree = (await r.git.readCommit(oid)).tree;
      // not interruptible half-way (its writes settle first): a signal takes effect once it is done
      const pre = await prePlaced(arriving, tree);
      if (!opts.noCheckout) {
        res = await r.exclusive("clone", () => materialize(r, { targetTree: tree, action: "clone", verified, ...pre, ...(opts.onCheckoutProgress ? { onProgress: opts.onCheckoutProgress } : {}) }));
      }
      signal?.throwIfAborted();
      // a resumed clone may have got this far before
      const current = await r.refs.read(found.ref).catch(() => null);
      if (current !== oid) await r.refs.update(found.ref, { expected: current, next: oid, who: r.identity(), message: `clone: from ${url}` });
    }
    signal?.throwIfAborted();
    await r.updateConfig((c) => void delete c.cloning); // complete: from here on, an ordinary working copy
    const start = target.kind === "resume" ? "resumed" : target.start;
    return { dir, url, branch: found ? found.ref.slice("refs/heads/".length) : initial, tag: null, oid, empty, start, fetch: fetched, ...res };
  } catch (err) {
    const interrupted = signal?.aborted && err === signal.reason ? (err instanceof InterruptedError ? err.signal : "abort") : null;
    if (target.kind === "new") {
      // leave nothing behind: the folder as it was (absent, or empty)
      await removeClone(dir, repo, target.createdDir);
      if (interrupted) throw new InterruptedError(interrupted, `the unfinished clone was removed${target.createdDir ? ` (${dir} is gone)` : ""}; run the command again to clone`);
    } else if (interrupted) {
      throw new InterruptedError(interrupted, "the unfinished clone is kept: run the same `tdv clone` again to resume it");
    }
    throw err;
  }
}

/** The files written as their chunks arrived, for a checkout of `tree`; removed when it is of another tree. */
async function prePlaced(arriving: ArrivingCheckout | null, tree: GitOid): Promise<{ prePlaced?: PrePlaced }> {
  if (!arriving) return {};
  if (arriving.tree === tree) return { prePlaced: arriving.placed };
  await arriving.discard();
  return {};
}

function whoClones(): Pick<CloneMarker, "pid" | "host" | "startedAt"> {
  return { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
}

/**
 * Look at the destination: absent or empty is a new clone; an unfinished clone
 * of the same URL (its marker in tdv.json) is resumed, or, when its removal
 * was interrupted, removed and started again; a `.tdv` left by a clone killed
 * inside init (before tdv.json) is cleared. Anything else is refused.
 */
async function prepareTarget(dir: string, url: string, repoOpts: RepoOptions): Promise<Target> {
  const names = await entries(dir);
  if (names === null) return { kind: "new", start: "new", createdDir: true };
  if (names.length === 0) return { kind: "new", start: "new", createdDir: false };
  const tdvDir = path.join(dir, ".tdv");
  const config = await readConfig(tdvDir);
  const m = config?.cloning;
  if (m) {
    if (m.url !== url) {
      throw new UsageError(`${dir} holds an unfinished clone of ${m.url}, not of ${url}`, {
        hint: `finish that one with \`tdv clone ${m.url} ${dir}\`, or remove the folder to clone something else there`,
      });
    }
    if (isRunning(m)) {
      throw new UsageError(`another tdv clone (process ${m.pid}, started ${m.startedAt}) is cloning into ${dir}`, { hint: "wait for it to finish; if it is stuck, stop it and run this command again" });
    }
    // the clone that wrote them is gone, and every other command refuses the folder: its locks are stale
    await removeLocks(tdvDir);
    if (m.removing) {
      await removeClone(dir, null, false);
      return { kind: "new", start: "restarted", createdDir: m.createdDir };
    }
    const repo = await openRepository({ dir, unfinishedClone: true, ...repoOpts });
    await repo.updateConfig((c) => {
      if (c.cloning?.pid !== m.pid || c.cloning.host !== m.host) throw new UsageError(`another tdv clone took over ${dir}`, { hint: "wait for it to finish" });
      c.cloning = { ...c.cloning, ...whoClones() };
    });
    return { kind: "resume", repo };
  }
  if (!config && names.length === 1 && names[0]!.toString() === ".tdv" && (await isInitLeftover(tdvDir))) {
    await fsp.rm(tdvDir, { recursive: true, force: true });
    return { kind: "new", start: "restarted", createdDir: false };
  }
  throw new UsageError(`destination ${dir} already exists and is not empty`, { hint: "clone into a new or empty folder: `tdv clone URL DIR`" });
}

/** The names in `dir` as bytes (a name that is not UTF-8 is still removed), or null when there is no such folder. */
async function entries(dir: string): Promise<Buffer[] | null> {
  return fsp.readdir(dir, { encoding: "buffer" }).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
}

const inDir = (dir: string, name: Buffer): Buffer => Buffer.concat([Buffer.from(`${dir}${path.sep}`), name]);

async function readConfig(tdvDir: string): Promise<RepoConfig | null> {
  const raw = await readFileOrNull(path.join(tdvDir, "tdv.json")).catch(() => null);
  if (!raw) return null;
  try {
    return JSON.parse(raw.toString("utf8")) as RepoConfig;
  } catch {
    return null;
  }
}

/** Whether the process that wrote the marker still runs (on another host: not known, taken as gone). */
function isRunning(m: CloneMarker): boolean {
  return m.host === os.hostname() && m.pid !== process.pid && processRuns(m.pid, null);
}

/** Delete every `*.lock` under the repository (not in the object folders, which hold none). */
async function removeLocks(tdvDir: string): Promise<void> {
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (p !== path.join(tdvDir, "chunks") && p !== path.join(tdvDir, "git", "objects")) await walk(p);
      } else if (e.name.endsWith(".lock")) await fsp.rm(p, { force: true });
    }
  };
  await walk(tdvDir);
}

/** The files Repository.init writes before tdv.json (and their temp files): a `.tdv` holding only these is an init that was killed. */
const INIT_FILES = new Set(["git/HEAD", "git/config", "git/description"]);

async function isInitLeftover(tdvDir: string): Promise<boolean> {
  const walk = async (d: string, rel: string): Promise<boolean> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!(await walk(path.join(d, e.name), r))) return false;
      } else if (!INIT_FILES.has(r.replace(/\.tmp-[^/]*$/, "")) && !/^tdv\.json\.tmp-/.test(r)) return false;
    }
    return true;
  };
  return (await fsp.stat(tdvDir).catch(() => null))?.isDirectory() === true && walk(tdvDir, "");
}

/**
 * Remove what a clone made in `dir`, in an order a kill at any point leaves
 * recognisable: the working files first (still a resumable clone), then the
 * marker says "removing" and the repository goes, tdv.json last (left with
 * it, the next clone finishes the removal; without it, `.tdv` is empty, which
 * the next clone clears). The folder itself goes only when the clone made it.
 */
async function removeClone(dir: string, repo: Repository | null, removeDir: boolean): Promise<void> {
  const names = (await entries(dir)) ?? [];
  for (const n of names) if (n.toString() !== ".tdv") await fsp.rm(inDir(dir, n), { recursive: true, force: true });
  const tdvDir = path.join(dir, ".tdv");
  const config = path.join(tdvDir, "tdv.json");
  if (await readFileOrNull(config).catch(() => null)) {
    const r = repo ?? (await Repository.open({ dir, unfinishedClone: true }).catch(() => null));
    await r
      ?.updateConfig((c) => {
        if (c.cloning) c.cloning.removing = true;
      })
      .catch(() => {}); // a repository that cannot say it is being removed is removed all the same
  }
  for (const n of (await entries(tdvDir)) ?? []) if (n.toString() !== "tdv.json") await fsp.rm(inDir(tdvDir, n), { recursive: true, force: true });
  await fsp.rm(config, { force: true });
  await fsp.rm(tdvDir, { recursive: true, force: true });
  if (removeDir) await fsp.rmdir(dir).catch(() => {}); // not empty: someone wrote into it meanwhile; theirs to keep
}

/** The repository options among a clone's options. */
function pickRepoOptions({ durability, gcWaitMs, writersWaitMs }: RepoOptions): RepoOptions {
  return { ...(durability ? { durability } : {}), ...(gcWaitMs === undefined ? {} : { gcWaitMs }), ...(writersWaitMs === undefined ? {} : { writersWaitMs }) };
}
