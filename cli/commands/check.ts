import type { Command } from "commander";
import { EXIT_FAILURE } from "../exit-codes.js";
import { inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext } from "../output.js";

interface CheckOptions {
  changedSince?: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("check")
    .description("check a revision (default HEAD) against the validation rules in its tdv-rules.toml")
    .argument("[rev]", "a branch, tag, commit id, HEAD~N, BRANCH@{DATE}", "HEAD")
    .option("--changed-since <rev>", "check only what changed since this revision (taken as checked)")
    .option("--json", "print the verdict as one JSON document (docs/rules.md)")
    .option("-q, --quiet", "print nothing; the exit code says it (0 passed, 1 a rule fails)")
    .addHelpText(
      "after",
      `
Reads the rules from the revision itself (tdv-rules.toml at its root; see
docs/rules.md) and prints each failure with its array, chunk and coordinates.
Only what changed since the nearest ancestor that passed under the same rules
is read again. Exits 0 when every rule passes (or there are no rules), 1 when
one fails, 2 on a usage error.

Examples:
  $ tdv check
  $ tdv check main --json
  $ tdv check feature --changed-since main`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, opts: CheckOptions): Promise<number> {
  const verdict = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.checkRevision(repo, rev, {
      ...(opts.changedSince === undefined ? {} : { changedSince: opts.changedSince }),
      onProgress: (p) => onProgress({ phase: "checking", done: p.done, total: p.total, bytes: 0, unit: "chunks" }),
    }),
  );
  if (opts.json) printJson(verdict);
  else if (!opts.quiet) {
    if (verdict.rules === null) out(`${shortOid(verdict.commit)}: no ${lib.RULES_FILE}, nothing to check`);
    else {
      for (const f of verdict.failures) out(lib.describeFailure(f));
      const since = verdict.since ? `, incremental since ${shortOid(verdict.since)}` : "";
      out(
        `${shortOid(verdict.commit)}: ${verdict.passed ? "passed" : `${plural(verdict.failures.length, "failure")}`} (${plural(verdict.arraysChecked, "array")} checked, ${plural(verdict.chunksRead, "chunk")} read${since})`,
      );
    }
  }
  return verdict.passed ? 0 : EXIT_FAILURE;
}
