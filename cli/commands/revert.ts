import type { Command } from "commander";
import { branchName, commitSummaryLines, inRepo, out, shortOid, subject, warn, withProgress, type RepoContext } from "../output.js";

interface RevertOptions {
  message?: string;
  quiet?: boolean;
  verify?: boolean;
}

export function register(program: Command): void {
  program
    .command("revert")
    .description("make a new commit that undoes a commit's changes (later changes to the same arrays are kept)")
    .argument("<commit>", "the commit to undo: an id, HEAD~N, a tag…")
    .option("-m, --message <msg>", 'the commit message (default: Revert "SUBJECT")')
    .option("--no-verify", "commit even when the branch's rules (tdv-rules.toml) fail; recorded as a Tdv-No-Verify trailer")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
The undo is merged into HEAD element by element, as \`tdv merge\` merges: a
revert of one fix keeps every later change. Where later commits changed the
same elements, nothing changes and the conflicts are listed.

Examples:
  $ tdv revert HEAD                    undo the last commit with a new one
  $ tdv revert 3f2a1bc -m "Undo the bad calibration"
  $ tdv revert v1.2~1`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, opts: RevertOptions): Promise<void> {
  const res = await withProgress(opts.quiet, (onProgress) =>
    lib.revert(repo, { rev, ...(opts.message === undefined ? {} : { message: opts.message }), trailers: { "Tdv-Command": `tdv revert ${rev}` }, noVerify: opts.verify === false, onProgress }),
  );
  for (const w of res.commit.warnings) warn(w);
  if (opts.quiet) return;
  const c = res.commit;
  out(`[${branchName(c.branch) ?? "detached HEAD"} ${shortOid(c.oid)}] ${subject((await lib.log(repo, { rev: c.oid, n: 1 }))[0]?.message ?? "")}`);
  const lines = commitSummaryLines(c.changes);
  for (const l of lines) out(l);
}
