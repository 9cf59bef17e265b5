/**
 * Errors are tagged data: every error tdv raises is a TdvError with a `_tag`,
 * typed fields, an optional `cause`, and a `hint` that tells the user the fix.
 * The CLI maps `_tag` to an exit code in one table (cli/exit-codes.ts).
 */
import { indentedList } from "./format/display.js";

export abstract class TdvError<Tag extends string = string> extends Error {
  abstract readonly _tag: Tag;
  readonly hint: string | undefined;

  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.hint = opts.hint;
  }

  override get name(): string {
    return this._tag;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { error: this._tag, message: this.message };
    if (this.hint) out.hint = this.hint;
    for (const [k, v] of Object.entries(this)) {
      if (k === "hint" || k === "_tag" || k === "cause") continue;
      out[k] = v;
    }
    return out;
  }
}

/** Whether `err` is a tdv error; with a tag, that error's class (`isTdvError(err, "FileAccessError") && err.code`). */
export function isTdvError(err: unknown): err is TdvError;
export function isTdvError<T extends TdvErrorTag>(err: unknown, tag: T): err is TdvErrorMap[T];
export function isTdvError(err: unknown, tag?: TdvErrorTag): boolean {
  return err instanceof TdvError && (tag === undefined || err._tag === tag);
}

/** Bad command-line usage or an argument that cannot be valid: exit code 2. */
export class UsageError extends TdvError<"UsageError"> {
  readonly _tag = "UsageError";
}

export class NotARepositoryError extends TdvError<"NotARepositoryError"> {
  readonly _tag = "NotARepositoryError";
  constructor(
    readonly dir: string,
    /** a separate repository that records `dir` (or a folder above it) as its working copy: the pointer file is gone */
    readonly detached?: { worktree: string; tdvDir: string },
  ) {
    super(
      detached
        ? `not a tdv repository: ${dir} (the working copy of ${detached.tdvDir} lost its pointer file .tdv)`
        : `not a tdv repository (or any parent up to /): ${dir}`,
      {
        hint: detached
          ? `a tool that rewrote the folder deleted it; re-attach with: cd ${detached.worktree} && tdv init --separate-repo ${detached.tdvDir}`
          : "run `tdv init` in the folder that holds your Zarr stores, or cd into one",
      },
    );
  }
}

export class AlreadyInitializedError extends TdvError<"AlreadyInitializedError"> {
  readonly _tag = "AlreadyInitializedError";
  constructor(readonly dir: string) {
    super(`a tdv repository already exists in ${dir}`, {
      hint: "use the existing repository; remove its .tdv folder first only if you mean to start over",
    });
  }
}

export class UnsupportedFormatError extends TdvError<"UnsupportedFormatError"> {
  readonly _tag = "UnsupportedFormatError";
  constructor(
    readonly what: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(`${what} has format version ${found}; this tdv understands up to ${supported}`, {
      hint: "upgrade tdv (npm install -g tdv@latest) to read it",
    });
  }
}

export class UnknownRevisionError extends TdvError<"UnknownRevisionError"> {
  readonly _tag = "UnknownRevisionError";
  constructor(
    readonly rev: string,
    detail?: string,
  ) {
    super(`unknown revision '${rev}'${detail ? `: ${detail}` : ""}`, {
      hint: "name a branch, a tag, a commit id (or a prefix of 4+ hex digits), HEAD~N, or BRANCH@{DATE}; `tdv log --oneline` lists commits",
    });
  }
}

export class AmbiguousRevisionError extends TdvError<"AmbiguousRevisionError"> {
  readonly _tag = "AmbiguousRevisionError";
  constructor(
    readonly rev: string,
    readonly candidates: string[],
  ) {
    super(`short id '${rev}' is ambiguous: ${candidates.slice(0, 5).join(", ")}`, {
      hint: "give more hex digits of the commit id",
    });
  }
}

export class RefExistsError extends TdvError<"RefExistsError"> {
  readonly _tag = "RefExistsError";
  constructor(readonly ref: string) {
    super(`'${ref}' already exists`, { hint: "choose another name, or delete it first" });
  }
}

export class NotMergedError extends TdvError<"NotMergedError"> {
  readonly _tag = "NotMergedError";
  constructor(
    readonly branch: string,
    readonly oid: string,
  ) {
    super(`branch '${branch}' is not fully merged into HEAD`, {
      hint: `merge it first, or delete it anyway with \`tdv branch -D ${branch}\`; its last commit is ${oid} (\`tdv branch ${branch} ${oid.slice(0, 10)}\` brings it back)`,
    });
  }
}

