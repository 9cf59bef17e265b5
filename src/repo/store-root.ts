/**
 * Where a repository goes when its working copy is a Zarr store root, and how
 * a working copy that lost its pointer file is recognised.
 *
 * A store root (a folder holding `.zgroup`, `.zarray` or `zarr.json` at its
 * top) is what zarr-python's `mode="w"` and xarray's `to_zarr(mode="w")`
 * delete whole before writing: a `.tdv` inside it would go with it. So `init`
 * there keeps the repository beside the store (`../<name>.tdv`), and the
 * store keeps only the pointer file `.tdv` (`tdvdir: PATH`). The repository
 * records its working copy (`worktree` in tdv.json): when the pointer file is
 * deleted, `init --separate-repo` with the same folder re-attaches it, and a
 * command run in the orphaned folder names the repository in its hint.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";

/** Whether `dir` is the root of a Zarr store (v2 group or array, v3 node). */
export async function isStoreRoot(dir: string): Promise<boolean> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  return names.some((n) => n === "zarr.json" || n === ".zarray" || n === ".zgroup");
}

/** The repository folder `init` picks for the store root `root`: `../<name>.tdv` (a `.zarr` suffix dropped). */
export function siblingRepoDir(root: string): string {
  const name = path.basename(root).replace(/\.zarr$/i, "") || "store";
  return path.join(path.dirname(root), `${name}.tdv`);
}

/**
 * The working copy a repository folder belongs to, from its tdv.json: the
 * recorded `worktree` (symbolic links resolved), or the folder around an
 * in-place `.tdv`. `undefined`
 * when `tdvDir` is no tdv repository; `null` when it is one that records no
 * working copy (made by an older tdv with --separate-repo).
 */
export async function recordedWorktree(tdvDir: string): Promise<string | null | undefined> {
  let config: { worktree?: unknown; formatVersion?: unknown };
  try {
    config = JSON.parse(await fsp.readFile(path.join(tdvDir, "tdv.json"), "utf8")) as typeof config;
  } catch {
    return undefined;
  }
  if (typeof config.formatVersion !== "number") return undefined;
  if (typeof config.worktree === "string") return config.worktree;
  return path.basename(tdvDir) === ".tdv" ? fsp.realpath(path.dirname(tdvDir)).catch(() => path.dirname(tdvDir)) : null;
}

/**
 * For a folder that is no working copy (its pointer file is gone): the
 * separate repository that records it, or an ancestor, as its working copy.
 * Looks only where `init` puts such repositories, the `*.tdv` folders beside
 * `dir` and beside each of its ancestors, so the search stays a few listings.
 */
export async function findDetachedRepo(dir: string): Promise<{ worktree: string; tdvDir: string } | null> {
  for (let cur = await fsp.realpath(dir).catch(() => path.resolve(dir)); ; ) {
    const parent = path.dirname(cur);
    if (parent === cur) return null;
    const names = await fsp.readdir(parent).catch(() => [] as string[]);
    for (const n of names) {
      if (!n.endsWith(".tdv") || n === ".tdv") continue;
      const tdvDir = path.join(parent, n);
      if ((await recordedWorktree(tdvDir)) === cur) return { worktree: cur, tdvDir };
    }
    cur = parent;
  }
}
