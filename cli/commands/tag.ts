import type { Command } from "commander";
import { inRepo, out, printJson, shortOid, warnBrokenRefs, type RepoContext } from "../output.js";

interface TagOptions {
  list?: boolean;
  json?: boolean;
  message?: string;
  delete?: boolean;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command("tag")
    .description("list, create or delete tags: fixed names for published versions")
    .argument("[name]", "the tag to create or delete")
    .argument("[rev]", "the revision to tag (default HEAD)")
    .option("-l, --list", "list tags (the default without NAME)")
    .option("--json", "with --list: print the tags as one JSON array")
    .option("-m, --message <msg>", "make an annotated tag with this message (tagger and date recorded)")
    .option("-d, --delete", "delete tag NAME (a release only with --force)")
    .option("-f, --force", "replace an existing tag of that name; with -d, delete a release")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv tag                             list tags
  $ tdv tag v1.0 -m "Release 1.0 of the reanalysis"
  $ tdv tag nightly HEAD~1              a lightweight tag
  $ tdv tag -d nightly
  $ tdv tag -d --force v2024.06         a release (made by \`tdv release\`) only with --force
  $ tdv tag --list --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, name: string | undefined, rev: string | undefined, opts: TagOptions): Promise<void> {
  if (opts.delete) {
    if (name === undefined) throw new lib.UsageError("tag name required", { hint: "`tdv tag -d NAME`" });
    if (rev !== undefined) throw new lib.UsageError("`tdv tag -d` takes one tag name", { hint: "`tdv tag -d NAME`" });
    const res = await lib.deleteTag(repo, { name, force: opts.force === true });
    out(`Deleted ${res.release ? "release" : "tag"} '${res.name}' (was ${shortOid(res.oid)})`);
    return;
  }
  if (name === undefined || opts.list) {
    if (name !== undefined) throw new lib.UsageError("--list takes no tag name", { hint: "`tdv tag --list`, or `tdv tag NAME` to create one" });
    const tags = await lib.listTags(repo);
    warnBrokenRefs(await lib.brokenRefs(repo, "refs/tags/")); // reported, never hidden
    if (opts.json) printJson(tags);
    else for (const t of tags) out(t.name);
    return;
  }
  const res = await lib.createTag(repo, {
    name,
    ...(rev === undefined ? {} : { rev }),
    ...(opts.message === undefined ? {} : { message: opts.message }),
    force: opts.force === true,
  });
  const what = res.annotated ? "annotated tag" : "tag";
  out(`Created ${what} ${res.name} at ${shortOid(res.oid)}${res.previous ? ` (was ${shortOid(res.previous)})` : ""}`);
}
