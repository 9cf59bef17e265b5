/**
 * `tdv demo [DIR]`: tdv's main job shown on an embedded sample dataset, in
 * DIR or a new temporary folder (never a folder of the current one the user
 * did not name: run in tdv's own checkout, it would be left there untracked).
 * Only commander's types and cli/output.ts are imported here; the demo
 * (zarrita, the whole library) loads when the command runs, so starting the
 * CLI stays fast.
 */
import fs, { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { action, printJson } from "../output.js";
import { repoOptions } from "../env.js";

interface DemoCliOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("demo")
    .summary("try tdv on a sample climate dataset")
    .description(
      "Create a sample Zarr v3 climate dataset in DIR (new or empty; by default a new temporary folder, " +
        "whose path it prints), put it under version control, fix a region of it on a branch, and show what " +
        "tdv records: status, commits, log, the chunks that differ between branches, and main's bytes " +
        "verified unchanged. DIR is kept for you to explore.",
    )
    .argument("[dir]", "folder to create the demo repository in (new or empty; default: a new temporary folder)")
    .option("--json", "print the demo's result as JSON on stdout (the narrative goes to stderr)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ tdv demo                     # in a new temporary folder (the first line says where)",
        "  $ tdv demo /tmp/try-tdv && cd /tmp/try-tdv && tdv log --oneline heatwave-fix",
      ].join("\n"),
    )
    .action(
      action(async (dir: string | undefined, _opts: DemoCliOptions, command: Command) => {
        const { json = false } = command.optsWithGlobals<DemoCliOptions>();
        const { runDemo } = await import("../../src/demo/run.js");
        const narrative = json ? process.stderr : process.stdout;
        const where = dir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), "tdv-demo-")));
        const runAs = tdvOnPath() ? undefined : ["node", fs.realpathSync(process.argv[1] as string)];
        const result = await runDemo({ dir: where, log: (line) => narrative.write(`${line}\n`), ...(runAs ? { runAs } : {}), repoOptions: repoOptions() });
        if (json) printJson(result);
        if (result.mainIdentical) return 0;
        process.stderr.write(`error: main's files differ from the original write: ${result.mismatched.slice(0, 5).join(", ")}\n`);
        return 1;
      }),
    );
}

/** Whether a shell finds a `tdv` command (after `npm link` or a global install); `npm install` in tdv's folder puts none on PATH. */
function tdvOnPath(): boolean {
  const names = process.platform === "win32" ? ["tdv.cmd", "tdv.exe", "tdv"] : ["tdv"];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      try {
        fs.accessSync(path.join(dir, n), fs.constants.X_OK);
        return true;
      } catch {
        // not here
      }
    }
  }
  return false;
}
