/**
 * The state of a rebase in progress, on disk:
 *
 *   .tdv/rebase-state.json     the branch, where it was (origHead), what it is
 *                              replayed onto, the commits still to replay and
 *                              those replayed so far (old → new), the step
 *                              under way
 *   .tdv/rebase-orig-index     the index as it was before the rebase, for --abort
 *
 * Each file is written atomically, the index copy first: the state file's
 * presence means a rebase is in progress and everything --abort needs is
 * there. A step stopped on conflicts also holds a merge state (merge/state.ts),
 * so `tdv resolve` and `tdv status` work on it as on a stopped merge.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { CorruptObjectError, TdvError } from "../errors.js";
import { isGitOid, type GitOid } from "../format/hash.js";
import { readFileOrNull, writeAtomic } from "../store/atomic.js";
import type { Repository } from "./repository.js";

export const REBASE_STATE = "rebase-state.json";
export const REBASE_ORIG_INDEX = "rebase-orig-index";

/** One commit of the rebased range: its id before, and after (null: dropped, its change was already there, or skipped). */
export interface RebaseStep {
  old: GitOid;
  new: GitOid | null;
  subject: string;
  /** why `new` is null */
  dropped?: "empty" | "skipped";
}

export interface RebaseState {
  version: 1;
  /** the branch rebased (refs/heads/X), or null for a detached HEAD */
  branch: string | null;
  /** the branch's commit before the rebase: --abort puts it back */
  origHead: GitOid;
  /** the upstream as given ("origin/main") */
  upstream: string;
  /** the commit replayed onto */
  onto: GitOid;
  /** commits still to replay, oldest first; the first is the step under way */
  todo: GitOid[];
  /** commits replayed so far */
  done: RebaseStep[];
  /** the rewritten tip so far (HEAD, once `pending` is done) */
  tip: GitOid;
  /** a commit HEAD and the working copy are being moved to: a step killed half-way is finished from here */
  pending?: GitOid;
  /** the first commit of `todo` stopped on conflicts (a merge state holds them) */
  stopped?: GitOid;
  /** merge commits of the range, left out (their changes come with the commits they merged) */
  flattened: GitOid[];
}

const statePath = (repo: Repository) => path.join(repo.tdvDir, REBASE_STATE);
const origIndexPath = (repo: Repository) => path.join(repo.tdvDir, REBASE_ORIG_INDEX);
const durable = (repo: Repository) => ({ durable: repo.durability.mode !== "none" });

/** The rebase in progress, or null. */
export async function readRebaseState(repo: Repository): Promise<RebaseState | null> {
  const raw = await readFileOrNull(statePath(repo));
  if (!raw) return null;
  let s: RebaseState;
  try {
    s = JSON.parse(raw.toString("utf8")) as RebaseState;
  } catch {
    throw new CorruptObjectError(statePath(repo), "not valid JSON (remove it to forget the rebase)");
  }
  if (s.version !== 1 || !isGitOid(s.origHead) || !isGitOid(s.tip) || !isGitOid(s.onto) || !Array.isArray(s.todo) || !Array.isArray(s.done)) {
    throw new CorruptObjectError(statePath(repo), "not a tdv rebase state (remove it to forget the rebase)");
  }
  s.flattened ??= [];
  return s;
}

/** Save the index as it is before the rebase starts (nothing: there was no index). */
export async function saveRebaseOrigIndex(repo: Repository): Promise<void> {
  const bytes = await readFileOrNull(repo.indexFile);
  if (bytes) await writeAtomic(origIndexPath(repo), bytes, durable(repo));
  else await fsp.rm(origIndexPath(repo), { force: true });
}

export async function readRebaseOrigIndex(repo: Repository): Promise<Buffer | null> {
  return readFileOrNull(origIndexPath(repo));
}

export async function writeRebaseState(repo: Repository, state: RebaseState): Promise<void> {
  await repo.durability.flush(); // the commits the state names are on disk before it names them
  await writeAtomic(statePath(repo), `${JSON.stringify(state, null, 2)}\n`, durable(repo));
}

/** Forget the rebase: the state file first (after that no rebase is in progress), then the saved index. */
export async function clearRebaseState(repo: Repository): Promise<void> {
  await fsp.rm(statePath(repo), { force: true });
  await fsp.rm(origIndexPath(repo), { force: true });
}

export interface RebaseStatus {
  /** the branch rebased, or null (a detached HEAD) */
  branch: string | null;
  upstream: string;
  onto: GitOid;
  origHead: GitOid;
  /** commits replayed so far, and the total */
  done: number;
  total: number;
  /** the commit stopped on conflicts, with its subject */
  stopped: { oid: GitOid; subject: string } | null;
}

/** The rebase in progress as `tdv status` shows it (null when none). */
export async function rebaseStatus(repo: Repository): Promise<RebaseStatus | null> {
  const s = await readRebaseState(repo).catch(() => null);
  if (!s) return null;
  let stopped: RebaseStatus["stopped"] = null;
  if (s.stopped) {
    const c = await repo.git.readCommit(s.stopped).catch(() => null);
    stopped = { oid: s.stopped, subject: c?.message.trim().split("\n")[0] ?? "" };
  }
  return { branch: s.branch, upstream: s.upstream, onto: s.onto, origHead: s.origHead, done: s.done.length, total: s.done.length + s.todo.length, stopped };
}

/** A rebase is in progress: another one, a merge, or a commit cannot start. */
export class RebaseInProgressError extends TdvError<"RebaseInProgressError"> {
  readonly _tag = "RebaseInProgressError";
  constructor(readonly branch: string | null) {
    super(`a rebase${branch ? ` of ${branch.replace(/^refs\/heads\//, "")}` : ""} is in progress`, {
      hint: "settle its conflicts (`tdv status` lists them) and run `tdv rebase --continue`, skip the commit with `tdv rebase --skip`, or undo it all with `tdv rebase --abort`",
    });
  }
}

export class NoRebaseInProgressError extends TdvError<"NoRebaseInProgressError"> {
  readonly _tag = "NoRebaseInProgressError";
  constructor() {
    super("no rebase is in progress", { hint: "`tdv rebase UPSTREAM` starts one" });
  }
}

/** Throws RebaseInProgressError while a rebase is in progress (what merge, revert and stash check first). */
export async function assertNoRebase(repo: Repository): Promise<void> {
  const s = await readRebaseState(repo).catch(() => ({ branch: null }));
  if (s) throw new RebaseInProgressError(s.branch);
}

declare module "../errors.js" {
  interface TdvErrorMap {
    RebaseInProgressError: RebaseInProgressError;
    NoRebaseInProgressError: NoRebaseInProgressError;
  }
}
