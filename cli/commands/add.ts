import type { Command } from "commander";
import { displayPaths } from "../paths.js";
import { inRepo, formatBytes, out, plural, quotePath, warn, withProgress, type RepoContext } from "../output.js";

interface AddOptions {
  all?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("add")
    .description("stage files for the next commit: chunks are stored once by content, arrays as a whole")
    .argument("[paths...]", "files or folders to stage (relative to the current folder)")
    .option("-A, --all", "stage every change in the working tree, including new and deleted files")
    .option("-q, --quiet", "no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv add -A                      stage everything
  $ tdv add era5.zarr/t2m           stage one array (new, changed and deleted chunks)
  $ tdv add README.md masks.zarr`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, paths: string[], opts: AddOptions): Promise<void> {
  if (!opts.all && paths.length === 0) {
    throw new lib.UsageError("nothing specified, nothing added", { hint: "name paths to stage (`tdv add era5.zarr`) or stage everything with `tdv add -A`" });
  }
  const rel = opts.all ? [] : paths.map((p) => repo.relPath(p));
  const res = await withProgress(opts.quiet, (onProgress) =>
    lib.add(repo, opts.all ? { all: true, onProgress } : { paths: rel, onProgress }),
  );
  const staged = [...res.added, ...res.modified];
  const arrays = res.arrays.length;
  const items: string[] = [];
  if (staged.length > 0) items.push(plural(staged.length, "file"));
  if (res.removed.length > 0) items.push(plural(res.removed.length, "deletion"));
  const where = arrays > 0 ? ` (${plural(arrays, "array")})` : "";
  if (!opts.quiet) out(items.length === 0 ? "nothing to stage: no changes" : `staged ${items.join(" and ")}${where}, ${formatBytes(res.bytes)}`);
  for (const w of res.warnings) warn(w);
  const show = displayPaths(repo.root);
  for (const s of res.skipped) warn(`skipped ${quotePath(show(s.path))}: ${s.reason}`);
}
