import type { Command } from "commander";
import { formatBytes, inRepo, err, out, plural, shortOid, subject, withProgress, type RepoContext } from "../output.js";
import { filesLine, reportSwitch } from "./switch.js";

interface CheckoutOptions {
  force?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("checkout")
    .description("check out a revision: a branch switches to it, anything else detaches HEAD there")
    .argument("<rev>", "a branch, tag, commit id, HEAD~N, BRANCH@{DATE}")
    .argument("[paths...]", "after --: check out only these paths from REV (working files and index); HEAD stays")
    .option("-f, --force", "discard local changes to tracked files that are in the way")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv checkout v1.0                 the dataset as it was tagged (detached HEAD)
  $ tdv checkout "main@{2025-03-01}"  the dataset as main was on that date
  $ tdv checkout HEAD~1
  $ tdv checkout main                 back to a branch
  $ tdv checkout v1.0 -- era5.zarr/t2m    one array as it was tagged (staged; HEAD stays)`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, paths: string[], opts: CheckoutOptions): Promise<void> {
  if (paths.length > 0) {
    const rel = paths.map((p) => repo.relPath(p));
    const res = await withProgress(opts.quiet, (onProgress) => lib.restore(repo, { paths: rel, source: rev, stage: true, onProgress }));
    if (!opts.quiet) out(`Updated ${plural(res.written + res.deleted, "path")} from ${rev} (${formatBytes(res.bytes)})`);
    return;
  }
  const before = await lib.currentBranch(repo);
  const res = await withProgress(opts.quiet, (onProgress) => lib.checkout(repo, { rev, force: opts.force === true, onProgress }));
  if (opts.quiet) return;
  if (!res.detached) {
    reportSwitch({ ...res, branch: res.branch as string, how: before === res.branch ? "already" : "switched" });
    return;
  }
  const entry = (await lib.log(repo, { rev: res.oid, n: 1 }))[0];
  err(`Note: switching to '${rev}'.`);
  err("");
  err("You are in 'detached HEAD' state: you can look around and make commits,");
  err("but they belong to no branch. To keep commits you make here, create a branch:");
  err("");
  err("  tdv switch -c <new-branch-name>");
  err("");
  out(`HEAD is now at ${shortOid(res.oid)} ${subject(entry?.message ?? "")}`);
  const files = filesLine(res);
  if (files) out(files);
}
