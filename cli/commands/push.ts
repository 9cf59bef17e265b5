import type { Command } from "commander";
import type { PushResult, RefUpdate } from "../../src/index.js";
import { err, formatBytes, inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext } from "../output.js";

interface PushOptions {
  force?: boolean;
  tags?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("push")
    .description("upload the chunks and commits a remote lacks, then move its branches (compare-and-swap)")
    .argument("[remote]", "a remote name or URL (default: origin)")
    .argument("[refs...]", "branches or tags to push (default: the current branch)")
    .option("-f, --force", "move remote branches even when that drops commits from them")
    .option("--tags", "push every tag too")
    .option("--json", "print a summary as JSON (objects and bytes uploaded and skipped)")
    .option("-q, --quiet", "print nothing but errors; no progress display")
    .addHelpText(
      "after",
      `
Only the objects the remote lacks are uploaded, decided from the commit graph,
16 requests at a time, retried on failures. The remote branch moves only when
every object is stored, and only if nobody moved it meanwhile.

Examples:
  $ tdv push                          the current branch to origin
  $ tdv push origin main v2024.06     a branch and a tag
  $ tdv push --tags
  $ tdv push s3://bucket/era5 main    to a URL, without adding a remote`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, remote: string | undefined, refs: string[], opts: PushOptions): Promise<void> {
  let res: PushResult;
  try {
    res = await withProgress(opts.quiet || opts.json, (onProgress) =>
      lib.push(repo, {
        ...(remote === undefined ? {} : { remote }),
        refs,
        tags: opts.tags === true,
        force: opts.force === true,
        onProgress,
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
  }
  if (opts.json) return printJson(res);
  if (opts.quiet) return;
  const moved = res.refs.filter((r) => r.status !== "up-to-date");
  if (moved.length === 0) {
    out("Everything up-to-date");
    return;
  }
  out(`To ${res.url}`);
  for (const r of res.refs) out(refLine(r));
  const u = res.uploaded;
  const parts = [`uploaded ${plural(u.objects, "object")} (${formatBytes(u.bytes)}: ${plural(u.chunks, "chunk")}, ${u.gitObjects} metadata)`];
  if (res.skipped.objects > 0) parts.push(`${plural(res.skipped.objects, "object")} already there${res.skipped.bytes ? ` (${formatBytes(res.skipped.bytes)})` : ""}`);
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
      return `   ${`${shortOid(r.old ?? "")}..${shortOid(r.new)}`.padEnd(18)}${pair}`;
    case "forced":
      return ` + ${`${shortOid(r.old ?? "")}...${shortOid(r.new)}`.padEnd(18)}${pair} (forced update)`;
    case "up-to-date":
      return ` = ${"[up to date]".padEnd(18)}${pair}`;
    case "rejected":
      return ` ! ${"[rejected]".padEnd(18)}${pair} (${kind === "tag" ? "already exists" : "non-fast-forward"})`;
  }
}
