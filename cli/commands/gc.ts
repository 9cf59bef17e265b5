import type { Command } from "commander";
import { inRepo, formatBytes, out, plural, printJson, type RepoContext } from "../output.js";

interface GcOptions {
  prune?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("gc")
    .description("delete chunk objects and Git objects that no ref, reflog, index or merge needs, once older than the grace period")
    .option("--prune <date>", "delete unreachable objects older than this (default 2.weeks.ago; 'now' for all, 'never' for none)", "2.weeks.ago")
    .option("-n, --dry-run", "only report what would be deleted")
    .option("--json", "print what was freed as one JSON document")
    .addHelpText(
      "after",
      `
Everything reachable from a branch, a tag, any reflog entry (HEAD's too),
MERGE_HEAD or the index is kept, and so is every object younger than the
grace period. gc and the commands that write objects exclude each other: gc
waits for running commands to finish (and refuses after a minute, deleting
nothing), and commands started meanwhile wait for gc. So gc is safe beside
them with any --prune, 'now' included.

Examples:
  $ tdv gc
  $ tdv gc --dry-run --prune=now      what would go if nothing were kept for its age
  $ tdv gc --prune=3.days.ago --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, opts: GcOptions): Promise<void> {
  const res = await lib.gc(repo, { prune: opts.prune ?? lib.DEFAULT_PRUNE, dryRun: opts.dryRun === true });
  if (opts.json) {
    printJson(res);
    return;
  }
  const r = res.removed;
  const verb = res.dryRun ? "would remove" : "removed";
  const parts = [plural(r.chunks, "chunk object"), plural(r.gitObjects, "Git object")];
  if (r.tempFiles) parts.push(plural(r.tempFiles, "temp file"));
  out(`${verb} ${parts.join(", ")}: ${formatBytes(r.bytes)}${res.dryRun ? "" : " freed"}`);
  const k = res.recent;
  if (k.chunks + k.gitObjects + k.tempFiles > 0) {
    const when = res.cutoff ? `younger than ${res.cutoff.replace(/\.\d+Z$/, "Z")}` : "--prune=never";
    out(`kept ${plural(k.chunks + k.gitObjects + k.tempFiles, "unreachable object")} (${formatBytes(k.bytes)}): ${when}`);
  }
  out(`kept ${plural(res.reachable.chunks, "chunk object")} and ${plural(res.reachable.gitObjects, "Git object")} that are needed`);
  if (res.packed.gitObjects > 0) {
    out(res.dryRun ? `would pack ${plural(res.packed.gitObjects, "loose Git object")} into one pack` : `packed ${plural(res.packed.gitObjects, "loose Git object")} into one pack (${formatBytes(res.packed.bytes)})`);
  }
}
