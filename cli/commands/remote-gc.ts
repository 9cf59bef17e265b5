import type { Command } from "commander";
import { formatBytes, inRepo, out, plural, printJson, withProgress, type RepoContext } from "../output.js";

interface Options {
  prune?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function registerGc(remote: Command): void {
  remote
    .command("gc")
    .description("delete objects on a remote that no remote branch or tag needs (left by interrupted or rejected pushes), once older than the grace period")
    .argument("[name]", "a remote name or URL (default: origin)")
    .option("--prune <date>", "delete unreachable objects last written before this, by the store's clock (default 2.weeks.ago; 'now' for all, 'never' for none)", "2.weeks.ago")
    .option("-n, --dry-run", "only report what would be deleted")
    .option("--json", "print what was freed as JSON")
    .option("-q, --quiet", "no progress display")
    .addHelpText(
      "after",
      `
Everything reachable from a ref on the remote is kept, and so is every object
written within the grace period and every object a staged session (tdv stage)
names while that session was written to within it (older sessions' registries
are removed). Remote gc and pushes exclude each other through announcements on the remote (locks/): gc waits for running pushes (and
refuses after a minute, deleting nothing) and pushes started meanwhile wait
for gc, so it is safe beside other pushers with any --prune, 'now' included.
https:// remotes are read-only: run it on the bucket behind them.

Examples:
  $ tdv remote gc origin --dry-run
  $ tdv remote gc origin --prune=3.days.ago --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, name: string | undefined, _options: Options, cmd: Command): Promise<void> {
  const opts = cmd.optsWithGlobals<Options>(); // `--json` also when commander gives it to `tdv remote`
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.remoteGc(repo, {
      ...(name === undefined ? {} : { remote: name }),
      prune: opts.prune ?? "2.weeks.ago",
      dryRun: opts.dryRun === true,
      onProgress,
      ...(repo.onNotice ? { onNotice: repo.onNotice } : {}),
    }),
  );
  if (opts.json) return printJson(res);
  const r = res.removed;
  out(`${res.dryRun ? "would remove" : "removed"} ${plural(r.chunks, "chunk object")}, ${plural(r.gitObjects, "Git object")} from ${res.url}: ${formatBytes(r.bytes)}${res.dryRun ? "" : " freed"}`);
  const k = res.recent;
  if (k.chunks + k.gitObjects > 0) {
    out(`kept ${plural(k.chunks + k.gitObjects, "unreachable object")} (${formatBytes(k.bytes)}): ${res.cutoff ? `written after ${res.cutoff.replace(/\.\d+Z$/, "Z")}` : "--prune=never"}`);
  }
  const st = res.staged;
  if (st.chunks + st.gitObjects > 0) out(`kept ${plural(st.chunks + st.gitObjects, "staged object")} (${formatBytes(st.bytes)}) of ${plural(res.sessions.kept.length, "staged session")}`);
  if (res.sessions.removed.length > 0) out(`${res.dryRun ? "would remove" : "removed"} ${plural(res.sessions.removed.length, "staged session")} older than the cutoff: ${res.sessions.removed.join(", ")}`);
  if (res.queued.removed > 0) out(`${res.dryRun ? "would remove" : "removed"} ${plural(res.queued.removed, "queued commit record")} of write sessions that ended before their commit landed`);
  out(`kept ${plural(res.reachable.chunks, "chunk object")} and ${plural(res.reachable.gitObjects, "Git object")} that ${plural(res.refs.length, "ref")} need`);
}
