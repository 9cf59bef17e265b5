import type { Command } from "commander";
import { action, loadLib, openRepo, out, printJson, warn } from "../output.js";

interface LsRemoteOptions {
  heads?: boolean;
  tags?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("ls-remote")
    .description("list a remote's branches and tags with their commit ids, read from the remote itself")
    .argument("[remote]", "a remote name or URL (default: origin); a URL works outside a repository too")
    .option("--heads", "branches only")
    .option("--tags", "tags only")
    .option("--json", "print the remote's HEAD and refs as JSON")
    .addHelpText(
      "after",
      `
Prints "<id><TAB><ref>" per branch and tag, HEAD first (the remote's default
branch), as git ls-remote does. Works on s3://, file:// and https:// remotes.

Examples:
  $ tdv ls-remote
  $ tdv ls-remote --heads origin
  $ tdv ls-remote s3://climate-data/era5 --json`,
    )
    .action(action(run));
}

async function run(remote: string | undefined, opts: LsRemoteOptions): Promise<void> {
  const lib = await loadLib();
  const isUrl = remote !== undefined && (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote) || remote.includes("/") || remote.startsWith("."));
  // a URL needs no repository (git ls-remote works anywhere); a name does
  const repo = isUrl ? await openRepo().then((r) => r.repo).catch(() => null) : (await openRepo()).repo;
  const res = await lib.lsRemote(repo, { ...(remote === undefined ? {} : { remote: repo ? remote : lib.normalizeRemoteUrl(remote) }) });
  for (const i of res.ignored) warn(`ignoring ${i.ref === "HEAD" ? "HEAD" : `ref '${i.ref}'`} of the remote (${i.where}): ${i.problem}`);
  const all = !opts.heads && !opts.tags;
  const refs = res.refs.filter((r) => all || (opts.heads && r.ref.startsWith("refs/heads/")) || (opts.tags && r.ref.startsWith("refs/tags/")));
  if (opts.json) return printJson({ ...res, refs });
  const headOid = res.head ? res.refs.find((r) => r.ref === `refs/heads/${res.head}`)?.oid : undefined;
  if (all && headOid) out(`${headOid}\tHEAD`);
  for (const r of refs) out(`${r.oid}\t${r.ref}`);
}
