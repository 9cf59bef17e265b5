import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { inRepo, formatBytes, out, plural, warn, withProgress, type RepoContext } from "../output.js";

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
  const arrays = await countArrays(repo.root, [...staged, ...res.removed]);
  const items: string[] = [];
  if (staged.length > 0) items.push(plural(staged.length, "file"));
  if (res.removed.length > 0) items.push(plural(res.removed.length, "deletion"));
  const where = arrays > 0 ? ` (${plural(arrays, "array")})` : "";
  if (!opts.quiet) out(items.length === 0 ? "nothing to stage: no changes" : `staged ${items.join(" and ")}${where}, ${formatBytes(res.bytes)}`);
  for (const w of res.warnings) warn(w);
  for (const s of res.skipped) warn(`skipped ${s.path}: ${s.reason}`);
}

/**
 * The number of Zarr arrays the staged paths belong to: for each path, the
 * nearest folder above it that holds `.zarray` or an array's `zarr.json`.
 * One read per folder, cached.
 */
async function countArrays(root: string, paths: readonly string[]): Promise<number> {
  const isArray = new Map<string, Promise<boolean>>();
  const check = (dir: string): Promise<boolean> => {
    let hit = isArray.get(dir);
    if (!hit) {
      hit = (async () => {
        const abs = path.join(root, dir);
        if (await fsp.stat(path.join(abs, ".zarray")).then(() => true, () => false)) return true;
        try {
          const doc = JSON.parse(await fsp.readFile(path.join(abs, "zarr.json"), "utf8")) as { node_type?: unknown };
          return doc.node_type === "array";
        } catch {
          return false;
        }
      })();
      isArray.set(dir, hit);
    }
    return hit;
  };
  const found = new Set<string>();
  for (const p of paths) {
    let dir = parentOf(p);
    for (;;) {
      if (await check(dir)) {
        found.add(dir);
        break;
      }
      if (dir === "") break;
      dir = parentOf(dir);
    }
  }
  return found.size;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}
