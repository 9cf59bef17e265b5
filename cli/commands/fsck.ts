import type { Command } from "commander";
import type { FsckProblem, FsckResult } from "../../src/index.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import { inRepo, err, formatBytes, out, plural, printJson, shortOid, type RepoContext } from "../output.js";

interface FsckOptions {
  full?: boolean;
  checkPromised?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("fsck")
    .description("check that every object the refs, reflogs, index and a merge in progress need is present and intact")
    .option("--full", "also re-hash every chunk object and verify every Git object's SHA-1")
    .option("--check-promised", "in a lazy clone: ask the remote whether it has every chunk not downloaded yet")
    .option("--json", "print the findings as one JSON document")
    .addHelpText(
      "after",
      `
Reads everything and writes nothing. Exits 1 when an object is missing or
corrupt, a ref or the index cannot be read, a tree would be refused on
checkout, or a lock file is stale. Unreachable objects and temp files left by
interrupted commands are garbage, not errors: \`tdv gc\` removes them.

In a lazy clone, chunks not downloaded yet that the lazy remote's branches
and tags reach are promised by that remote, not missing (as git's partial
clone): \`--check-promised\` asks the remote for each and reports the ones it
lacks as missing.

Examples:
  $ tdv fsck
  $ tdv fsck --full                    re-hash every chunk (reads all data)
  $ tdv fsck --check-promised          a lazy clone: does the remote still have the rest?
  $ tdv fsck --json | jq '.problems[]'`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, opts: FsckOptions): Promise<number> {
  const res = await lib.fsck(repo, { full: opts.full === true, checkPromised: opts.checkPromised === true });
  if (opts.json) printJson(res);
  else render(lib.formatAge, res);
  return res.ok ? 0 : EXIT_FAILURE;
}

function render(formatAge: (s: number) => string, res: FsckResult): void {
  const r = res.reachable;
  out(
    `checked ${plural(r.commits, "commit")}, ${plural(r.trees, "tree")}, ${plural(r.blobs, "blob")}, ${plural(r.chunks, "chunk object")} (${formatBytes(r.chunkBytes)})`,
  );
  const k = res.roots;
  out(`  needed by ${plural(k.refs, "ref")}, ${plural(k.reflogEntries, "reflog entry", "reflog entries")}, ${plural(k.indexEntries, "index entry", "index entries")}${k.other ? `, ${plural(k.other, "other root")}` : ""}`);
  const p = res.promised;
  if (p && p.chunks > 0) {
    out(`  ${plural(p.chunks, "chunk object")} (${formatBytes(p.bytes)}) not downloaded yet, promised by the lazy remote '${p.remote}'${p.checked ? " (it has them all)" : ""}`);
  }
  if (res.full) out(`  re-hashed ${plural(res.verified.chunks, "chunk object")} and ${plural(res.verified.gitObjects, "loose Git object")}`);
  for (const p of res.problems) out(problemLine(p));
  for (const w of res.warnings) err(`warning: ${w}`);
  for (const l of res.locks) {
    err(`hint: if no tdv command is running, remove the lock: rm '${l.file}' (${formatAge(l.ageSeconds)} old)`);
  }
  const u = res.unreachable;
  if (u.gitObjects + u.chunks + res.tempFiles.count > 0) {
    const parts = [];
    if (u.chunks) parts.push(plural(u.chunks, "unreachable chunk object"));
    if (u.gitObjects) parts.push(plural(u.gitObjects, "unreachable Git object"));
    if (res.tempFiles.count) parts.push(plural(res.tempFiles.count, "temp file"));
    out(`garbage: ${parts.join(", ")} (${formatBytes(u.bytes + res.tempFiles.bytes)}); \`tdv gc\` removes it after the grace period`);
  }
  if (res.ok) out(res.full ? "ok: every needed object is present and its bytes match its id" : "ok: every needed object is present");
  else err(`error: ${plural(res.problems.length, "problem")} found`);
  if (!res.ok && !res.full) err("hint: `tdv fsck --full` also re-hashes every chunk");
  if (res.problems.some((p) => p.kind === "missing" || p.kind === "corrupt")) {
    err("hint: restore missing or corrupt objects from a remote or another clone; nothing here was modified");
  }
}

function problemLine(p: FsckProblem): string {
  const where = p.path ? ` at ${p.path}` : "";
  const commit = p.commit ? ` in commit ${shortOid(p.commit)}` : "";
  const who = p.neededBy.length ? ` (needed by ${p.neededBy.slice(0, 5).join(", ")}${p.neededBy.length > 5 ? ", …" : ""})` : "";
  return `${p.kind}: ${p.message}${where}${commit}${who}`;
}
