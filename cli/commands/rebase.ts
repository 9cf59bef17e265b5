import type { Command } from "commander";
import type { MergeStatus, RebaseResult, RebaseStatus } from "../../src/index.js";
import { branchName, err, inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext } from "../output.js";
import { conflictLines } from "./merge.js";

interface RebaseOptions {
  onto?: string;
  continue?: boolean;
  abort?: boolean;
  skip?: boolean;
  json?: boolean;
  quiet?: boolean;
  verify?: boolean;
}

export function register(program: Command): void {
  program
    .command("rebase")
    .description("replay the current branch's own commits, one by one, on top of another branch")
    .argument("[upstream]", "the branch whose commits are left out and which the others go on top of (default: origin/BRANCH)")
    .option("--onto <newbase>", "replay onto this commit instead of UPSTREAM")
    .option("--no-verify", "move the branch even when its rules (tdv-rules.toml) fail on the result; named in the reflog")
    .option("--continue", "go on after the conflicts of the stopped commit are resolved")
    .option("--skip", "leave out the stopped commit and go on")
    .option("--abort", "undo the rebase: branch, HEAD, index and working copy as before it")
    .option("--json", "print the result as one JSON document (commits old → new, conflicts)")
    .option("-q, --quiet", "print nothing but errors and conflicts; no progress display")
    .addHelpText(
      "after",
      `
Each commit's change (its parent → it) is merged onto the rewritten branch
as \`tdv merge\` merges: chunks changed on one side are taken from it, chunks
changed on both merge element by element. Where both changed the same
element to different values the rebase stops; settle the conflicts with
\`tdv resolve\` (or edit and \`tdv add\`), then \`tdv rebase --continue\`.
Replayed commits keep their author, message and trailers; the committer is
you, now. Merge commits in the range are left out (the commits they merged
are replayed instead), so the history becomes linear. A commit whose change
is already upstream is dropped.

HEAD is detached while the rebase runs; the branch moves once, at the end:
\`tdv log BRANCH@{1}\` shows it as it was before, \`tdv reflog\` each step.
A rebase killed half-way is finished with --continue or undone with --abort.

Examples:
  $ tdv rebase                            onto origin/BRANCH (after \`tdv fetch\`)
  $ tdv rebase main
  $ tdv rebase --onto release-2 main      the commits since main, onto release-2
  $ tdv resolve era5.zarr/t2m --chunk 3,0,7 --theirs && tdv rebase --continue
  $ tdv rebase --skip
  $ tdv rebase --abort
  $ tdv pull --rebase                     fetch, then rebase onto the remote branch`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, upstream: string | undefined, opts: RebaseOptions): Promise<number | undefined> {
  const modes = [opts.continue, opts.abort, opts.skip].filter(Boolean);
  if (modes.length > 1) throw new lib.UsageError("--continue, --skip and --abort exclude each other");
  if (modes.length === 1 && (upstream !== undefined || opts.onto !== undefined)) {
    throw new lib.UsageError(`no upstream or --onto with --${opts.continue ? "continue" : opts.abort ? "abort" : "skip"}`, { hint: "`tdv rebase --continue`" });
  }
  const quiet = opts.quiet === true || opts.json === true;
  const noVerify = opts.verify === false;
  const res = await withProgress(quiet, (onProgress) =>
    opts.continue
      ? lib.rebaseContinue(repo, { onProgress, noVerify })
      : opts.skip
        ? lib.rebaseSkip(repo, { onProgress, noVerify })
        : opts.abort
          ? lib.rebaseAbort(repo, { onProgress })
          : lib.rebase(repo, { ...(upstream === undefined ? {} : { upstream }), ...(opts.onto === undefined ? {} : { onto: opts.onto }), noVerify, onProgress }),
  );
  if (opts.json) printJson(res);
  else printResult(res, opts.quiet === true);
  return res.kind === "conflicts" ? 1 : 0;
}

export function printResult(r: RebaseResult, quiet: boolean): void {
  const name = branchName(r.branch) ?? "HEAD";
  if (r.kind === "conflicts") {
    if (!quiet) for (const s of r.replayed) out(stepLine(s));
    const stopped = r.stopped as { oid: string; subject: string };
    out(`Could not apply ${shortOid(stopped.oid)} (${stopped.subject}):`);
    for (const l of conflictLines(r.conflicts ?? [])) out(l);
    err(`Rebase stopped on ${plural(r.conflicts?.length ?? 0, "conflict")}; the rest of the commit is merged in the working copy (${plural(r.remaining - 1, "commit")} after it).`);
    err("hint: resolve with `tdv resolve PATH [--chunk I,J,...] --ours|--theirs` (or edit with a Zarr tool and `tdv add`),");
    err("hint: then `tdv rebase --continue`; `tdv rebase --skip` leaves the commit out, `tdv rebase --abort` undoes the rebase.");
    return;
  }
  if (quiet) return;
  switch (r.kind) {
    case "up-to-date":
      out(`Current branch ${name} is up to date.`);
      return;
    case "fast-forward":
      out(`Fast-forwarded ${name} to ${shortOid(r.head)} (${r.upstream}).`);
      return;
    case "aborted":
      out(`Rebase aborted: ${name} is back at ${shortOid(r.origHead)} (${plural(r.checkout.written, "file")} restored, ${r.checkout.deleted} removed).`);
      return;
    case "rebased":
      for (const s of r.replayed) out(stepLine(s));
      if (r.flattened.length > 0) out(`  ${plural(r.flattened.length, "merge commit")} left out (history made linear): ${r.flattened.map(shortOid).join(", ")}`);
      out(`Successfully rebased and updated ${r.branch ?? "detached HEAD"} (${shortOid(r.origHead)} → ${shortOid(r.head)}).`);
  }
}

function stepLine(s: RebaseResult["replayed"][number]): string {
  if (s.new === null) return `  ${shortOid(s.old)} dropped (${s.dropped === "skipped" ? "skipped" : "its change is already there"}): ${s.subject}`;
  return `  ${shortOid(s.old)} → ${shortOid(s.new)} ${s.subject}`;
}

/** The rebase section of `tdv status` (its conflicts from the merge state of the stopped step). */
export function rebaseStatusLines(r: RebaseStatus, m: MergeStatus | undefined): string[] {
  const lines: string[] = [""];
  const what = `${branchName(r.branch) ?? "HEAD"} onto ${shortOid(r.onto)} (${r.upstream})`;
  lines.push(`rebase in progress: rebasing ${what}, ${r.done} of ${plural(r.total, "commit")} done.`);
  if (!r.stopped) {
    lines.push('  (it was interrupted: use "tdv rebase --continue" to go on, or "tdv rebase --abort" to undo it)');
    return lines;
  }
  const open = m ? m.conflicts.filter((c) => !c.resolved) : [];
  if (m?.interrupted) lines.push(`Stopped while replaying ${shortOid(r.stopped.oid)} (${r.stopped.subject}); it did not finish updating the working copy.`);
  else if (open.length === 0) lines.push(`All conflicts fixed while replaying ${shortOid(r.stopped.oid)} (${r.stopped.subject}).`);
  else lines.push(`Stopped replaying ${shortOid(r.stopped.oid)} (${r.stopped.subject}) with ${plural(open.length, "unresolved conflict")}.`);
  if (!m?.interrupted && open.length > 0) lines.push('  (use "tdv resolve PATH [--chunk I,J,...] --ours|--theirs", or edit and "tdv add"; then "tdv rebase --continue")');
  else if (!m?.interrupted) lines.push('  (use "tdv rebase --continue" to go on)');
  lines.push('  (use "tdv rebase --skip" to leave this commit out, "tdv rebase --abort" to undo the rebase)');
  if (m && m.conflicts.length > 0) {
    lines.push("");
    lines.push("Conflicts:");
    for (const l of conflictLines(m.conflicts)) lines.push(`  ${l}`);
  }
  return lines;
}

/** The last line of `status` during a rebase. */
export function rebaseStatusFooter(r: RebaseStatus, m: MergeStatus | undefined): string {
  if (!r.stopped) return 'rebase interrupted (use "tdv rebase --continue" or "tdv rebase --abort")';
  if (m?.interrupted) return 'the step cannot be concluded (use "tdv rebase --skip" or "tdv rebase --abort")';
  const open = m ? m.conflicts.filter((c) => !c.resolved).length : 0;
  if (open > 0) return `${plural(open, "unresolved conflict")} (resolve, then "tdv rebase --continue")`;
  return 'ready to go on (use "tdv rebase --continue")';
}
