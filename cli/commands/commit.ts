import type { Command } from "commander";
import { collect, commandLine } from "../operands.js";
import { inRepo, branchName, commitSummaryLines, out, shortOid, subject, warn, withProgress, type RepoContext } from "../output.js";

interface CommitOptions {
  message?: string[];
  all?: boolean;
  allowEmpty?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("commit")
    .description("record the staged state of every array and file as one commit on the current branch")
    .option("-m, --message <msg>", "the commit message (repeat for more paragraphs)", collect)
    .option("-a, --all", "first stage changes to tracked arrays and files (not new ones)")
    .option("--allow-empty", "commit even when nothing changed")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv commit -m "Import ERA5 2024-01"
  $ tdv commit -a -m "Reprocess t2m with the fixed calibration"
  $ tdv commit -m "Subject" -m "A longer body paragraph."`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, opts: CommitOptions): Promise<void> {
  const paragraphs = opts.message ?? [];
  if (paragraphs.length === 0) {
    throw new lib.UsageError("a commit message is required", { hint: 'pass it with -m: `tdv commit -m "what and why"`' });
  }
  const message = paragraphs.join("\n\n");
  if (message.trim() === "") throw new lib.UsageError("the commit message is empty", { hint: 'say what changed: `tdv commit -m "what and why"`' });
  // during a stopped merge, committing concludes it (two parents), as `tdv merge --continue` does
  const merging = (await lib.readMergeState(repo).catch(() => null)) !== null;
  const res = await withProgress(opts.quiet, (onProgress) =>
    merging ? lib.mergeContinue(repo, { message, all: opts.all === true, trailers: { "Tdv-Command": commandLine() } }) : lib.commit(repo, {
      message,
      all: opts.all === true,
      allowEmpty: opts.allowEmpty === true,
      trailers: { "Tdv-Command": commandLine() },
      onProgress,
    }),
  );
  for (const w of res.warnings) warn(w);
  if (opts.quiet) return;
  const where = branchName(res.branch) ?? "detached HEAD";
  out(`[${where}${res.parents.length === 0 ? " (root-commit)" : ""} ${shortOid(res.oid)}] ${subject(message)}`);
  const lines = commitSummaryLines(res.changes);
  for (const l of lines) out(l);
  if (lines.length === 0) out("  (no changes)");
}
