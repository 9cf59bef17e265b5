/**
 * Bundle the CLI for start-up speed: `dist/bin/tdv.js` is the command line
 * with the library in one module (Node 20 compiles each ES module separately,
 * and ~100 small modules cost ~35 ms of every command). What commands load on
 * demand stays apart: the Ink UI (`tdv ui`), the demo, zarrita, fflate,
 * isomorphic-git. Packages from node_modules are imported, never copied in.
 *
 * Input is tsc's output (`dist/cli/main.js`); run by `npm run build`.
 */
import { chmodSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { tdv: "dist/cli/main.js" },
  outdir,
  bundle: true,
  splitting: true, // dynamic imports (ui, demo) become chunks loaded when used
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "[name]-[hash]", // beside tdv.js: the version lookup finds ../../package.json from either
  legalComments: "none",
  logLevel: "warning",
});
chmodSync(`${outdir}/tdv.js`, 0o755);
