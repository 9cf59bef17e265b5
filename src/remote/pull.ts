/**
 * Pull: fetch, then bring the remote branch into the current one. Already
 * contained: nothing to do. Ours behind: a fast-forward moves the branch and
 * the working tree (local changes are carried, or the pull refuses, as
 * switch does). Both sides moved: the merge library merges them (chunk by
 * chunk, element by element), which may stop on conflicts; with `ffOnly`,
 * a DivergedError instead, the fetch being done. With `rebase` (or the
 * setting pull.rebase), the branch's own commits are replayed onto the
 * remote branch instead (`tdv rebase`): no merge commit, a linear history.
 */
import { RefNotFoundError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../worktree/materialize.js";
import { isAncestor } from "../repo/history.js";
import { merge, type MergeResult } from "../commands/merge.js";
import { rebase, type RebaseResult } from "../commands/rebase.js";
import { pullRebaseSetting } from "../repo/settings.js";
import { gate } from "../rules/gate.js";
import type { Repository } from "../repo/repository.js";
import { DivergedError } from "./errors.js";
import { fetch, type FetchOptions, type FetchResult } from "./fetch.js";

export interface PullOptions extends FetchOptions {
  /** the remote branch to bring in (default: the current branch's name) */
  branch?: string;
  /** refuse to merge: only fast-forward */
  ffOnly?: boolean;
  /** rebase the branch's own commits onto the remote branch instead of merging (default: the setting pull.rebase, else false) */
  rebase?: boolean;
  /** skip the validation rules the branch runs at merge (recorded as a Tdv-No-Verify trailer in a merge commit) */
  noVerify?: boolean;
  /** progress of writing the working tree */
  onCheckoutProgress?: ProgressFn;
}

export interface PullResult extends CheckoutResult {
  fetch: FetchResult;
  branch: string;
  /** "origin/main", or the URL and branch when pulled by URL */
  upstream: string;
  old: GitOid | null;
  new: GitOid;
  status: "up-to-date" | "ahead" | "fast-forward" | "merged" | "rebased" | "conflicts";
  /** the merge, when both sides had moved */
  merge?: MergeResult;
  /** the rebase, when both sides had moved and pull rebased */
  rebase?: RebaseResult;
}

export function pull(repo: Repository, opts?: Parameters<typeof _pull>[1]): ReturnType<typeof _pull> {
  return repo.exclusive("pull", () => _pull(repo, opts));
}

async function _pull(repo: Repository, opts: PullOptions = {}): Promise<PullResult> {
  const head = await repo.refs.head();
  if (!head.branch) throw new UsageError("HEAD is detached: pull needs a current branch", { hint: "`tdv switch BRANCH` first" });
  const local = head.branch.slice("refs/heads/".length);
  const branch = opts.branch ?? local;
  const fetched = await fetch(repo, opts);
  const theirs = fetched.refs.find((r) => r.ref === `refs/heads/${branch}`)?.new;
  const upstream = fetched.remote ? `${fetched.remote}/${branch}` : `${fetched.url} ${branch}`;
  if (!theirs) throw new RefNotFoundError(upstream, `the remote has no branch '${branch}'; name another: \`tdv pull REMOTE BRANCH\``);
  const none = { written: 0, deleted: 0, bytes: 0 };
  const base = { fetch: fetched, branch: local, upstream, old: head.oid, new: theirs };
  if (head.oid === theirs) return { ...base, ...none, status: "up-to-date" };
  if (head.oid && (await isAncestor(repo, theirs, head.oid))) return { ...base, ...none, new: head.oid, status: "ahead" };
  if (!head.oid || (await isAncestor(repo, head.oid, theirs))) {
    // a fast-forward is a merge that lands their commit as it is: the branch's rules check it first
    await gate(repo, theirs, head.branch, "merge", opts.noVerify === true);
    const tree = (await repo.git.readCommit(theirs)).tree;
    const res = await materialize(repo, { targetTree: tree, action: `pulling ${upstream}`, ...(opts.onCheckoutProgress ? { onProgress: opts.onCheckoutProgress } : {}) });
    await repo.refs.update(head.branch, { expected: head.oid, next: theirs, who: repo.identity(), message: `pull ${upstream}: Fast-forward` });
    return { ...base, ...res, status: "fast-forward" };
  }
  if (opts.ffOnly) throw new DivergedError(local, fetched.remote ? upstream : theirs, head.oid, theirs);
  if (opts.rebase ?? pullRebaseSetting(repo.config)) {
    const r = await rebase(repo, { upstream: fetched.remote ? upstream : theirs, ...(opts.onCheckoutProgress ? { onProgress: opts.onCheckoutProgress } : {}) });
    return { ...base, ...r.checkout, new: r.head, status: r.kind === "conflicts" ? "conflicts" : "rebased", rebase: r };
  }
  const m = await merge(repo, {
    rev: fetched.remote ? upstream : theirs,
    message: `Merge branch '${branch}' of ${fetched.url}${branch === local ? "" : ` into ${local}`}`,
    ...(opts.noVerify ? { noVerify: true } : {}),
    ...(opts.onCheckoutProgress ? { onProgress: opts.onCheckoutProgress } : {}),
  });
  const checkout = "checkout" in m ? m.checkout : none;
  const now = (await repo.refs.head()).oid ?? theirs;
  return { ...base, ...checkout, new: now, status: m.kind === "conflicts" ? "conflicts" : "merged", merge: m };
}
