import type { Command } from "commander";
import type { VerifyResult } from "../../src/index.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import { inRepo, out, plural, printJson, quotePath, shortOid, withProgress, type RepoContext } from "../output.js";

interface VerifyOptions {
  json?: boolean;
  fetch?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("verify")
    .description("re-check that a release is intact: its tag, commit, every tree and chunk it reaches, and the array checksums it recorded")
    .argument("<tag>", "the release to check")
    .option("--json", "print the findings as one JSON document")
    .option("--no-fetch", "in a lazy clone: list the chunks not downloaded yet instead of fetching them")
    .option("-q, --quiet", "print nothing but problems; no progress display")
    .addHelpText(
      "after",
      `
Reads everything the release names and writes nothing (a lazy clone keeps
the chunks it fetches, each verified). Every Git object and chunk object is
re-hashed; the arrays recorded in the release (manifest and metadata ids,
chunk counts and bytes) are recomputed from its commit; the tag object must
name the recorded commit, carry the release's name and be what the tag's
reflog last recorded. Exits 1 naming each thing that differs.

Examples:
  $ tdv verify v2024.06
  $ tdv verify v2024.06 --json | jq '.problems[]'
  $ tdv verify --no-fetch v2024.06     a lazy clone: which chunks are not here?`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, tag: string, opts: VerifyOptions): Promise<number> {
  const res = await withProgress(opts.quiet || opts.json, (onProgress) => lib.verifyRelease(repo, { name: tag, fetch: opts.fetch !== false, onProgress }));
  if (opts.json) printJson(res);
  else render(res, opts.quiet === true);
  return res.ok ? 0 : EXIT_FAILURE;
}

function render(res: VerifyResult, quiet: boolean): void {
  const what = `release ${res.tag}${res.tagOid ? ` (tag ${shortOid(res.tagOid)}` : ""}${res.commit ? `, commit ${shortOid(res.commit)})` : res.tagOid ? ")" : ""}`;
  const counts = `${plural(res.gitObjects, "Git object")}, ${plural(res.chunks, "chunk")}${res.fetched ? ` (${res.fetched} fetched from the remote)` : ""}, ${plural(res.arrays, "array")}`;
  if (res.ok) {
    if (!quiet) out(`${what}: intact (${counts} checked)`);
    return;
  }
  out(`${what}: NOT intact, ${plural(res.problems.length, "problem")} (${counts} checked)`);
  for (const p of res.problems) out(`  ${p.kind}${p.object ? ` ${p.object}` : ""}${p.path ? ` at ${quotePath(p.path)}` : ""}: ${p.message}`);
}
