import type { Command } from "commander";
import { action, formatBytes, formatTable, out, printJson, shortOid , remoteContext } from "../output.js";

interface Options {
  remote?: string;
  session?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const session = program
    .command("session")
    .description("list or drop the staged sessions on a remote (tdv stage, tdv commit --session)")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv session list --remote s3://bucket/era5
  $ tdv session drop --remote origin run-42`,
    );
  session
    .command("list")
    .description("list the staged sessions on a remote: id, branch, base, change sets, objects, bytes, age")
    .requiredOption("--remote <remote>", "a remote URL, or a remote's name inside a repository")
    .option("--json", "print the sessions as JSON")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv session list --remote s3://bucket/era5
  $ tdv session list --remote origin --json`,
    )
    .action(action(list));
  session
    .command("drop")
    .description("remove a staged session's registry without committing it; its objects are left to tdv remote gc")
    .argument("[id]", "the session (or --session ID)")
    .requiredOption("--remote <remote>", "a remote URL, or a remote's name inside a repository")
    .option("--session <id>", "the session to drop")
    .option("--json", "print what was dropped as JSON")
    .addHelpText(
      "after",
      `
The chunks and metadata its workers uploaded stay on the remote until
\`tdv remote gc\` removes them (once older than its grace period, --prune).

Examples:
  $ tdv session drop --remote s3://bucket/era5 run-42
  $ tdv remote gc s3://bucket/era5 --prune=now`,
    )
    .action(action(drop));
}

async function open(opts: Options) {
  const { lib, repo } = await remoteContext(opts.remote as string);
  const { url } = repo ? lib.resolveRemote(repo, opts.remote) : { url: lib.normalizeRemoteUrl(opts.remote as string) };
  return { lib, url, remote: await lib.openRemoteRepo(url) };
}

function age(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

async function list(opts: Options): Promise<void> {
  const { lib, url, remote } = await open(opts);
  await remote.requireConfig();
  const sessions = await lib.listSessions(remote);
  if (opts.json) return printJson({ url, sessions });
  if (sessions.length === 0) return out(`no staged sessions on ${url}`);
  const rows = sessions.map((s) => [s.id, s.branch, s.base ? shortOid(s.base) : "-", String(s.changeSets), String(s.objects), formatBytes(s.bytes), age(s.ageSeconds)]);
  for (const l of formatTable(["SESSION", "BRANCH", "BASE", "CHANGE SETS", "OBJECTS", "BYTES", "AGE"], rows, new Set([3, 4, 5]))) out(l);
}

async function drop(id: string | undefined, opts: Options): Promise<void> {
  const which = id ?? opts.session;
  const { lib, url, remote } = await open(opts);
  if (which === undefined) throw new lib.UsageError("which session to drop?", { hint: "name it: `tdv session drop --remote REMOTE ID` (`tdv session list` lists them)" });
  if (id !== undefined && opts.session !== undefined && id !== opts.session) throw new lib.UsageError(`two sessions named: ${id} and --session ${opts.session}`, { hint: "name one" });
  const res = await lib.dropSession(remote, which);
  if (opts.json) return printJson({ url, ...res });
  out(`dropped session ${res.id} (${res.changeSets} change set${res.changeSets === 1 ? "" : "s"}) on ${url}; its objects are left to \`tdv remote gc\``);
}
