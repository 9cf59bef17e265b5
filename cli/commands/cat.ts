import type { Command } from "commander";
import { inRepo, type RepoContext } from "../output.js";

export function register(program: Command): void {
  program
    .command("cat")
    .description("write the exact bytes of one file (chunk, metadata document or plain file) of a revision to stdout")
    .argument("<rev>", "a branch, tag, commit id, HEAD~N, BRANCH@{DATE}")
    .argument("<path>", "the file, relative to the current folder")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv cat HEAD era5.zarr/t2m/zarr.json
  $ tdv cat v1.0 era5.zarr/t2m/c/0/0/0 > chunk.bin
  $ tdv cat main~2 weather.zarr/.zattrs | jq .`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, rev: string, path: string, _opts: unknown): Promise<void> {
  const bytes = await lib.cat(repo, { rev, path: repo.relPath(path) });
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(bytes, (e) => (e ? reject(e) : resolve()));
  });
}
