/** Paths inside a repository: relative, "/"-separated ("" is the root). */
import { UnsafePathError } from "../errors.js";

/** True when `p` is `prefix` itself or inside it ("" is the whole tree). */
export function isUnder(p: string, prefix: string): boolean {
  return prefix === "" || p === prefix || p.startsWith(`${prefix}/`);
}

/**
 * The parts of a path in a tree: canonical (no empty part, no `.` or `..`, no
 * backslash or NUL), else UnsafePathError. One leading "/" is a zarrita key's.
 */
export function pathParts(path: string, what = "path"): string[] {
  if (path === "" || path === "/") return [];
  const body = path.startsWith("/") ? path.slice(1) : path;
  const parts = body.split("/");
  for (const p of parts) {
    if (p === "" || p === "." || p === "..") throw new UnsafePathError(path, `${what} is not canonical: '${p === "" ? "//" : p}' (name a file as it is in the tree, e.g. era5.zarr/t2m/zarr.json)`);
    if (p.includes("\\") || p.includes("\0")) throw new UnsafePathError(path, `${what} holds a backslash or NUL`);
  }
  return parts;
}
