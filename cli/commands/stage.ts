import type { Command } from "commander";
import { action, formatBytes, jobsOption, JOBS_HELP, out, plural, printJson, quotePath, shortOid, withProgress , remoteContext } from "../output.js";

interface StageOptions {
  remote?: string;
  session?: string;
  base?: string;
  branch?: string;
  worker?: string;
  jobs?: number;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("stage")
    .description("upload a folder's files as a worker's change set of a staged session on a remote (no repository needed)")
    .argument("<dir>", "the folder the worker wrote: the stores' metadata and its own chunks, at their paths in the tree")
    .requiredOption("--remote <remote>", "a remote URL (s3://bucket/prefix, a folder), or a remote's name inside a repository")
    .requiredOption("--session <id>", "the session to stage into (A-Z a-z 0-9 . _ -); the first stage starts it")
    .option("--base <rev>", "the commit the session writes on: a full commit id or a branch of the remote (default: the session's; for its first stage the branch's tip)")
    .option("--branch <branch>", "the branch the session commits to (default: the session's, else the remote's default branch, else main)")
    .option("--worker <name>", "this change set's name in the session (default: unique per run); a name staged twice is refused")
    .option("-j, --jobs <n>", JOBS_HELP, jobsOption)
    .option("--json", "print what was staged as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
A worker needs no repository: it writes its region of an array into a folder
of its own with any Zarr library (the stores' metadata and the chunks it
wrote), then \`tdv stage\` hashes the files, uploads the chunk objects and
metadata the remote lacks, and records the folder as one change set of the
session. Nothing is visible on any branch until \`tdv commit --session\`
gathers the session's change sets into one commit. Every worker of a session
writes on the same base: the branch's tip when its first stage ran (or --base).

Examples:
  $ tdv stage --remote s3://bucket/era5 --session run-42 out/worker-3
  $ tdv stage --remote origin --session run-42 --base main -j 64 out/worker-0
  $ tdv commit --remote s3://bucket/era5 --session run-42 -m "ERA5 2026-03, 4 workers"`,
    )
    .action(action(run));
}

async function run(dir: string, opts: StageOptions): Promise<void> {
  const { lib, repo } = await remoteContext(opts.remote as string);
  if (opts.jobs !== undefined) lib.checkJobs(opts.jobs);
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.stage(repo, {
      remote: opts.remote as string,
      session: opts.session as string,
      dir,
      ...(opts.base === undefined ? {} : { base: opts.base }),
      ...(opts.branch === undefined ? {} : { branch: opts.branch }),
      ...(opts.worker === undefined ? {} : { worker: opts.worker }),
      ...(opts.jobs === undefined ? {} : { jobs: opts.jobs }),
      onProgress,
      onNotice: (m) => void process.stderr.write(`note: ${m}\n`),
    }),
  );
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  const f = res.files;
  out(`staged ${quotePath(dir)} as worker ${res.worker} of session ${res.session}${res.started ? " (started)" : ""} on ${res.url}`);
  out(`  ${plural(f.metadata + f.chunks + f.plain, "file")}: ${f.metadata} metadata, ${plural(f.chunks, "chunk")}, ${plural(f.plain, "plain file")} (${formatBytes(res.bytes)})`);
  out(`  uploaded ${plural(res.uploaded.objects, "object")} (${formatBytes(res.uploaded.bytes)}), ${res.found.objects} already there`);
  out(`  base ${res.base ? shortOid(res.base) : "(no commit)"} on ${res.branch}; commit with: tdv commit --remote ${opts.remote} --session ${res.session} -m MSG`);
}