/** A branch operation refused because the branch is the current one (delete it, force-move it): a refusal, not a usage error. */
export class CurrentBranchError extends TdvError<"CurrentBranchError"> {
  readonly _tag = "CurrentBranchError";
  constructor(
    readonly branch: string,
    readonly action: "delete" | "force-update",
  ) {
    super(action === "delete" ? `cannot delete branch '${branch}': it is the current branch` : `cannot force-update the current branch '${branch}'`, {
      hint: action === "delete" ? "switch to another branch first (`tdv switch OTHER`)" : "use `tdv reset` to move the current branch, or switch to another branch first",
    });
  }
}

export class RefNotFoundError extends TdvError<"RefNotFoundError"> {
  readonly _tag = "RefNotFoundError";
  constructor(
    readonly ref: string,
    hint = "`tdv branch --list` and `tdv tag --list` show what exists",
  ) {
    super(`'${ref}' does not exist`, { hint });
  }
}

export class InvalidRefNameError extends TdvError<"InvalidRefNameError"> {
  readonly _tag = "InvalidRefNameError";
  constructor(
    readonly ref: string,
    reason: string,
  ) {
    super(`'${ref}' is not a valid branch or tag name: ${reason}`, {
      hint: "use letters, digits, '-', '_', '.', '/' (no '..', no leading '-' or '/', no trailing '.lock')",
    });
  }
}

/**
 * A ref on disk that cannot be followed: a symbolic ref whose target is no
 * valid ref name inside refs/ (it could lead outside the repository), symbolic
 * refs that loop or nest deeper than git's limit, or a ref whose own name git
 * would refuse. Nothing was read through it and nothing was written.
 */
export class BadRefError extends TdvError<"BadRefError"> {
  readonly _tag = "BadRefError";
  constructor(
    /** the ref at fault ("HEAD", "refs/heads/loop", a name in packed-refs) */
    readonly ref: string,
    /** the file that holds it */
    readonly file: string,
    readonly problem: string,
    hint?: string,
  ) {
    super(`bad ref ${ref}: ${problem}`, {
      hint:
        hint ??
        (ref === "HEAD"
          ? `point HEAD at a branch: write "ref: refs/heads/main" (or a commit id) into '${file}', e.g. printf 'ref: refs/heads/main\\n' > '${file}'`
          : `remove it (rm '${file}') or write a commit id into it; \`tdv fsck\` lists every bad ref`),
    });
  }
}

/** gc met a root (a ref, HEAD, a reflog, the index, an operation's state) it cannot read: it deletes nothing. */
export class GcRefusedError extends TdvError<"GcRefusedError"> {
  readonly _tag = "GcRefusedError";
  constructor(
    readonly root: string,
    readonly problem: string,
  ) {
    super(`gc deleted nothing: ${root} cannot be followed: ${problem}`, {
      hint: "with part of the graph unknown gc cannot tell what is still needed; repair what `tdv fsck` reports, then run gc again",
    });
  }
}

/** A compare-and-swap ref update found another value than the one expected. */
/** A write session's changes and the commits that landed on its branch meanwhile (or two forks' change sets) touch the same files differently. */
export class SessionConflictError extends TdvError<"SessionConflictError"> {
  readonly _tag = "SessionConflictError";
  constructor(
    readonly branch: string,
    readonly paths: string[],
    why: string,
  ) {
    super(`write session on ${branch} not committed: ${why}:\n${indentedList(paths)}`, {
      hint: "the session is as it was: re-write those files from the branch's new state (open a new session) or commit them on another branch and merge",
    });
  }
}

/** A write session used after it committed or closed. */
export class SessionStateError extends TdvError<"SessionStateError"> {
  readonly _tag = "SessionStateError";
  constructor(readonly branch: string) {
    super(`the write session on ${branch} has ended (committed or closed)`, { hint: "open a new session with openWriteSession(repo, branch)" });
  }
}

export class BranchMovedError extends TdvError<"BranchMovedError"> {
  readonly _tag = "BranchMovedError";
  constructor(
    readonly ref: string,
    readonly expected: string | null,
    readonly actual: string | null,
  ) {
    super(
      `branch moved: ${ref} is now at ${actual ? actual.slice(0, 10) : "(none)"}, expected ${expected ? expected.slice(0, 10) : "(none)"}`,
      {
        hint: "another commit landed first; your staged changes are kept. Run `tdv status` and commit again",
      },
    );
  }
}

