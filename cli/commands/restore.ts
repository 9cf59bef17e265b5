import type { Command } from "commander";
import { printUnstaged } from "../paths.js";
import { inRepo, formatBytes, out, plural, withProgress, type RepoContext } from "../output.js";

interface RestoreOptions {
  source?: string;
  staged?: boolean;
  worktree?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("restore")
    .description("discard local changes: bring working files back from the index or a revision; --staged unstages")
    .argument("[paths...]", "files or folders to restore (relative to the current folder; '.' for everything)")
    .option("-s, --source <rev>", "restore from this revision (default: the index for the files, HEAD with --staged)")
    .option("-S, --staged", "put the paths' index entries back to HEAD's (or --source's): unstage; the files are untouched")
    .option("-W, --worktree", "restore the working files (the default; with --staged, both)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv restore era5.zarr/t2m          undo local edits to one array
  $ tdv restore .                      undo every local edit (also brings back deleted files)
  $ tdv restore --staged era5.zarr     unstage an array (its files keep their edits)
  $ tdv restore --staged --worktree .  back to HEAD: unstage and undo every edit
  $ tdv restore --source v1.0 README.md`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, paths: string[], opts: RestoreOptions): Promise<void> {
  if (paths.length === 0) {
    throw new lib.UsageError("you must name the paths to restore", { hint: "`tdv restore PATH...`, or `tdv restore .` for everything" });
  }
  const rel = paths.map((p) => repo.relPath(p));
  const source = opts.source;
  if (opts.staged) {
    const res = await lib.unstage(repo, { paths: rel, ...(source === undefined ? {} : { source }) });
    if (!opts.worktree) {
      if (!opts.quiet) printUnstaged(repo, res.unstaged);
      return;
    }
  }
  // with --staged --worktree the files come from the same source as the index (git's restore)
  const from = opts.staged ? (source ?? "HEAD") : source;
  const res = await withProgress(opts.quiet, (onProgress) => lib.restore(repo, { paths: rel, ...(from === undefined ? {} : { source: from }), onProgress }));
  if (opts.quiet) return;
  if (res.written + res.deleted === 0) out("nothing to restore: the files already match");
  else out(`restored ${plural(res.written, "file")}${res.deleted ? `, removed ${res.deleted}` : ""} (${formatBytes(res.bytes)})`);
}
