import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { action, err, loadLib, out, plural, warn } from "../output.js";

interface InitOptions {
  separateRepo?: string;
  initialBranch?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("init")
    .description("create a tdv repository in a folder (default: the current one)")
    .argument("[dir]", "the folder that holds (or will hold) your Zarr stores", ".")
    .option("--separate-repo <dir>", "keep the repository in another folder; DIR/.tdv becomes a file pointing to it")
    .option("-b, --initial-branch <name>", "name of the first branch", "main")
    .option("-q, --quiet", "print nothing but warnings and errors")
    .addHelpText(
      "after",
      `
Examples:
  $ cd project && tdv init            project/ holds era5.zarr, masks.zarr, README.md
  $ tdv init data -b production
  $ tdv init -q                       in a script: no summary, no hints
  $ tdv init era5.zarr --separate-repo ../era5.tdv
                                      a store root: keep the repository outside it`,
    )
    .action(action(run));
}

async function run(dir: string, opts: InitOptions): Promise<void> {
  const lib = await loadLib();
  const root = path.resolve(dir);
  const storeRoot = await isStoreRoot(root);
  const { repo } = await lib.Repository.init({
    dir: root,
    ...(opts.separateRepo === undefined ? {} : { separateRepo: path.resolve(opts.separateRepo) }),
    ...(opts.initialBranch === undefined ? {} : { initialBranch: opts.initialBranch }),
  });
  if (!opts.quiet) out(`Initialized empty tdv repository in ${repo.tdvDir}${opts.separateRepo ? ` (working tree ${repo.root})` : ""}`);
  if (storeRoot && opts.separateRepo === undefined) {
    const name = path.basename(root).replace(/\.zarr$/, "");
    const rel = (p: string) => path.relative(process.cwd(), p) || ".";
    const again = dir === "." ? "tdv init" : `tdv init ${rel(root)}`;
    warn(`${root} is itself a Zarr store root, and its repository lives inside it (.tdv).`);
    err("  Tools that rewrite a store (xarray to_zarr(mode=\"w\"), zarr.open(mode=\"w\")) delete its folder,");
    err("  and the repository with it. Keep the repository outside the store instead:");
    err(`    rm -r ${rel(path.join(root, ".tdv"))} && ${again} --separate-repo ${rel(path.join(path.dirname(root), `${name}.tdv`))}`);
    err("  or run `tdv init` in the folder that contains the store.");
  }
  if (opts.quiet) return;
  const found = await countNodes(root);
  if (found.arrays + found.groups === 0) {
    out("No Zarr arrays found yet. Write your stores here, then:");
  } else {
    out(`Found ${plural(found.arrays, "Zarr array")} and ${plural(found.groups, "group")}${found.files ? `, ${plural(found.files, "other file")}` : ""}. Next:`);
  }
  out('  tdv add -A && tdv commit -m "Import dataset"');
}

const ZARR_META = new Set(["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]);

async function isStoreRoot(dir: string): Promise<boolean> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  return names.some((n) => n === "zarr.json" || n === ".zarray" || n === ".zgroup");
}

/**
 * Count Zarr arrays and groups under `dir` (skipping .tdv and .git). An
 * array's folder holds only chunks, so the walk does not descend into it:
 * fast even for stores with millions of chunk files.
 */
async function countNodes(dir: string): Promise<{ arrays: number; groups: number; files: number }> {
  const counts = { arrays: 0, groups: 0, files: 0 };
  const walk = async (abs: string, depth: number): Promise<void> => {
    if (depth > 64) return;
    const entries = await fsp.readdir(abs, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.map((e) => e.name));
    let node: "array" | "group" | null = null;
    if (names.has(".zarray")) node = "array";
    else if (names.has("zarr.json")) node = await v3NodeType(path.join(abs, "zarr.json"));
    else if (names.has(".zgroup")) node = "group";
    if (node === "array") {
      counts.arrays++;
      return;
    }
    if (node === "group") counts.groups++;
    for (const e of entries) {
      if (e.isDirectory() && e.name !== ".tdv" && e.name !== ".git") await walk(path.join(abs, e.name), depth + 1);
      else if (e.isFile() && !ZARR_META.has(e.name) && !(depth === 0 && e.name === ".tdv")) counts.files++;
    }
  };
  await walk(dir, 0);
  return counts;
}

async function v3NodeType(file: string): Promise<"array" | "group" | null> {
  try {
    const doc = JSON.parse(await fsp.readFile(file, "utf8")) as { node_type?: unknown };
    return doc.node_type === "array" ? "array" : doc.node_type === "group" ? "group" : null;
  } catch {
    return null;
  }
}