export class RefLockedError extends TdvError<"RefLockedError"> {
  readonly _tag = "RefLockedError";
  constructor(
    readonly ref: string,
    readonly lockFile: string,
    readonly ageSeconds: number,
  ) {
    // a ref update holds its lock for milliseconds: an old lock was left by a killed command
    const stale = ageSeconds > 60;
    const age = ageSeconds < 120 ? `${Math.round(ageSeconds)} s` : ageSeconds < 7200 ? `${Math.round(ageSeconds / 60)} min` : `${Math.round(ageSeconds / 3600)} h`;
    super(`${ref} is locked (lock file ${lockFile}, ${age} old${stale ? ": left by a tdv command that was killed" : ""})`, {
      hint: `${stale ? "" : "wait for the other tdv command to finish; "}if no tdv command is running, remove the stale lock and retry: rm '${lockFile}' (\`tdv fsck\` lists lock files)`,
    });
  }
}

/** Another command holds the working-copy lock (`.tdv/worktree.lock`). */
export class WorktreeLockedError extends TdvError<"WorktreeLockedError"> {
  readonly _tag = "WorktreeLockedError";
  constructor(
    readonly owner: { pid: number; host: string; command: string; since: string } | null,
    readonly lockFile: string,
  ) {
    const who = owner ? `\`tdv ${owner.command}\` (pid ${owner.pid}${owner.since ? `, since ${owner.since}` : ""})` : "another tdv command";
    super(`another tdv command is running in this working copy${owner ? `: ${who}` : ""}`, {
      hint: `wait for it to finish and run your command again; nothing was changed. If no tdv command is running${owner ? ` (pid ${owner.pid} on ${owner.host} is something else)` : ""}, remove the lock: rm '${lockFile}'`,
    });
  }
}

/** gc runs (or another gc does): the command gave way and changed nothing. */
export class GcRunningError extends TdvError<"GcRunningError"> {
  readonly _tag = "GcRunningError";
  constructor(
    readonly who: string,
    readonly lockFile: string,
  ) {
    super(`${who} is collecting garbage in this repository`, {
      hint: `nothing was changed; run the command again when it has finished. If that process is gone from another machine, remove its announcement: rm '${lockFile}'`,
    });
  }
}

/** gc refused because commands that write objects kept running: it deleted nothing. */
export class WritersRunningError extends TdvError<"WritersRunningError"> {
  readonly _tag = "WritersRunningError";
  constructor(
    readonly writers: string[],
    readonly lockFiles: string[],
  ) {
    super(`gc deleted nothing: ${writers.join(", ")} ${writers.length === 1 ? "is" : "are"} writing to this repository`, {
      hint: `run \`tdv gc\` again when ${writers.length === 1 ? "it has" : "they have"} finished (TDV_WRITERS_WAIT_MS sets how long gc waits). A process gone from another machine leaves its announcement: ${lockFiles.map((f) => `rm '${f}'`).join("; ")}`,
    });
  }
}

/** revert and stash apply start from a clean working copy: they refuse local changes to tracked files. */
export class UncommittedChangesError extends TdvError<"UncommittedChangesError"> {
  readonly _tag = "UncommittedChangesError";
  constructor(
    readonly paths: string[],
    action: string,
  ) {
    super(`cannot ${action}: the working copy has local changes to tracked files:\n${indentedList(paths)}`, {
      hint: "commit them (`tdv commit -a -m ...`), put them aside (`tdv stash`) or discard them (`tdv restore PATH`), then run it again",
    });
  }
}

/**
 * A command that writes the working copy failed half-way (a full disk, a
 * permission): HEAD and the index are as they were, some files already updated.
 */
export class IncompleteUpdateError extends TdvError<"IncompleteUpdateError"> {
  readonly _tag = "IncompleteUpdateError";
  constructor(
    readonly action: string,
    readonly path: string | null,
    readonly code: string | null,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`${action} stopped before it finished: ${why}`, {
      hint: `HEAD and the index are unchanged and some working files are already updated. ${
        code === "ENOSPC" ? "Free space (`tdv gc --prune=now` deletes the objects no ref needs), then run" : "Fix the cause, then run"
      } the same command again to finish it, or \`tdv reset --hard\` to put every tracked file back as HEAD has it`,
      cause,
    });
  }
}

