/**
 * Bundle the CLI for start-up speed (run by `npm run build`, on tsc's output:
 * Node 20 compiles each ES module separately, and ~100 small modules cost
 * ~35 ms of every command).
 *
 * dist/bin/tdv.js is the command line (cli/bin.ts and what it imports), an ES
 * module. What the command line loads with import() becomes chunks beside it
 * (esbuild's code splitting), loaded when used: the library, which every
 * command but `--version` and `--help` loads (its core in one chunk, the
 * groups of verbs of src/later/ in chunks of their own); the Ink UI
 * (`tdv ui`); the demo; the remote back ends. Packages from node_modules are
 * imported, never copied in, but commander, which every command loads (its
 * ten CommonJS files cost each command ~13 ms as imports); the library loads
 * zarrita, fflate and isomorphic-git with import() when a command first
 * needs them.
 * docs/decisions.md ("The installed command line") has the measurements.
 */
import { chmodSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = path.join(root, "dist/bin");
rmSync(outdir, { recursive: true, force: true });
// every package stays an import of node_modules, but commander (bundled: see above)
const packagesButCommander = {
  name: "packages-but-commander",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path === "commander" || args.path.startsWith("node:") ? undefined : { path: args.path, external: true }));
  },
};
const common = { absWorkingDir: root, bundle: true, format: "esm", platform: "node", target: "node20", legalComments: "none", logLevel: "warning" };
// Every module the command line loads with import() (a group of the library's commands, a remote's
// back end, the UI) imports the library's index first. esbuild puts each module in the chunk of the
// entries that reach it; a module that some of these reach and others do not is a chunk of its own.
// With the index imported by all of them, what the index loads is one chunk: a `status` loads 4 files
// (the command line, the index, its core, the terminal escaping), not 12 (each file costs a command
// ~0.5-1 ms at start). At run time the index is loaded already by then.
const index = path.join(root, "dist/src/index.js");
const oneCore = {
  name: "one-core",
  setup(b) {
    const lazy = new Set();
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind === "dynamic-import") lazy.add(path.resolve(args.resolveDir, args.path));
      return undefined;
    });
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!lazy.has(args.path) || args.path === index) return undefined;
      return { contents: `import ${JSON.stringify(index)};\n${readFileSync(args.path, "utf8")}`, loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
};
await build({
  ...common,
  plugins: [packagesButCommander, oneCore],
  // commander is CommonJS: bundled, its require() of Node's modules needs a require in ES module scope
  banner: { js: 'import { createRequire as createRequireForCommander } from "node:module";\nconst require = createRequireForCommander(import.meta.url);' },
  entryPoints: { tdv: path.join(root, "dist/cli/bin.js") },
  outdir,
  splitting: true,
  // beside tdv.js: the version lookup finds ../../package.json from any of them
  chunkNames: "[name]-[hash]",
});
// the working copy's worker thread (src/worktree/worker.ts), started by shared-work.ts from beside the
// chunk that holds it (new URL("./worker.js", import.meta.url)): a bundle of its own, whole. A worker
// shares no module with the main thread, and as an entry beside tdv's it split the modules both use
// into more chunks, each a file every command loads (measured: 31 → 22 files for a `status`)
await build({ ...common, packages: "external", entryPoints: [path.join(root, "dist/src/worktree/worker.js")], outfile: path.join(outdir, "worker.js") });
chmodSync(path.join(outdir, "tdv.js"), 0o755);
