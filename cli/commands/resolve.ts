import { InvalidArgumentError, type Command } from "commander";
import { inRepo, out, plural, printJson, type RepoContext } from "../output.js";

interface ResolveOptions {
  chunk?: number[];
  ours?: boolean;
  theirs?: boolean;
  discardOtherEdits?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("resolve")
    .description("settle the merge conflicts of an array (or one chunk, a group, a file) with one side")
    .argument("<path>", "the array, group, file or folder whose conflicts to settle")
    .option("--chunk <index>", "only this chunk of the array: its grid position, e.g. 3,0,7 (a sharded array: the shard, or an inner chunk as the conflict list names it; a shard wins where both match)", parseIndex)
    .option("--ours", "take ours (the branch merged into) where the sides conflict")
    .option("--theirs", "take theirs (the branch merged in) where the sides conflict")
    .option("--discard-other-edits", "where a chunk cannot merge element by element, take the side's whole chunk (the other side's edits of it are lost)")
    .option("--json", "print the result as one JSON document")
    .addHelpText(
      "after",
      `
A chunk still merges element by element: only the elements both sides changed
take the chosen side. Metadata, attribute, file and whole-array conflicts take
that side's version. A chunk that cannot merge element by element (strings,
complex numbers, a codec tdv cannot decode) can only take the side's whole
chunk, losing the other side's edits of it: refused, listing the chunks,
unless --discard-other-edits is given.

Examples:
  $ tdv resolve era5.zarr/t2m --theirs                  every conflict of the array
  $ tdv resolve era5.zarr/t2m --chunk 3,0,7 --ours      one chunk
  $ tdv resolve era5.zarr --ours                        every array under a folder
  $ tdv resolve labels.zarr/names --theirs --discard-other-edits`,
    )
    .action(inRepo(run));
}

function parseIndex(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError(`'${value}' is not a chunk index (whole numbers separated by commas, e.g. 3,0,7)`);
  return parts.map(Number);
}

async function run({ lib, repo }: RepoContext, target: string, opts: ResolveOptions): Promise<void> {
  if (opts.ours === opts.theirs) throw new lib.UsageError("say which side: --ours or --theirs", { hint: "`tdv resolve PATH --theirs`" });
  const res = await lib.resolveConflicts(repo, {
    path: repo.relPath(target),
    ...(opts.chunk ? { chunk: opts.chunk } : {}),
    side: opts.ours ? "ours" : "theirs",
    discardOtherEdits: opts.discardOtherEdits === true,
  });
  if (opts.json) {
    printJson(res);
    return;
  }
  const side = opts.ours ? "ours" : "theirs";
  out(`Resolved ${plural(res.resolved.length, "conflict")} with ${side} (${plural(res.written.length, "file")} written${res.deleted.length ? `, ${res.deleted.length} removed` : ""})`);
  for (const d of res.discarded) out(`  discarded ${d.discarded}' edits of ${d.array || "."} chunk [${d.chunk.join(",")}]: took ${d.kept}' whole chunk (${d.reason})`);
  for (const d of res.dropped) out(`  dropped ${d.path}: wholly outside the settled shape of ${d.array || "."}`);
  for (const n of res.notes.filter((n) => !res.discarded.some((d) => n.startsWith(`${d.path}:`)))) out(`  note: ${n}`);
  const rebasing = (await lib.readRebaseState(repo).catch(() => null)) !== null;
  out(res.remaining === 0 ? `No conflicts left: ${rebasing ? "go on with `tdv rebase --continue`" : "conclude with `tdv merge --continue`"}` : `${plural(res.remaining, "conflict")} left (\`tdv status\` lists them)`);
}
