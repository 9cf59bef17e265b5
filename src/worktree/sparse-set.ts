/**
 * The sparse set of a working copy (`.tdv/sparse`, one path per line; absent:
 * every file is checked out), in git's cone mode: a file is in the set when it
 * is under a listed path, or lies directly in the root or in a folder on the
 * way to a listed path. `tdv sparse` (commands/sparse.ts) changes it;
 * checkout, status and add read it.
 */
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import { writeAtomic } from "../store/atomic.js";
import type { Repository } from "../repo/repository.js";
import { isUnder } from "../format/paths.js";
const SPARSE_FILE = "sparse";

export interface SparseSet {
  /** the listed paths, sorted, without duplicates or paths inside another */
  readonly paths: readonly string[];
  /** whether a file of the snapshot is in the working tree */
  includes(file: string): boolean;
}

/** A sparse set over `paths` (cone mode). */
export function sparseSet(paths: readonly string[]): SparseSet {
  const list = normalizeSparsePaths(paths);
  const within = new Set<string>([""]); // folders on the way to a listed path: their own files are in
  for (const p of list) for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) within.add(p.slice(0, i));
  return {
    paths: list,
    includes(file) {
      const slash = file.lastIndexOf("/");
      if (within.has(slash < 0 ? "" : file.slice(0, slash))) return true;
      return list.some((u) => isUnder(file, u));
    },
  };
}

/** Paths as the sparse file keeps them: relative, "/"-separated, checked, sorted, none inside another. */
export function normalizeSparsePaths(paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of paths) {
    const p = raw.replace(/\\/g, "/").replace(/\/+$/, "").replace(/^\.\//, "");
    if (p === "" || p === ".") throw new UsageError("the sparse set cannot list the whole tree", { hint: "`tdv sparse disable` checks out every file" });
    if (p.startsWith("/") || p.split("/").some((s) => s === "" || s === "." || s === "..") || /[\n\r\0]/.test(p)) {
      throw new UsageError(`'${raw}' is not a path inside the working tree`, { hint: "give paths relative to the working tree's root, e.g. `era5.zarr/t2m`" });
    }
    out.add(p);
  }
  const sorted = [...out].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && isUnder(p, q)));
}

function sparseFile(repo: Repository): string {
  return path.join(repo.tdvDir, SPARSE_FILE);
}

/** The working copy's sparse set, or null when every file is checked out. */
export function readSparse(repo: Repository): SparseSet | null {
  let text: string;
  try {
    text = fs.readFileSync(sparseFile(repo), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  return sparseSet(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")));
}

/** Write (a set) or remove (null) the sparse file. */
export async function writeSparse(repo: Repository, set: SparseSet | null): Promise<void> {
  if (set) await writeAtomic(sparseFile(repo), set.paths.map((p) => `${p}\n`).join(""));
  else await fs.promises.rm(sparseFile(repo), { force: true });
}