export class DirtyWorkingCopyError extends TdvError<"DirtyWorkingCopyError"> {
  readonly _tag = "DirtyWorkingCopyError";
  constructor(
    readonly paths: string[],
    action: string,
  ) {
    super(`${action} would overwrite local changes in:\n${indentedList(paths)}`, {
      hint: "commit them (`tdv commit -a -m ...`), discard them (`tdv restore PATH`), or pass --force to overwrite",
    });
  }
}

export class InvalidMetadataError extends TdvError<"InvalidMetadataError"> {
  readonly _tag = "InvalidMetadataError";
  constructor(
    readonly path: string,
    readonly problem: string,
    /** not metadata tdv can read at all (not JSON, not an object, an unknown zarr_format): its folder is carried as plain files */
    readonly unreadable = false,
  ) {
    super(`invalid Zarr metadata in ${path}: ${problem}`, {
      hint: "fix or rewrite the file with your Zarr library, then run the command again",
    });
  }
}

export class PathNotFoundError extends TdvError<"PathNotFoundError"> {
  readonly _tag = "PathNotFoundError";
  constructor(
    readonly path: string,
    where: string,
  ) {
    super(`path '${path}' not found ${where}`, {
      hint: "check the spelling; `tdv ls` lists the arrays of a revision and `tdv status` the working copy",
    });
  }
}

/** Files or folders in the working tree whose names are not UTF-8: tdv cannot track them. */
export class NonUtf8NameError extends TdvError<"NonUtf8NameError"> {
  readonly _tag = "NonUtf8NameError";
  constructor(
    /** the paths, relative to the working copy's root, each byte that is not UTF-8 shown as \xHH (a folder ends with "/") */
    readonly paths: string[],
  ) {
    const shown = paths.slice(0, 10).map((p) => `  "${p}"`);
    if (paths.length > 10) shown.push(`  ... and ${paths.length - 10} more`);
    const one = paths.length === 1;
    const first = (paths[0] ?? "").replace(/\/$/, "").replace(/'/g, "\\'");
    super(
      one
        ? `cannot track "${paths[0]}": its name is not valid UTF-8 (bytes shown as \\xHH)`
        : `cannot track ${paths.length} files or folders whose names are not valid UTF-8 (bytes shown as \\xHH):\n${shown.join("\n")}`,
      {
        hint: `rename ${one ? "it" : "them"} (in bash: mv $'${first}' NEW_NAME); tdv paths are UTF-8 text, as Zarr keys are. Nothing was staged`,
      },
    );
  }
}

export class UnsafePathError extends TdvError<"UnsafePathError"> {
  readonly _tag = "UnsafePathError";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`refusing unsafe path '${path}': ${reason}`, {
      hint: "the repository or input may be corrupt or malicious; nothing was written for this path",
    });
  }
}

/** A word for a shell command line: as it is when it is plain, else in single quotes. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * A working copy a `tdv clone` began and did not finish (killed, or interrupted
 * while it removed what it made): every command refuses it, and the same
 * clone command resumes it (or finishes the removal and clones again).
 */
export class UnfinishedCloneError extends TdvError<"UnfinishedCloneError"> {
  readonly _tag = "UnfinishedCloneError";
  constructor(
    readonly dir: string,
    readonly url: string,
  ) {
    super(`this clone did not finish: run \`tdv clone ${shellWord(url)} ${shellWord(dir)}\` again`, {
      hint: `that command resumes it where it stopped, keeping what was downloaded; to give up instead, remove the folder: rm -rf ${shellWord(dir)}`,
    });
  }
}

/** A command stopped by a signal (Ctrl-C, SIGTERM) before it finished; `hint` says what it left. */
export class InterruptedError extends TdvError<"InterruptedError"> {
  readonly _tag = "InterruptedError";
  constructor(
    /** "SIGINT", "SIGTERM" */
    readonly signal: string,
    hint?: string,
  ) {
    super(`interrupted by ${signal}`, hint === undefined ? {} : { hint });
  }
}

export class CorruptObjectError extends TdvError<"CorruptObjectError"> {
  readonly _tag = "CorruptObjectError";
  constructor(
    readonly id: string,
    problem: string,
  ) {
    super(`object ${id} is corrupt: ${problem}`, {
      hint: "run `tdv fsck --full`; restore the object from a remote or another clone",
    });
  }
}

