import type { Command } from "commander";
import { inRepo, err, formatBytes, out, plural, withProgress, type RepoContext } from "../output.js";

interface SwitchOptions {
  create?: string;
  force?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("switch")
    .description("switch the working copy to a branch, writing only the chunks that differ")
    .argument("[branch]", "the branch to switch to")
    .argument("[start]", "with -c: where the new branch starts (default HEAD)")
    .option("-c, --create <name>", "create branch NAME (at START or HEAD) and switch to it")
    .option("-f, --force", "discard local changes to tracked files that are in the way")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv switch main
  $ tdv switch -c experiment          a new branch at HEAD
  $ tdv switch -c hotfix v1.0         a new branch at a tag
  $ tdv switch --force main           drop local changes in the way`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, branch: string | undefined, start: string | undefined, opts: SwitchOptions): Promise<void> {
  let name: string;
  let from: string | undefined;
  if (opts.create !== undefined) {
    name = opts.create;
    if (branch !== undefined && start !== undefined) throw new lib.UsageError("too many arguments", { hint: "`tdv switch -c NAME [START]`" });
    from = branch;
  } else {
    if (branch === undefined) throw new lib.UsageError("missing branch name", { hint: "`tdv switch NAME`, or `tdv switch -c NAME` to create it" });
    if (start !== undefined) throw new lib.UsageError(`a start point is only for a new branch: '${start}'`, { hint: `\`tdv switch -c ${branch} ${start}\`` });
    name = branch;
  }
  const current = await lib.currentBranch(repo);
  // a clone made with --no-checkout has no index yet: switching to its branch is its first checkout
  if (!opts.create && !opts.force && current === name && lib.hasIndex(repo)) {
    if (!opts.quiet) reportSwitch({ branch: name, how: "already", written: 0, deleted: 0, bytes: 0 });
    return;
  }
  const res = await withProgress(opts.quiet, (onProgress) =>
    lib.switchBranch(repo, {
      name,
      create: opts.create !== undefined,
      ...(from === undefined ? {} : { start: from }),
      force: opts.force === true,
      onProgress,
    }),
  );
  if (opts.quiet) return;
  reportSwitch({ ...res, how: res.created ? "created" : "switched" });
}

/**
 * What `switch` and `checkout BRANCH` print once on a branch, in one format:
 *   Switched to branch 'main'            (or: Switched to a new branch 'x'; Already on 'main', on stderr, as git)
 *   (2 files written, 1 removed, 4.1 kB)  when the working copy changed
 */
export function reportSwitch(r: { branch: string; how: "created" | "switched" | "already"; written: number; deleted: number; bytes: number }): void {
  if (r.how === "already") err(`Already on '${r.branch}'`);
  else out(r.how === "created" ? `Switched to a new branch '${r.branch}'` : `Switched to branch '${r.branch}'`);
  const files = filesLine(r);
  if (files) out(files);
}

/** "(2 files written, 1 removed, 4.1 kB)", or "" when no file changed */
export function filesLine(r: { written: number; deleted: number; bytes: number }): string {
  return r.written + r.deleted > 0 ? `(${plural(r.written, "file")} written, ${r.deleted} removed, ${formatBytes(r.bytes)})` : "";
}
