import type { Command } from "commander";
import { err, inRepo, out, printJson, shortOid, subject, warnBrokenRefs, type RepoContext } from "../output.js";

interface BranchOptions {
  list?: boolean;
  json?: boolean;
  delete?: boolean;
  forceDelete?: boolean;
  force?: boolean;
  verbose?: boolean;
}

export function register(program: Command): void {
  program
    .command("branch")
    .description("list, create or delete branches (a branch costs nothing: it shares every chunk)")
    .argument("[name]", "the branch to create or delete")
    .argument("[start]", "where a new branch starts (default HEAD)")
    .option("-l, --list", "list branches (the default without NAME)")
    .option("--json", "with --list: print the branches as one JSON array")
    .option("-v, --verbose", "with --list: show each branch's commit and subject")
    .option("-d, --delete", "delete NAME (refused when it is not merged into HEAD)")
    .option("-D", "delete NAME even when it is not merged (--delete --force)")
    .option("-f, --force", "with -d: delete anyway; on create: move an existing branch to START")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv branch                        list branches; * marks the current one
  $ tdv branch reprocess-2024         create a branch at HEAD (does not switch to it)
  $ tdv branch hotfix v1.0            create a branch at a tag
  $ tdv branch -d reprocess-2024
  $ tdv branch --list --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, name: string | undefined, start: string | undefined, opts: BranchOptions & { D?: boolean }): Promise<void> {
  const del = opts.delete === true || opts.D === true;
  if (del) {
    if (name === undefined) throw new lib.UsageError("branch name required", { hint: "`tdv branch -d NAME`" });
    if (start !== undefined) throw new lib.UsageError("`tdv branch -d` takes one branch name", { hint: "`tdv branch -d NAME`" });
    const res = await lib.deleteBranch(repo, { name, force: opts.D === true || opts.force === true });
    out(`Deleted branch ${res.name} (was ${shortOid(res.oid)}).`);
    return;
  }
  if (name === undefined || opts.list) {
    if (name !== undefined) throw new lib.UsageError("--list takes no branch name", { hint: "`tdv branch --list`, or `tdv branch NAME` to create one" });
    const { branches, broken } = await lib.scanBranches(repo);
    warnBrokenRefs(broken); // reported, never hidden
    if (opts.json) {
      printJson(branches);
      return;
    }
    const width = Math.max(0, ...branches.map((b) => b.name.length));
    for (const b of branches) {
      const mark = b.current ? "*" : " ";
      if (b.symref !== undefined && !opts.verbose) out(`${mark} ${b.name} -> ${b.symref}`);
      else if (!opts.verbose) out(`${mark} ${b.name}`);
      else out(`${mark} ${b.name.padEnd(width)} ${shortOid(b.oid)} ${subject((await lib.log(repo, { rev: b.oid, n: 1 }))[0]?.message ?? "")}`);
    }
    if (branches.length === 0) {
      const current = await lib.currentBranch(repo);
      if (current) err(`(no branches yet: ${current} is created by the first commit)`);
    }
    return;
  }
  const res = await lib.createBranch(repo, { name, ...(start === undefined ? {} : { start }), force: opts.force === true });
  out(
    res.previous === null
      ? `Created branch ${res.name} at ${shortOid(res.oid)}`
      : `Reset branch ${res.name} to ${shortOid(res.oid)} (was ${shortOid(res.previous)})`,
  );
}
