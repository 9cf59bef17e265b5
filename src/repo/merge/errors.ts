/** Errors of merging, as tagged data with the fix in the hint (STYLE principle 3). */
import { TdvError } from "../../errors.js";

/** A merge stopped on conflicts is still in progress. */
export class MergeInProgressError extends TdvError<"MergeInProgressError"> {
  readonly _tag = "MergeInProgressError";
  constructor(readonly merging: string) {
    super(`a merge of '${merging}' is in progress`, {
      hint: "settle its conflicts (`tdv status` lists them) and run `tdv merge --continue`, or undo it with `tdv merge --abort`",
    });
  }
}

export class NoMergeInProgressError extends TdvError<"NoMergeInProgressError"> {
  readonly _tag = "NoMergeInProgressError";
  constructor() {
    super("no merge is in progress", { hint: "start one with `tdv merge BRANCH`" });
  }
}

/** `merge --continue` with conflicts left. */
export class UnresolvedConflictsError extends TdvError<"UnresolvedConflictsError"> {
  readonly _tag = "UnresolvedConflictsError";
  constructor(readonly conflicts: string[]) {
    const shown = conflicts.slice(0, 10).join("\n  ");
    const more = conflicts.length > 10 ? `\n  ... and ${conflicts.length - 10} more` : "";
    super(`cannot conclude the merge: ${conflicts.length} conflict${conflicts.length === 1 ? " is" : "s are"} not resolved:\n  ${shown}${more}`, {
      hint: "resolve each with `tdv resolve PATH [--chunk I,J,K] --ours|--theirs`, or edit the files with a Zarr tool and `tdv add` them; `tdv status` shows the details",
    });
  }
}

/** `merge --ff-only` and the histories diverged. */
export class NotFastForwardError extends TdvError<"NotFastForwardError"> {
  readonly _tag = "NotFastForwardError";
  constructor(
    readonly rev: string,
    readonly ours: string,
    readonly theirs: string,
  ) {
    super(`not possible to fast-forward to '${rev}': HEAD has commits that '${rev}' does not`, {
      hint: `merge without --ff-only to make a merge commit, or rebase your work on '${rev}'`,
    });
  }
}

/** HEAD moved away from where the stopped merge started. */
export class MergeStaleError extends TdvError<"MergeStaleError"> {
  readonly _tag = "MergeStaleError";
  constructor(
    readonly origHead: string,
    readonly head: string | null,
  ) {
    super(`HEAD moved since the merge started (it was ${origHead.slice(0, 10)}, it is ${head ? head.slice(0, 10) : "(none)"})`, {
      hint: "the merge state no longer fits the working copy: forget it with `tdv merge --quit` and merge again",
    });
  }
}

/**
 * Merging needs a working copy without staged or unstaged changes to tracked
 * files ("tracked"), and no untracked file where the merge writes one ("untracked").
 */
export class LocalChangesError extends TdvError<"LocalChangesError"> {
  readonly _tag = "LocalChangesError";
  constructor(
    readonly paths: string[],
    readonly rev: string,
    readonly kind: "tracked" | "untracked" = "tracked",
  ) {
    const shown = paths.slice(0, 10).join("\n  ");
    const more = paths.length > 10 ? `\n  ... and ${paths.length - 10} more` : "";
    const what = kind === "tracked" ? "the working copy has local changes to tracked files" : "untracked files would be overwritten by the merge";
    super(`cannot merge '${rev}': ${what}:\n  ${shown}${more}`, {
      hint:
        kind === "tracked"
          ? "commit them (`tdv commit -a -m ...`) or discard them (`tdv restore PATH`), then merge again"
          : "move or delete them (or `tdv add` and commit them), then merge again",
    });
  }
}
