/**
 * The state of a merge stopped on conflicts, on disk:
 *
 *   .tdv/git/MERGE_HEAD        the commit being merged (Git's name and place:
 *                              gc keeps it alive, `git log MERGE_HEAD` works)
 *   .tdv/git/ORIG_HEAD         HEAD before the merge (as Git writes it)
 *   .tdv/MERGE_STATE.json      conflicts still open, strategy, message, ORIG_HEAD
 *   .tdv/MERGE_ORIG_INDEX      the index as it was before the merge, for --abort
 *
 * Each file is written atomically; MERGE_STATE.json last, so its presence
 * means the whole state is there.
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { CorruptObjectError } from "../../errors.js";
import { isGitOid, type GitOid } from "../../format/hash.js";
import { readFileOrNull, writeAtomic } from "../../store/atomic.js";
import type { IndexEntry } from "../../store/index-file.js";
import type { Repository } from "../repository.js";
import { conflictSubject, type Conflict, type MergeState, type OpenConflict, type Policy, type Unsolved } from "./types.js";

export const MERGE_STATE = "MERGE_STATE.json";
export const MERGE_ORIG_INDEX = "MERGE_ORIG_INDEX";

const statePath = (repo: Repository) => path.join(repo.tdvDir, MERGE_STATE);
const origIndexPath = (repo: Repository) => path.join(repo.tdvDir, MERGE_ORIG_INDEX);
const gitFile = (repo: Repository, name: string) => path.join(repo.git.gitdir, name);
const durable = (repo: Repository) => ({ durable: repo.durability.mode !== "none" });

/** The merge in progress, or null. */
export async function readMergeState(repo: Repository): Promise<MergeState | null> {
  const raw = await readFileOrNull(statePath(repo));
  if (!raw) return null;
  let s: MergeState;
  try {
    s = JSON.parse(raw.toString("utf8")) as MergeState;
  } catch {
    throw new CorruptObjectError(statePath(repo), "not valid JSON (remove it with `tdv merge --quit`)");
  }
  if (s.version !== 1 || !isGitOid(s.origHead) || !isGitOid(s.theirs) || !Array.isArray(s.conflicts)) {
    throw new CorruptObjectError(statePath(repo), "not a tdv merge state (remove it with `tdv merge --quit`)");
  }
  s.choices ??= {};
  s.consolidated ??= [];
  return s;
}

/** Record a stopped merge: the pre-merge index first, MERGE_HEAD and ORIG_HEAD, the state file last. */
export async function saveOrigIndex(repo: Repository): Promise<void> {
  const bytes = await readFileOrNull(repo.indexFile);
  if (bytes) await writeAtomic(origIndexPath(repo), bytes, durable(repo));
  else await fsp.rm(origIndexPath(repo), { force: true });
}

export async function writeMergeState(repo: Repository, state: MergeState): Promise<void> {
  await repo.durability.flush(); // the objects the state names are on disk before it names them
  await writeAtomic(gitFile(repo, "MERGE_HEAD"), `${state.theirs}\n`, durable(repo));
  await writeAtomic(gitFile(repo, "ORIG_HEAD"), `${state.origHead}\n`, durable(repo));
  await writeAtomic(gitFile(repo, "MERGE_MSG"), `${state.message.trim()}\n`, durable(repo));
  await writeAtomic(statePath(repo), `${JSON.stringify(state, null, 2)}\n`, durable(repo));
}

/** The index bytes saved when the merge started (null: there was no index). */
export async function readOrigIndex(repo: Repository): Promise<Buffer | null> {
  return readFileOrNull(origIndexPath(repo));
}

/** Forget the merge: the state file first (after that no merge is in progress), then the rest. */
export async function clearMergeState(repo: Repository): Promise<void> {
  await fsp.rm(statePath(repo), { force: true });
  for (const f of [gitFile(repo, "MERGE_HEAD"), gitFile(repo, "MERGE_MSG"), origIndexPath(repo)]) await fsp.rm(f, { force: true });
}

// ---- which files a conflict covers, and whether the index still holds what the merge left ----

