/** tdv's public API: the CLI imports only this module. */
export * from "./errors.js";
export type { ChunkId, GitOid } from "./format/hash.js";
export type { ArrayMeta } from "./format/zarr-meta.js";
export { Repository, fileStores, type CloneMarker, type FileStores, type OpenOptions, type RepoConfig, type RepoOptions, type Stores } from "./repo/repository.js";
export type { ChunkSource, ChunkStore, ObjectStore, RefStore } from "./store/types.js";
export type { DurabilityMode } from "./store/durability.js";
export { REPO_FORMAT_VERSION, TDV_VERSION } from "./format/version.js";
export { formatBytes } from "./format/display.js";
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
export { add } from "./commands/add.js";
export type { AddOptions, AddResult, Progress } from "./worktree/stage.js";
export { commit } from "./commands/commit.js";
export type { CommitOptions, CommitResult } from "./worktree/record.js";
export { status, type StatusResult } from "./commands/status.js";
export type { Change, ChangeKind, ArrayChanges, GroupedChanges } from "./repo/changes.js";
export { checkout, switchBranch, restore, reset, type ResetMode } from "./commands/checkout.js";
export { hasIndex, type CheckoutResult } from "./worktree/materialize.js";
export { changeSparse, type SparseChange, type SparseResult } from "./commands/sparse.js";
export { readSparse, sparseSet, type SparseSet } from "./worktree/sparse-set.js";
export { unstage, type UnstageOptions, type UnstageResult } from "./commands/unstage.js";
export { stashPush, stashApply, stashDrop, stashList, parseStashSelector, NoStashError, StashConflictError, type StashEntry, type StashPushResult, type StashApplyResult } from "./commands/stash.js";
export { revert, RevertConflictError, NothingToRevertError, type RevertOptions, type RevertResult } from "./commands/revert.js";
export { UncommittedChangesError } from "./errors.js";
export { show, ls, cat, type ShowResult, type ArrayInfo } from "./commands/inspect.js";
export { resolveRevision, parseDate } from "./repo/revision.js";
export { createBranch, deleteBranch } from "./commands/branch.js";
export { listBranches, scanBranches, currentBranch } from "./repo/branches.js";
export { listTags, createTag, deleteTag } from "./commands/tag.js";
export { log, type LogEntry } from "./commands/log.js";
export type { CommitObject, Person } from "./format/git-object.js";
export * from "./remote/errors.js";
export { openBackend, normalizeRemoteUrl, type ObjectBackend, type BackendOptions, type PutOptions, type ObjectInfo } from "./remote/backend.js";
export { addRemote, removeRemote, listRemotes, resolveRemote, type RemoteInfo } from "./remote/config.js";
export { setRemoteUrl, renameRemote } from "./remote/config.js";
export { lsRemote, remoteShow, type LsRemoteResult, type LsRemoteOptions, type RemoteShowResult, type RemoteShowOptions, type RemoteBranchInfo, type LocalBranchInfo } from "./remote/upkeep.js";
export { remoteFsck, type RemoteFsckOptions, type RemoteFsckResult, type RemoteFsckProblem } from "./remote/remote-fsck.js";
export { remoteGc, type RemoteGcOptions, type RemoteGcResult } from "./remote/remote-gc.js";
export { push, type PushOptions, type PushResult, type RefUpdate, type RefStatus } from "./remote/push.js";
export { fetch, type FetchOptions, type FetchResult, type FetchedRef, type FetchRefStatus } from "./remote/fetch.js";
export { openRepository, lazyChunkFetcher } from "./remote/lazy.js";
export { pull, type PullOptions, type PullResult } from "./remote/pull.js";
export { clone, cloneDirName, type CloneOptions, type CloneResult, type CloneStart } from "./remote/clone.js";
export { RemoteRepo, isSafeRef, type IgnoredRemoteRef } from "./remote/layout.js";
export { checkJobs, DEFAULT_JOBS, MAX_JOBS, type TransferProgress, type TransferCounts } from "./remote/transfer.js";
export { objectsToSend, type SendSet } from "./remote/negotiate.js";
// read sessions over a remote (file, S3, http) without a clone, through a bounded local cache
export { remoteSource, remoteRepository, type RemoteRevisionSource, type RemoteSourceOptions, type RemoteStores } from "./remote/remote-source.js";
export { openRemoteWriteSession, remoteWriteRepository, type RemoteWriteOptions, type RemoteWriteStores } from "./remote/remote-write.js";
// staged sessions: workers upload folders as change sets (tdv stage), one commit gathers them (tdv commit --session)
export { stage, commitStaged, walkStageDir, type StageOptions, type StageResult, type CommitStagedOptions, type CommitStagedResult } from "./remote/stage.js";
export { listSessions, dropSession, readSession, checkSessionId, SESSIONS_PREFIX, type StagedSessionInfo, type StagedSessionRecord, type StagedChangeSet, type StagedSession } from "./remote/sessions.js";
export { ObjectCache, defaultCacheDir, defaultCacheBytes, parseSize, DEFAULT_CACHE_BYTES, type CacheOptions, type CacheStats } from "./remote/object-cache.js";
export { fsck, formatAge, STALE_LOCK_SECONDS, type FsckOptions, type FsckResult, type FsckProblem, type FsckProblemKind, type LockInfo } from "./commands/fsck.js";
export { gc, parsePrune, DEFAULT_PRUNE, type GcOptions, type GcResult } from "./commands/gc.js";
export { reflog, type ReflogItem, type ReflogOptions, type ReflogResult } from "./commands/reflog.js";
export { diff } from "./commands/diff.js";
export type * from "./repo/diff/types.js";
export type { Box } from "./repo/diff/ranges.js";
export { formatBox } from "./repo/diff/ranges.js";
export { cfTime, isoDate } from "./repo/diff/coords.js";
export { decodeChunk, fillChunk, elementAt, CodecUnavailableError, type DecodedChunk, type ChunkData } from "./zarr/decode.js";
export { ChunkDecodeError } from "./errors.js";
export { merge, mergeContinue, mergeAbort, mergeQuit, type MergeOptions, type MergeResult, type MergeSummary, type ContinueOptions } from "./commands/merge.js";
export { rebase, rebaseContinue, rebaseSkip, rebaseAbort, type RebaseOptions, type RebaseResult } from "./commands/rebase.js";
export { readRebaseState, rebaseStatus, RebaseInProgressError, NoRebaseInProgressError, type RebaseStatus, type RebaseStep } from "./repo/rebase-state.js";
export { resolve as resolveConflicts, type ResolveOptions, type ResolveResult } from "./commands/resolve.js";
export { mergeStatus, readMergeState, type MergeStatus } from "./repo/merge/state.js";
export { detectConflicts, type DetectInput } from "./repo/merge/detect.js";
export { solve, type SolveInput, type SolveOptions, type SolveOutcome } from "./repo/merge/solve.js";
export * from "./repo/merge/errors.js";
export type * from "./repo/merge/types.js";
export { conflictKey, conflictSubject } from "./repo/merge/types.js";
export { encodeChunk, ChunkEncodeError } from "./zarr/encode.js";
export { historyGraph, type GraphCommit, type GraphRow } from "./repo/merge/graph.js";
export { headCommit, brokenRefs } from "./repo/head.js";
// hooks like git's: .tdv/hooks/pre-commit, pre-merge, pre-push, post-commit
export { commitsSince } from "./repo/history.js";
// releases: annotated tags recording the rules' verdict, the arrays' checksums and the commits' provenance
export { release, listReleases, readRelease, isReleaseTag, verifyRelease, releaseArrays, ReleaseRefusedError, type ReleaseOptions, type ReleaseResult, type ReleaseProgress, type ReleaseInfo, type VerifyOptions, type VerifyResult, type VerifyProblem, type VerifyProblemKind } from "./commands/release.js";
export { parseReleaseMessage, parseTrailers, ReleaseProtectedError, RELEASE_FORMAT, type ReleaseRecord, type ReleaseArray, type ReleaseCommit, type ReleaseVerdict } from "./format/release.js";
export { runHook, hookState, hookFile, mergeBaseFor, HookFailedError, HookStartError, HOOK_NAMES, type HookName, type HookRun, type HookState, type RunHookOptions } from "./repo/hooks.js";
// a read-only view of one commit: its arrays, one chunk's bytes or values without reading the whole snapshot
export { openSession, pathParts, type ReadSession, type ArrayAt, type StoredRef, type FileAt, type Listing, type RangeQuery } from "./session/read.js";
export { repositorySource, type RevisionSource, type RevisionRefs } from "./session/source.js";
export { exportRevision, ExportTargetExistsError, type ExportOptions, type ExportResult, type ExportProgress } from "./commands/export.js";
// write sessions, their commits under the branch's validation rules (src/rules/session.ts)
export { openWriteSession } from "./rules/session.js";
export type { WriteSession, ChangeSet, SessionChange, SessionToken, SessionCommitOptions, SessionCommitResult, WriteSessionOptions, SessionHost, SessionHold } from "./session/write.js";
// validation rules on the data (tdv-rules.toml), tdv check, and the branch policy commit, merge and push follow
export { checkRevision, loadRules, branchPolicy, parseRules, RULES_FILE, RulesFileError, RulesFailedError, ProtectedBranchError, describeFailure, type Verdict, type CheckOptions, type RuleFailure, type Rules, type ArrayRule, type GroupRule, type BranchRule, type CheckPoint } from "./rules/index.js";
// tdv serve: any revision over HTTP, for Zarr readers
export { serve, DEFAULT_PORT, ServeListenError, type ServeOptions, type RunningServer } from "./remote/serve.js";
// for the CLI's output: terminal-safe text
export { escapeControl, escapeControlLine, quotePath } from "./format/display.js";
