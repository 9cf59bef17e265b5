/**
 * Reading a command line the way several commands do: a repeatable option,
 * the operands before and after `--`, whether an operand is a revision or a
 * path, and the line itself for a commit's Tdv-Command trailer.
 */
import type { Lib, Repo } from "./output.js";

/** A repeatable option (`-m A -m B`): its values in order (no default value, so --help shows none). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The command line as the user typed it, shell-quoted, for the Tdv-Command trailer. */
export function commandLine(): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return ["tdv", ...process.argv.slice(2)].map(quote).join(" ");
}

/** `operands` split at `--` (commander drops the `--` itself: the operands after it are counted from argv). */
export function splitAtDashes(operands: readonly string[]): { before: string[]; after: string[]; dashes: boolean } {
  const dd = process.argv.indexOf("--");
  const afterDashes = dd < 0 ? 0 : process.argv.length - dd - 1;
  return { before: operands.slice(0, operands.length - afterDashes), after: operands.slice(operands.length - afterDashes), dashes: dd >= 0 };
}

/**
 * Whether `rev` names a commit. `unborn` lists the names that count as a
 * revision while the current branch has no commit yet (`tdv diff HEAD` in a
 * new repository compares with the empty tree).
 */
export async function isRevision(lib: Lib, repo: Repo, rev: string, unborn: readonly string[] = []): Promise<boolean> {
  try {
    await lib.resolveRevision(repo, rev);
    return true;
  } catch (e) {
    if (lib.isTdvError(e, "UnknownRevisionError")) return unborn.includes(rev) && (await lib.headCommit(repo)) === null;
    throw e;
  }
}

/**
 * Refuses an operand before `--` that is neither a revision nor a path in the
 * working tree. Revision syntax (main@{2026-03-31}, HEAD~9) is no path: that
 * one gets the revision's own error, which says why it does not resolve.
 * `usage` shows the command with `--`, e.g. "`tdv log [REV] -- PATH`".
 */
export async function refuseAmbiguous(lib: Lib, repo: Repo, operand: string, usage: string): Promise<never> {
  if (/@\{|[~^]/.test(operand)) await lib.resolveRevision(repo, operand);
  throw new lib.UsageError(`ambiguous argument '${operand}': unknown revision or path not in the working tree`, {
    hint: `separate paths from revisions with '--': ${usage}; \`tdv branch\` and \`tdv tag\` list names`,
  });
}