/** The files a conflict covers: the chunk, document or file; a whole array as its folder ("dir/"). */
export function scopeOf(c: Conflict): string[] {
  switch (c._tag) {
    case "ChunkBothChanged":
    case "AttrBothChanged":
    case "FileBothChanged":
      return [c.path];
    case "MetaBothChanged":
      return c.scope === "key" ? [c.path] : [`${c.array}/`];
    case "ArrayAddedBoth":
      return [`${c.array}/`];
    case "DeleteOfChanged":
      return c.array ? [`${c.path}/`] : [c.path];
  }
}

function inScope(p: string, scope: readonly string[]): boolean {
  return scope.some((s) => (s.endsWith("/") ? s === "/" || p.startsWith(s) : p === s));
}

/** SHA-256 over the index entries (path, id) a scope covers. */
export function fingerprint(entries: ReadonlyMap<string, Pick<IndexEntry, "id">>, scope: readonly string[]): string {
  const h = createHash("sha256");
  const paths = scope.every((s) => !s.endsWith("/")) ? scope.filter((p) => entries.has(p)) : [...entries.keys()].filter((p) => inScope(p, scope));
  for (const p of [...new Set(paths)].sort()) h.update(`${p}\0${entries.get(p)!.id}\n`);
  // prefixed: a bare 64-hex string in the state file would read as a chunk id to fsck and gc
  return `fp:${h.digest("hex")}`;
}

export function openConflict(u: Unsolved, entries: ReadonlyMap<string, Pick<IndexEntry, "id">>): OpenConflict {
  const scope = scopeOf(u.conflict);
  return { ...u, scope, fingerprint: fingerprint(entries, scope) };
}

/** True when the index under the conflict's files changed since the merge (or `tdv resolve`) wrote them. */
export function isResolvedInIndex(c: OpenConflict, entries: ReadonlyMap<string, Pick<IndexEntry, "id">>): boolean {
  return fingerprint(entries, c.scope) !== c.fingerprint;
}

/** The conflicts a `tdv resolve PATH [--chunk I,J]` names: by array, node, file, or chunk. */
export function conflictsAt(state: MergeState, target: string, chunk?: readonly number[]): OpenConflict[] {
  const t = target.replace(/\/+$/, "");
  const sameIndex = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((n, i) => n === b[i]);
  if (chunk) {
    const exact = state.conflicts.filter((o) => o.conflict._tag === "ChunkBothChanged" && o.conflict.array === t && sameIndex(o.conflict.chunk, chunk));
    if (exact.length) return exact;
    // a sharded array's conflict as the conflict list names it: by an inner chunk of the shard
    return state.conflicts.filter((o) => o.conflict._tag === "ChunkBothChanged" && o.conflict.array === t && (o.innerChunks ?? []).some((i) => sameIndex(i, chunk)));
  }
  return state.conflicts.filter((o) => {
    const c = o.conflict;
    const subject = conflictSubject(c);
    if (subject === t || ("path" in c && c.path === t)) return true;
    // a folder holding the subject (`tdv resolve era5.zarr` settles every array in it)
    return t === "" || t === "." || subject.startsWith(`${t}/`);
  });
}

export interface MergeStatus {
  /** what is being merged, as named */
  name: string;
  theirs: GitOid;
  base: GitOid | null;
  origHead: GitOid;
  strategy: Policy;
  message: string;
  /** HEAD moved since the merge started: the state no longer applies (`tdv merge --quit`) */
  stale: boolean;
  /** the merge was stopped (killed, or failed) while it updated the working copy: it cannot be concluded, only aborted */
  interrupted?: string;
  conflicts: (OpenConflict & { resolved: boolean })[];
}

/** The merge in progress as `tdv status` shows it (null when none): each open conflict, resolved or not in the index. */
export async function mergeStatus(repo: Repository, entries: ReadonlyMap<string, Pick<IndexEntry, "id">>, head: GitOid | null): Promise<MergeStatus | null> {
  // an unreadable state file does not break status; `tdv merge --continue|--abort|--quit` report it
  const state = await readMergeState(repo).catch(() => null);
  if (!state) return null;
  return {
    name: state.name,
    theirs: state.theirs,
    base: state.base,
    origHead: state.origHead,
    strategy: state.strategy,
    message: state.message,
    stale: head !== state.origHead,
    ...(state.interrupted ? { interrupted: state.interrupted } : {}),
    conflicts: state.conflicts.map((c) => ({ ...c, resolved: isResolvedInIndex(c, entries) })),
  };
}
