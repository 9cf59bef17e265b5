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

const BY_TAG: Partial<Record<TdvErrorTag, number>> = {
  UsageError: EXIT_USAGE,
  InvalidRefNameError: EXIT_USAGE,
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
