import type { Command } from "commander";
import type { ArrayInfo } from "../../src/index.js";
import { inRepo, formatBytes, formatTable, out, printJson, quotePath, type RepoContext } from "../output.js";

interface LsOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("ls")
    .description("list the arrays of a revision (default HEAD): shape, dtype, chunking, codecs, stored chunks, bytes")
    .argument("[rev]", "a branch, tag, commit id, HEAD~N (a single operand that is no revision is taken as PATH)")
    .argument("[path]", "only arrays under this path (relative to the current folder)")
    .option("--json", "print the arrays as one JSON array")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv ls
  $ tdv ls era5.zarr                  arrays under a path, at HEAD
  $ tdv ls v1.0 era5.zarr --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, first: string | undefined, second: string | undefined, opts: LsOptions): Promise<void> {
  let rev = "HEAD";
  let where: string | undefined;
  if (second !== undefined) {
    rev = first as string;
    where = second;
  } else if (first !== undefined) {
    try {
      await lib.resolveRevision(repo, first);
      rev = first;
    } catch (e) {
      if (!lib.isTdvError(e, "UnknownRevisionError")) throw e;
      where = first;
    }
  }
  const arrays = await lib.ls(repo, { rev, ...(where === undefined ? {} : { path: repo.relPath(where) }) });
  if (opts.json) {
    printJson(arrays);
    return;
  }
  if (arrays.length === 0) {
    process.stderr.write("no arrays\n");
    return;
  }
  for (const l of formatTable(
    ["PATH", "SHAPE", "DTYPE", "CHUNKS", "CODECS", "STORED", "BYTES"],
    arrays.map(row),
    new Set([5, 6]),
  ))
    out(l);
}

function row(a: ArrayInfo): string[] {
  const dims = (s: readonly number[]) => (s.length === 0 ? "()" : s.join("×"));
  const chunks = a.innerChunkShape ? `${dims(a.chunkShape)} (inner ${dims(a.innerChunkShape)})` : dims(a.chunkShape);
  return [quotePath(a.path), dims(a.shape), a.dtype, chunks, a.codecs.join(",") || "-", `${a.chunks}/${a.gridChunks}`, formatBytes(a.bytes)];
}
