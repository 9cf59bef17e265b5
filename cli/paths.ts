/**
 * Paths as the user sees them: repository paths printed relative to the
 * current folder (`../README.md` from a subfolder), as git prints them.
 */
import path from "node:path";
import { quotePath } from "../src/format/display.js";
import { out, plural } from "./output.js";

/** A posix path relative to the repository root, as a path relative to `cwd` (posix separators). */
export function fromCwd(root: string, rel: string, cwd = process.cwd()): string {
  const abs = path.join(root, ...rel.split("/").filter((p) => p !== ""));
  const r = path.relative(cwd, abs).split(path.sep).join("/");
  return r === "" ? "." : r;
}

/** A function that maps repository paths to paths relative to the current folder (identity at the root). */
export function displayPaths(root: string, cwd = process.cwd()): (rel: string) => string {
  if (path.resolve(cwd) === path.resolve(root)) return (rel) => rel;
  return (rel) => fromCwd(root, rel, cwd);
}

/** What `reset PATH` and `restore --staged` print: the paths whose index entries went back, five at most by name. */
export function printUnstaged(repo: { root: string }, unstaged: readonly string[]): void {
  if (unstaged.length === 0) {
    out("nothing to unstage: the index already matches");
    return;
  }
  const show = displayPaths(repo.root);
  const names = unstaged.slice(0, 5).map((p) => quotePath(show(p)));
  out(`unstaged ${plural(unstaged.length, "path")}: ${names.join(", ")}${unstaged.length > 5 ? ", …" : ""}`);
}
