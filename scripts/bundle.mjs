/**
 * Bundle the CLI for start-up speed (run by `npm run build`, on tsc's output).
 *
 * dist/bin/ (a CommonJS package folder):
 * - main.js: the command line and the library in one CommonJS script. One
 *   script, not ES modules: Node 20 compiles each ES module separately and
 *   loads an import() through its asynchronous module loader, and it can give
 *   V8's code cache only to a script (measured on `status` of 10,000 files:
 *   ES-module chunks 202 ms, this script 191 ms, with the code cache 184 ms).
 * - tdv.js: the launcher (scripts/launcher.cjs), which compiles main.js with
 *   main.cache, V8's code cache written here after running the everyday
 *   commands in one process (scripts/warm-code-cache.mjs), and serves its
 *   import() calls.
 * - ui.mjs, demo.mjs: the Ink UI and the demo, ES modules loaded by import()
 *   when used (Ink and zarrita are ES modules only). They import the library
 *   from main.js, so there is one instance of it.
 * Packages from node_modules are imported, never copied in.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = path.join(root, "dist/bin");
const dist = path.join(root, "dist");
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
writeFileSync(path.join(outdir, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

const common = { absWorkingDir: root, bundle: true, platform: "node", target: "node20", packages: "external", legalComments: "none", logLevel: "warning" };

/** Imports of these modules (tsc's output paths) become external imports of `to`. */
function redirect(name, map) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const to = map.get(path.resolve(args.resolveDir, args.path));
        return to ? { path: to, external: true } : undefined;
      });
    },
  };
}

await build({
  ...common,
  entryPoints: [path.join(dist, "cli/bundle-entry.js")],
  outfile: path.join(outdir, "main.js"),
  format: "cjs",
  // the version lookup reads ../../package.json from import.meta.url
  define: { "import.meta.url": "__tdv_import_meta_url" },
  banner: {
    js: [
      'var __tdv_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
      // import() of what stays outside this script, through the launcher's (see below)
      'var __tdv_dynamic_import = typeof __tdv_import === "function" ? __tdv_import : (s) => import(s);',
    ].join("\n"),
  },
  plugins: [
    redirect("lazy-esm", new Map([
      [path.join(dist, "cli/ui/app.js"), "./ui.mjs"],
      [path.join(dist, "src/demo/run.js"), "./demo.mjs"],
    ])),
  ],
});

// V8's code cache does not keep what a script's import() needs (a function
// compiled from the cache throws "A dynamic import callback was not
// specified"), so the script's import() calls (zarrita, fflate,
// isomorphic-git, ui.mjs, demo.mjs) go through a function the launcher passes
// in, whose import() is its own.
const mainJs = path.join(outdir, "main.js");
const text = readFileSync(mainJs, "utf8");
const calls = /\bimport\((?=["'])/g;
const rewritten = text.replace(calls, "__tdv_dynamic_import(");
const left = rewritten.replace(/\(s\) => import\(s\)/, "").match(/\bimport\(/g);
if (left) throw new Error(`main.js: ${left.length} import() calls the launcher cannot serve`);
writeFileSync(mainJs, rewritten);

const library = new Map([
  [path.join(dist, "src/index.js"), "./main.js"],
  [path.join(dist, "src/errors.js"), "./main.js"],
]);
for (const [entry, out] of [["cli/ui/app.js", "ui.mjs"], ["src/demo/run.js", "demo.mjs"]]) {
  await build({ ...common, entryPoints: [path.join(dist, entry)], outfile: path.join(outdir, out), format: "esm", plugins: [redirect("library", library)] });
}

// worker.js: the working copy's worker thread (src/worktree/worker.ts), a script
// of its own that main.js starts from beside itself (shared-work.ts, workerUrl)
await build({
  ...common,
  entryPoints: [path.join(dist, "src/worktree/worker.js")],
  outfile: path.join(outdir, "worker.js"),
  format: "cjs",
  define: { "import.meta.url": "__tdv_import_meta_url" },
  banner: { js: 'var __tdv_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
});

copyFileSync(path.join(root, "scripts/launcher.cjs"), path.join(outdir, "tdv.js"));
chmodSync(path.join(outdir, "tdv.js"), 0o755);

const warm = spawnSync(process.execPath, [path.join(root, "scripts/warm-code-cache.mjs")], { stdio: ["ignore", "ignore", "inherit"] });
if (warm.status !== 0) throw new Error(`scripts/warm-code-cache.mjs exited ${warm.status}`);
