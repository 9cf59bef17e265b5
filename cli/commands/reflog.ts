import type { Command } from "commander";
import { inRepo, out, parseCount, printJson, shortOid, type RepoContext } from "../output.js";

interface ReflogOptions {
  json?: boolean;
  maxCount?: number;
}

export function register(program: Command): void {
  program
    .command("reflog")
    .description("every move of a ref (default HEAD), newest first; REF@{N} names each entry as a revision")
    .argument("[ref]", "a branch, a tag or HEAD", "HEAD")
    .option("-n, --max-count <n>", "show at most N entries", parseCount)
    .option("--json", "print the entries as one JSON array")
    .addHelpText(
      "after",
      `
Every commit, reset, switch and branch update is recorded, so none is lost:
a commit dropped by \`tdv reset --hard HEAD~1\` is still main@{1}.

Examples:
  $ tdv reflog                         HEAD's moves (commits, switches, resets)
  $ tdv reflog main
  $ tdv reset --hard main@{1}          undo the last move of main
  $ tdv reflog main --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, ref: string, opts: ReflogOptions): Promise<void> {
  const res = await lib.reflog(repo, { ref, ...(opts.maxCount === undefined ? {} : { n: opts.maxCount }) });
  if (opts.json) {
    printJson(res.entries);
    return;
  }
  for (const e of res.entries) out(`${e.oid ? shortOid(e.oid) : "0000000"} ${e.selector}: ${e.message}`);
}
