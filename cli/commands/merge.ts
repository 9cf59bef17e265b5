import { Option, type Command } from "commander";
import type { MergeResult, MergeStatus, OpenConflict, Policy } from "../../src/index.js";
import { postCommitHook, preCommitHook, preMergeHook } from "../hooks.js";
import { collect, commandLine } from "../operands.js";
import {
  branchName,
  commitSummaryLines,
  err,
  formatBytes,
  inRepo,
  out,
  plural,
  printJson,
  quotePath,
  shortOid,
  subject,
  withProgress,
  type RepoContext,
} from "../output.js";

interface MergeOptions {
  message?: string[];
  ff?: boolean;
  ffOnly?: boolean;
  strategy?: "ours" | "theirs";
  discardOtherEdits?: boolean;
  dryRun?: boolean;
  continue?: boolean;
  abort?: boolean;
  quit?: boolean;
  json?: boolean;
  quiet?: boolean;
  verify?: boolean;
}

export function register(program: Command): void {
  program
    .command("merge")
    .description("merge another branch into the current one: chunk by chunk, element by element where both changed a chunk")
    .argument("[rev]", "the branch (or tag, commit) to merge into HEAD")
    .option("-m, --message <msg>", "the merge commit's message (repeat for more paragraphs)", collect)
    .option("--no-ff", "make a merge commit even when a fast-forward is possible")
    .option("--ff-only", "only fast-forward; refuse when the histories diverged")
    .addOption(new Option("--strategy <side>", "settle what still conflicts after the element-wise merge for this side").choices(["ours", "theirs"]))
    .option("--discard-other-edits", "let --strategy take a side's whole chunk where a chunk cannot merge element by element (the other side's edits of it are lost)")
    .option("--dry-run", "say what the merge would do; change nothing")
    .option("--continue", "conclude a merge stopped on conflicts (once they are resolved)")
    .option("--abort", "undo a merge stopped on conflicts: working copy, index and HEAD as before")
    .option("--quit", "forget a stopped merge, leaving the working copy and index as they are")
    .option("--no-verify", "skip the pre-merge hook (.tdv/hooks/pre-merge) and merge even when the branch's rules (tdv-rules.toml) fail; recorded in the merge commit as a Tdv-No-Verify trailer")
    .option("--json", "print the result as one JSON document")
    .option("-q, --quiet", "print nothing but errors and conflicts; no progress display")
    .addHelpText(
      "after",
      `
A chunk changed on one side only is taken from it; a chunk changed on both
sides is merged element by element (decoded, merged, re-encoded with the
array's codecs) and conflicts only where both sides changed the same element
to different values. Attributes merge key by key. A merge that stops on
conflicts leaves what merged cleanly in the working copy; \`tdv status\` lists
the conflicts.

A chunk that cannot merge element by element (strings, complex numbers, a
codec tdv cannot decode or encode) can only be settled by taking one side's
whole chunk, losing the other side's edits of it: --strategy refuses that,
naming the chunks, unless --discard-other-edits is given. Chunks left wholly
outside the merged shape (one side shrank the array) are dropped and listed.
With several merge bases (criss-cross history) the bases are merged first;
where they disagree and the sides differ, the merge conflicts.

Examples:
  $ tdv merge qc-fixes
  $ tdv merge --no-ff -m "Merge the June reprocessing" reprocess-2024-06
  $ tdv merge --strategy theirs vendor-update      conflicting elements take theirs
  $ tdv merge --strategy theirs --discard-other-edits labels-update
                                                  string chunks edited on both sides: take theirs whole
  $ tdv merge --dry-run feature
  $ tdv resolve era5.zarr/t2m --chunk 3,0,7 --theirs && tdv merge --continue
  $ tdv merge --abort`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string | undefined, opts: MergeOptions): Promise<number | undefined> {
  const modes = [opts.continue, opts.abort, opts.quit].filter(Boolean).length;
  if (modes > 1) throw new lib.UsageError("--continue, --abort and --quit exclude each other");
  const message = opts.message?.length ? opts.message.join("\n\n") : undefined;
  if (modes === 1 && rev !== undefined) throw new lib.UsageError(`no revision with --${opts.continue ? "continue" : opts.abort ? "abort" : "quit"}`, { hint: "`tdv merge --continue`" });
  if (opts.continue) {
    if (opts.verify !== false) await preCommitHook({ lib, repo }, { all: false, merging: true });
    const res = await lib.mergeContinue(repo, { ...(message ? { message } : {}), trailers: { "Tdv-Command": commandLine() }, noVerify: opts.verify === false });
    await postCommitHook({ lib, repo }, res);
    if (opts.json) printJson(res);
    else if (!opts.quiet) {
      out(`[${branchName(res.branch) ?? "detached HEAD"} ${shortOid(res.oid)}] ${subject((await lib.openSession(repo, res.oid)).info.message)}`);
      for (const l of commitSummaryLines(res.changes)) out(l);
    }
    return;
  }
  if (opts.abort) {
    const res = await withProgress(opts.quiet, (onProgress) => lib.mergeAbort(repo, { onProgress }));
    if (opts.json) printJson(res);
    else if (!opts.quiet) out(`Merge aborted (${plural(res.written, "file")} restored, ${res.deleted} removed)`);
    return;
  }
  if (opts.quit) {
    await lib.mergeQuit(repo);
    if (!opts.quiet && !opts.json) out("Merge state removed; the working copy and index are unchanged");
    return;
  }
  if (rev === undefined) throw new lib.UsageError("what to merge?", { hint: "`tdv merge BRANCH`, or `tdv merge --continue | --abort`" });
  if (opts.ffOnly && opts.ff === false) throw new lib.UsageError("--ff-only and --no-ff exclude each other");
  if (opts.verify !== false && !opts.dryRun) await preMergeHook({ lib, repo }, rev);
  const res = await withProgress(opts.quiet, (onProgress) =>
    lib.merge(repo, {
      rev,
      ...(message ? { message } : {}),
      ff: opts.ffOnly ? "only" : opts.ff === false ? "no" : "auto",
      strategy: (opts.strategy ?? "elementwise") as Policy,
      discardOtherEdits: opts.discardOtherEdits === true,
      dryRun: opts.dryRun === true,
      noVerify: opts.verify === false,
      trailers: { "Tdv-Command": commandLine() },
      onProgress,
    }),
  );
  if (opts.json) printJson(res);
  else printResult(res, opts.quiet === true);
  return res.kind === "conflicts" ? 1 : 0;
}

function printResult(r: MergeResult, quiet: boolean): void {
  const would = r.dryRun ? "Would " : "";
  if (r.kind === "up-to-date") {
    if (!quiet) out("Already up to date.");
    return;
  }
  if (r.kind === "fast-forward") {
    if (quiet) return;
    out(`${r.dryRun ? "Would update" : "Updating"} ${r.ours ? shortOid(r.ours) : "(no commit)"}..${shortOid(r.theirs)}`);
    out("Fast-forward");
    for (const l of commitSummaryLines(r.changes)) out(l);
    if (r.checkout.written + r.checkout.deleted > 0) out(`(${plural(r.checkout.written, "file")} written, ${r.checkout.deleted} removed, ${formatBytes(r.checkout.bytes)})`);
    return;
  }
  const merged = r.summary.chunksMerged;
  if (!quiet) {
    for (const l of commitSummaryLines(r.changes)) out(l);
    if (r.summary.bases.length > 1) out(`  ${r.summary.bases.length} merge bases (criss-cross history): merged against a virtual base of ${r.summary.bases.map(shortOid).join(", ")}`);
    if (merged > 0) out(`  ${plural(merged, "chunk")} changed on both sides, merged element by element`);
    for (const d of r.summary.discarded) out(`  discarded ${d.discarded}' edits of ${quotePath(d.array || ".")} chunk [${d.chunk.join(",")}]: took ${d.kept}' whole chunk (${d.reason})`);
    for (const n of r.summary.notes.filter((n) => !r.summary.discarded.some((d) => n.startsWith(`${d.path}:`)))) out(`  note: ${n}`);
    for (const d of r.summary.dropped) out(`  dropped ${quotePath(d.path)}: wholly outside the merged shape of ${quotePath(d.array || ".")}`);
  }
  if (r.kind === "merged") {
    if (quiet) return;
    if (r.dryRun) out(`${would}merge cleanly${r.base ? ` (base ${shortOid(r.base)})` : ""}.`);
    else if (r.commit) out(`[${branchName(r.commit.branch) ?? "detached HEAD"} ${shortOid(r.commit.oid)}] Merge made by tdv (${plural(r.commit.parents.length, "parent")})`);
    return;
  }
  for (const l of conflictLines(r.conflicts)) out(l);
  if (r.dryRun) {
    out(`${would}stop on ${plural(r.conflicts.length, "conflict")}.`);
    return;
  }
  err(`Automatic merge stopped on ${plural(r.conflicts.length, "conflict")}; the rest is merged in the working copy.`);
  err("hint: resolve with `tdv resolve PATH [--chunk I,J,...] --ours|--theirs` (or edit with a Zarr tool and `tdv add`),");
  err("hint: then `tdv merge --continue`; `tdv merge --abort` undoes the merge.");
}

/** A value of a conflict for humans: numbers as they are, NaN etc. as written, absent as "(absent)". */
function v(x: unknown): string {
  if (x === null || x === undefined) return "(absent)";
  if (typeof x === "string") return /^-?(NaN|Infinity)$/.test(x) ? x : JSON.stringify(x);
  return typeof x === "object" ? JSON.stringify(x) : String(x);
}

/** Lines describing conflicts, as `tdv merge` and `tdv status` print them. */
export function conflictLines(conflicts: readonly (OpenConflict & { resolved?: boolean })[]): string[] {
  const lines: string[] = [];
  for (const o of conflicts) {
    const c = o.conflict;
    const done = o.resolved ? " (resolved, staged)" : "";
    switch (c._tag) {
      case "ChunkBothChanged": {
        const n = o.elements?.count;
        let what = n !== undefined ? `${plural(n, "element")} changed on both sides to different values` : o.reasons.join("; ");
        if (c.basesDisagree && n !== undefined) what += `; ${o.reasons.join("; ")}`;
        lines.push(`CONFLICT (chunk): ${quotePath(c.array || ".")} chunk [${c.chunk.join(",")}]: ${what}${done}`);
        for (const e of o.elements?.examples ?? []) {
          lines.push(`    [${e.coords.join(",")}]  base ${v(e.values.base)}  ours ${v(e.values.ours)}  theirs ${v(e.values.theirs)}`);
        }
        if (n !== undefined && n > (o.elements?.examples.length ?? 0)) lines.push(`    ... and ${n - (o.elements?.examples.length ?? 0)} more`);
        break;
      }
      case "AttrBothChanged":
        lines.push(`CONFLICT (attribute): ${quotePath(c.node || ".")} '${c.key}': base ${v(c.values.base)}, ours ${v(c.values.ours)}, theirs ${v(c.values.theirs)}${done}`);
        break;
      case "MetaBothChanged":
        lines.push(`CONFLICT (metadata): ${c.message}${done}`);
        break;
      case "DeleteOfChanged":
        lines.push(`CONFLICT (delete/modify): ${quotePath(c.path || ".")}: ${o.reasons.join("; ")}${done}`);
        break;
      case "FileBothChanged":
        lines.push(`CONFLICT (content): ${quotePath(c.path)}: both sides changed the file${done}`);
        break;
      case "ArrayAddedBoth":
        lines.push(`CONFLICT (add/add): ${quotePath(c.array || ".")}: both sides added the array with different content${done}`);
        break;
    }
  }
  return lines;
}

/** The merge section of `tdv status`. */
export function mergeStatusLines(m: MergeStatus): string[] {
  const open = m.conflicts.filter((c) => !c.resolved);
  const lines: string[] = [""];
  if (m.stale) {
    lines.push(`A merge of '${m.name}' was started at ${shortOid(m.origHead)}, but HEAD has moved since.`);
    lines.push('  (use "tdv merge --quit" to forget it)');
    return lines;
  }
  if (m.interrupted) {
    // as `merge --continue` says (MergeIncompleteError): only --abort gets out of it
    lines.push(`The merge of '${m.name}' did not finish updating the working copy (${m.interrupted}): it cannot be concluded.`);
    lines.push('  (use "tdv merge --abort" to put the working copy and index back as they were, then merge again)');
    return lines;
  }
  if (open.length === 0) {
    lines.push(`All conflicts fixed but you are still merging '${m.name}'.`);
    lines.push('  (use "tdv merge --continue" to conclude the merge)');
  } else {
    lines.push(`You are merging '${m.name}' and have ${plural(open.length, "unresolved conflict")}.`);
    lines.push('  (use "tdv resolve PATH [--chunk I,J,...] --ours|--theirs", or edit and "tdv add"; then "tdv merge --continue")');
    lines.push('  (use "tdv merge --abort" to abort the merge)');
  }
  if (m.conflicts.length > 0) {
    lines.push("");
    lines.push("Merge conflicts:");
    for (const l of conflictLines(m.conflicts)) lines.push(`  ${l}`);
  }
  return lines;
}

/** The last line of `status` while a merge (not stale) is in progress, instead of "nothing to commit…". */
export function mergeStatusFooter(m: MergeStatus): string {
  if (m.interrupted) return 'the merge cannot be concluded (use "tdv merge --abort")';
  const open = m.conflicts.filter((c) => !c.resolved).length;
  if (open > 0) return `${plural(open, "unresolved conflict")} (resolve, then "tdv merge --continue")`;
  return 'ready to conclude the merge (use "tdv merge --continue")';
}
