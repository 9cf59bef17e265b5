import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { ResetMode } from "../../src/index.js";
import { inRepo, formatBytes, out, plural, shortOid, subject, withProgress, type Lib, type Repo, type RepoContext } from "../output.js";
import { isRevision, splitAtDashes } from "../operands.js";
import { printUnstaged } from "../paths.js";

interface ResetOptions {
  soft?: boolean;
  mixed?: boolean;
  hard?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("reset")
    .description("move the current branch to a revision; --mixed (default) also resets the index, --hard also the files. With paths: unstage them")
    .usage("[options] [REV] | [REV] [--] PATH...")
    .argument("[operands...]", "REV: where to move (default HEAD); PATH...: only put these paths' index entries back to REV's (the files are untouched)")
    .option("--soft", "move the branch only; keep the index and files")
    .option("--mixed", "move the branch and reset the index; keep the files (default)")
    .option("--hard", "move the branch and make the index and files match it (local changes are lost)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv reset                          unstage everything
  $ tdv reset era5.zarr/t2m            unstage one array (its files stay as they are)
  $ tdv reset v1 -- README.md          stage README.md as it was in v1 (the file is untouched)
  $ tdv reset --hard                   discard every local change
  $ tdv reset --hard HEAD~1            drop the last commit (it stays in the reflog: main@{1})
  $ tdv reset --soft HEAD~1            undo the last commit, keep its changes staged`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, operands: string[], opts: ResetOptions): Promise<void> {
  const modes = (["soft", "mixed", "hard"] as const).filter((m) => opts[m]);
  if (modes.length > 1) throw new lib.UsageError(`--${modes.join(" and --")} cannot be used together`, { hint: "pick one of --soft, --mixed, --hard" });
  const { rev, paths } = await splitOperands(lib, repo, operands);
  if (paths.length > 0) {
    if (opts.soft || opts.hard) {
      throw new lib.UsageError(`cannot do a ${opts.soft ? "soft" : "hard"} reset with paths`, {
        hint: "`tdv reset [REV] -- PATH` unstages paths; `tdv restore --source REV --staged --worktree PATH` also brings their files back",
      });
    }
    const res = await lib.unstage(repo, { paths: paths.map((p) => repo.relPath(p)), ...(rev === undefined ? {} : { source: rev }) });
    if (!opts.quiet) printUnstaged(repo, res.unstaged);
    return;
  }
  const mode: ResetMode = modes[0] ?? "mixed";
  const target = rev ?? "HEAD";
  const res = await withProgress(opts.quiet || mode !== "hard", (onProgress) => lib.reset(repo, { rev: target, mode, onProgress }));
  if (opts.quiet) return;
  if (mode === "hard") {
    const entry = (await lib.log(repo, { rev: res.oid, n: 1 }))[0];
    const files = res.written + res.deleted > 0 ? ` (${plural(res.written, "file")} written, ${res.deleted} removed, ${formatBytes(res.bytes)})` : "";
    out(`HEAD is now at ${shortOid(res.oid)} ${subject(entry?.message ?? "")}${files}`);
  } else if (res.previous !== res.oid) {
    out(`${res.branch ? res.branch.replace(/^refs\/heads\//, "") : "HEAD"} moved to ${shortOid(res.oid)} (was ${res.previous ? shortOid(res.previous) : "unborn"})`);
  }
}

/**
 * git's reading of `reset` operands: before `--`, a first operand that names a
 * revision is REV and the rest are paths; other operands are paths, which must
 * exist in the working tree (else the word is ambiguous). After `--`, paths.
 */
async function splitOperands(lib: Lib, repo: Repo, operands: string[]): Promise<{ rev: string | undefined; paths: string[] }> {
  const { before, after, dashes } = splitAtDashes(operands);
  if (before.length === 0) return { rev: undefined, paths: after };
  const [first, ...rest] = before as [string, ...string[]];
  if (await isRevision(lib, repo, first, ["HEAD", "@"])) return { rev: first, paths: [...rest, ...after] };
  if (dashes && before.length === 1) {
    await lib.resolveRevision(repo, first); // REV -- PATH with an unknown REV: the UnknownRevisionError with its hint
  }
  const missing = before.find((p) => !existsSync(path.resolve(p)));
  if (missing !== undefined) {
    throw new lib.UsageError(`ambiguous argument '${missing}': unknown revision or path not in the working tree`, {
      hint: "separate paths from the revision with '--': `tdv reset [REV] -- PATH` (also for paths deleted from the working tree); `tdv branch` and `tdv tag` list names",
    });
  }
  return { rev: undefined, paths: [...before, ...after] };
}
