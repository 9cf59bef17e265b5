import type { Command } from "commander";
import { inRepo, formatBytes, out, plural, withProgress, type RepoContext } from "../output.js";

interface RestoreOptions {
  source?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("restore")
    .description("discard local changes: bring working files back from the index or a revision")
    .argument("[paths...]", "files or folders to restore (relative to the current folder; '.' for everything)")
    .option("-s, --source <rev>", "restore from this revision instead of the index")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv restore era5.zarr/t2m          undo local edits to one array
  $ tdv restore .                      undo every local edit (also brings back deleted files)
  $ tdv restore --source v1.0 README.md`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, paths: string[], opts: RestoreOptions): Promise<void> {
  if (paths.length === 0) {
    throw new lib.UsageError("you must name the paths to restore", { hint: "`tdv restore PATH...`, or `tdv restore .` for everything" });
  }
  const rel = paths.map((p) => repo.relPath(p));
  const res = await withProgress(opts.quiet, (onProgress) =>
    lib.restore(repo, { paths: rel, ...(opts.source === undefined ? {} : { source: opts.source }), onProgress }),
  );
  if (opts.quiet) return;
  if (res.written + res.deleted === 0) out("nothing to restore: the files already match");
  else out(`restored ${plural(res.written, "file")}${res.deleted ? `, removed ${res.deleted}` : ""} (${formatBytes(res.bytes)})`);
}
