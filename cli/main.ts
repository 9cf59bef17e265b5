/**
 * The tdv command line: builds the program, registers one file per command,
 * parses, and maps every error to a message on stderr and an exit code.
 * Run by cli/bin.ts (from tsc's output) or by the bundle (scripts/bundle.mjs).
 * Loads no part of the library itself: commands import it inside actions,
 * so `tdv --version` and `tdv --help` start fast.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { register as add } from "./commands/add.js";
import { register as branch } from "./commands/branch.js";
import { register as cat } from "./commands/cat.js";
import { register as check } from "./commands/check.js";
import { register as checkout } from "./commands/checkout.js";
import { register as clone } from "./commands/clone.js";
import { register as commit } from "./commands/commit.js";
import { register as config } from "./commands/config.js";
import { register as demo } from "./commands/demo.js";
import { register as diff } from "./commands/diff.js";
import { register as exportCmd } from "./commands/export.js";
import { register as fetch } from "./commands/fetch.js";
import { register as fsck } from "./commands/fsck.js";
import { register as gc } from "./commands/gc.js";
import { register as init } from "./commands/init.js";
import { register as log } from "./commands/log.js";
import { register as rebase } from "./commands/rebase.js";
import { register as reflog } from "./commands/reflog.js";
import { register as release } from "./commands/release.js";
import { register as ls } from "./commands/ls.js";
import { register as lsRemote } from "./commands/ls-remote.js";
import { register as merge } from "./commands/merge.js";
import { register as pull } from "./commands/pull.js";
import { register as push } from "./commands/push.js";
import { register as remote } from "./commands/remote.js";
import { register as reset } from "./commands/reset.js";
import { register as resolveCmd } from "./commands/resolve.js";
import { register as restore } from "./commands/restore.js";
import { register as revert } from "./commands/revert.js";
import { register as serve } from "./commands/serve.js";
import { register as session } from "./commands/session.js";
import { register as show } from "./commands/show.js";
import { register as stage } from "./commands/stage.js";
import { register as sparse } from "./commands/sparse.js";
import { register as stash } from "./commands/stash.js";
import { register as status } from "./commands/status.js";
import { register as switchCmd } from "./commands/switch.js";
import { register as tag } from "./commands/tag.js";
import { register as ui } from "./commands/ui.js";
import { register as verify } from "./commands/verify.js";
import { expandCountShorthand } from "./count-shorthand.js";
import { EXIT_FAILURE, exitCodeForCommander, exitCodeForError } from "./exit-codes.js";
import { escapeControl } from "./output.js";

/** A command's name as typed, and the function that registers it on the program. */
export type Registration = readonly [name: string, register: (program: Command) => void];

/**
 * Each command by the name it is typed as, with the function that registers it.
 * A command line that names one registers only that one (see commandsFor):
 * registering all of them, with their options and help texts, cost every
 * command ~7 ms. A test checks that each registers the command of its name.
 */
export const COMMANDS: readonly Registration[] = [
  ["init", init],
  ["status", status],
  ["add", add],
  ["commit", commit],
  ["log", log],
  ["show", show],
  ["diff", diff],
  ["ls", ls],
  ["branch", branch],
  ["switch", switchCmd],
  ["merge", merge],
  ["rebase", rebase],
  ["resolve", resolveCmd],
  ["checkout", checkout],
  ["restore", restore],
  ["reset", reset],
  ["revert", revert],
  ["stash", stash],
  ["tag", tag],
  ["release", release],
  ["verify", verify],
  ["cat", cat],
  ["export", exportCmd],
  ["serve", serve],
  ["reflog", reflog],
  ["fsck", fsck],
  ["check", check],
  ["gc", gc],
  ["config", config],
  ["remote", remote],
  ["ls-remote", lsRemote],
  ["push", push],
  ["fetch", fetch],
  ["pull", pull],
  ["clone", clone],
  ["stage", stage],
  ["session", session],
  ["sparse", sparse],
  ["ui", ui],
  ["demo", demo],
];

/**
 * The commands a command line needs registered: the one it names (its first
 * argument, as no option comes before a command), none to print the version,
 * and all of them otherwise: for `tdv --help`, `tdv help …`, and a name
 * mistyped, which commander answers with the nearest names.
 */
export function commandsFor(argv: readonly string[]): readonly Registration[] {
  const first = argv[2];
  if (first === "-V" || first === "--version") return [];
  const named = COMMANDS.find(([name]) => name === first);
  return named ? [named] : COMMANDS;
}

function version(): string {
  // dist/bin/tdv.js (the bundle), dist/cli/main.js and cli/main.ts all sit two levels below package.json
  for (const rel of ["../../package.json", "../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "tdv" && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}

function buildProgram(argv: readonly string[]): Command {
  const program = new Command();
  program
    .name("tdv")
    .description("Version control for Zarr array datasets: Git's workflow for chunked arrays")
    .version(version(), "-V, --version", "print the tdv version")
    .helpOption("-h, --help", "show help for a command")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      // commander's messages quote what was typed: escaped as every line tdv prints
      writeOut: (s) => process.stdout.write(escapeControl(s)),
      writeErr: (s) => process.stderr.write(escapeControl(s)),
    })
    .addHelpText(
      "after",
      `
Examples:
  $ tdv init                         make the current folder a tdv working copy
  $ tdv add -A && tdv commit -m "Import ERA5 2024"
  $ tdv status                       what changed, by array
  $ tdv log --oneline                history
  $ tdv switch -c experiment         a new branch (O(1), shares every chunk)`,
    );
  for (const [, register] of commandsFor(argv)) register(program);
  return program;
}

function isCommanderError(err: unknown): err is CommanderError {
  return err instanceof CommanderError;
}

function quietOnClosedPipe(e: NodeJS.ErrnoException): void {
  if (e.code !== "EPIPE") throw e;
  process.exitCode ??= 0;
  process.stdout.destroy();
}

/** Run the command line `argv` (as process.argv: node, script, arguments); sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  // `tdv log | head`: a closed pipe ends the output quietly, as in git
  if (!process.stdout.listeners("error").includes(quietOnClosedPipe)) process.stdout.on("error", quietOnClosedPipe);
  const args = expandCountShorthand(argv);
  const program = buildProgram(args);
  try {
    await program.parseAsync(args);
  } catch (error) {
    process.exitCode = await report(error);
  }
}

/** Print an error the way a user can act on it (control characters escaped: messages name paths); return the exit code. */
async function report(error: unknown): Promise<number> {
  if (isCommanderError(error)) return exitCodeForCommander(error.exitCode); // commander already printed it
  // the library is loaded by now if it threw; importing it here costs nothing then
  const lib = await import("../src/index.js").catch(() => null);
  if (lib?.isTdvError(error)) {
    process.stderr.write(`error: ${escapeControl(error.message)}\n`);
    if (error.hint) process.stderr.write(`hint: ${escapeControl(error.hint)}\n`);
    if (process.env.TDV_DEBUG === "1" && error.stack) process.stderr.write(`${escapeControl(error.stack)}\n`);
    return exitCodeForError(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${escapeControl(message)}\n`);
  if (process.env.TDV_DEBUG === "1" && error instanceof Error && error.stack) process.stderr.write(`${escapeControl(error.stack)}\n`);
  else process.stderr.write("hint: this is a bug in tdv or an unexpected system error; run with TDV_DEBUG=1 for the stack trace\n");
  return EXIT_FAILURE;
}
