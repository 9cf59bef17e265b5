import type { Command } from "commander";
import { DATE_FORMATS, formatDateAs, type DateFormat } from "../dates.js";
import { formatBytes, inRepo, out, plural, printJson, shortOid, withProgress, type RepoContext } from "../output.js";

export function register(program: Command): void {
  const stash = program
    .command("stash")
    .description("put local changes to tracked files aside (a stack under refs/stash) and bring them back later")
    .addHelpText(
      "after",
      `
A stash is two commits (the working files and the index) kept by refs/stash
and its reflog: stash@{0} is the newest. Untracked files stay where they are.
Applying merges the stash into HEAD element by element, as \`tdv merge\` does;
a conflict changes nothing and keeps the stash.

Examples:
  $ tdv stash                          save local changes, back to HEAD
  $ tdv stash push -m "half-done QC"
  $ tdv stash list
  $ tdv stash pop                      apply stash@{0} and drop it
  $ tdv stash apply stash@{1}          apply, keep it
  $ tdv stash drop stash@{1}`,
    );

  stash
    .command("push", { isDefault: true })
    .description("save the index and tracked working files as a new stash, then make them match HEAD")
    .option("-m, --message <msg>", "describe the stash")
    .option("-q, --quiet", "print nothing but errors")
    .addHelpText("after", `\nExamples:\n  $ tdv stash push -m "before the rechunk"`)
    .action(inRepo(async ({ lib, repo }: RepoContext, opts: { message?: string; quiet?: boolean }) => {
      const res = await withProgress(opts.quiet, (onProgress) => lib.stashPush(repo, { ...(opts.message === undefined ? {} : { message: opts.message }), onProgress }));
      if (opts.quiet) return;
      if (!res.entry) out("no local changes to save");
      else out(`saved working copy and index: ${res.entry.message}${res.checkout.written + res.checkout.deleted > 0 ? ` (${plural(res.checkout.written, "file")} restored, ${res.checkout.deleted} removed)` : ""}`);
    }));

  stash
    .command("list")
    .description("the stashes, newest first")
    .option("--date <format>", `show each stash's date: ${DATE_FORMATS.join(", ")}`)
    .option("--json", "print the entries as one JSON array")
    .addHelpText("after", `\nExamples:\n  $ tdv stash list --date=relative`)
    .action(inRepo(async ({ lib, repo }: RepoContext, opts: { json?: boolean; date?: string }) => {
      const list = await lib.stashList(repo);
      if (opts.json) return printJson(list);
      if (opts.date !== undefined && !(DATE_FORMATS as readonly string[]).includes(opts.date)) {
        throw new lib.UsageError(`'${opts.date}' is not a date format`, { hint: `use ${DATE_FORMATS.join(", ")}` });
      }
      const when = (t: number) => (opts.date ? ` (${formatDateAs(opts.date as DateFormat, t, -new Date(t * 1000).getTimezoneOffset())})` : "");
      if (list.length > 0) out(list.map((e) => `${e.selector}${when(e.timestamp)}: ${e.message}`).join("\n"));
    }));

  for (const verb of ["apply", "pop"] as const) {
    stash
      .command(verb)
      .description(verb === "pop" ? "apply a stash (default stash@{0}) and drop it" : "apply a stash (default stash@{0}) and keep it")
      .argument("[stash]", "stash@{N} or N")
      .option("-q, --quiet", "print nothing but errors")
      .addHelpText("after", `\nExamples:\n  $ tdv stash ${verb}\n  $ tdv stash ${verb} stash@{1}`)
      .action(inRepo(async ({ lib, repo }: RepoContext, selector: string | undefined, opts: { quiet?: boolean }) => {
        const n = lib.parseStashSelector(selector);
        const res = await withProgress(opts.quiet, (onProgress) => lib.stashApply(repo, { n, pop: verb === "pop", onProgress }));
        if (opts.quiet) return;
        out(`applied ${res.entry.selector}: ${res.entry.message} (${plural(res.checkout.written, "file")} written, ${res.checkout.deleted} removed, ${formatBytes(res.checkout.bytes)})`);
        if (res.dropped) out(`dropped ${res.entry.selector} (${shortOid(res.entry.oid)})`);
      }));
  }

  stash
    .command("drop")
    .description("delete a stash (default stash@{0}); it stays reachable by its id until gc")
    .argument("[stash]", "stash@{N} or N")
    .addHelpText("after", `\nExamples:\n  $ tdv stash drop stash@{2}`)
    .action(inRepo(async ({ lib, repo }: RepoContext, selector: string | undefined) => {
      const e = await lib.stashDrop(repo, { n: lib.parseStashSelector(selector) });
      out(`dropped ${e.selector} (${shortOid(e.oid)})`);
    }));
}
