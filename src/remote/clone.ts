/**
 * Clone: a new working copy of a remote: init, `remote add origin URL`,
 * fetch (all of it, or metadata only with `lazy`), and check out the branch
 * (the remote's default, or `branch`). A clone that fails leaves nothing
 * behind.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { RefNotFoundError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../repo/checkout.js";
import { Repository } from "../repo/repository.js";
import type { BackendOptions } from "./backend.js";
import { normalizeRemoteUrl } from "./backend.js";
import { addRemote } from "./config.js";
import { fetch, type FetchResult } from "./fetch.js";
import { RemoteRepo } from "./layout.js";
import type { OnTransferProgress } from "./transfer.js";

export interface CloneOptions {
  url: string;
  /** the new working copy (default: named after the URL's last component, in cwd) */
  dir?: string;
  /** the branch to check out (default: the remote's default branch) */
  branch?: string;
  lazy?: boolean;
  cwd?: string;
  concurrency?: number;
  onProgress?: OnTransferProgress;
  onCheckoutProgress?: ProgressFn;
  backend?: BackendOptions;
}

export interface CloneResult extends CheckoutResult {
  dir: string;
  url: string;
  branch: string | null;
  oid: GitOid | null;
  /** the remote has no branches yet */
  empty: boolean;
  fetch: FetchResult;
}

/** The folder `clone URL` makes: the URL's last path component, less `.tdv`. */
export function cloneDirName(url: string): string {
  const parts = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/").filter(Boolean);
  const last = (parts[parts.length - 1] ?? "").replace(/\.tdv$/, "");
  if (!last || last === "." || last === "..") throw new UsageError(`cannot name a folder after '${url}'`, { hint: "give the folder: `tdv clone URL DIR`" });
  return last;
}

export async function clone(opts: CloneOptions): Promise<CloneResult> {
  const cwd = opts.cwd ?? process.cwd();
  const url = normalizeRemoteUrl(opts.url, cwd);
  const dir = path.resolve(cwd, opts.dir ?? cloneDirName(url));
  const before = await fsp.readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
  if (before && before.length > 0) throw new UsageError(`destination ${dir} already exists and is not empty`, { hint: "clone into a new or empty folder: `tdv clone URL DIR`" });

  const remote = await RemoteRepo.open(url, opts.backend);
  await remote.requireConfig();
  const initial = opts.branch ?? (await remote.defaultBranch())?.slice("refs/heads/".length) ?? "main";

  const { repo } = await Repository.init({ dir, initialBranch: initial });
  try {
    await addRemote(repo, { name: "origin", url });
    const fetched = await fetch(repo, {
      remote: "origin",
      lazy: opts.lazy === true,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
    const heads = fetched.refs.filter((r) => r.ref.startsWith("refs/heads/") && r.new);
    const empty = heads.length === 0;
    let target = heads.find((r) => r.ref === `refs/heads/${initial}`);
    if (!target && !opts.branch && !empty) {
      // the remote's HEAD names no branch it has: take main, else the first
      target = heads.find((r) => r.ref === "refs/heads/main") ?? heads[0];
      if (target) await repo.refs.setHead({ branch: target.ref }, repo.identity(), "clone: default branch");
    }
    if (!target) {
      if (opts.branch) throw new RefNotFoundError(`origin/${opts.branch}`, `the remote has no branch '${opts.branch}'; its branches: ${heads.map((h) => h.ref.slice(11)).join(", ") || "(none)"}`);
      return { dir, url, branch: initial, oid: null, empty: true, fetch: fetched, written: 0, deleted: 0, bytes: 0 };
    }
    const oid = target.new as GitOid;
    const tree = (await repo.git.readCommit(oid)).tree;
    const res = await materialize(repo, { targetTree: tree, action: "clone", ...(opts.onCheckoutProgress ? { onProgress: opts.onCheckoutProgress } : {}) });
    await repo.refs.update(target.ref, { expected: null, next: oid, who: repo.identity(), message: `clone: from ${url}` });
    return { dir, url, branch: target.ref.slice("refs/heads/".length), oid, empty, fetch: fetched, ...res };
  } catch (err) {
    // leave nothing behind: the folder as it was (absent, or empty)
    if (before === null) await fsp.rm(dir, { recursive: true, force: true });
    else for (const e of await fsp.readdir(dir)) await fsp.rm(path.join(dir, e), { recursive: true, force: true });
    throw err;
  }
}
