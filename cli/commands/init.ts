import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { action, loadLib, out, plural, warn } from "../output.js";
import { repoOptions } from "../env.js";

interface InitOptions {
  separateRepo?: string;
  inside?: boolean;
  initialBranch?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("init")
    .description("create a tdv repository in a folder (default: the current one)")
    .argument("[dir]", "the folder that holds (or will hold) your Zarr stores", ".")
    .option("--separate-repo <dir>", "keep the repository in another folder; DIR/.tdv becomes a file pointing to it (again in a folder whose pointer file was deleted: re-attach it)")
    .option("--inside", "in a store root, keep the repository inside the store (.tdv) instead of beside it")
    .option("-b, --initial-branch <name>", "name of the first branch", "main")
    .option("-q, --quiet", "print nothing but warnings and errors")
    .addHelpText(
      "after",
      `
A Zarr store root (a folder with .zgroup, .zarray or zarr.json at its top) is
deleted whole by zarr.open(mode="w") and xarray's to_zarr(mode="w"). Run in one,
init keeps the repository beside it, in ../<name>.tdv, and writes only the
pointer file .tdv into the store. If a rewrite deletes that pointer, run the
same \`tdv init --separate-repo ../<name>.tdv\` in the store to re-attach it.

Examples:
  $ cd project && tdv init            project/ holds era5.zarr, masks.zarr, README.md
  $ tdv init data -b production
  $ tdv init -q                       in a script: no summary, no hints
  $ cd era5.zarr && tdv init          a store root: the repository goes to ../era5.tdv
  $ tdv init era5.zarr --separate-repo /data/repos/era5.tdv
  $ tdv init era5.zarr --separate-repo ../era5.tdv
                                      again, after zarr deleted era5.zarr/.tdv: re-attach`,
    )
    .action(action(run));
}

async function run(dir: string, opts: InitOptions): Promise<void> {
  const lib = await loadLib();
  const root = path.resolve(dir);
  const rel = (p: string) => path.relative(process.cwd(), p) || ".";
  // as a repository records its working copy: symbolic links resolved
  const real = await fsp.realpath(root).catch(() => root);
  if (opts.inside && opts.separateRepo !== undefined) {
    throw new lib.UsageError("--inside and --separate-repo ask for two places", { hint: "give one of them" });
  }
  const storeRoot = await lib.isStoreRoot(root);
  let separateRepo = opts.separateRepo === undefined ? undefined : path.resolve(opts.separateRepo);
  // the folder beside this one that records it as its working copy: plain `init` re-attaches it
  // (a rewrite deleted the pointer file, and maybe everything else: the folder may not look like a store now)
  if (separateRepo === undefined && !opts.inside && (await lib.recordedWorktree(lib.siblingRepoDir(root))) === real) {
    separateRepo = lib.siblingRepoDir(root);
  }
  const beside = storeRoot && separateRepo === undefined && !opts.inside;
  if (beside && !(await exists(path.join(root, ".tdv")))) {
    separateRepo = lib.siblingRepoDir(root);
    const owner = await lib.recordedWorktree(separateRepo);
    if (owner !== real && (await fsp.readdir(separateRepo).catch(() => [])).length > 0) {
      throw new lib.UsageError(`${root} is a Zarr store root, and the folder beside it for its repository, ${separateRepo}, is taken`, {
        hint: "name another with --separate-repo DIR (or keep the repository in the store with --inside, which zarr's mode=\"w\" deletes)",
      });
    }
  }
  const { repo, reattached } = await lib.Repository.init({
    dir: root,
    ...repoOptions(),
    ...(separateRepo === undefined ? {} : { separateRepo }),
    ...(opts.initialBranch === undefined ? {} : { initialBranch: opts.initialBranch }),
  });
  if (reattached) {
    if (!opts.quiet) {
      out(`Reinitialized existing tdv repository in ${repo.tdvDir} (working tree ${repo.root})`);
      out("  `tdv status` shows how the files differ from the last commit");
    }
    return;
  }
  if (!opts.quiet) {
    out(`Initialized empty tdv repository in ${repo.tdvDir}${separateRepo ? ` (working tree ${repo.root})` : ""}`);
    if (beside) {
      out(`  ${rel(root) === "." ? path.basename(root) : rel(root)} is a Zarr store root, which zarr's mode="w" deletes whole: the repository is beside it,`);
      out(`  and ${rel(path.join(root, ".tdv"))} is a pointer to it (\`tdv init --inside\` keeps it in the store instead)`);
    }
  }
  if (storeRoot && opts.inside) {
    warn(`${root} is a Zarr store root: xarray's to_zarr(mode="w") and zarr.open(mode="w") delete it whole, repository (.tdv) and history with it`);
  }
  if (opts.quiet) return;
  const found = countNodes(root);
  if (found.arrays + found.groups === 0) {
    out("No Zarr arrays found yet. Write your stores here, then:");
  } else {
    out(`Found ${plural(found.arrays, "Zarr array")} and ${plural(found.groups, "group")}${found.files ? `, ${plural(found.files, "other file")}` : ""}. Next:`);
  }
  out('  tdv add -A && tdv commit -m "Import dataset"');
}

async function exists(p: string): Promise<boolean> {
  return !!(await fsp.lstat(p).catch(() => null));
}

const ZARR_META = new Set(["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]);

/**
 * Count Zarr arrays and groups under `dir` (skipping .tdv and .git). An
 * array's folder holds only chunks, so the walk does not descend into it:
 * fast even for stores with millions of chunk files. Synchronous calls: one
 * small listing or metadata document after another, where the thread pool's
 * round trips cost more than the reads (10,000 arrays: 2.1 → 0.5 s).
 */
function countNodes(dir: string): { arrays: number; groups: number; files: number } {
  const counts = { arrays: 0, groups: 0, files: 0 };
  const walk = (abs: string, depth: number): void => {
    if (depth > 64) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    let node: "array" | "group" | null = null;
    if (names.has(".zarray")) node = "array";
    else if (names.has("zarr.json")) node = v3NodeType(path.join(abs, "zarr.json"));
    else if (names.has(".zgroup")) node = "group";
    if (node === "array") {
      counts.arrays++;
      return;
    }
    if (node === "group") counts.groups++;
    for (const e of entries) {
      if (e.isDirectory() && e.name !== ".tdv" && e.name !== ".git") walk(path.join(abs, e.name), depth + 1);
      else if (e.isFile() && !ZARR_META.has(e.name) && !(depth === 0 && e.name === ".tdv")) counts.files++;
    }
  };
  walk(dir, 0);
  return counts;
}

function v3NodeType(file: string): "array" | "group" | null {
  try {
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { node_type?: unknown };
    return doc.node_type === "array" ? "array" : doc.node_type === "group" ? "group" : null;
  } catch {
    return null;
  }
}
