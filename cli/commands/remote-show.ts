import type { Command } from "commander";
import type { RemoteShowResult } from "../../src/index.js";
import { inRepo, out, printJson, warn, type RepoContext } from "../output.js";

export function registerShow(remote: Command): void {
  remote
    .command("show")
    .description("a remote's URL, default branch, branches and tags, and how each local branch stands against it")
    .argument("<name>", "the remote")
    .option("-n, --no-query", "do not read the remote: show what the last fetch recorded (remote-tracking branches)")
    .option("--json", "print it as JSON")
    .addHelpText(
      "after",
      `
As git does, this reads the remote itself: its branches (tracked, new: the next
fetch stores it, or stale: gone from the remote, \`tdv fetch --prune\` removes
the tracking branch) and, for each local branch with a same-named branch there,
the commits it is ahead and behind. A remote commit not in this repository yet
shows as "fetch to compare". With -n, only the remote-tracking branches of the
last fetch are shown, with its time.

Examples:
  $ tdv remote show origin
  $ tdv remote show -n origin --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, name: string, _options: unknown, cmd: Command): Promise<void> {
  const opts = cmd.optsWithGlobals<{ query?: boolean; json?: boolean }>(); // `--json` also when commander gives it to `tdv remote`
  const res = await lib.remoteShow(repo, { name, query: opts.query !== false });
  for (const i of res.ignored) warn(`ignoring ${i.ref === "HEAD" ? "HEAD" : `ref '${i.ref}'`} of the remote (${i.where}): ${i.problem}`);
  if (opts.json) return printJson(res);
  for (const l of showLines(res)) out(l);
}

export function showLines(res: RemoteShowResult): string[] {
  const lines = [`* remote ${res.remote}`, `  URL: ${res.url}`];
  lines.push(`  HEAD branch: ${res.queried ? (res.head ?? "(unknown)") : "(not queried)"}`);
  const pad = Math.max(0, ...res.branches.map((b) => b.name.length), ...res.local.map((b) => b.branch.length));
  if (res.branches.length === 0) lines.push("  Remote branches: (none)");
  else lines.push(`  Remote branch${res.branches.length === 1 ? "" : "es"}:${res.queried ? "" : " (status not queried)"}`);
  for (const b of res.branches) {
    const state = !res.queried ? "" : b.state === "tracked" ? "tracked" : b.state === "new" ? `new (next fetch will store in remotes/${res.remote})` : "stale (use 'tdv fetch --prune' to remove)";
    lines.push(`    ${b.name.padEnd(pad)} ${state}`.trimEnd());
  }
  if (res.queried) lines.push(`  Tags: ${res.tags.length === 0 ? "(none)" : res.tags.map((t) => t.ref.slice("refs/tags/".length)).join(", ")}`);
  if (res.local.length > 0) {
    lines.push(`  Local branch${res.local.length === 1 ? "" : "es"} pushed to and pulled from ${res.remote}:`);
    for (const l of res.local) {
      const s =
        l.standing === "up-to-date"
          ? "up to date"
          : l.standing === "unknown"
            ? "local out of date: the remote has commits not here (`tdv fetch` to compare)"
            : l.standing === "ahead"
              ? `ahead ${l.ahead} (push to publish)`
              : l.standing === "behind"
                ? `behind ${l.behind} (pull to update)`
                : `ahead ${l.ahead}, behind ${l.behind} (diverged: pull to merge)`;
      lines.push(`    ${l.branch.padEnd(pad)} ${s}`);
    }
  }
  lines.push(`  Last fetched: ${res.lastFetched ? res.lastFetched.replace(/\.\d+Z$/, "Z") : "never (`tdv fetch` to bring its branches here)"}`);
  return lines;
}
