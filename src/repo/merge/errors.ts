/** Errors of merging, as tagged data with the fix in the hint (STYLE principle 3). */
import { TdvError } from "../../errors.js";
import { indentedList } from "../../format/display.js";
import type { DiscardedEdits } from "./types.js";

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
    const what = kind === "tracked" ? "the working copy has local changes to tracked files" : "untracked files would be overwritten by the merge";
    super(`cannot merge '${rev}': ${what}:\n${indentedList(paths)}`, {
      hint:
        kind === "tracked"
          ? "commit them (`tdv commit -a -m ...`) or discard them (`tdv restore PATH`), then merge again"
          : "move or delete them (or `tdv add` and commit them), then merge again",
    });
  }
}

/** The working copy could not be moved to the merge's result (a full disk): what was done about it, and what to do. */
export class MergeFailedError extends TdvError<"MergeFailedError"> {
  readonly _tag = "MergeFailedError";
  constructor(
    readonly merging: string,
    /** what the working copy is now: put back as before the merge, a merge kept in progress, or partly moved (a fast-forward) */
    readonly outcome: "rolled-back" | "kept" | "partial",
    readonly code: string | null,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const free = code === "ENOSPC" ? "free space" : "fix the cause";
    const reclaim = "`tdv gc --prune=now` deletes the objects the failed merge stored";
    super(
      outcome === "rolled-back"
        ? `merging '${merging}' failed: ${why}; the working copy and index were put back as they were before the merge`
        : outcome === "kept"
          ? `merging '${merging}' stopped half-way: ${why}; the merge stays in progress and the working copy is partly updated`
          : `merging '${merging}' stopped half-way: ${why}; HEAD and the index are unchanged and the working copy is partly updated`,
      {
        hint:
          outcome === "rolled-back"
            ? `${free} and merge again (${reclaim})`
            : outcome === "kept"
              ? `${free}, then \`tdv merge --abort\` puts the working copy and index back as they were; merge again after it (${reclaim} once aborted)`
              : `${free}, then \`tdv reset --hard\` puts the working copy back as HEAD has it; merge again after it (${reclaim})`,
        cause,
      },
    );
  }
}

/** `merge --continue` (or commit) on a merge that stopped while it updated the working copy. */
export class MergeIncompleteError extends TdvError<"MergeIncompleteError"> {
  readonly _tag = "MergeIncompleteError";
  constructor(
    readonly merging: string,
    readonly reason: string,
  ) {
    super(`the merge of '${merging}' did not finish updating the working copy (${reason}): it cannot be concluded`, {
      hint: "undo it with `tdv merge --abort` (the working copy and index go back as they were before the merge), then merge again",
    });
  }
}

/**
 * `--strategy ours|theirs` (or `tdv resolve`) would take one side's whole
 * chunk where the chunk cannot merge element by element, discarding the other
 * side's edits of it: refused, nothing changed, unless the user says so.
 */
export class OtherEditsDiscardedError extends TdvError<"OtherEditsDiscardedError"> {
  readonly _tag = "OtherEditsDiscardedError";
  constructor(
    readonly chunks: DiscardedEdits[],
    readonly command: "merge" | "resolve",
  ) {
    const line = (d: DiscardedEdits) => `${d.array || "."} chunk [${d.chunk.join(",")}]: would keep ${d.kept}' whole chunk and discard ${d.discarded}' edits (${d.reason})`;
    const shown = chunks.slice(0, 10).map(line).join("\n  ");
    const more = chunks.length > 10 ? `\n  ... and ${chunks.length - 10} more` : "";
    const n = chunks.length;
    super(`refusing to discard the other side's edits of ${n} chunk${n === 1 ? "" : "s"} that cannot merge element by element:\n  ${shown}${more}`, {
      hint:
        command === "merge"
          ? "add --discard-other-edits to take them anyway, or merge without --strategy and settle those chunks with `tdv resolve` (or by editing them with a Zarr tool and `tdv add`)"
          : "add --discard-other-edits to take them anyway, or edit those chunks with a Zarr tool and `tdv add` them",
    });
  }
}

/** These errors by their tags, in the one map of every tdv error (src/errors.ts). */
declare module "../../errors.js" {
  interface TdvErrorMap {
    MergeInProgressError: MergeInProgressError;
    NoMergeInProgressError: NoMergeInProgressError;
    UnresolvedConflictsError: UnresolvedConflictsError;
    NotFastForwardError: NotFastForwardError;
    MergeStaleError: MergeStaleError;
    LocalChangesError: LocalChangesError;
    MergeFailedError: MergeFailedError;
    MergeIncompleteError: MergeIncompleteError;
    OtherEditsDiscardedError: OtherEditsDiscardedError;
  }
}
