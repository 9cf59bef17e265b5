import type { Command } from "commander";
import { commitSummaryLines, err, formatBytes, inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext, jobsOption, JOBS_HELP } from "../output.js";
import { printFetch, warnIgnored } from "./fetch.js";
import { conflictLines } from "./merge.js";
import { printResult as printRebase } from "./rebase.js";

interface PullOptions {
  ffOnly?: boolean;
  rebase?: boolean;
  json?: boolean;
  quiet?: boolean;
  jobs?: number;
  verify?: boolean;
}

export function register(program: Command): void {
  program
    .command("pull")
    .description("fetch, then bring the remote branch into the current one (fast-forward, merge, or rebase)")
    .argument("[remote]", "a remote name or URL (default: origin)")
    .argument("[branch]", "the remote branch (default: the current branch's name)")
    .option("--ff-only", "only fast-forward; stop (after the fetch) when both sides have new commits")
    .option("--rebase", "when both sides have new commits, replay this branch's own onto the remote branch (`tdv rebase`) instead of merging")
    .option("--no-rebase", "merge even when the setting pull.rebase is true")
    .option("--no-verify", "merge even when the branch's rules (tdv-rules.toml) fail; recorded in the merge commit as a Tdv-No-Verify trailer")
    .option("-j, --jobs <n>", JOBS_HELP, jobsOption)
    .option("--json", "print a summary as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
When both sides have new commits, pull merges them as \`tdv merge origin/BRANCH\`
does (chunk by chunk, element by element), and may stop on conflicts.
With --rebase (or \`tdv config pull.rebase true\`), it replays the branch's
own commits on top of the remote branch instead, as \`tdv rebase\` does: no
merge commit, a linear history; a conflict stops it for
\`tdv rebase --continue\`.

Examples:
  $ tdv pull
  $ tdv pull --ff-only
  $ tdv pull --rebase
  $ tdv config pull.rebase true && tdv pull      rebase by default
  $ tdv pull origin main`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, remote: string | undefined, branch: string | undefined, opts: PullOptions): Promise<number | undefined> {
  if (opts.jobs !== undefined) lib.checkJobs(opts.jobs);
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.pull(repo, {
      ...(remote === undefined ? {} : { remote }),
      ...(branch === undefined ? {} : { branch }),
      ffOnly: opts.ffOnly === true,
      noVerify: opts.verify === false,
      ...(opts.rebase === undefined ? {} : { rebase: opts.rebase }),
      ...(opts.jobs === undefined ? {} : { concurrency: opts.jobs }),
      onProgress,
      onCheckoutProgress: onProgress,
    }),
  );
  warnIgnored(res.fetch);
  if (opts.json) {
    printJson(res);
    return res.status === "conflicts" ? 1 : 0;
  }
  if (!opts.quiet) printFetch(res.fetch);
  switch (res.status) {
    case "up-to-date":
    case "ahead":
      if (!opts.quiet) out(res.status === "ahead" ? `Already up to date (${res.branch} is ahead of ${res.upstream}).` : "Already up to date.");
      return;
    case "fast-forward":
      if (opts.quiet) return;
      out(`Updating ${res.old ? shortOid(res.old) : "(no commits)"}..${shortOid(res.new)}`);
      out("Fast-forward");
      if (res.written + res.deleted > 0) out(`(${plural(res.written, "file")} written, ${res.deleted} removed, ${formatBytes(res.bytes)})`);
      return;
    case "merged": {
      if (opts.quiet) return;
      const m = res.merge;
      if (m && m.kind === "merged") for (const l of commitSummaryLines(m.changes)) out(l);
      out(`[${res.branch} ${shortOid(res.new)}] Merge of ${res.upstream} made by tdv`);
      return;
    }
    case "rebased":
      if (res.rebase) printRebase(res.rebase, opts.quiet === true);
      return;
    case "conflicts": {
      if (res.rebase) {
        printRebase(res.rebase, opts.quiet === true);
        return 1;
      }
      const m = res.merge;
      if (m && m.kind === "conflicts") for (const l of conflictLines(m.conflicts)) out(l);
      err("Automatic merge stopped on conflicts; the rest is merged in the working copy.");
      err("hint: resolve with `tdv resolve PATH ... --ours|--theirs`, then `tdv merge --continue`; `tdv merge --abort` undoes the merge.");
      return 1;
    }
  }
}
