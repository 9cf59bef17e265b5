import type { Command } from "commander";
import { action, err, formatBytes, loadLib, out, plural, printJson, quotePath, stopOnSignals, withProgress, jobsOption, JOBS_HELP } from "../output.js";
import { warnIgnored } from "./fetch.js";
import { repoOptions } from "../env.js";

interface CloneOptions {
  branch?: string;
  lazy?: boolean;
  checkout?: boolean;
  json?: boolean;
  quiet?: boolean;
  jobs?: number;
}

export function register(program: Command): void {
  program
    .command("clone")
    .description("copy a remote into a new working copy and check out its default branch")
    .argument("<url>", "s3://bucket/prefix, file:///path, https://... (read-only), or a path: a remote folder, a working copy or a repository folder")
    .argument("[dir]", "the new folder (default: named after the URL)")
    .option("-b, --branch <name>", "check out this branch instead of the remote's default, or a tag (detached HEAD)")
    .option("--lazy", "download metadata only; chunks arrive when read or checked out")
    .option("-j, --jobs <n>", JOBS_HELP, jobsOption)
    .option("-n, --no-checkout", "set HEAD but write no file; `tdv switch BRANCH` or `tdv sparse set PATH...` checks out later")
    .option("--json", "print a summary as JSON")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Every object is verified against its hash before it is stored. A clone that
fails or is interrupted (Ctrl-C, SIGTERM) removes what it made. One that was
killed outright is resumed by the same command, keeping what it downloaded.

Examples:
  $ tdv clone s3://climate-data/era5
  $ tdv clone --lazy https://data.example.org/era5 era5   read any revision without copying it all
  $ tdv clone ../shared/era5.tdv -b qc
  $ tdv clone ../climate mine                  another working copy on this machine
  $ tdv clone -b v1.0 s3://climate-data/era5   the dataset as tagged (detached HEAD)
  $ tdv clone --lazy --no-checkout s3://climate-data/era5 && cd era5 && tdv sparse set era5.zarr/t2m
                                   one array of a large dataset: only its chunks are downloaded`,
    )
    .action(action(run));
}

async function run(url: string, dir: string | undefined, opts: CloneOptions): Promise<void> {
  const lib = await loadLib();
  if (opts.jobs !== undefined) lib.checkJobs(opts.jobs);
  const target = dir ?? lib.cloneDirName(url);
  const talk = !opts.quiet && !opts.json;
  // Ctrl-C and SIGTERM stop the clone, which then removes what it made; a second one stops at once
  // (what is left is an unfinished clone, which the same command resumes)
  const stop = stopOnSignals("clone", talk, (sig) => new lib.InterruptedError(sig));
  let res: Awaited<ReturnType<typeof lib.clone>>;
  try {
    res = await withProgress(opts.quiet || opts.json, (onProgress) =>
      lib.clone({
        url,
        ...repoOptions(),
        dir: target,
        ...(opts.branch === undefined ? {} : { branch: opts.branch }),
        lazy: opts.lazy === true,
        ...(opts.jobs === undefined ? {} : { concurrency: opts.jobs }),
        noCheckout: opts.checkout === false,
        onProgress,
        onCheckoutProgress: onProgress,
        signal: stop.signal,
        onStart: (how) => {
          if (!talk) return;
          if (how === "resumed") err(`Resuming the unfinished clone in '${quotePath(target)}' (what it downloaded is kept)...`);
          else if (how === "restarted") err(`Removed what an interrupted clone left in '${quotePath(target)}'; cloning into it again...`);
          else err(`Cloning into '${quotePath(target)}'...`);
        },
      }),
    );
  } finally {
    stop.release();
  }
  warnIgnored(res.fetch);
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  const d = res.fetch.downloaded;
  out(`received ${plural(d.objects, "object")} (${formatBytes(d.bytes)}: ${plural(d.chunks, "chunk")}, ${d.gitObjects} metadata)`);
  if (res.empty) {
    err("warning: you appear to have cloned an empty repository.");
    return;
  }
  const at = res.tag ? `tag '${res.tag}' (detached HEAD)` : `'${res.branch}'`;
  if (opts.checkout === false) out(`HEAD is at ${at}; no file checked out: \`tdv checkout ${res.tag ?? res.branch}\` checks out every file, \`tdv sparse set PATH...\` only those`);
  else out(`checked out ${at} (${plural(res.written, "file")}, ${formatBytes(res.bytes)})`);
  if (opts.lazy) out("lazy clone: chunks are downloaded when read; `tdv fetch --all-chunks` downloads them all");
}
