import { InvalidArgumentError, type Command } from "commander";
import { DATE_FORMATS, formatDateAs, type DateFormat } from "../dates.js";
import { inRepo, out, parseCount, printJson, shortOid, type RepoContext } from "../output.js";

interface ReflogOptions {
  json?: boolean;
  maxCount?: number;
  date: DateFormat;
}

function parseDateFormat(value: string): DateFormat {
  if (!(DATE_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`'${value}' is not a date format: use ${DATE_FORMATS.join(", ")}`);
  return value as DateFormat;
}

export function register(program: Command): void {
  program
    .command("reflog")
    .description("every move of a ref (default HEAD), newest first, with its date; REF@{N} names each entry as a revision")
    .argument("[ref]", "a branch, a tag or HEAD", "HEAD")
    .option("-n, --max-count <n>", "show at most N entries (also -N: `tdv reflog -5`)", parseCount)
    .option("--date <format>", `how dates are shown: ${DATE_FORMATS.join(", ")} (iso is in the mover's time zone)`, parseDateFormat, "iso")
    .option("--json", "print the entries as one JSON array (timestamp in seconds, tzOffset in minutes east of UTC)")
    .addHelpText(
      "after",
      `
Every commit, reset, switch and branch update is recorded, so none is lost:
a commit dropped by \`tdv reset --hard HEAD~1\` is still main@{1}. Each line
is: commit, selector, date, what moved the ref.

Examples:
  $ tdv reflog                         HEAD's moves (commits, switches, resets)
  $ tdv reflog main --date=relative    "main@{0} (5 minutes ago): commit: …"
  $ tdv reset --hard main@{1}          undo the last move of main
  $ tdv log -1 main@{2026-03-31}       where main was at the start of that day
  $ tdv reflog main --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, ref: string, opts: ReflogOptions): Promise<void> {
  const res = await lib.reflog(repo, { ref, ...(opts.maxCount === undefined ? {} : { n: opts.maxCount }) });
  if (opts.json) {
    printJson(res.entries);
    return;
  }
  const lines = res.entries.map((e) => `${e.oid ? shortOid(e.oid) : "0000000"} ${e.selector} (${formatDateAs(opts.date, e.timestamp, e.tzOffset)}): ${e.message}`);
  if (lines.length > 0) out(lines.join("\n"));
}
