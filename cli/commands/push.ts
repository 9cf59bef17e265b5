import type { Command } from "commander";
import type { PushResult, RefUpdate } from "../../src/index.js";
import { prePushHook } from "../hooks.js";
import { err, formatBytes, inRepo, jobsOption, JOBS_HELP, out, plural, printJson, shortOid, stopOnSignals, withProgress, type RepoContext } from "../output.js";

interface PushOptions {
  force?: boolean;
  tags?: boolean;
  delete?: boolean;
  verify?: boolean;
  jobs?: number;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("push")
    .description("upload the chunks and commits a remote lacks, then move its branches (compare-and-swap)")
    .argument("[remote]", "a remote name or URL (default: origin)")
    .argument("[refs...]", "branches or tags to push (default: the current branch); :BRANCH deletes BRANCH on the remote")
    .option("-f, --force", "move remote branches even when that drops commits from them; with --delete, also the default branch")
    .option("--tags", "push every tag too")
    .option("-d, --delete", "delete the named branches or tags on the remote (and their remote-tracking branches)")
    .option("--verify", "read back and re-hash every object the pushed refs reach on the remote; upload again what is missing or damaged")
    .option("--no-verify", "skip the pre-push hook (.tdv/hooks/pre-push) and the validation rules (tdv-rules.toml) the branch runs at push; a protected branch still moves only by fast-forward")
    .option("-j, --jobs <n>", JOBS_HELP, jobsOption)
    .option("--json", "print a summary as JSON (objects and bytes uploaded, skipped, found, repaired)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Only the objects the remote lacks are uploaded: everything its branches and
tags reach counts as there, and the rest is found from the commit graph and
snapshot diffs. Objects an interrupted push already uploaded are found on the
remote and not sent again. The remote branch moves only when every object is
stored, and only if nobody moved it meanwhile.

--verify repairs a damaged remote: every object the pushed refs need is read
back and checked against its hash, and the ones that are missing or damaged
are uploaded again from this repository (it reads all of them: slow on a big
remote).

A branch the remote's tdv-rules.toml (at its tip of that branch) declares
protected moves only by fast-forward, to a commit that passes the rules
(checked here before anything is uploaded); --force cannot move it.

Examples:
  $ tdv push                          the current branch to origin
  $ tdv push origin main v2024.06     a branch and a tag
  $ tdv push --tags
  $ tdv push -j 64 s3://bucket/era5 main    to a URL, 64 requests at once
  $ tdv push --verify                 repair what \`tdv clone\` found damaged
  $ tdv push --no-verify              skip the branch's rules (tdv-rules.toml)
  $ tdv push --delete origin old-experiment   (or: tdv push origin :old-experiment)`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, remote: string | undefined, refs: string[], opts: PushOptions): Promise<void> {
  if (opts.jobs !== undefined) lib.checkJobs(opts.jobs);
  // git's ":branch" refspec: delete it
  const deletions = refs.filter((r) => r.startsWith(":"));
  if (deletions.length > 0 && (deletions.length !== refs.length || opts.delete)) {
    throw new lib.UsageError("cannot mix :BRANCH deletions with branches to push (or with --delete)", { hint: "push and delete in separate commands: `tdv push origin main`, then `tdv push origin :old`" });
  }
  const del = opts.delete === true || deletions.length > 0;
  const names = deletions.length > 0 ? deletions.map((r) => r.slice(1)) : refs;
  if (del && (names.length === 0 || names.some((n) => n === ""))) {
    throw new lib.UsageError("which branch to delete on the remote?", { hint: "name it: `tdv push --delete origin BRANCH`" });
  }
  if (del && (opts.tags || opts.verify)) throw new lib.UsageError("--delete cannot be combined with --tags or --verify", { hint: "delete in a command of its own" });

  // Ctrl-C and SIGTERM: no new upload starts, the ones in flight finish, no remote ref moves
  const stop = stopOnSignals("push", !opts.quiet && !opts.json, (sig) => new lib.InterruptedError(sig, "no remote branch moved; what was uploaded stays there and the next `tdv push` does not send it again"));
  let res: PushResult;
  try {
    res = await withProgress(opts.quiet || opts.json, (onProgress) =>
      lib.push(repo, {
        ...(remote === undefined ? {} : { remote }),
        refs: names,
        tags: opts.tags === true,
        force: opts.force === true,
        delete: del,
        verify: opts.verify === true,
        ...(opts.verify === false ? {} : { beforeUpload: prePushHook({ lib, repo }) }),
        noVerify: opts.verify === false,
        ...(opts.jobs === undefined ? {} : { concurrency: opts.jobs }),
        onProgress,
        signal: stop.signal,
      }),
    );
  } catch (e) {
    if (lib.isTdvError(e, "NonFastForwardError") && !opts.quiet && !opts.json) {
      const nff = e as InstanceType<typeof lib.NonFastForwardError>;
      err(`To ${remote ?? "the remote"}`);
      for (const r of nff.pushed as RefUpdate[]) err(refLine(r));
      for (const r of nff.refs) err(refLine({ ref: r.ref, old: r.remote as never, new: r.local as never, status: "rejected" }));
    }
    throw e;
  } finally {
    stop.release();
  }
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  const moved = res.refs.filter((r) => r.status !== "up-to-date");
  if (opts.verify) {
    const r = res.repaired;
    out(
      r.objects === 0
        ? `verified ${plural(res.verified, "object")} on the remote: all intact`
        : `verified ${plural(res.verified, "object")} on the remote: repaired ${r.objects} (${formatBytes(r.bytes)}: ${r.missing.length} missing, ${r.damaged.length} damaged)`,
    );
  }
  if (moved.length === 0 && res.uploaded.objects === 0) {
    if (!opts.verify) out("Everything up-to-date");
    return;
  }
  out(`To ${res.url}`);
  for (const r of res.refs) out(refLine(r));
  if (del) return;
  const u = res.uploaded;
  if (u.objects === 0 && res.found.objects === 0) {
    out("nothing to upload: the remote has every object");
    return;
  }
  const parts = [`uploaded ${plural(u.objects, "object")} (${formatBytes(u.bytes)}: ${plural(u.chunks, "chunk")}, ${u.gitObjects} metadata)`];
  if (res.skipped.objects > 0) parts.push(`${plural(res.skipped.objects, "object")} already there${res.skipped.bytes ? ` (${formatBytes(res.skipped.bytes)})` : ""}`);
  if (res.found.objects > 0) parts.push(`${plural(res.found.objects, "object")} found on the remote already (an interrupted push), not sent again${res.found.bytes ? ` (${formatBytes(res.found.bytes)})` : ""}`);
  out(parts.join("; "));
}

function refLine(r: RefUpdate): string {
  const name = r.ref.replace(/^refs\/(heads|tags)\//, "");
  const pair = `${name} -> ${name}`;
  const kind = r.ref.startsWith("refs/tags/") ? "tag" : "branch";
  switch (r.status) {
    case "created":
      return ` * ${`[new ${kind}]`.padEnd(18)}${pair}`;
    case "fast-forward":
      return `   ${`${shortOid(r.old ?? "")}..${shortOid(r.new ?? "")}`.padEnd(18)}${pair}`;
    case "forced":
      return ` + ${`${shortOid(r.old ?? "")}...${shortOid(r.new ?? "")}`.padEnd(18)}${pair} (forced update)`;
    case "up-to-date":
      return ` = ${"[up to date]".padEnd(18)}${pair}`;
    case "rejected":
      return ` ! ${"[rejected]".padEnd(18)}${pair} (${kind === "tag" ? "already exists" : "non-fast-forward"})`;
    case "deleted":
      return ` - ${"[deleted]".padEnd(18)}${name}`;
  }
}
