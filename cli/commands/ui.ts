import type { Command } from "commander";
import { action, err, loadLib, openRepo } from "../output.js";

export function register(program: Command): void {
  program
    .command("ui")
    .description("browse history, review data diffs and resolve merge conflicts in a full-screen terminal app")
    .argument("[rev]", "show the history of this revision only (default: every branch and tag)")
    .option("--remote <name|url>", "browse and review a remote's history, read from it without a fetch (lazily: only what is shown)")
    .addHelpText(
      "after",
      `
Screens: history (Enter opens a commit; m marks one to compare two), review
(arrays changed, Enter for a chunk heatmap, v for values) and, during a merge,
conflicts (o/t take ours/theirs, c continues). ? shows every key, q quits.
NO_COLOR=1 draws without colour. For scripts: \`tdv log --graph\`, \`tdv diff --values\`.

Examples:
  $ tdv ui
  $ tdv ui main
  $ tdv ui --remote origin feature        a colleague's pushed branch, not pulled
  $ NO_COLOR=1 tdv ui v2024.06`,
    )
    .action(action((rev: string | undefined, opts: { remote?: string }) => run(rev, opts)));
}

async function run(rev: string | undefined, opts: { remote?: string }): Promise<number> {
  const lib = await loadLib();
  let repo: Awaited<ReturnType<typeof openRepo>>["repo"];
  if (opts.remote === undefined) repo = (await openRepo()).repo;
  else {
    // a remote's name needs the repository that names it; a URL works anywhere
    const local = await openRepo().then(
      (r) => r.repo,
      () => null,
    );
    // the UI reads a remote through its read-only stores (sessions, diff, log); the verbs that need a
    // working copy (merge, resolve, switch) are never called on it (repoSource's `remote`)
    repo = (await lib.remoteRepository(opts.remote, local ? { repo: local } : {})) as unknown as typeof repo;
  }
  if (rev !== undefined) await lib.resolveRevision(repo, rev); // an unknown revision is reported as by every command
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    err("error: tdv ui needs a terminal (its input and output must be a TTY)");
    err("hint: for scripts and pipes use `tdv log --graph` and `tdv diff --values`");
    return 1;
  }
  // Ink draws nothing but the last frame when it believes it runs in CI (CI or
  // CONTINUOUS_INTEGRATION set): in a real terminal the user must see every frame
  for (const k of ["CI", "CONTINUOUS_INTEGRATION"]) if (k in process.env) process.env[k] = "0";
  // Ink and React load here only: every other command starts without them
  const { runUi } = await import("../ui/app.js");
  return runUi({ repo, rev: rev ?? null, ...(opts.remote === undefined ? {} : { remote: opts.remote }) });
}
