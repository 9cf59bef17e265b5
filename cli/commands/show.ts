import type { Command } from "commander";
import type { ReleaseRecord } from "../../src/index.js";
import { inRepo, commitHeaderLines, commitSummaryLines, formatBytes, out, plural, printJson, quotePath, refContext, shortOid, type RepoContext } from "../output.js";

interface ShowOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("show")
    .description("show a commit (default HEAD) and what it changed, by array")
    .argument("[rev]", "a branch, tag, commit id, HEAD~N, BRANCH@{DATE}", "HEAD")
    .option("--json", "print the commit and its changes as one JSON document (a release's record under \"release\")")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv show
  $ tdv show v1.0                      a release: its verdict, arrays and provenance, then the commit
  $ tdv show HEAD~2 --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, opts: ShowOptions): Promise<void> {
  const res = await lib.show(repo, { rev });
  const release = /^[^~^@:]+$/.test(rev) ? await lib.readRelease(repo, rev.replace(/^refs\/tags\//, "")).catch(() => null) : null;
  if (opts.json) {
    printJson(release ? { ...res, release: { ...release.record, tagOid: release.tagOid, tagger: release.tagger } } : res);
    return;
  }
  if (release) {
    for (const l of releaseLines(release.tag, release.tagger, release.record)) out(l);
    out("");
  }
  const entry = (await lib.log(repo, { rev: res.commit.oid, n: 1 }))[0];
  for (const l of commitHeaderLines(res.commit, entry?.refs ?? [], await refContext(lib, repo))) out(l);
  const lines = commitSummaryLines(res.changes);
  out("");
  for (const l of lines) out(l);
  if (lines.length === 0) out("  (no changes)");
}

/** A release as `tdv show TAG` prints it, above its commit. */
function releaseLines(tag: string, tagger: { name: string; email: string; date: string } | null, r: ReleaseRecord): string[] {
  const v = r.verdict;
  const lines = [`release ${tag}`];
  if (tagger) lines.push(`Tagger: ${tagger.name} <${tagger.email}>`, `Date:   ${tagger.date}`);
  const counts = `${plural(v.arraysChecked, "array")} checked, ${plural(v.chunksRead, "chunk")} read`;
  const rules = v.rules === null ? "no rules file" : `rules ${shortOid(v.rules)}`;
  lines.push(v.passed ? `Rules:  passed (${rules}, ${counts})` : `Rules:  FAILED with ${plural(v.failures, "failure")}, released anyway: ${v.override?.reason ?? "(no reason)"} (${rules}, ${counts})`);
  lines.push("", ...r.message.split("\n").map((l) => `    ${l}`), "");
  lines.push(`Arrays (${r.arrays.length}):`);
  for (const a of r.arrays) lines.push(`  ${quotePath(a.path || ".")}  ${plural(a.chunks, "chunk")}, ${formatBytes(a.bytes)}  manifest ${a.manifest ? shortOid(a.manifest) : "(none)"}  ${a.metadataDoc} ${shortOid(a.metadata)}`);
  lines.push(r.previous ? `Commits since ${r.previous.tag} (${r.commits.length}):` : `Commits (${r.commits.length}, the first release):`);
  for (const c of r.commits) {
    lines.push(`  ${shortOid(c.oid)} ${c.author.name} <${c.author.email}> ${c.author.date}  ${c.subject}`);
    for (const [k, val] of Object.entries(c.trailers)) lines.push(`      ${k}: ${val}`);
  }
  return lines;
}
