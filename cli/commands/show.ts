import type { Command } from "commander";
import { inRepo, commitHeaderLines, commitSummaryLines, out, printJson, refContext, type RepoContext } from "../output.js";

interface ShowOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("show")
    .description("show a commit (default HEAD) and what it changed, by array")
    .argument("[rev]", "a branch, tag, commit id, HEAD~N, BRANCH@{DATE}", "HEAD")
    .option("--json", "print the commit and its changes as one JSON document")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv show
  $ tdv show v1.0
  $ tdv show HEAD~2 --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, opts: ShowOptions): Promise<void> {
  const res = await lib.show(repo, { rev });
  if (opts.json) {
    printJson(res);
    return;
  }
  const entry = (await lib.log(repo, { rev: res.commit.oid, n: 1 }))[0];
  for (const l of commitHeaderLines(res.commit, entry?.refs ?? [], await refContext(lib, repo))) out(l);
  const lines = commitSummaryLines(res.changes);
  out("");
  for (const l of lines) out(l);
  if (lines.length === 0) out("  (no changes)");
}
