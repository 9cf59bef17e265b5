/**
 * Looking at a remote: `ls-remote` (its branches and tags, read live) and
 * `remote show` (the same, set against this repository's branches and
 * remote-tracking refs).
 *
 * Both read the remote itself, as git's `ls-remote` and `remote show` do: a
 * listing of git/refs/ (file, S3) or git/info/refs (http). `remote show`
 * with `query: false` reads only the remote-tracking refs of the last fetch,
 * and says when that was.
 */
import type { GitOid } from "../format/hash.js";
import type { Repository } from "../repo/repository.js";
import type { BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { UnknownRemoteError } from "./errors.js";
import { RemoteRepo, type IgnoredRemoteRef } from "./layout.js";

export interface RemoteRefEntry {
  /** "refs/heads/main", "refs/tags/v1" */
  ref: string;
  oid: GitOid;
}

export interface LsRemoteResult {
  remote: string | null;
  url: string;
  /** the branch the remote's HEAD names ("main"), or null */
  head: string | null;
  /** branches first, then tags, each sorted by name */
  refs: RemoteRefEntry[];
  ignored: IgnoredRemoteRef[];
}

export interface LsRemoteOptions {
  /** a remote name (needs `repo`) or a URL; default: origin, or the only remote */
  remote?: string;
  backend?: BackendOptions;
}

/** The remote's branches and tags with their ids (`tdv ls-remote`); `repo` may be null when `remote` is a URL. */
export async function lsRemote(repo: Repository | null, opts: LsRemoteOptions = {}): Promise<LsRemoteResult> {
  const { name, url } = repo ? resolveRemote(repo, opts.remote) : { name: null, url: opts.remote ?? "" };
  if (!url) throw new UnknownRemoteError("origin", []);
  const remote = await RemoteRepo.open(url, opts.backend);
  await remote.requireConfig();
  const { refs, ignored } = await remote.scanRefs();
  const head = await remote.readHead();
  if (head.ignored) ignored.unshift(head.ignored);
  const entries = [...refs].map(([ref, r]) => ({ ref, oid: r.oid }));
  const order = (r: string) => (r.startsWith("refs/heads/") ? 0 : 1);
  entries.sort((a, b) => order(a.ref) - order(b.ref) || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { remote: name, url, head: head.branch?.slice("refs/heads/".length) ?? null, refs: entries, ignored };
}

/** How a remote branch stands against its remote-tracking ref here. */
export type TrackingState = "tracked" | "new" | "stale";

export interface RemoteBranchInfo {
  name: string;
  /** its id on the remote (null for a stale one: gone from the remote) */
  oid: GitOid | null;
  /** refs/remotes/NAME/BRANCH here, null when none */
  trackingRef: string | null;
  trackingOid: GitOid | null;
  /** tracked: a remote-tracking ref exists; new: the next fetch stores it; stale: gone from the remote (`tdv fetch --prune` removes it) */
  state: TrackingState;
}

export type BranchStanding = "up-to-date" | "ahead" | "behind" | "diverged" | "unknown";

export interface LocalBranchInfo {
  /** the local branch ("main") that pulls from and pushes to the same-named remote branch */
  branch: string;
  oid: GitOid | null;
  remoteOid: GitOid | null;
  /** commits here and not on the remote branch; null when not known (its commit is not here: fetch first) */
  ahead: number | null;
  behind: number | null;
  /** unknown: the remote commit is not in this repository (`tdv fetch` brings it) */
  standing: BranchStanding;
}

export interface RemoteShowResult {
  remote: string;
  url: string;
  /** whether the remote itself was read (false with query: false: from remote-tracking refs) */
  queried: boolean;
  /** the remote's default branch ("main"); null when unset or not queried */
  head: string | null;
  branches: RemoteBranchInfo[];
  tags: RemoteRefEntry[];
  /** local branches with a same-named branch on the remote (or a tracking ref of one) */
  local: LocalBranchInfo[];
  /** when the remote-tracking refs last moved by a fetch, pull or push (ISO), null if never */
  lastFetched: string | null;
  ignored: IgnoredRemoteRef[];
}

export interface RemoteShowOptions {
  name: string;
  /** read the remote (default true); false: only the remote-tracking refs of the last fetch */
  query?: boolean;
  backend?: BackendOptions;
}

/** A configured remote set against this repository (`tdv remote show NAME`). */
export async function remoteShow(repo: Repository, { name, query = true, backend }: RemoteShowOptions): Promise<RemoteShowResult> {
  const url = repo.config.remotes?.[name]?.url;
  if (!url) throw new UnknownRemoteError(name, Object.keys(repo.config.remotes ?? {}));
  const prefix = `refs/remotes/${name}/`;
  const tracking = await repo.refs.list(prefix);
  let lastFetched = 0;
  for (const ref of tracking.keys()) {
    const log = await repo.refs.reflog(ref).catch(() => []);
    for (const e of log) lastFetched = Math.max(lastFetched, e.timestamp);
  }

  let remoteBranches: Map<string, GitOid>;
  let tags: RemoteRefEntry[] = [];
  let head: string | null = null;
  let ignored: IgnoredRemoteRef[] = [];
  if (query) {
    const ls = await lsRemote(repo, { remote: name, ...(backend ? { backend } : {}) });
    remoteBranches = new Map(ls.refs.filter((r) => r.ref.startsWith("refs/heads/")).map((r) => [r.ref.slice("refs/heads/".length), r.oid]));
    tags = ls.refs.filter((r) => r.ref.startsWith("refs/tags/"));
    head = ls.head;
    ignored = ls.ignored;
  } else {
    remoteBranches = new Map([...tracking].map(([ref, oid]) => [ref.slice(prefix.length), oid]));
  }

  const names = [...new Set([...remoteBranches.keys(), ...[...tracking.keys()].map((r) => r.slice(prefix.length))])].sort();
  const branches: RemoteBranchInfo[] = names.map((b) => {
    const t = tracking.get(`${prefix}${b}`) ?? null;
    const oid = remoteBranches.get(b) ?? null;
    return { name: b, oid, trackingRef: t ? `${prefix}${b}` : null, trackingOid: t, state: oid === null ? "stale" : t === null ? "new" : "tracked" };
  });

  const local: LocalBranchInfo[] = [];
  for (const [ref, oid] of await repo.refs.list("refs/heads/")) {
    const branch = ref.slice("refs/heads/".length);
    const info = branches.find((b) => b.name === branch);
    if (!info || info.oid === null) continue;
    local.push({ branch, oid, remoteOid: info.oid, ...(await standing(repo, oid, info.oid)) });
  }
  return { remote: name, url, queried: query, head, branches, tags, local, lastFetched: lastFetched ? new Date(lastFetched * 1000).toISOString() : null, ignored };
}

/** Ahead/behind counts of `ours` against `theirs` (commits on one side only), as `git status` gives them. */
export async function standing(repo: Repository, ours: GitOid, theirs: GitOid): Promise<{ ahead: number | null; behind: number | null; standing: BranchStanding }> {
  if (ours === theirs) return { ahead: 0, behind: 0, standing: "up-to-date" };
  if (!(await repo.git.typeOf(theirs))) return { ahead: null, behind: null, standing: "unknown" };
  const a = await ancestors(repo, ours);
  const b = await ancestors(repo, theirs);
  let ahead = 0;
  let behind = 0;
  for (const c of a) if (!b.has(c)) ahead++;
  for (const c of b) if (!a.has(c)) behind++;
  return { ahead, behind, standing: ahead === 0 ? "behind" : behind === 0 ? "ahead" : "diverged" };
}

async function ancestors(repo: Repository, tip: GitOid): Promise<Set<string>> {
  const seen = new Set<string>();
  const stack: GitOid[] = [tip];
  while (stack.length > 0) {
    let oid = stack.pop() as GitOid;
    if (seen.has(oid)) continue;
    // a tag names a commit: count commits only
    for (let type = await repo.git.typeOf(oid); type === "tag"; type = await repo.git.typeOf(oid)) oid = (await repo.git.readTag(oid)).object as GitOid;
    if (seen.has(oid)) continue;
    seen.add(oid);
    for (const p of (await repo.git.readCommit(oid)).parents) if (!seen.has(p)) stack.push(p);
  }
  return seen;
}
