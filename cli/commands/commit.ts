import type { Command } from "commander";
import { postCommitHook, preCommitHook } from "../hooks.js";
import { collect, commandLine } from "../operands.js";
import { action, branchName, commitSummaryLines, loadLib, openRepo, out, plural, printJson, shortOid, subject, warn, withProgress, type RepoContext , remoteContext } from "../output.js";

interface CommitOptions {
  message?: string[];
  all?: boolean;
  allowEmpty?: boolean;
  quiet?: boolean;
  remote?: string;
  session?: string;
  branch?: string;
  json?: boolean;
  verify?: boolean;
}

export function register(program: Command): void {
  program
    .command("commit")
    .description("record the staged state of every array and file as one commit on the current branch")
    .option("-m, --message <msg>", "the commit message (repeat for more paragraphs)", collect)
    .option("-a, --all", "first stage changes to tracked arrays and files (not new ones)")
    .option("--allow-empty", "commit even when nothing changed")
    .option("--no-verify", "skip the pre-commit hook (.tdv/hooks/pre-commit) and commit even when the branch's rules (tdv-rules.toml) fail; recorded in the commit as a Tdv-No-Verify trailer")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .option("--session <id>", "commit a staged session on a remote instead (with --remote): gather every worker's change set into one commit")
    .option("--remote <remote>", "with --session: the remote (a URL, or a remote's name inside a repository)")
    .option("--branch <branch>", "with --session: the branch to commit to (must be the session's, the default)")
    .option("--json", "with --session: print the commit as JSON")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv commit -m "Import ERA5 2024-01"
  $ tdv commit -a -m "Reprocess t2m with the fixed calibration"
  $ tdv commit -m "Subject" -m "A longer body paragraph."
  $ tdv commit --no-verify -m "Known gap in March"   past a failing rule, recorded
  $ tdv commit --remote s3://bucket/era5 --session run-42 -m "ERA5 2026-03, 4 workers"

With --session, no repository is needed: the change sets staged with
\`tdv stage\` are gathered (reading no chunk bytes) and committed on the
remote's branch by compare-and-swap, rebasing onto commits that landed
meanwhile; a real conflict is listed and the session kept. Once committed,
the session's registry is dropped.`,
    )
    .action(action(dispatch));
}

async function dispatch(opts: CommitOptions): Promise<void> {
  if (opts.session !== undefined) return runSession(opts);
  const stray = (["remote", "branch", "json"] as const).filter((k) => opts[k] !== undefined);
  if (stray.length > 0) {
    const lib = await loadLib();
    throw new lib.UsageError(`--${stray[0]} only goes with --session`, { hint: "commit a staged session with `tdv commit --remote REMOTE --session ID -m MSG`; a plain `tdv commit` commits the working copy's staged state" });
  }
  return run(await openRepo(), opts);
}

async function runSession(opts: CommitOptions): Promise<void> {
  if (opts.remote === undefined) {
    const lib = await loadLib();
    throw new lib.UsageError("--session needs --remote", { hint: "name the remote the workers staged to: `tdv commit --remote s3://bucket/era5 --session ID -m MSG`" });
  }
  const { lib, repo } = await remoteContext(opts.remote);
  if (opts.all || opts.allowEmpty) throw new lib.UsageError("--all and --allow-empty do not go with --session", { hint: "a session commits what its workers staged" });
  const message = (opts.message ?? []).join("\n\n");
  if (message.trim() === "") throw new lib.UsageError("a commit message is required", { hint: 'pass it with -m: `tdv commit --remote REMOTE --session ID -m "what and why"`' });
  const res = await lib.commitStaged(repo, {
    remote: opts.remote,
    session: opts.session as string,
    message,
    ...(opts.branch === undefined ? {} : { branch: opts.branch }),
    trailers: { "Tdv-Command": commandLine() },
    noVerify: opts.verify === false,
    onNotice: (m) => void process.stderr.write(`note: ${m}\n`),
  });
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  out(`[${res.branch}${res.parent ? "" : " (root-commit)"} ${shortOid(res.commit)}] ${subject(message)}`);
  out(`  session ${res.session}: ${plural(res.changeSets, "change set")} (${res.workers.join(", ")}), ${plural(res.changed, "file")} changed on ${res.url}`);
  if (res.rebased > 0) out(`  the branch had moved: rebased ${plural(res.rebased, "time")}${res.merged.length ? `, ${plural(res.merged.length, "chunk")} merged element by element` : ""}`);
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
  if (opts.verify !== false) await preCommitHook({ lib, repo }, { all: opts.all === true, merging });
  const res = await withProgress(opts.quiet, (onProgress) =>
    merging ? lib.mergeContinue(repo, { message, all: opts.all === true, trailers: { "Tdv-Command": commandLine() }, noVerify: opts.verify === false }) : lib.commit(repo, {
      message,
      all: opts.all === true,
      allowEmpty: opts.allowEmpty === true,
      noVerify: opts.verify === false,
      trailers: { "Tdv-Command": commandLine() },
      onProgress,
    }),
  );
  for (const w of res.warnings) warn(w);
  await postCommitHook({ lib, repo }, res);
  if (opts.quiet) return;
  const where = branchName(res.branch) ?? "detached HEAD";
  out(`[${where}${res.parents.length === 0 ? " (root-commit)" : ""} ${shortOid(res.oid)}] ${subject(message)}`);
  const lines = commitSummaryLines(res.changes);
  for (const l of lines) out(l);
  if (lines.length === 0) out("  (no changes)");
}
