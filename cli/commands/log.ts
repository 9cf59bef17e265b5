import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { LogEntry } from "../../src/index.js";
import { isRevision, refuseAmbiguous, splitAtDashes } from "../operands.js";
import { inRepo, commitHeaderLines, parseCount, decorate, out, printJson, shortOid, subject, refContext, type Lib, type Repo, type RepoContext } from "../output.js";

interface LogOptions {
  oneline?: boolean;
  graph?: boolean;
  json?: boolean;
  maxCount?: number;
  all?: boolean;
  releases?: boolean;
}

export function register(program: Command): void {
  program
    .command("log")
    .description("show the commit history of a revision (default HEAD), optionally only commits that changed a path")
    .argument("[rev]", "where history starts: a branch, tag, commit id, HEAD~N, BRANCH@{DATE}")
    .argument("[paths...]", "only commits that change these paths (put them after -- to be explicit)")
    .option("--oneline", "one line per commit: short id, refs, subject")
    .option("--graph", "draw the history graph (branches and merges) beside the commits")
    .option("--json", "print the entries as one JSON array")
    .option("-n, --max-count <n>", "show at most N commits (also -N: `tdv log -1`)", parseCount)
    .option("--all", "the history of every branch, tag, remote-tracking ref and the stash, each commit once")
    .option("--releases", "list the releases (made by `tdv release`) instead: tag, commit, date, verdict, newest first")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv log
  $ tdv log --oneline -n 10
  $ tdv log -1                        the last commit only
  $ tdv log --all --oneline --graph   every branch and tag at once
  $ tdv log --graph --oneline
  $ tdv log main~3 --json
  $ tdv log -- era5.zarr/t2m          only commits that changed this array
  $ tdv log experiment -- README.md
  $ tdv log --releases                every release, newest first (also --json)`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string | undefined, rest: string[], opts: LogOptions): Promise<void> {
  if (opts.releases) return releases({ lib, repo }, rev, opts);
  // operands after `--` are paths
  const { before, after, dashes } = splitAtDashes([...(rev === undefined ? [] : [rev]), ...rest]);
  let paths = after;
  let start = "HEAD";
  if (opts.all && before.length > 0 && (await isRevision(lib, repo, before[0] as string))) {
    throw new lib.UsageError(`--all and a revision ('${before[0]}') cannot be used together`, { hint: "`tdv log --all` starts from every ref; `tdv log REV` from one" });
  }
  if (before.length > 0) {
    const [first, ...others] = before as [string, ...string[]];
    if (await isRevision(lib, repo, first)) {
      start = first;
      paths = [...others, ...paths];
    } else if (!dashes && before.every((p) => existsSync(path.resolve(p)))) {
      paths = [...before, ...paths];
    } else if (!dashes) {
      await refuseAmbiguous(lib, repo, first, "`tdv log [REV] -- PATH` (also for paths that no longer exist)");
    } else {
      await lib.resolveRevision(repo, first); // throws the UnknownRevisionError with its hint
    }
  }
  const rel = paths.map((p) => repo.relPath(p));
  const n = opts.maxCount;
  const entries = await logPaths(lib, repo, start, rel, n, opts.all === true);
  if (opts.json) {
    printJson(entries);
    return;
  }
  const ctx = await refContext(lib, repo);
  if (opts.graph) {
    const lines = [...graphLines(lib, entries, ctx, opts.oneline === true)];
    if (lines.length > 0) out(lines.join("\n"));
    return;
  }
  // one write for the whole log: a write per line is a system call per line
  const lines: string[] = [];
  for (const [i, e] of entries.entries()) {
    if (opts.oneline) {
      lines.push(`${shortOid(e.oid)}${e.refs.length ? ` (${decorate(e.refs, ctx)})` : ""} ${subject(e.message)}`);
    } else {
      if (i > 0) lines.push("");
      lines.push(...commitHeaderLines(e, e.refs, ctx));
    }
  }
  if (lines.length > 0) out(lines.join("\n"));
}

/** The log of `start`, filtered to commits that change any of `paths` (all commits when none). */
async function logPaths(lib: Lib, repo: Repo, rev: string, paths: string[], n: number | undefined, everyRef: boolean): Promise<LogEntry[]> {
  const limit = n === undefined ? {} : { n };
  if (paths.length <= 1) return lib.log(repo, { rev, all: everyRef, ...limit, ...(paths[0] === undefined ? {} : { path: paths[0] }) });
  // several paths: the union of each path's history, newest first (each list is in the same walk order)
  const lists = await Promise.all(paths.map((p) => lib.log(repo, { rev, all: everyRef, path: p, ...limit })));
  const byOid = new Map<string, LogEntry>();
  for (const list of lists) for (const e of list) byOid.set(e.oid, e);
  const order = (await lib.log(repo, { rev, all: everyRef })).map((e) => e.oid).filter((oid) => byOid.has(oid));
  const all = order.map((oid) => byOid.get(oid) as LogEntry);
  return n === undefined ? all : all.slice(0, n);
}

/** The entries beside their history graph, as `git log --graph` prints them. */
function graphLines(lib: Lib, entries: LogEntry[], ctx: Awaited<ReturnType<typeof refContext>>, oneline: boolean): string[] {
  const lines: string[] = [];
  const rows = lib.historyGraph(entries);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.kind === "edge") {
      lines.push(row.graph);
      continue;
    }
    const e = entries[row.index] as LogEntry;
    if (oneline) {
      lines.push(`${row.graph} ${shortOid(e.oid)}${e.refs.length ? ` (${decorate(e.refs, ctx)})` : ""} ${subject(e.message)}`);
      continue;
    }
    const [first, ...rest] = commitHeaderLines(e, e.refs, ctx);
    lines.push(`${row.graph} ${first}`);
    // a merge's branching edge comes right under its first line, as git draws it
    const next = rows[r + 1];
    let body = rest;
    if (next?.kind === "edge" && e.parents.length > 1) {
      lines.push(`${next.graph.padEnd(row.continuation.length)} ${rest[0] ?? ""}`.trimEnd());
      body = rest.slice(1);
      r++;
    }
    for (const l of row.index < entries.length - 1 ? [...body, ""] : body) lines.push(`${row.continuation} ${l}`.trimEnd());
  }
  return lines;
}

/** `tdv log --releases`: one line per release, newest first. */
async function releases({ lib, repo }: RepoContext, rev: string | undefined, opts: LogOptions): Promise<void> {
  if (rev !== undefined || opts.all || opts.graph) throw new lib.UsageError("--releases lists every release: it takes no revision, path, --all or --graph", { hint: "`tdv log --releases [-n N] [--oneline] [--json]`" });
  const list = (await lib.listReleases(repo)).slice(0, opts.maxCount ?? Number.POSITIVE_INFINITY);
  if (opts.json) return printJson(list);
  const lines = list.map((r) => {
    const verdict = r.passed ? "passed" : `FAILED, released anyway (${r.override?.reason ?? "no reason"})`;
    return opts.oneline ? `${r.tag} ${shortOid(r.commit)} ${r.date.slice(0, 10)} ${verdict}` : `${r.tag}  ${shortOid(r.commit)}  ${r.date}  rules ${verdict}  ${r.subject}`;
  });
  if (lines.length > 0) out(lines.join("\n"));
}
