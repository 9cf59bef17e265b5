/**
 * Bundle the CLI for start-up speed (run by `npm run build`, on tsc's output:
 * Node 20 compiles each ES module separately, and ~100 small modules cost
 * ~35 ms of every command).
 *
 * dist/bin/tdv.js is the command line (cli/bin.ts and what it imports), an ES
 * module. What the command line loads with import() becomes chunks beside it
 * (esbuild's code splitting), loaded when used: the library, which every
 * command but `--version` and `--help` loads, in a few chunks; the Ink UI
 * (`tdv ui`); the demo; the remote back ends. Packages from node_modules are
 * imported, never copied in; the library loads zarrita, fflate and
 * isomorphic-git with import() when a command first needs them.
 * docs/decisions.md ("The installed command line") has the measurements.
 */
import { chmodSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = path.join(root, "dist/bin");
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // worker.js: the working copy's worker thread (src/worktree/worker.ts), started by
  // shared-work.ts from beside the chunk that holds it (new URL("./worker.js", import.meta.url))
  entryPoints: { tdv: path.join(root, "dist/cli/bin.js"), worker: path.join(root, "dist/src/worktree/worker.js") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  // beside tdv.js: the version lookup finds ../../package.json from any of them
  chunkNames: "[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
});
chmodSync(path.join(outdir, "tdv.js"), 0o755);
