import type { Command } from "commander";
import { err, formatBytes, inRepo, out, plural, printJson, quotePath, withProgress, type RepoContext } from "../output.js";

interface ChangeOptions {
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  const sparse = program
    .command("sparse")
    .description("check out only chosen paths (arrays, groups, files) of the snapshot")
    .addHelpText(
      "after",
      `
A sparse checkout writes only the listed paths, and the files directly in the
folders on the way to them (a group's zarr.json, .zgroup, .zattrs, .zmetadata)
and in the root. Files outside it are neither written nor reported as deleted;
commits keep them as they are in HEAD. In a lazy clone only the chunks of the
checked-out paths are downloaded. The set is kept in .tdv/sparse.

Examples:
  $ tdv clone --lazy --no-checkout s3://climate/era5 era5 && cd era5
  $ tdv sparse set era5.zarr/t2m masks.zarr    only these two (downloads their chunks)
  $ tdv sparse add era5.zarr/u10
  $ tdv sparse list
  $ tdv sparse disable                          every file again`,
    );
  sparse
    .command("set")
    .description("check out only these paths (replaces the set)")
    .argument("<paths...>", "arrays, groups or files (relative to the current folder)")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText("after", "\nExample:\n  $ tdv sparse set era5.zarr/t2m masks.zarr")
    .action(inRepo((ctx: RepoContext, paths: string[], opts: ChangeOptions) => change(ctx, { mode: "set", paths }, opts)));
  sparse
    .command("add")
    .description("add paths to the sparse set")
    .argument("<paths...>", "arrays, groups or files (relative to the current folder)")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText("after", "\nExample:\n  $ tdv sparse add era5.zarr/u10")
    .action(inRepo((ctx: RepoContext, paths: string[], opts: ChangeOptions) => change(ctx, { mode: "add", paths }, opts)));
  sparse
    .command("list")
    .description("print the sparse set (nothing when every file is checked out)")
    .option("--json", 'print {"sparse": true|false, "paths": [...]}')
    .addHelpText("after", "\nExample:\n  $ tdv sparse list")
    .action(inRepo(list));
  sparse
    .command("disable")
    .description("check out every file again and forget the set")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText("after", "\nExample:\n  $ tdv sparse disable")
    .action(inRepo((ctx: RepoContext, opts: ChangeOptions) => change(ctx, { mode: "disable" }, opts)));
}

async function change({ lib, repo }: RepoContext, c: { mode: "set" | "add"; paths: string[] } | { mode: "disable" }, opts: ChangeOptions): Promise<void> {
  const spec = c.mode === "disable" ? c : { mode: c.mode, paths: c.paths.map((p) => repo.relPath(p)) };
  const res = await withProgress(opts.quiet || opts.json, (onProgress) => lib.changeSparse(repo, spec, onProgress));
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  const files = `${plural(res.written, "file")} written, ${res.removed} removed (${formatBytes(res.bytes)})`;
  if (res.paths) out(`sparse checkout of ${res.paths.map((p) => quotePath(p)).join(", ")}: ${files}`);
  else out(`sparse checkout disabled: ${files}`);
}

async function list({ lib, repo }: RepoContext, opts: { json?: boolean }): Promise<void> {
  const set = lib.readSparse(repo);
  if (opts.json) return printJson({ sparse: set !== null, paths: set ? [...set.paths] : [] });
  if (!set) {
    err("no sparse checkout: every file is checked out");
    return;
  }
  for (const p of set.paths) out(quotePath(p));
}