export class MissingObjectError extends TdvError<"MissingObjectError"> {
  readonly _tag = "MissingObjectError";
  constructor(
    readonly id: string,
    readonly what: string,
  ) {
    super(`${what} ${id} is missing from the repository`, {
      hint: "run `tdv fsck`; fetch the object from a remote or another clone",
    });
  }
}

/**
 * A lazy clone could not get a chunk object from its remote: the remote lacks
 * it, or its copy does not hash to the object's id. Names the file that needs
 * it (when known), the object and the remote.
 */
export class UnavailableChunkError extends TdvError<"UnavailableChunkError"> {
  readonly _tag = "UnavailableChunkError";
  constructor(
    readonly id: string,
    readonly remote: string,
    readonly url: string,
    readonly problem: "missing" | "corrupt",
    /** what the remote's bytes hash to (corrupt) */
    readonly actual: string | null,
    /** the working file that needs the object, when known */
    readonly path: string | null,
  ) {
    const whose = path ? `chunk object of '${path}' (${id})` : `chunk object ${id}`;
    const where = `the remote '${remote}' (${url})`;
    super(problem === "corrupt" ? `the ${whose} is corrupt on ${where}: its bytes hash to ${actual}` : `the ${whose} is missing from ${where}`, {
      hint: `${problem === "corrupt" ? "the remote's copy is damaged" : "the remote lacks it (an interrupted push, or removed there)"}: push it again from a copy that has it (\`tdv push\` from a full clone or the working copy that made it), then run this command again; nothing here depends on it yet`,
    });
  }
}

/**
 * Entries a manifest or a file list cannot hold (a duplicate chunk index, an
 * index of the wrong rank, a malformed chunk id, a name that is no file
 * name): refused by the encoder before any byte is written.
 */
export class InvalidManifestEntryError extends TdvError<"InvalidManifestEntryError"> {
  readonly _tag = "InvalidManifestEntryError";
  constructor(readonly problem: string) {
    super(problem, { hint: "nothing was written; tdv builds these entries itself: please report this with the command that failed" });
  }
}

export class NothingToCommitError extends TdvError<"NothingToCommitError"> {
  readonly _tag = "NothingToCommitError";
  constructor() {
    super("nothing to commit: the staged snapshot equals HEAD", {
      hint: "stage changes with `tdv add PATH` or `tdv add -A`, or commit tracked changes with `tdv commit -a`",
    });
  }
}

export class FileAccessError extends TdvError<"FileAccessError"> {
  readonly _tag = "FileAccessError";
  constructor(
    readonly path: string,
    readonly code: string,
    cause?: unknown,
  ) {
    super(`cannot read or write ${path} (${code})`, {
      hint:
        code === "ENOSPC"
          ? "the disk is full: free space and retry; the repository is unchanged (`tdv gc --prune=now` deletes objects the failed command stored)"
          : code === "EACCES" || code === "EPERM"
            ? "check the file's permissions"
            : "check that the file exists and is readable",
      cause,
    });
  }
}

export class NoStashError extends TdvError<"NoStashError"> {
  readonly _tag = "NoStashError";
  constructor(readonly selector: string, count: number) {
    super(count === 0 ? "no stash entries" : `${selector} does not exist: there ${count === 1 ? "is 1 stash entry" : `are ${count} stash entries`}`, {
      hint: count === 0 ? "`tdv stash` puts local changes aside" : "`tdv stash list` shows them (stash@{0} is the newest)",
    });
  }
}

export class StashConflictError extends TdvError<"StashConflictError"> {
  readonly _tag = "StashConflictError";
  constructor(readonly selector: string, readonly conflicts: string[]) {
    const shown = conflicts.slice(0, 10).join("\n  ");
    super(`cannot apply ${selector}: it changes the same data as commits made since (${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}); nothing was changed and the stash is kept:\n  ${shown}`, {
      hint: `switch to the commit it was made on (\`tdv stash list\` names it) and apply it there, or take files from it: \`tdv restore --source ${selector} PATH\``,
    });
  }
}

