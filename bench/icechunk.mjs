/**
 * The Icechunk column of the benchmark, through Icechunk's own JavaScript
 * binding (`@earthmover/icechunk`, a native Node.js addon), on local
 * file-system storage. One subcommand per timed operation:
 *
 *   node bench/icechunk.mjs import PKG DATA REPO
 *       a new repository holding every Zarr file of DATA (metadata documents
 *       and chunks, keys relative to DATA), one commit on main: the work of
 *       `tdv init && tdv add -A && tdv commit` on the same files
 *   node bench/icechunk.mjs commit PKG DATA REPO KEYS [BRANCH]
 *       set the keys listed in the file KEYS (one a line, read from DATA;
 *       a key whose file is gone is deleted) on BRANCH (default main; made
 *       from main's snapshot when absent) and commit: Icechunk is handed the
 *       changed keys, where `tdv commit -a` finds them itself
 *   node bench/icechunk.mjs status PKG REPO
 *       Icechunk has no working folder to compare: its nearest equivalent of
 *       `status` opens the repository, a writable session on main and asks
 *       that session for its uncommitted changes (`Session.status()`)
 *   node bench/icechunk.mjs diff PKG REPO FROM TO
 *       `Repository.diff` between the tips of two branches: the arrays and
 *       chunks that changed
 *   node bench/icechunk.mjs read PKG REPO BRANCH
 *       every key of BRANCH's snapshot listed and its bytes read (64 at a
 *       time); prints the key count, bytes and a checksum of the bytes
 *
 * PKG holds node_modules/@earthmover/icechunk (bench/run.mjs installs it there
 * with npm, outside the project; the project does not depend on it). Exits 3
 * when the package cannot be loaded on this machine, 2 on bad arguments.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const USAGE = `usage: node bench/icechunk.mjs import PKG DATA REPO
       node bench/icechunk.mjs commit PKG DATA REPO KEYS [BRANCH]
       node bench/icechunk.mjs status PKG REPO
       node bench/icechunk.mjs diff PKG REPO FROM TO
       node bench/icechunk.mjs read PKG REPO BRANCH`;
const ARITY = { import: [3, 3], commit: [4, 5], status: [2, 2], diff: [4, 4], read: [3, 3] };

const [sub, pkgDir, ...rest] = process.argv.slice(2);
const arity = ARITY[sub];
if (!arity || !pkgDir || rest.length + 1 < arity[0] || rest.length + 1 > arity[1]) {
  console.error(`${sub && !arity ? `unknown subcommand '${sub}'\n` : ""}${USAGE}`);
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

/** Metadata documents first, parents before children (Icechunk refuses a chunk of an array it does not know yet), then the rest. */
function metadataFirst(keys) {
  const meta = keys.filter((k) => k.endsWith("/zarr.json")).sort((a, b) => a.split("/").length - b.split("/").length);
  return [meta, keys.filter((k) => !k.endsWith("/zarr.json"))];
}

/** Run `fn` on every item, `limit` at a time. */
async function pool(items, limit, fn) {
  const inFlight = new Set();
  for (const item of items) {
    const p = fn(item).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

const open = async (repoDir) => ic.Repository.open(await ic.Storage.newLocalFilesystem(path.resolve(repoDir)));
// Zarr stores only: Icechunk holds one hierarchy; plain files (README) are not Zarr keys
const isZarrKey = (k) => k.includes(".zarr/");

if (sub === "import") {
  const [dataDir, repoDir] = rest;
  const repo = await ic.Repository.create(await ic.Storage.newLocalFilesystem(path.resolve(repoDir)));
  const session = await repo.writableSession("main");
  const keys = [...walk(dataDir)].filter(isZarrKey);
  const [meta, chunks] = metadataFirst(keys);
  for (const key of meta) await session.store.set(key, fs.readFileSync(path.join(dataDir, key)));
  await pool(chunks, 64, (key) => session.store.set(key, fs.readFileSync(path.join(dataDir, key))));
  const id = await session.commit("import");
  console.log(`${keys.length} keys, snapshot ${id}`);
} else if (sub === "commit") {
  const [dataDir, repoDir, keysFile, branch = "main"] = rest;
  const repo = await open(repoDir);
  if (!(await repo.listBranches()).includes(branch)) await repo.createBranch(branch, await repo.lookupBranch("main"));
  const session = await repo.writableSession(branch);
  const keys = fs.readFileSync(keysFile, "utf8").split("\n").filter(isZarrKey);
  const setOrDelete = async (key) => {
    let bytes;
    try {
      bytes = fs.readFileSync(path.join(dataDir, key));
    } catch (err) {
      if (err.code !== "ENOENT") throw err;
      return session.store.delete(key);
    }
    return session.store.set(key, bytes);
  };
  const [meta, chunks] = metadataFirst(keys);
  for (const key of meta) await setOrDelete(key);
  await pool(chunks, 64, setOrDelete);
  const id = await session.commit("edit");
  console.log(`${keys.length} keys, snapshot ${id}`);
} else if (sub === "status") {
  const [repoDir] = rest;
  const session = await (await open(repoDir)).writableSession("main");
  const s = await session.status();
  const n = s.newArrays.length + s.deletedArrays.length + s.updatedArrays.length + Object.keys(s.updatedChunks ?? {}).length;
  console.log(n === 0 ? "no uncommitted changes" : `${n} arrays with uncommitted changes`);
} else if (sub === "diff") {
  const [repoDir, from, to] = rest;
  const d = await (await open(repoDir)).diff({ fromBranch: from, toBranch: to });
  const chunks = Object.values(d.updatedChunks ?? {}).reduce((n, list) => n + (Array.isArray(list) ? list.length : 0), 0);
  console.log(`${d.updatedArrays.length} arrays updated, ${d.newArrays.length} new, ${d.deletedArrays.length} deleted; ${chunks} chunks changed`);
} else if (sub === "read") {
  const [repoDir, branch] = rest;
  const session = await (await open(repoDir)).readonlySession({ branch });
  const keys = await session.store.list();
  let bytes = 0;
  const sums = new Map();
  await pool(keys, 64, async (key) => {
    const b = await session.store.get(key);
    if (b === null) throw new Error(`${key} is listed but has no bytes`);
    bytes += b.length;
    sums.set(key, createHash("sha256").update(b).digest("hex"));
  });
  // a checksum independent of the order of reads: sorted keys with their bytes' hashes
  const all = createHash("sha256");
  for (const k of [...sums.keys()].sort()) all.update(`${k} ${sums.get(k)}\n`);
  console.log(`${keys.length} keys, ${bytes} bytes, ${all.digest("hex")}`);
}
