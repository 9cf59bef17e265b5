import type { Command } from "commander";
import type { RevisionSource } from "../../src/index.js";
import { action, err, formatBytes, loadLib, openRepo, out, plural, printJson, quotePath, shortOid, stopOnSignals, withProgress } from "../output.js";

interface ExportOptions {
  to?: string;
  zip?: string;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
  remote?: string;
}

export function register(program: Command): void {
  program
    .command("export")
    .description("write a revision (or some paths of it) out as a plain Zarr folder or one zip, without a checkout")
    .argument("<rev>", "a branch, tag, commit id, HEAD~N, BRANCH@{DATE}")
    .argument("[paths...]", "stores, arrays, groups or files to export, relative to the current folder (default: every file)")
    .option("--to <dir>", "write a plain folder (no .tdv): it must not exist, or be empty")
    .option("--zip <file>", "write one zip file, entries stored (not compressed) so readers can read ranges")
    .option("-f, --force", "replace an existing zip file")
    .option("--remote <name|url>", "export a remote's revision, read from it without a clone (paths are then from the remote's root)")
    .option("--json", "print a summary as JSON (commit, files, bytes, target)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
The files written are those a checkout of the paths writes (\`tdv sparse set
PATH...\`): every file under each path, and the files directly in the folders
on the way to it (a group's zarr.json, .zgroup, .zattrs), byte for byte as
committed. Every object is verified against its hash before it is written.

--to DIR: the files under their paths in the tree (DIR/weather.zarr/...).
--zip FILE: the same files as zip entries, except that a zip of exactly one
folder holds that folder's files at its root, so zarr-python's
zarr.ZipStore(FILE) and zarrita's ZipFileStore open the store itself. Entries
are dated with the commit's time: the same revision gives the same zip.

Nothing appears under the target's name before the export is complete (it is
written beside it and renamed); a failure or Ctrl-C removes what it wrote.

Examples:
  $ tdv export v1.0 --to dataset-v1.0                   every file of tag v1.0
  $ tdv export main~3 weather.zarr --to weather-old     one store as it was 3 commits ago
  $ tdv export v1.0 weather.zarr --zip weather-v1.0.zip
      python: zarr.open_group(zarr.ZipStore("weather-v1.0.zip", mode="r"))
  $ tdv export 'main@{2026-03-31}' weather.zarr/temp weather.zarr/precip --zip q1.zip
  $ tdv export HEAD --zip all.zip --force --json
  $ tdv export v1.0 weather.zarr --remote s3://bucket/climate --to weather-v1.0   no clone needed`,
    )
    .action(action(run));
}

async function run(rev: string, paths: string[], opts: ExportOptions): Promise<void> {
  const lib = await loadLib();
  const { source, relPath } = await sourceOf(opts.remote);
  if ((opts.to === undefined) === (opts.zip === undefined)) {
    throw new lib.UsageError("name one target: --to DIR (a folder) or --zip FILE", { hint: "e.g. `tdv export v1.0 weather.zarr --to weather-v1` or `--zip weather-v1.zip`" });
  }
  if (opts.force && opts.to !== undefined) {
    throw new lib.UsageError("--force replaces a zip file only", { hint: "a folder export needs a folder that does not exist yet, or an empty one" });
  }
  const talk = !opts.quiet && !opts.json;
  // Ctrl-C and SIGTERM stop the export between two files; it then removes what it wrote
  const stop = stopOnSignals("export", talk, (sig) => new lib.InterruptedError(sig, "nothing was written under the target's name"));
  let res: Awaited<ReturnType<typeof lib.exportRevision>>;
  try {
    res = await withProgress(opts.quiet || opts.json, (onProgress) =>
      lib.exportRevision(source, {
        rev,
        paths: paths.map(relPath),
        ...(opts.to === undefined ? {} : { to: opts.to }),
        ...(opts.zip === undefined ? {} : { zip: opts.zip }),
        force: opts.force === true,
        signal: stop.signal,
        onProgress: (p) => onProgress({ ...p, unit: "files" }),
      }),
    );
  } finally {
    stop.release();
  }
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  const what = `${plural(res.files, "file")} (${formatBytes(res.bytes)})`;
  if (res.format === "folder") out(`exported ${what} of ${shortOid(res.commit)} to ${quotePath(res.target)}`);
  else {
    out(`exported ${what} of ${shortOid(res.commit)} to ${quotePath(res.target)} (${formatBytes(res.size)})`);
    if (res.root) err(`the zip holds ${quotePath(res.root)} at its root`);
  }
}

/** Where the revision is read: this repository (paths from the current folder) or a remote without a clone (paths from its root). */
async function sourceOf(remote: string | undefined): Promise<{ source: RevisionSource; relPath: (p: string) => string }> {
  if (remote === undefined) {
    const { lib, repo } = await openRepo();
    return { source: lib.repositorySource(repo, repo.root), relPath: (p) => repo.relPath(p) };
  }
  const lib = await loadLib();
  // a remote's name needs the repository that names it; a URL works anywhere
  const repo = await openRepo().then(
    (r) => r.repo,
    () => null,
  );
  // one path is read, then the command exits: no background walk of the revision's folders
  return { source: await lib.remoteSource(remote, { ...(repo ? { repo } : {}), prefetch: false }), relPath: (p) => p };
}
