import type { Command } from "commander";
import { EXIT_FAILURE } from "../exit-codes.js";
import { formatBytes, inRepo, out, plural, printJson, withProgress, type RepoContext } from "../output.js";

interface Options {
  rehash?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function registerFsck(remote: Command): void {
  remote
    .command("fsck")
    .description("check that a remote holds every object its branches and tags need (commits, trees, manifests, chunks)")
    .argument("[name]", "a remote name or URL (default: origin)")
    .option("--rehash", "also download every chunk and check it against its SHA-256")
    .option("--json", "print the result as JSON")
    .option("-q, --quiet", "print only problems; no progress display")
    .addHelpText(
      "after",
      `
Every Git object the remote's refs reach is downloaded and checked against its
id; every chunk their manifests name is looked up (one listing; a HEAD each on
https://) and its size compared. --rehash downloads and hashes every chunk.
Each problem names the object and the ref that needs it. Exit code 1 when
there is any problem. Nothing is written.

Examples:
  $ tdv remote fsck origin
  $ tdv remote fsck origin --rehash --json`,
    )
    .action(inRepo(run));
}

async function run({ lib, repo }: RepoContext, name: string | undefined, _options: Options, cmd: Command): Promise<number> {
  const opts = cmd.optsWithGlobals<Options>(); // `--json` also when commander gives it to `tdv remote`
  const res = await withProgress(opts.quiet || opts.json, (onProgress) => lib.remoteFsck(repo, { ...(name === undefined ? {} : { remote: name }), rehash: opts.rehash === true, onProgress }));
  if (opts.json) printJson(res);
  else {
    for (const p of res.problems) {
      const where = p.kind === "bad-ref" ? p.path : `needed by ${p.ref}${p.path ? ` at ${p.path}` : ""}`;
      out(`${p.kind} ${p.type} ${p.kind === "bad-ref" ? "" : `${p.id} `}(${where}): ${p.detail}`);
    }
    if (!opts.quiet) {
      const c = res.checked;
      out(`checked ${plural(res.refs.length, "ref")}: ${plural(c.gitObjects, "Git object")}, ${plural(c.chunks, "chunk")} (${formatBytes(c.chunkBytes)})${res.rehashed.chunks ? `; re-hashed ${plural(res.rehashed.chunks, "chunk")} (${formatBytes(res.rehashed.bytes)})` : ""}`);
      out(res.ok ? `${res.url}: no problems` : `${res.url}: ${plural(res.problems.length, "problem")}`);
    }
  }
  return res.ok ? 0 : EXIT_FAILURE;
}
