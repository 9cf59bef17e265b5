/**
 * The one table from error to exit code. 0: success; 1: the command failed
 * (the repository, a revision, the data); 2: the command line was wrong;
 * 128 + N: stopped by signal N (130 for Ctrl-C, 143 for SIGTERM), as shells say.
 */
import { constants } from "node:os";
import type { TdvErrorTag } from "../src/index.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Every tag has its line: a new error class does not compile until it is given an exit code here. */
const BY_TAG: Record<TdvErrorTag, number> = {
  // errors.ts
  UsageError: EXIT_USAGE,
  NotARepositoryError: EXIT_FAILURE,
  AlreadyInitializedError: EXIT_FAILURE,
  UnsupportedFormatError: EXIT_FAILURE,
  UnknownRevisionError: EXIT_FAILURE,
  AmbiguousRevisionError: EXIT_FAILURE,
  RefExistsError: EXIT_FAILURE,
  RefNotFoundError: EXIT_FAILURE,
  NotMergedError: EXIT_FAILURE,
  CurrentBranchError: EXIT_FAILURE,
  InvalidRefNameError: EXIT_USAGE,
  BadRefError: EXIT_FAILURE,
  GcRefusedError: EXIT_FAILURE,
  BranchMovedError: EXIT_FAILURE,
  SessionConflictError: EXIT_FAILURE,
  SessionStateError: EXIT_FAILURE,
  RefLockedError: EXIT_FAILURE,
  WorktreeLockedError: EXIT_FAILURE,
  GcRunningError: EXIT_FAILURE,
  WritersRunningError: EXIT_FAILURE,
  DirtyWorkingCopyError: EXIT_FAILURE,
  IncompleteUpdateError: EXIT_FAILURE,
  InvalidMetadataError: EXIT_FAILURE,
  PathNotFoundError: EXIT_FAILURE,
  UnsafePathError: EXIT_FAILURE,
  NonUtf8NameError: EXIT_FAILURE,
  UnfinishedCloneError: EXIT_FAILURE,
  InterruptedError: EXIT_FAILURE,
  CorruptObjectError: EXIT_FAILURE,
  MissingObjectError: EXIT_FAILURE,
  UnavailableChunkError: EXIT_FAILURE,
  NothingToCommitError: EXIT_FAILURE,
  FileAccessError: EXIT_FAILURE,
  UncommittedChangesError: EXIT_FAILURE,
  InvalidManifestEntryError: EXIT_FAILURE,
  // zarr/decode.ts
  CodecUnavailableError: EXIT_FAILURE,
  ChunkDecodeError: EXIT_FAILURE,
  // zarr/encode.ts
  ChunkEncodeError: EXIT_FAILURE,
  // commands/release.ts, format/release.ts
  ReleaseRefusedError: EXIT_FAILURE,
  ReleaseProtectedError: EXIT_FAILURE,
  // repo/hooks.ts
  HookFailedError: EXIT_FAILURE,
  HookStartError: EXIT_FAILURE,
  // repo/merge/errors.ts
  MergeInProgressError: EXIT_FAILURE,
  NoMergeInProgressError: EXIT_FAILURE,
  UnresolvedConflictsError: EXIT_FAILURE,
  NotFastForwardError: EXIT_FAILURE,
  MergeStaleError: EXIT_FAILURE,
  LocalChangesError: EXIT_FAILURE,
  MergeFailedError: EXIT_FAILURE,
  MergeIncompleteError: EXIT_FAILURE,
  OtherEditsDiscardedError: EXIT_FAILURE,
  // commands/stash.ts
  NoStashError: EXIT_FAILURE,
  StashConflictError: EXIT_FAILURE,
  // commands/export.ts
  ExportTargetExistsError: EXIT_FAILURE,
  // repo/rebase-state.ts
  RebaseInProgressError: EXIT_FAILURE,
  NoRebaseInProgressError: EXIT_FAILURE,
  // commands/revert.ts
  RevertConflictError: EXIT_FAILURE,
  NothingToRevertError: EXIT_FAILURE,
  // remote/errors.ts
  UnknownRemoteError: EXIT_FAILURE,
  RemoteExistsError: EXIT_FAILURE,
  UnsupportedUrlError: EXIT_FAILURE,
  NoCredentialsError: EXIT_FAILURE,
  AccessDeniedError: EXIT_FAILURE,
  BucketNotFoundError: EXIT_FAILURE,
  RemoteUnreachableError: EXIT_FAILURE,
  RemoteRequestError: EXIT_FAILURE,
  ReadOnlyRemoteError: EXIT_FAILURE,
  PreconditionFailedError: EXIT_FAILURE,
  NotARemoteRepositoryError: EXIT_FAILURE,
  NonFastForwardError: EXIT_FAILURE,
  ConditionalWritesIgnoredError: EXIT_FAILURE,
  ConditionalWritesRefusedError: EXIT_FAILURE,
  InfoRefsNotUpdatedError: EXIT_FAILURE,
  DivergedError: EXIT_FAILURE,
  RemoteGcRunningError: EXIT_FAILURE,
  RemoteWritersRunningError: EXIT_FAILURE,
  RemoteLeaseLostError: EXIT_FAILURE,
  RemoteGcRefusedError: EXIT_FAILURE,
  StagedSessionNotFoundError: EXIT_FAILURE,
  StagedSessionEmptyError: EXIT_FAILURE,
  StagedSessionMismatchError: EXIT_FAILURE,
  StagedChangeSetExistsError: EXIT_FAILURE,
  RemoteObjectMissingError: EXIT_FAILURE,
  RemoteObjectCorruptError: EXIT_FAILURE,
  // rules/errors.ts
  RulesFileError: EXIT_FAILURE,
  RulesFailedError: EXIT_FAILURE,
  ProtectedBranchError: EXIT_FAILURE,
  // remote/serve.ts
  ServeListenError: EXIT_FAILURE,
};

/** Exit code for a tdv error's `_tag` (unknown tags fail with 1). */
export function exitCodeForTag(tag: string): number {
  return BY_TAG[tag as TdvErrorTag] ?? EXIT_FAILURE;
}

/** Exit code for a tdv error: by its tag, and for an interruption by its signal. */
export function exitCodeForError(e: { _tag: string; signal?: unknown }): number {
  if (e._tag === "InterruptedError" && typeof e.signal === "string") {
    const n = (constants.signals as Record<string, number | undefined>)[e.signal];
    if (n) return 128 + n;
  }
  return exitCodeForTag(e._tag);
}

/** Exit code for a commander error: help and version succeed, everything else is usage. */
export function exitCodeForCommander(exitCode: number): number {
  return exitCode === 0 ? EXIT_OK : EXIT_USAGE;
}
