import type { Command } from "commander";
import { formatBytes, inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext } from "../output.js";
import { printFetch } from "./fetch.js";

interface PullOptions {
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("pull")
    .description("fetch, then fast-forward the current branch to the remote's")
    .argument("[remote]", "a remote name or URL (default: origin)")
    .argument("[branch]", "the remote branch (default: the current branch's name)")
    .option("--json", "print a summary as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
When both sides have new commits, pull stops after the fetch and says so:
merge them with \`tdv merge origin/BRANCH\`.

Examples:
  $ tdv pull
  $ tdv pull origin main`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, remote: string | undefined, branch: string | undefined, opts: PullOptions): Promise<void> {
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.pull(repo, {
      ...(remote === undefined ? {} : { remote }),
      ...(branch === undefined ? {} : { branch }),
      onProgress,
      onCheckoutProgress: onProgress,
    }),
  );
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  printFetch(res.fetch);
  if (res.status === "up-to-date" || res.status === "ahead") {
    out(res.status === "ahead" ? `Already up to date (${res.branch} is ahead of ${res.upstream}).` : "Already up to date.");
    return;
  }
  out(`Updating ${res.old ? shortOid(res.old) : "(no commits)"}..${shortOid(res.new)}`);
  out("Fast-forward");
  if (res.written + res.deleted > 0) out(`(${plural(res.written, "file")} written, ${res.deleted} removed, ${formatBytes(res.bytes)})`);
}
