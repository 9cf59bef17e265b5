/**
 * tdv's public API: the CLI imports only this module.
 *
 * Every command the CLI runs imports it, so what it loads at once is kept to
 * what opening a repository needs, the reading verbs (`status`, `log`,
 * `show`, `ls`, `cat`, branches, tags) and small pure helpers, errors and
 * constants. The other verbs are exported through `later`: each loads with
 * its group of `src/later/` on its first call, so `tdv status` does not load
 * the merge, the diff, the remotes, the rules or the server
 * (docs/decisions.md, "The library loads in groups"). A function exported
 * this way returns a promise, as it did; an error it throws rejects it.
 */
export * from "./errors.js";
export type { ChunkId, GitOid } from "./format/hash.js";
export type { ArrayMeta } from "./format/zarr-meta.js";
export { Repository, fileStores, hasIndex, type CloneMarker, type FileStores, type OpenOptions, type RepoConfig, type RepoOptions, type Stores } from "./repo/repository.js";
export type { ChunkSource, ChunkStore, ObjectStore, RefStore } from "./store/types.js";
export type { DurabilityMode } from "./store/durability.js";
export { REPO_FORMAT_VERSION, TDV_VERSION } from "./format/version.js";
export { formatBytes, formatAge } from "./format/display.js";
export { sameElement } from "./zarr/bits.js";
export { isStoreRoot, siblingRepoDir, recordedWorktree, findDetachedRepo } from "./repo/store-root.js";
export {
  checkConfigKey,
  effectiveValue as effectiveConfigValue,
  globalConfigFile,
  listScope as listConfigScope,
  resolveIdentity,
  setGlobal as setGlobalConfig,
  setRepoSetting,
  pullRebaseSetting,
  type ConfigScope,
  type Identity,
} from "./repo/settings.js";

/**
 * The function `pick` takes from the module `load` imports, loaded on its
 * first call; the same signature (it returns a promise already).
 */
function later<M, F extends (...args: never[]) => Promise<unknown>>(load: () => Promise<M>, pick: (m: M) => F): F {
  const call = async (...args: Parameters<F>) => Reflect.apply(pick(await load()), undefined, args);
  return call as unknown as F;
}

// the groups of verbs (src/later/), each loaded with the first call of one of its functions
const change = () => import("./later/change.js");
const data = () => import("./later/data.js");
const diffGroup = () => import("./later/diff.js");
const remote = () => import("./later/remote.js");