/** The revert's changes meet later changes of the same elements: refused, nothing changed. */
export class RevertConflictError extends TdvError<"RevertConflictError"> {
  readonly _tag = "RevertConflictError";
  constructor(
    readonly rev: string,
    readonly conflicts: string[],
  ) {
    const shown = conflicts.slice(0, 10).join("\n  ");
    const more = conflicts.length > 10 ? `\n  ... and ${conflicts.length - 10} more` : "";
    super(`cannot revert ${rev}: later commits changed the same data (${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}); nothing was changed:\n  ${shown}${more}`, {
      hint: `bring the paths back by hand: \`tdv restore --source ${rev}^ PATH\`, check them, then \`tdv commit -a\``,
    });
  }
}

/** The commit's changes are undone already: nothing to revert. */
export class NothingToRevertError extends TdvError<"NothingToRevertError"> {
  readonly _tag = "NothingToRevertError";
  constructor(readonly rev: string) {
    super(`nothing to revert: HEAD already has none of ${rev}'s changes`, { hint: "`tdv show REV` lists a commit's changes; `tdv log` finds the one to revert" });
  }
}

/** The target of an export exists (a folder that is not empty, a file without `force`). */
export class ExportTargetExistsError extends TdvError<"ExportTargetExistsError"> {
  readonly _tag = "ExportTargetExistsError";
  constructor(
    readonly target: string,
    problem: string,
    hint: string,
  ) {
    super(`cannot export to '${target}': ${problem}`, { hint });
  }
}

/**
 * Every error class by its tag: what `isTdvError(err, tag)` narrows to and
 * what the exit-code table (cli/exit-codes.ts) must cover. Classes that live
 * in higher layers (zarr/, repo/merge/, commands/, remote/) add themselves
 * next to their definition with `declare module "…/errors.js"`.
 */
export interface TdvErrorMap {
  UsageError: UsageError;
  NotARepositoryError: NotARepositoryError;
  AlreadyInitializedError: AlreadyInitializedError;
  UnsupportedFormatError: UnsupportedFormatError;
  UnknownRevisionError: UnknownRevisionError;
  AmbiguousRevisionError: AmbiguousRevisionError;
  RefExistsError: RefExistsError;
  RefNotFoundError: RefNotFoundError;
  NotMergedError: NotMergedError;
  CurrentBranchError: CurrentBranchError;
  InvalidRefNameError: InvalidRefNameError;
  BadRefError: BadRefError;
  GcRefusedError: GcRefusedError;
  BranchMovedError: BranchMovedError;
  SessionConflictError: SessionConflictError;
  SessionStateError: SessionStateError;
  RefLockedError: RefLockedError;
  WorktreeLockedError: WorktreeLockedError;
  GcRunningError: GcRunningError;
  WritersRunningError: WritersRunningError;
  DirtyWorkingCopyError: DirtyWorkingCopyError;
  IncompleteUpdateError: IncompleteUpdateError;
  InvalidMetadataError: InvalidMetadataError;
  PathNotFoundError: PathNotFoundError;
  UnsafePathError: UnsafePathError;
  NonUtf8NameError: NonUtf8NameError;
  UnfinishedCloneError: UnfinishedCloneError;
  InterruptedError: InterruptedError;
  CorruptObjectError: CorruptObjectError;
  MissingObjectError: MissingObjectError;
  UnavailableChunkError: UnavailableChunkError;
  NothingToCommitError: NothingToCommitError;
  FileAccessError: FileAccessError;
  UncommittedChangesError: UncommittedChangesError;
  InvalidManifestEntryError: InvalidManifestEntryError;
  ChunkDecodeError: ChunkDecodeError;
  NoStashError: NoStashError;
  StashConflictError: StashConflictError;
  RevertConflictError: RevertConflictError;
  NothingToRevertError: NothingToRevertError;
  ExportTargetExistsError: ExportTargetExistsError;
}

/** The `_tag` of every tdv error. */
export type TdvErrorTag = keyof TdvErrorMap;

/** The bytes of a chunk could not be decoded by the array's codecs (truncated or corrupt file). */
export class ChunkDecodeError extends TdvError<"ChunkDecodeError"> {
  readonly _tag = "ChunkDecodeError";
  constructor(
    readonly chunk: number[],
    readonly codec: string | null,
    detail: string,
    cause?: unknown,
  ) {
    super(`chunk [${chunk.join(", ")}] does not decode${codec ? ` with '${codec}'` : ""}: ${detail}`, {
      hint: "the chunk file is probably truncated or corrupt; rewrite it with your Zarr library, or `tdv restore` it",
      cause,
    });
  }
}
