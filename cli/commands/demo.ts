/**
 * `tdv demo [DIR]`: tdv's main job shown on an embedded sample dataset.
 * Only commander's types and cli/output.ts are imported here; the demo
 * (zarrita, the whole library) loads when the command runs, so starting the
 * CLI stays fast.
 */
import type { Command } from "commander";
import { action, printJson } from "../output.js";

const DEFAULT_DIR = "./tdv-demo";

interface DemoCliOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("demo")
    .summary("try tdv on a sample climate dataset")
    .description(
      "Create a sample Zarr v3 climate dataset in DIR (new or empty), put it under version control, " +
        "fix a region of it on a branch, and show what tdv records: status, commits, log, the chunks " +
        "that differ between branches, and main's bytes verified unchanged. DIR is kept for you to explore.",
    )
    .argument("[dir]", "folder to create the demo repository in (new or empty)", DEFAULT_DIR)
    .option("--json", "print the demo's result as JSON on stdout (the narrative goes to stderr)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ tdv demo                     # creates ./tdv-demo",
        "  $ tdv demo /tmp/try-tdv && cd /tmp/try-tdv && tdv log --oneline heatwave-fix",
      ].join("\n"),
    )
    .action(
      action(async (dir: string, _opts: DemoCliOptions, command: Command) => {
        const { json = false } = command.optsWithGlobals<DemoCliOptions>();
        const { runDemo } = await import("../../src/demo/run.js");
        const narrative = json ? process.stderr : process.stdout;
        const result = await runDemo({ dir, log: (line) => narrative.write(`${line}\n`) });
        if (json) printJson(result);
        if (result.mainIdentical) return 0;
        process.stderr.write(`error: main's files differ from the original write: ${result.mismatched.slice(0, 5).join(", ")}\n`);
        return 1;
      }),
    );
}
