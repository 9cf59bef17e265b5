import type { Command } from "commander";
import { inRepo, out, printJson, type RepoContext } from "../output.js";
import { registerFsck } from "./remote-fsck.js";
import { registerGc } from "./remote-gc.js";
import { registerShow } from "./remote-show.js";

export function register(program: Command): void {
  const remote = program
    .command("remote")
    .description("list, add, rename and remove remotes (object stores that hold a copy of the repository); show, check and clean one")
    .option("-v, --verbose", "show each remote's URL")
    .option("--json", "print the remotes as JSON")
    .addHelpText(
      "after",
      `
URLs:
  s3://bucket/prefix        any S3-compatible store; endpoint, region and credentials from
                            AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
                            (or a profile in ~/.aws/credentials, AWS_PROFILE)
  file:///path, or a path   a folder (local disk, NFS)
  https://host/path         read-only: a remote published by a web server or a public bucket

Examples:
  $ tdv remote add origin s3://climate-data/era5
  $ tdv remote -v
  $ tdv remote set-url origin s3://climate-data/era5-v2
  $ tdv remote rename origin upstream
  $ tdv remote show origin
  $ tdv remote fsck origin --rehash
  $ tdv remote gc origin --dry-run
  $ tdv remote remove origin`,
    )
    .action(inRepo(list));
  remote
    .command("add")
    .description("add a remote")
    .argument("<name>", "a short name for it (origin)")
    .argument("<url>", "s3://bucket/prefix, file:///path, a path, or https://...")
    .action(inRepo(add));
  remote
    .command("remove")
    .alias("rm")
    .description("remove a remote and its remote-tracking branches")
    .argument("<name>", "the remote")
    .action(inRepo(remove));
  remote
    .command("set-url")
    .description("point a remote at another URL (its remote-tracking branches stay)")
    .argument("<name>", "the remote")
    .argument("<url>", "s3://bucket/prefix, file:///path, a path, or https://...")
    .action(inRepo(setUrl));
  remote
    .command("rename")
    .description("rename a remote; its remote-tracking branches move to the new name")
    .argument("<old>", "the remote")
    .argument("<new>", "its new name")
    .action(inRepo(rename));
  registerShow(remote);
  registerFsck(remote);
  registerGc(remote);
}

async function setUrl({ lib, repo }: RepoContext, name: string, url: string): Promise<void> {
  await lib.setRemoteUrl(repo, { name, url });
}

async function rename({ lib, repo }: RepoContext, from: string, to: string): Promise<void> {
  await lib.renameRemote(repo, { from, to });
}

async function list({ lib, repo }: RepoContext, opts: { verbose?: boolean; json?: boolean }): Promise<void> {
  const remotes = lib.listRemotes(repo);
  if (opts.json) return printJson(remotes);
  for (const r of remotes) out(opts.verbose ? `${r.name}\t${r.url}` : r.name);
}

async function add({ lib, repo }: RepoContext, name: string, url: string): Promise<void> {
  await lib.addRemote(repo, { name, url });
}

async function remove({ lib, repo }: RepoContext, name: string): Promise<void> {
  await lib.removeRemote(repo, { name });
}
