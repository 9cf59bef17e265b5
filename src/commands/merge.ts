/**
 * `tdv merge`: fast-forward when possible; otherwise a three-way merge of
 * snapshots against the merge base (detectConflicts, then solve with the
 * strategy), a merged snapshot written as one tree, the working copy and
 * index moved to it, and either a merge commit with two parents or, when
 * conflicts stay open, a stopped merge (MERGE_HEAD, MERGE_STATE.json) that
 * `--continue`, `--abort` and `tdv resolve` work on.
 */
import { isTdvError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { sha256 } from "../format/hash.js";
import { readFileOrNull, writeAtomic } from "../store/atomic.js";
import { GitStore } from "../store/git.js";
import { addToIndex } from "../worktree/stage.js";
import { diffFileMaps, groupChanges, type GroupedChanges } from "../repo/changes.js";
import { materialize, type CheckoutResult, type ProgressFn } from "../worktree/materialize.js";
import { readEntry, readCommitSnapshot, writeSnapshot, type Snapshot, type SnapEntry } from "../repo/snapshot.js";
import { recordCommit } from "../worktree/record.js";
import { gate } from "../rules/gate.js";
import type { CommitResult } from "../worktree/record.js";
import { classifyWith } from "../repo/hierarchy.js";
import type { Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import type { ArrayMeta } from "../format/zarr-meta.js";
import { uncommittedPaths } from "../worktree/status.js";
import { assembleFiles } from "../repo/merge/assemble.js";
import { mergeBaseOf } from "../repo/merge/bases.js";
import { detectConflicts, type DetectInput } from "../repo/merge/detect.js";
import { LocalChangesError, MergeFailedError, MergeIncompleteError, MergeInProgressError, MergeStaleError, NoMergeInProgressError, NotFastForwardError, OtherEditsDiscardedError, UnresolvedConflictsError } from "../repo/merge/errors.js";
import { dropOutsideGrid } from "../repo/merge/grid.js";
import { describeOpen } from "../repo/merge/inputs.js";
import { solve } from "../repo/merge/solve.js";
import { clearMergeState, isResolvedInIndex, openConflict, readMergeState, readOrigIndex, saveOrigIndex, writeMergeState } from "../repo/merge/state.js";
import { assertNoRebase } from "../repo/rebase-state.js";
import { conflictSubject, type Conflict, type DiscardedEdits, type DroppedChunk, type MergeState, type OpenConflict, type Policy } from "../repo/merge/types.js";

export { applyPatch } from "../repo/merge/assemble.js";

export interface MergeOptions {
  /** what to merge into HEAD: a branch, tag or any revision */
  rev: string;
  /** the merge commit's message (default "Merge branch 'X'") */
  message?: string;
  /** "auto": fast-forward when possible (default); "only": refuse anything else; "no": always a merge commit */
  ff?: "auto" | "only" | "no";
  /** how conflicts are settled: element-wise only (default), or the rest for one side */
  strategy?: Policy;
  /**
   * let the strategy take one side's whole chunk where a chunk cannot merge
   * element by element, discarding the other side's edits of it; without it
   * such a merge is refused (OtherEditsDiscardedError) and nothing changes
   */
  discardOtherEdits?: boolean;
  /** compute and report, write nothing */
  dryRun?: boolean;
  /** provenance trailers for the merge commit */
  trailers?: Record<string, string>;
  /** skip the validation rules the branch's tdv-rules.toml runs at merge (recorded as a Tdv-No-Verify trailer when they fail) */
  noVerify?: boolean;
  onProgress?: ProgressFn;
}

interface MergeCommon {
  /** the revision as given */
  name: string;
  ours: GitOid | null;
  theirs: GitOid;
  dryRun: boolean;
}

export interface MergeSummary {
  /** chunks both sides changed, merged element by element */
  chunksMerged: number;
  /** conflicts settled by the strategy (or element-wise) */
  solved: Conflict[];
  notes: string[];
  /** chunks the strategy took whole from one side (they cannot merge element by element): the other side's edits of them are lost */
  discarded: DiscardedEdits[];
  /** chunk files wholly outside the merged array's grid (a shrunk shape), left out of the merge */
  dropped: DroppedChunk[];
  /** every merge base when there are several (criss-cross history): merged against a virtual base of them */
  bases: GitOid[];
}

export type MergeResult =
  | (MergeCommon & { kind: "up-to-date" })
  | (MergeCommon & { kind: "fast-forward"; changes: GroupedChanges; checkout: CheckoutResult })
  | (MergeCommon & { kind: "merged"; base: GitOid | null; commit: CommitResult | null; tree: GitOid | null; changes: GroupedChanges; summary: MergeSummary; checkout: CheckoutResult })
  | (MergeCommon & { kind: "conflicts"; base: GitOid | null; conflicts: OpenConflict[]; changes: GroupedChanges; summary: MergeSummary; checkout: CheckoutResult });

const NO_CHECKOUT: CheckoutResult = { written: 0, deleted: 0, bytes: 0 };

export function merge(repo: Repository, opts: Parameters<typeof _merge>[1]): ReturnType<typeof _merge> {
  return repo.exclusive("merge", () => _merge(repo, opts));
}

async function _merge(repo: Repository, opts: MergeOptions): Promise<MergeResult> {
  const { rev, ff = "auto", strategy = "elementwise", dryRun = false, discardOtherEdits = false, trailers = {}, onProgress, noVerify = false } = opts;
  await assertNoRebase(repo);
  const pending = await readMergeState(repo);
  if (pending) throw new MergeInProgressError(pending.name);
  const head = await repo.refs.head();
  const theirs = await resolveRevision(repo, rev);
  const common: MergeCommon = { name: rev, ours: head.oid, theirs, dryRun };
  await assertClean(repo, rev);

  const bases = head.oid ? await repo.git.mergeBase(head.oid, theirs) : [];
  const base = bases[0] ?? null;
  if (head.oid && (base === theirs || head.oid === theirs)) return { ...common, kind: "up-to-date" };
  const canFastForward = head.oid === null || base === head.oid;
  if (ff === "only" && !canFastForward) throw new NotFastForwardError(rev, head.oid as string, theirs);
  const [O, T] = [await readCommitSnapshot(repo, head.oid), await readCommitSnapshot(repo, theirs)];

  if (canFastForward && (ff !== "no" || head.oid === null)) {
    const changes = await changesBetween(O, T.files, T);
    let checkout = NO_CHECKOUT;
    if (!dryRun) {
      // the branch moves to their commit: it must pass the branch's rules (no commit to record an override in)
      await gate(repo, theirs, head.branch, "merge", noVerify);
      checkout = await moveRecorded(repo, T.tree, rev, head.oid, null, onProgress);
      await repo.refs.update(head.branch ?? "HEAD", { expected: head.oid, next: theirs, who: repo.identity(), message: `merge ${rev}: Fast-forward` });
    }
    return { ...common, kind: "fast-forward", changes, checkout };
  }

  const mb = await mergeBaseOf(repo, bases);
  const input: DetectInput = { base: mb.base, ...(mb.altBase ? { altBase: mb.altBase } : {}), ours: O, theirs: T, read: mb.read };
  const detection = await detectConflicts(input);
  const solved = await solve({ ...input, detection }, { conflicts: detection.conflicts, policy: strategy });
  if (solved.discarded.length > 0 && !discardOtherEdits) throw new OtherEditsDiscardedError(solved.discarded, "merge");
  const { files, written } = await assemble(repo, detection, solved, dryRun);
  // arrays with open conflicts keep their files: their shape is provisional until resolved
  const unsettled = new Set(solved.unsolvable.map((u) => conflictSubject(u.conflict)));
  const dropped = await dropOutsideGrid(files, written, { ours: O, theirs: T }, mb.read, (a) => !unsettled.has(a));
  const changes = await changesBetween(O, files, { arrays: mergedArrays(O, T, files) });
  const summary: MergeSummary = {
    chunksMerged: detection.conflicts.filter((c) => c._tag === "ChunkBothChanged").length,
    solved: solved.solved,
    notes: solved.notes,
    discarded: solved.discarded,
    dropped,
    bases: bases.length > 1 ? bases : [],
  };
  const message = opts.message ?? (await defaultMessage(repo, rev, head.branch));
  const tree = dryRun ? null : await writeSnapshot(repo, files);

  if (solved.unsolvable.length === 0) {
    if (dryRun) return { ...common, kind: "merged", base, commit: null, tree, changes, summary, checkout: NO_CHECKOUT };
    // the rules check the merged result before anything moves: refused, the working copy and branch stay as they were
    const probe = await repo.git.writeCommit({ tree: tree as GitOid, parents: [head.oid as GitOid, theirs], author: repo.identity(), committer: repo.identity(), message: `${message}\n` });
    const override = await gate(repo, probe, head.branch, "merge", noVerify);
    // recorded as a merge in progress until its commit lands: a merge killed half-way is
    // then undone with `tdv merge --abort` (the next `tdv merge` says so), not left as
    // unexplained local changes
    await saveOrigIndex(repo);
    const state: MergeState = { version: 1, name: rev, origHead: head.oid as GitOid, branch: head.branch, base, ...(bases.length > 1 ? { bases } : {}), theirs, message, strategy, conflicts: [], choices: {}, consolidated: detection.consolidated };
    await writeMergeState(repo, state);
    const checkout = await moveRecorded(repo, tree, rev, head.oid, state, onProgress);
    const res = await recordCommit(repo, { message, extraParents: [theirs], trailers: { ...trailers, ...override } });
    await clearMergeState(repo);
    return { ...common, kind: "merged", base, commit: res, tree, changes, summary, checkout };
  }

  if (dryRun) {
    const conflicts = solved.unsolvable.map((u) => ({ ...u, scope: [], fingerprint: "" }));
    return { ...common, kind: "conflicts", base, conflicts, changes, summary, checkout: NO_CHECKOUT };
  }
  await saveOrigIndex(repo);
  // recorded before the working copy moves, marked as not concluded: killed or failed half-way,
  // the merge is then undone with --abort, never concluded with its conflicts unlisted
  const state: MergeState = {
    version: 1,
    name: rev,
    origHead: head.oid as GitOid,
    branch: head.branch,
    base,
    ...(bases.length > 1 ? { bases } : {}),
    theirs,
    message,
    strategy,
    conflicts: [],
    choices: {},
    consolidated: detection.consolidated,
    interrupted: "it was stopped while it updated the working copy",
  };
  await writeMergeState(repo, state);
  const checkout = await moveRecorded(repo, tree, rev, head.oid, state, onProgress);
  const index = await repo.readIndex();
  const conflicts = solved.unsolvable.map((u) => openConflict(u, index.entries));
  const { interrupted: _moved, ...settled } = state;
  await writeMergeState(repo, { ...settled, conflicts });
  return { ...common, kind: "conflicts", base, conflicts, changes, summary, checkout };
}

/** Move the working copy and index to the merged tree; an untracked file in the way refuses it, naming the files. */
async function moveTo(repo: Repository, tree: GitOid | null, rev: string, onProgress?: ProgressFn): Promise<CheckoutResult> {
  try {
    return await materialize(repo, { targetTree: tree, action: `merging '${rev}'`, onProgress });
  } catch (err) {
    if (isTdvError(err, "DirtyWorkingCopyError")) throw new LocalChangesError(err.paths, rev, "untracked");
    throw err;
  }
}

/**
 * moveTo for a merge (its state recorded, or null for a fast-forward).
 * Refused (local changes in the way), nothing moved: the state is cleared.
 * Failed part-way (a full disk): the working copy and index are put back as
 * they were and the state cleared; when even that fails, the merge is kept in
 * progress, marked as not concluded, for `--abort`. Either way the error says which.
 */
async function moveRecorded(repo: Repository, tree: GitOid | null, rev: string, origHead: GitOid | null, state: MergeState | null, onProgress?: ProgressFn): Promise<CheckoutResult> {
  try {
    return await moveTo(repo, tree, rev, onProgress);
  } catch (err) {
    if (isTdvError(err, "LocalChangesError") || isTdvError(err, "DirtyWorkingCopyError")) {
      await clearMergeState(repo);
      throw err;
    }
    // an I/O failure comes wrapped as IncompleteUpdateError: report its cause; anything else as it is
    const cause = isTdvError(err, "IncompleteUpdateError") ? err.cause : err;
    const code = isTdvError(cause, "FileAccessError") ? cause.code : null;
    try {
      await materialize(repo, { targetTree: origHead ? (await repo.git.readCommit(origHead)).tree : null, force: true, action: "undoing the merge" });
      const orig = state ? await readOrigIndex(repo) : null;
      if (orig) await writeAtomic(repo.indexFile, orig, { durable: repo.durability.mode !== "none" });
    } catch {
      if (!state) throw new MergeFailedError(rev, "partial", code, cause);
      await writeMergeState(repo, { ...state, interrupted: cause instanceof Error ? cause.message : String(cause) }).catch(() => {});
      throw new MergeFailedError(rev, "kept", code, cause);
    }
    await clearMergeState(repo);
    throw new MergeFailedError(rev, "rolled-back", code, cause);
  }
}

/** Refuse to merge over staged or unstaged changes to tracked files (untracked files may stay). */
async function assertClean(repo: Repository, rev: string): Promise<void> {
  const dirty = await uncommittedPaths(repo);
  if (dirty.length > 0) throw new LocalChangesError(dirty, rev);
}

async function defaultMessage(repo: Repository, rev: string, branch: string | null): Promise<string> {
  const into = branch && !["refs/heads/main", "refs/heads/master"].includes(branch) ? ` into ${branch.replace(/^refs\/heads\//, "")}` : "";
  // `main~1`, `HEAD^2`: no branch or tag has such a name (reading it would be refused as an invalid name)
  const isRef = (ref: string) => repo.refs.read(ref).catch((err: unknown) => (isTdvError(err, "InvalidRefNameError") ? null : Promise.reject(err)));
  if (await isRef(`refs/heads/${rev}`)) return `Merge branch '${rev}'${into}`;
  if (await isRef(`refs/tags/${rev}`)) return `Merge tag '${rev}'${into}`;
  return `Merge commit '${rev}'${into}`;
}

/** The merged snapshot's files: detection, documents it rebuilt, and what solve patched; new bytes stored (unless a dry run). */
async function assemble(repo: Repository, detection: Parameters<typeof assembleFiles>[0], solved: Parameters<typeof assembleFiles>[1], dryRun: boolean) {
  const put = async (bytes: Uint8Array, store: "git" | "chunk"): Promise<SnapEntry> => {
    if (store === "git") return { store, id: dryRun ? GitStore.blobOid(bytes) : await repo.git.writeBlob(bytes), size: bytes.byteLength };
    const id = sha256(bytes);
    if (!dryRun) await repo.chunks.put(id, bytes);
    return { store, id, size: bytes.byteLength };
  };
  return assembleFiles(detection, solved, put, (p, e) => readEntry(repo, p, e));
}

/** What the merge changes relative to ours: by array and file. */
/**
 * The arrays of a merged file list, to classify its files: ours, and theirs
 * where ours has none (an array new on their side is an array, not N files),
 * each only while its metadata document is in the list.
 */
function mergedArrays(O: Snapshot, T: Snapshot, files: ReadonlyMap<string, SnapEntry>): Map<string, ArrayMeta> {
  const out = new Map<string, ArrayMeta>();
  const present = (dir: string) => [".zarray", "zarr.json"].some((n) => files.has(dir ? `${dir}/${n}` : n));
  for (const [dir, meta] of [...T.arrays, ...O.arrays]) if (present(dir)) out.set(dir, meta);
  return out;
}

async function changesBetween(O: Snapshot, after: ReadonlyMap<string, SnapEntry>, afterSnap: Pick<Snapshot, "arrays"> | null): Promise<GroupedChanges> {
  const arrays = afterSnap?.arrays ?? O.arrays;
  const list = await diffFileMaps(O.files, after, (rel, side) => classifyWith(side === "before" ? O.arrays : arrays, rel));
  return groupChanges(list);
}

// ---- --continue, --abort, --quit ------------------------------------------------------

async function activeState(repo: Repository) {
  // a rebase stopped on conflicts holds a merge state too: only `tdv rebase --continue|--skip|--abort` conclude it
  await assertNoRebase(repo);
  const state = await readMergeState(repo);
  if (!state) throw new NoMergeInProgressError();
  const head = await repo.refs.head();
  if (head.oid !== state.origHead) throw new MergeStaleError(state.origHead, head.oid);
  return state;
}

export interface ContinueOptions {
  /** the merge commit's message (default: the one the merge prepared) */
  message?: string;
  /** stage changes to tracked files first (commit -a) */
  all?: boolean;
  trailers?: Record<string, string>;
  /** skip the validation rules the branch runs at merge (recorded as a Tdv-No-Verify trailer when they fail) */
  noVerify?: boolean;
}

/** Conclude a stopped merge: a commit with two parents, once no conflict is open. */
export function mergeContinue(repo: Repository, opts?: Parameters<typeof _mergeContinue>[1]): ReturnType<typeof _mergeContinue> {
  return repo.exclusive("merge --continue", () => _mergeContinue(repo, opts));
}

async function _mergeContinue(repo: Repository, opts: ContinueOptions = {}): Promise<CommitResult> {
  const state = await activeState(repo);
  if (state.interrupted) throw new MergeIncompleteError(state.name, state.interrupted);
  if (opts.all) await addToIndex(repo, { trackedOnly: true });
  const index = await repo.readIndex();
  // a merge killed before it moved the index (the state is written first): nothing to conclude
  if (state.conflicts.length === 0 && !opts.all && (await readFileOrNull(repo.indexFile))?.equals((await readOrigIndex(repo)) ?? Buffer.alloc(0))) {
    throw new UnresolvedConflictsError(["the merge was interrupted before it updated the working copy: undo it with `tdv merge --abort` and merge again"]);
  }
  const open = state.conflicts.filter((c) => !isResolvedInIndex(c, index.entries));
  if (open.length > 0) throw new UnresolvedConflictsError(open.map(describeOpen));
  const verify = (oid: GitOid, branch: string | null) => gate(repo, oid, branch, "merge", opts.noVerify === true);
  const res = await recordCommit(repo, { message: opts.message ?? state.message, extraParents: [state.theirs], trailers: opts.trailers ?? {}, verify });
  await clearMergeState(repo);
  return res;
}

/** Undo a stopped merge: working files, index (byte for byte) and HEAD as they were before it. */
export function mergeAbort(repo: Repository, opts?: Parameters<typeof _mergeAbort>[1]): ReturnType<typeof _mergeAbort> {
  return repo.exclusive("merge --abort", () => _mergeAbort(repo, opts));
}

async function _mergeAbort(repo: Repository, { onProgress }: { onProgress?: ProgressFn } = {}): Promise<CheckoutResult> {
  const state = await activeState(repo);
  const tree = (await repo.git.readCommit(state.origHead)).tree;
  const res = await materialize(repo, { targetTree: tree, force: true, action: "aborting the merge", onProgress });
  const orig = await readOrigIndex(repo);
  if (orig) await writeAtomic(repo.indexFile, orig, { durable: repo.durability.mode !== "none" });
  await clearMergeState(repo);
  return res;
}

/** Forget a stopped merge's state, leaving the working copy and index as they are (git merge --quit). */
export function mergeQuit(repo: Repository): ReturnType<typeof _mergeQuit> {
  return repo.exclusive("merge --quit", () => _mergeQuit(repo));
}

async function _mergeQuit(repo: Repository): Promise<void> {
  await assertNoRebase(repo);
  // an unreadable state file is forgotten too: that is what --quit is for
  if ((await readMergeState(repo).catch(() => "unreadable")) === null) throw new NoMergeInProgressError();
  await clearMergeState(repo);
}
