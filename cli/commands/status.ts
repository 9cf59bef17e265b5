import type { Command } from "commander";
import { displayPaths } from "../paths.js";
import type { StatusResult } from "../../src/index.js";
import { mergeStatusFooter, mergeStatusLines } from "./merge.js";
import { rebaseStatusFooter, rebaseStatusLines } from "./rebase.js";
import { inRepo, branchName, out, printJson, quotePath, shortOid, formatStatusRows, statusRows, untrackedRows, warn, type RepoContext } from "../output.js";

interface StatusOptions {
  json?: boolean;
  short?: boolean;
}

export function register(program: Command): void {
  program
    .command("status")
    .description("show what changed in the working copy, by array: staged, not staged, untracked")
    .argument("[paths...]", "limit to these paths (relative to the current folder)")
    .option("--json", "print the full result as one JSON document")
    .option("-s, --short", "one line per array or file: XY PATH (X staged, Y unstaged; ?? untracked)")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv status
  $ tdv status era5.zarr/t2m
  $ tdv status --json | jq '.grouped.unstaged.arrays[].path'`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, paths: string[], opts: StatusOptions): Promise<void> {
  const rel = paths.length ? paths.map((p) => repo.relPath(p)) : undefined;
  const st = await lib.status(repo, rel ? { paths: rel } : {});
  if (opts.json) printJson(st);
  else if (opts.short) printShort(st, displayPaths(repo.root));
  else printLong(st, displayPaths(repo.root));
  for (const w of st.warnings) warn(w);
}

/** Files and folders whose names are not UTF-8, as `status` lists them: `"bad\xff.txt"`, `"raw\xfe/"  (a folder: ...)`. */
function badNameLines(st: StatusResult): string[] {
  return st.badNames.map((b) => `  "${b.path}${b.folder ? "/" : ""}"${b.folder ? "  (a folder: nothing in it can be tracked)" : ""}`);
}

function printLong(st: StatusResult, show: (rel: string) => string): void {
  const branch = branchName(st.branch);
  out(branch !== null ? `On branch ${branch}` : `HEAD detached at ${st.head ? shortOid(st.head) : "(none)"}`);
  if (st.head === null) out("\nNo commits yet");
  if (st.rebase) for (const l of rebaseStatusLines(st.rebase, st.merge)) out(l);
  else if (st.merge) for (const l of mergeStatusLines(st.merge)) out(l);
  // one column for the details of all three sections
  const [staged, unstaged, untracked] = formatStatusRows([statusRows(st.grouped.staged, show), statusRows(st.grouped.unstaged, show), untrackedRows(st.grouped.untracked, show)]) as [string[], string[], string[]];
  const sections: [string, string[], string][] = [
    ["Changes to be committed:", staged, st.head ? '  (use "tdv restore --staged <path>..." to unstage)' : ""],
    ["Changes not staged for commit:", unstaged, '  (use "tdv add <path>..." to stage, "tdv restore <path>..." to discard)'],
    ["Untracked:", untracked, '  (use "tdv add <path>..." or "tdv add -A" to include them)'],
    ["Names that are not UTF-8 (bytes shown as \\xHH):", badNameLines(st), "  (tdv cannot track them, and `tdv add` refuses to run while they are in the way: rename them)"],
  ];
  for (const [title, lines, hint] of sections) {
    if (lines.length === 0) continue;
    out("");
    out(title);
    if (hint) out(hint);
    for (const l of lines) out(l);
  }
  out("");
  if (st.rebase) out(rebaseStatusFooter(st.rebase, st.merge));
  else if (st.merge && !st.merge.stale) out(mergeStatusFooter(st.merge));
  else if (st.clean) out("nothing to commit, working tree clean");
  else if (st.staged.length === 0 && st.unstaged.length === 0 && st.untracked.length === 0) out("nothing to commit (rename the files listed above to track them)");
  else if (st.staged.length === 0) {
    out(st.unstaged.length ? 'no changes added to commit (use "tdv add" or "tdv commit -a")' : 'nothing added to commit but untracked files present (use "tdv add" to track)');
  }
}

/** Like `git status -s`, by array: "M  era5.zarr/t2m", " M README.md", "?? new.zarr/x". */
function printShort(st: StatusResult, show: (rel: string) => string): void {
  const codes = new Map<string, [string, string]>();
  const letter = { added: "A", modified: "M", deleted: "D" } as const;
  const set = (p: string, side: 0 | 1, c: string) => {
    const cur = codes.get(p) ?? [" ", " "];
    cur[side] = c;
    codes.set(p, cur);
  };
  for (const [side, g] of [[0, st.grouped.staged], [1, st.grouped.unstaged]] as const) {
    for (const a of g.arrays) set(`${a.path || "."}/`, side, letter[a.change]);
    for (const f of g.files) if (f.array === null || f.kind === "plain") set(f.path, side, letter[f.change]);
  }
  const untracked = new Set<string>();
  for (const a of st.grouped.untracked.arrays) untracked.add(`${a.path || "."}/`);
  const inArray = new Set(st.grouped.untracked.arrays.map((a) => a.path));
  for (const f of st.grouped.untracked.files) if (f.array === null || !inArray.has(f.array)) untracked.add(f.path);
  const byPath = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : 1);
  for (const c of st.merge?.conflicts ?? []) if (!c.resolved) codes.set(c.scope.map((s) => (s === "/" ? "./" : s)).join(" "), ["U", "U"]);
  // "dir/" keys keep their slash: shown relative to the current folder ("./" for the folder itself)
  const shown = (p: string) => (p.endsWith("/") ? `${show(p === "./" ? "" : p.slice(0, -1)) || "."}/` : show(p));
  for (const [p, [x, y]] of [...codes].sort(byPath)) out(`${x}${y} ${quotePath(shown(p))}`);
  for (const p of [...untracked].sort()) out(`?? ${quotePath(shown(p))}`);
  // git's code for "ignored"; here: cannot be tracked
  for (const b of st.badNames) out(`!! "${b.path}${b.folder ? "/" : ""}"`);
}