export const add = later(change, (m) => m.add);
export type { AddOptions, AddResult, Progress } from "./worktree/stage.js";
export const commit = later(change, (m) => m.commit);
export type { CommitOptions, CommitResult } from "./worktree/record.js";
export { status, type StatusResult } from "./commands/status.js";
export type { Change, ChangeKind, ArrayChanges, GroupedChanges } from "./repo/changes.js";
export const checkout = later(change, (m) => m.checkout);
export const switchBranch = later(change, (m) => m.switchBranch);
export const restore = later(change, (m) => m.restore);
export const reset = later(change, (m) => m.reset);
export type { ResetMode } from "./commands/checkout.js";
export type { CheckoutResult } from "./worktree/materialize.js";
export const changeSparse = later(change, (m) => m.changeSparse);
export type { SparseChange, SparseResult } from "./commands/sparse.js";
export { readSparse, sparseSet, type SparseSet } from "./worktree/sparse-set.js";
export const unstage = later(change, (m) => m.unstage);
export type { UnstageOptions, UnstageResult } from "./commands/unstage.js";
export const stashPush = later(change, (m) => m.stashPush);
export const stashApply = later(change, (m) => m.stashApply);
export const stashDrop = later(change, (m) => m.stashDrop);
export const stashList = later(change, (m) => m.stashList);
export type { StashEntry, StashPushResult, StashApplyResult } from "./commands/stash.js";
export const revert = later(change, (m) => m.revert);
export type { RevertOptions, RevertResult } from "./commands/revert.js";
export { show, ls, cat, type ShowResult, type ArrayInfo } from "./commands/inspect.js";
export { resolveRevision, parseDate, parsePrune, parseStashSelector, DEFAULT_PRUNE } from "./repo/revision.js";
export { createBranch, deleteBranch } from "./commands/branch.js";
export { listBranches, scanBranches, currentBranch } from "./repo/branches.js";
export { listTags, createTag, deleteTag } from "./commands/tag.js";
export { log, type LogEntry } from "./commands/log.js";
export type { CommitObject, Person } from "./format/git-object.js";
export * from "./remote/errors.js";
export { openBackend, normalizeRemoteUrl, cloneDirName, type ObjectBackend, type BackendOptions, type PutOptions, type ObjectInfo } from "./remote/backend.js";
export { addRemote, removeRemote, listRemotes, resolveRemote, setRemoteUrl, renameRemote, type RemoteInfo } from "./remote/config.js";
export const lsRemote = later(remote, (m) => m.lsRemote);
export const remoteShow = later(remote, (m) => m.remoteShow);
export type { LsRemoteResult, LsRemoteOptions, RemoteShowResult, RemoteShowOptions, RemoteBranchInfo, LocalBranchInfo } from "./remote/upkeep.js";
export const remoteFsck = later(remote, (m) => m.remoteFsck);
export type { RemoteFsckOptions, RemoteFsckResult, RemoteFsckProblem } from "./remote/remote-fsck.js";
export const remoteGc = later(remote, (m) => m.remoteGc);
export type { RemoteGcOptions, RemoteGcResult } from "./remote/remote-gc.js";
export const push = later(remote, (m) => m.push);
export type { PushOptions, PushResult, RefUpdate, RefStatus } from "./remote/push.js";
export const fetch = later(remote, (m) => m.fetch);
export type { FetchOptions, FetchResult, FetchedRef, FetchRefStatus } from "./remote/fetch.js";
export { openRepository, lazyChunkFetcher } from "./remote/lazy.js";
export const pull = later(remote, (m) => m.pull);
export type { PullOptions, PullResult } from "./remote/pull.js";
export const clone = later(remote, (m) => m.clone);
export type { CloneOptions, CloneResult, CloneStart } from "./remote/clone.js";
export type { RemoteRepo, IgnoredRemoteRef } from "./remote/layout.js";
export const openRemoteRepo = later(remote, (m) => (...args: Parameters<typeof m.RemoteRepo.open>) => m.RemoteRepo.open(...args));
export { isSafeRef } from "./remote/keys.js";
export { checkJobs, DEFAULT_JOBS, MAX_JOBS, type TransferProgress, type TransferCounts } from "./remote/transfer.js";
export const objectsToSend = later(remote, (m) => m.objectsToSend);
export type { SendSet } from "./remote/negotiate.js";
// read sessions over a remote (file, S3, http) without a clone, through a bounded local cache
export const remoteSource = later(remote, (m) => m.remoteSource);
export const remoteRepository = later(remote, (m) => m.remoteRepository);
export type { RemoteRevisionSource, RemoteSourceOptions, RemoteStores } from "./remote/remote-source.js";
export const openRemoteWriteSession = later(remote, (m) => m.openRemoteWriteSession);
export const remoteWriteRepository = later(remote, (m) => m.remoteWriteRepository);
export type { RemoteWriteOptions, RemoteWriteStores } from "./remote/remote-write.js";
// staged sessions: workers upload folders as change sets (tdv stage), one commit gathers them (tdv commit --session)
export const stage = later(remote, (m) => m.stage);
export const commitStaged = later(remote, (m) => m.commitStaged);
export const walkStageDir = later(remote, (m) => m.walkStageDir);
export type { StageOptions, StageResult, CommitStagedOptions, CommitStagedResult } from "./remote/stage.js";
export { listSessions, dropSession, readSession, checkSessionId, SESSIONS_PREFIX, type StagedSessionInfo, type StagedSessionRecord, type StagedChangeSet, type StagedSession } from "./remote/sessions.js";
export { ObjectCache, defaultCacheDir, defaultCacheBytes, parseSize, DEFAULT_CACHE_BYTES, type CacheOptions, type CacheStats } from "./remote/object-cache.js";
export const fsck = later(change, (m) => m.fsck);
export { STALE_LOCK_SECONDS } from "./store/lock.js";
export type { FsckOptions, FsckResult, FsckProblem, FsckProblemKind, LockInfo } from "./commands/fsck.js";
export const gc = later(change, (m) => m.gc);
export type { GcOptions, GcResult } from "./commands/gc.js";
export { reflog, type ReflogItem, type ReflogOptions, type ReflogResult } from "./commands/reflog.js";
export const diff = later(diffGroup, (m) => m.diff);
export type * from "./repo/diff/types.js";
export type { Box } from "./repo/diff/ranges.js";
export { formatBox } from "./repo/diff/ranges.js";
export { cfTime, isoDate } from "./repo/diff/time.js";
export const decodeChunk = later(data, (m) => m.decodeChunk);
export const fillChunk = later(data, (m) => m.fillChunk);
export type { DecodedChunk, ChunkData } from "./zarr/decode.js";
export { elementAt } from "./zarr/bits.js";
export { CodecUnavailableError, ChunkEncodeError } from "./zarr/errors.js";
export { ChunkDecodeError } from "./errors.js";
export const merge = later(data, (m) => m.merge);
export const mergeContinue = later(data, (m) => m.mergeContinue);
export const mergeAbort = later(data, (m) => m.mergeAbort);
export const mergeQuit = later(data, (m) => m.mergeQuit);
export type { MergeOptions, MergeResult, MergeSummary, ContinueOptions } from "./commands/merge.js";
export const rebase = later(data, (m) => m.rebase);
export const rebaseContinue = later(data, (m) => m.rebaseContinue);
export const rebaseSkip = later(data, (m) => m.rebaseSkip);
export const rebaseAbort = later(data, (m) => m.rebaseAbort);
export type { RebaseOptions, RebaseResult } from "./commands/rebase.js";
export { readRebaseState, rebaseStatus, RebaseInProgressError, NoRebaseInProgressError, type RebaseStatus, type RebaseStep } from "./repo/rebase-state.js";
export const resolveConflicts = later(data, (m) => m.resolve);
export type { ResolveOptions, ResolveResult } from "./commands/resolve.js";
export { mergeStatus, readMergeState, type MergeStatus } from "./repo/merge/state.js";
export const detectConflicts = later(data, (m) => m.detectConflicts);
export type { DetectInput } from "./repo/merge/detect.js";
export const solve = later(data, (m) => m.solve);
export type { SolveInput, SolveOptions, SolveOutcome } from "./repo/merge/solve.js";
export * from "./repo/merge/errors.js";
export type * from "./repo/merge/types.js";
export { conflictKey, conflictSubject } from "./repo/merge/types.js";
export const encodeChunk = later(data, (m) => m.encodeChunk);
export { historyGraph, type GraphCommit, type GraphRow } from "./repo/merge/graph.js";
export { headCommit, brokenRefs } from "./repo/head.js";
// hooks like git's: .tdv/hooks/pre-commit, pre-merge, pre-push, post-commit
export { commitsSince } from "./repo/history.js";
// releases: annotated tags recording the rules' verdict, the arrays' checksums and the commits' provenance
export const release = later(data, (m) => m.release);
export const listReleases = later(data, (m) => m.listReleases);
export const readRelease = later(data, (m) => m.readRelease);
export const isReleaseTag = later(data, (m) => m.isReleaseTag);
export const verifyRelease = later(data, (m) => m.verifyRelease);
export const releaseArrays = later(data, (m) => m.releaseArrays);
export type { ReleaseOptions, ReleaseResult, ReleaseProgress, ReleaseInfo, VerifyOptions, VerifyResult, VerifyProblem, VerifyProblemKind } from "./commands/release.js";
export { parseReleaseMessage, parseTrailers, ReleaseProtectedError, RELEASE_FORMAT, type ReleaseRecord, type ReleaseArray, type ReleaseCommit, type ReleaseVerdict } from "./format/release.js";
export { runHook, hookState, hookFile, mergeBaseFor, HookFailedError, HookStartError, HOOK_NAMES, type HookName, type HookRun, type HookState, type RunHookOptions } from "./repo/hooks.js";
// a read-only view of one commit: its arrays, one chunk's bytes or values without reading the whole snapshot
export const openSession = later(data, (m) => m.openSession);
export { pathParts } from "./format/paths.js";
export type { ReadSession, ArrayAt, StoredRef, FileAt, Listing, RangeQuery } from "./session/read.js";
export { repositorySource, type RevisionSource, type RevisionRefs } from "./session/source.js";
export const exportRevision = later(data, (m) => m.exportRevision);
export type { ExportOptions, ExportResult, ExportProgress } from "./commands/export.js";
// write sessions, their commits under the branch's validation rules (src/rules/session.ts)
export const openWriteSession = later(data, (m) => m.openWriteSession);
export type { WriteSession, ChangeSet, SessionChange, SessionToken, SessionCommitOptions, SessionCommitResult, WriteSessionOptions, SessionHost, SessionHold } from "./session/write.js";
// validation rules on the data (tdv-rules.toml), tdv check, and the branch policy commit, merge and push follow
export const checkRevision = later(data, (m) => m.checkRevision);
export const loadRules = later(data, (m) => m.loadRules);
export { branchPolicy, parseRules, RULES_FILE, type Rules, type ArrayRule, type GroupRule, type BranchRule, type CheckPoint } from "./rules/parse.js";
export { RulesFileError, RulesFailedError, ProtectedBranchError, ReleaseRefusedError, describeFailure, type RuleFailure } from "./rules/errors.js";
export type { Verdict, CheckOptions } from "./rules/check.js";
// tdv serve: any revision over HTTP, for Zarr readers
export const serve = later(data, (m) => m.serve);
export { DEFAULT_PORT, ServeListenError } from "./remote/serve-http.js";
export type { ServeOptions, RunningServer } from "./remote/serve.js";
// for the CLI's output: terminal-safe text
export { escapeControl, escapeControlLine, quotePath } from "./format/display.js";
