/**
 * The Icechunk column of the benchmark: the first commit of a Zarr folder into
 * a new Icechunk repository on the local file system, through Icechunk's own
 * JavaScript binding (`@earthmover/icechunk`, a native Node.js addon). Every
 * file of the dataset is set into the session's store as its bytes (metadata
 * documents and chunks, keys relative to the dataset folder), then committed:
 * the same work as `tdv add -A && tdv commit` on the same files.
 *
 *   node bench/icechunk.mjs PACKAGE_DIR DATASET_DIR REPO_DIR
 *
 * PACKAGE_DIR holds node_modules/@earthmover/icechunk (bench/run.mjs installs
 * it there with npm, outside the project; the project does not depend on it).
 * Exits 3 when the package cannot be loaded on this machine.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [pkgDir, dataDir, repoDir] = process.argv.slice(2);
if (!pkgDir || !dataDir || !repoDir) {
  console.error("usage: node bench/icechunk.mjs PACKAGE_DIR DATASET_DIR REPO_DIR");
  process.exit(2);
}

let ic;
try {
  ic = createRequire(path.join(path.resolve(pkgDir), "package.json"))("@earthmover/icechunk");
} catch (err) {
  console.error(`@earthmover/icechunk cannot be loaded here: ${err.message}`);
  process.exit(3);
}

function* walk(dir, rel = "") {
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walk(dir, r);
    else if (e.isFile()) yield r;
  }
}

const storage = await ic.Storage.newLocalFilesystem(path.resolve(repoDir));
const repo = await ic.Repository.create(storage);
const session = await repo.writableSession("main");
const store = session.store;
// Zarr stores only: Icechunk holds one hierarchy; plain files (README) are not Zarr keys
const keys = [...walk(dataDir)].filter((k) => k.includes(".zarr/") || k.endsWith(".zarr"));
const inFlight = new Set();
for (const key of keys) {
  const p = store.set(key, fs.readFileSync(path.join(dataDir, key))).finally(() => inFlight.delete(p));
  inFlight.add(p);
  if (inFlight.size >= 64) await Promise.race(inFlight);
}
await Promise.all(inFlight);
const id = await session.commit("import");
console.log(`${keys.length} keys, snapshot ${id}`);
