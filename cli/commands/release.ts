import type { Command } from "commander";
import { collect } from "../operands.js";
import { inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext } from "../output.js";

interface ReleaseOptions {
  message?: string[];
  force?: boolean;
  allowFailing?: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("release")
    .description("check the rules on a commit, then tag it as a release that records the verdict, its arrays' checksums and the provenance since the last release")
    .argument("<tag>", "the release's name (a tag)")
    .argument("[rev]", "the revision to release (default HEAD)")
    .option("-m, --message <msg>", "what is released (repeat for more paragraphs)", collect)
    .option("-f, --force", "replace a release (or tag) of that name; its old tag object stays in the tag's reflog")
    .option("--allow-failing <reason>", "release although the rules fail; the failures' count and this reason are recorded in the release")
    .option("--json", "print the release's record as one JSON document")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
The rules of tdv-rules.toml in the released commit are checked first (\`tdv check\`);
when they fail, nothing is tagged and the failures are listed. The release is an
annotated tag, made in one compare-and-swap, whose message records the verdict,
every array with its manifest and metadata ids (\`tdv verify\` recomputes them),
and the commits since the previous release with their trailers (who, which
command, which pipeline or source). A release is not moved or deleted without
--force (\`tdv release\`, \`tdv tag -f\`, \`tdv tag -d --force\`, \`tdv push --force\`).

Examples:
  $ tdv release v2024.06 -m "ERA5 June 2024, QC passed"
  $ tdv release v2024.06.1 main~1 -m "hotfix of the June product"
  $ tdv release v2024.07 -m "July" --allow-failing "2024-07-31 18z missing upstream, filled in 2024.07.1"
  $ tdv show v2024.06 && tdv verify v2024.06 && tdv log --releases`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, tag: string, rev: string | undefined, opts: ReleaseOptions): Promise<void> {
  const message = (opts.message ?? []).join("\n\n");
  if (message.trim() === "") throw new lib.UsageError("a release needs a message", { hint: 'say what is released: `tdv release v1.0 -m "the June product"`' });
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.release(repo, {
      name: tag,
      ...(rev === undefined ? {} : { rev }),
      message,
      force: opts.force === true,
      ...(opts.allowFailing === undefined ? {} : { allowFailing: opts.allowFailing }),
      onProgress,
    }),
  );
  if (opts.json) return printJson({ ...res.record, tagOid: res.tagOid, replaced: res.previous });
  if (opts.quiet) return;
  const r = res.record;
  const v = r.verdict;
  out(`Released ${res.tag} at ${shortOid(r.commit)}${res.previous ? ` (replaced ${shortOid(res.previous)})` : ""}`);
  out(
    v.passed
      ? `  rules passed${v.rules === null ? " (no rules file)" : ""}: ${plural(v.arraysChecked, "array")} checked, ${plural(v.chunksRead, "chunk")} read`
      : `  rules FAILED (${plural(v.failures, "failure")}), released anyway: ${v.override?.reason ?? ""}`,
  );
  out(`  ${plural(r.arrays.length, "array")} recorded; ${plural(r.commits.length, "commit")} since ${r.previous ? r.previous.tag : "the beginning"}`);
}
