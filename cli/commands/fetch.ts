import type { Command } from "commander";
import type { FetchedRef, FetchResult } from "../../src/index.js";
import { formatBytes, inRepo, out, plural, printJson, shortOid, warn, withProgress, type RepoContext, jobsOption, JOBS_HELP } from "../output.js";

interface FetchOptions {
  lazy?: boolean;
  allChunks?: boolean;
  prune?: boolean;
  json?: boolean;
  quiet?: boolean;
  jobs?: number;
}

export function register(program: Command): void {
  program
    .command("fetch")
    .description("download a remote's branches and tags (and their chunks, unless lazy), verified")
    .argument("[remote]", "a remote name or URL (default: origin)")
    .option("--lazy", "metadata only: chunks are downloaded when read or checked out")
    .option("--all-chunks", "also download every missing chunk (completes a lazy clone)")
    .option("-p, --prune", "remove remote-tracking branches whose branch is gone from the remote")
    .option("-j, --jobs <n>", JOBS_HELP, jobsOption)
    .option("--json", "print a summary as JSON (objects and bytes downloaded and skipped)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Branches arrive as remote-tracking branches (origin/main): see them with
\`tdv log origin/main\`, bring them in with \`tdv pull\` or \`tdv merge origin/main\`.

Examples:
  $ tdv fetch
  $ tdv fetch --all-chunks            make a lazy clone complete (e.g. before going offline)
  $ tdv fetch --prune                 also drop origin/BRANCH for branches deleted on the remote`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, remote: string | undefined, opts: FetchOptions): Promise<void> {
  if (opts.jobs !== undefined) lib.checkJobs(opts.jobs);
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.fetch(repo, {
      ...(remote === undefined ? {} : { remote }),
      ...(opts.lazy ? { lazy: true } : {}),
      allChunks: opts.allChunks === true,
      prune: opts.prune === true,
      ...(opts.jobs === undefined ? {} : { concurrency: opts.jobs }),
      onProgress,
    }),
  );
  warnIgnored(res);
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  printFetch(res);
}

/** Refs the remote names that were not taken: reported, never hidden (stderr, also with --quiet and --json). */
export function warnIgnored(res: FetchResult): void {
  for (const i of res.ignored) warn(`ignoring ${i.ref === "HEAD" ? "HEAD" : `ref '${i.ref}'`} of the remote (${i.where}): ${i.problem}`);
}

export function printFetch(res: FetchResult): void {
  const lines = res.refs.filter((r) => r.status !== "up-to-date").map(fetchLine);
  if (lines.length > 0) {
    out(`From ${res.url}`);
    for (const l of lines) out(l);
  }
  const d = res.downloaded;
  if (d.objects > 0) out(`received ${plural(d.objects, "object")} (${formatBytes(d.bytes)}: ${plural(d.chunks, "chunk")}, ${d.gitObjects} metadata)${res.lazy ? "; lazy: chunks come when read" : ""}`);
}

export function fetchLine(r: FetchedRef): string {
  const isTag = r.ref.startsWith("refs/tags/");
  const name = r.ref.replace(/^refs\/(heads|tags)\//, "");
  const local = (r.localRef ?? "FETCH_HEAD").replace(/^refs\/(remotes|tags)\//, "");
  const pair = `${name.padEnd(10)} -> ${local}`;
  switch (r.status) {
    case "new":
      return ` * ${`[new ${isTag ? "tag" : "branch"}]`.padEnd(18)}${pair}`;
    case "updated":
      return `   ${`${shortOid(r.old ?? "")}..${shortOid(r.new ?? "")}`.padEnd(18)}${pair}`;
    case "forced":
      return ` + ${`${shortOid(r.old ?? "")}...${shortOid(r.new ?? "")}`.padEnd(18)}${pair}  (forced update)`;
    case "deleted":
      return ` - ${"[deleted]".padEnd(18)}${"(none)".padEnd(10)} -> ${local}`;
    case "rejected":
      return ` ! ${"[rejected]".padEnd(18)}${pair}  (would clobber existing tag)`;
    default:
      return ` = ${"[up to date]".padEnd(18)}${pair}`;
  }
}
