import type { Command } from "commander";
import type { ResetMode } from "../../src/index.js";
import { inRepo, formatBytes, out, plural, shortOid, subject, withProgress, type RepoContext } from "../output.js";

interface ResetOptions {
  soft?: boolean;
  mixed?: boolean;
  hard?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("reset")
    .description("move the current branch to a revision; --mixed (default) also resets the index, --hard also the files")
    .argument("[rev]", "where to move (default HEAD)", "HEAD")
    .option("--soft", "move the branch only; keep the index and files")
    .option("--mixed", "move the branch and reset the index; keep the files (default)")
    .option("--hard", "move the branch and make the index and files match it (local changes are lost)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv reset                          unstage everything
  $ tdv reset --hard                   discard every local change
  $ tdv reset --hard HEAD~1            drop the last commit (it stays in the reflog: main@{1})
  $ tdv reset --soft HEAD~1            undo the last commit, keep its changes staged`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, opts: ResetOptions): Promise<void> {
  const modes = (["soft", "mixed", "hard"] as const).filter((m) => opts[m]);
  if (modes.length > 1) throw new lib.UsageError(`--${modes.join(" and --")} cannot be used together`, { hint: "pick one of --soft, --mixed, --hard" });
  const mode: ResetMode = modes[0] ?? "mixed";
  const res = await withProgress(opts.quiet || mode !== "hard", (onProgress) => lib.reset(repo, { rev, mode, onProgress }));
  if (opts.quiet) return;
  if (mode === "hard") {
    const entry = (await lib.log(repo, { rev: res.oid, n: 1 }))[0];
    const files = res.written + res.deleted > 0 ? ` (${plural(res.written, "file")} written, ${res.deleted} removed, ${formatBytes(res.bytes)})` : "";
    out(`HEAD is now at ${shortOid(res.oid)} ${subject(entry?.message ?? "")}${files}`);
  } else if (res.previous !== res.oid) {
    out(`${res.branch ? res.branch.replace(/^refs\/heads\//, "") : "HEAD"} moved to ${shortOid(res.oid)} (was ${res.previous ? shortOid(res.previous) : "unborn"})`);
  }
}
