import { type Command, InvalidArgumentError } from "commander";
import type { RevisionSource } from "../../src/index.js";
import { action, err, loadLib, openRepo, out } from "../output.js";

interface ServeOptions {
  port: number;
  host: string;
  remote?: string;
  pin?: boolean;
  json?: boolean;
  verbose?: boolean;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n > 65535) throw new InvalidArgumentError(`'${value}' is not a port number (0-65535; 0 picks a free port)`);
  return n;
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("serve any revision over HTTP, read in place, for Zarr readers (xarray, zarr-python, zarrita): GET /REV/PATH")
    .option("--port <n>", "the port to listen on (0: a free one)", parsePort, 8470)
    .option("--host <address>", "the address to listen on", "127.0.0.1")
    .option("--remote <name|url>", "serve a remote's revisions, read from it without a clone")
    .option("--pin", "pin every branch to its commit when the server starts (branch URLs then never change)")
    .option("--json", "print one JSON line ({url, port, host, source}) once listening")
    .option("--verbose", "log one line per request on stderr")
    .addHelpText(
      "after",
      `
URLs (the revision is one URL-encoded part: a branch, tag, commit id, REV~N, main@{DATE}):
  GET /                     branches, tags and HEAD (JSON)
  GET /REV/                 the revision's root folder and its arrays (JSON)
  GET /REV/DIR/             a folder: subfolders and files with sizes (JSON)
  GET /REV/PATH             the exact bytes of a file; HEAD; Range: bytes=A-B, A-, -N
Responses carry ETag (the object's hash) and X-Tdv-Commit (the commit). Commit-id
and tag URLs are immutable (Cache-Control: immutable); branch URLs are no-cache
unless --pin. A v2 group without .zmetadata, and a v3 group without consolidated
metadata in its zarr.json, get it generated for the revision. Read-only; stops
cleanly on Ctrl-C or SIGTERM.

Examples:
  $ tdv serve
  $ tdv serve --port 0 --json
  $ tdv serve --pin --verbose
  $ python3 -c 'import xarray as xr; print(xr.open_zarr("http://127.0.0.1:8470/v2024.06/weather.zarr"))'
  $ curl -s http://127.0.0.1:8470/main%40%7B2026-03-31%7D/   # main@{2026-03-31}, the root listing`,
    )
    .action(action(run));
}

async function run(opts: ServeOptions): Promise<void> {
  const lib = await loadLib();
  const source = opts.remote === undefined ? await localSource() : await remote(opts.remote);
  const server = await lib.serve(source, {
    port: opts.port,
    host: opts.host,
    pin: opts.pin === true,
    ...(opts.verbose ? { log: (line: string) => err(line) } : {}),
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, host: server.host, source: source.name, pinned: server.pinned !== null })}\n`);
  else {
    out(`Serving ${source.name} at ${server.url} (Ctrl-C stops)`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  process.exitCode = 0;
}

async function localSource(): Promise<RevisionSource> {
  const { lib, repo } = await openRepo();
  return lib.repositorySource(repo, repo.root);
}

async function remote(urlOrName: string): Promise<RevisionSource> {
  const lib = await loadLib();
  // a remote's name needs the repository that names it; a URL works anywhere
  const repo = await openRepo()
    .then((r) => r.repo)
    .catch(() => null);
  return lib.remoteSource(urlOrName, repo ? { repo } : {});
}
