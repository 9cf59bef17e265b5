#!/usr/bin/env node
/**
 * tdv benchmark: the same operations on the same data, in the same run, timed
 * for tdv and for what a user would use instead (cp, git, git-lfs).
 *
 *   npm run bench                      # small dataset (~3,000 chunks, ~150 MB)
 *   npm run bench -- --size medium     # ~10,000 chunks, ~500 MB
 *   npm run bench -- --size large      # ~100,000 chunks (commit/status/switch scaling)
 *   npm run bench -- --size huge       # 1,000,000 chunk files of 512 B in one array: status,
 *                                      # commit -a, diff, memory against the floors (its own set)
 *   npm run bench -- --runs 5 --only first-commit,status
 *   npm run bench -- --only start --compare old=../old/dist/bin/tdv.js   # other builds' start-up
 *
 * Operations (for --only): first-commit, status, incremental-commit, checkout,
 * switch, diff, read, log, many-arrays, ten-thousand-arrays, start, remote.
 * Icechunk (its npm package, installed into the work folder) runs beside tdv
 * in first-commit, status, incremental-commit, diff, read, ten-thousand-arrays
 * and the repository sizes, unless --no-icechunk.
 *
 * Prints medians, ratios and peak memory (GNU time), the size on disk of each
 * repository, and writes everything as JSON to bench/out/ for comparison.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TDV = path.join(ROOT, "dist/bin/tdv.js");
const OUT = path.join(ROOT, "bench/out");

const SIZES = {
  small: { chunks: 3_000, chunkBytes: 50_000 },
  medium: { chunks: 10_000, chunkBytes: 50_000 },
  large: { chunks: 100_000, chunkBytes: 10_000 },
  huge: { chunks: 1_000_000, chunkBytes: 512 },
};
const OPS = ["first-commit", "status", "incremental-commit", "checkout", "switch", "diff", "read", "log", "many-arrays", "ten-thousand-arrays", "start", "remote"];
const HUGE_OPS = ["huge-status", "huge-commit", "huge-one-percent"];

// ---- arguments ---------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (args.includes("--help") || args.includes("-h")) {
  console.log(`usage: node bench/run.mjs [--size ${Object.keys(SIZES).join("|")}] [--chunks N] [--runs N] [--only OP,…] [--dir WORK] [--compare LABEL=PATH,…] [--no-icechunk]

  --chunks N: the size's dataset with N chunk files instead (a quick try of its operations)
  operations (--only): ${OPS.join(", ")}
  with --size huge (1,000,000 chunk files): ${HUGE_OPS.join(", ")}

example: npm run bench -- --size medium --runs 5 --only status,incremental-commit`);
  process.exit(0);
}
const KNOWN = new Set(["--size", "--chunks", "--runs", "--only", "--dir", "--compare", "--no-icechunk"]);
for (let i = 0; i < args.length; i++) {
  if (!KNOWN.has(args[i])) fail(`unknown option '${args[i]}'`);
  if (args[i] !== "--no-icechunk") {
    if (args[i + 1] === undefined || args[i + 1].startsWith("--")) fail(`${args[i]} needs a value`);
    i++;
  }
}
const sizeName = opt("size", "small");
if (!SIZES[sizeName]) fail(`--size must be one of ${Object.keys(SIZES).join(", ")}, not '${sizeName}'`);
const size = { ...SIZES[sizeName] };
if (opt("chunks") !== undefined) {
  size.chunks = Number(opt("chunks"));
  if (!Number.isInteger(size.chunks) || size.chunks < 100) fail(`--chunks must be a whole number ≥ 100, not '${opt("chunks")}'`);
}
const RUNS = Number(opt("runs", "3"));
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs must be a whole number ≥ 1, not '${opt("runs")}'`);
const ONLY = opt("only", "")?.split(",").filter(Boolean) ?? [];
for (const op of ONLY) if (!(sizeName === "huge" ? HUGE_OPS : OPS).includes(op)) fail(`--only: no operation '${op}' with --size ${sizeName} (operations: ${(sizeName === "huge" ? HUGE_OPS : OPS).join(", ")})`);

function fail(message) {
  console.error(`bench: ${message}\nrun \`node bench/run.mjs --help\` for the options`);
  process.exit(2);
}
const WORK = opt("dir", path.join(os.tmpdir(), `tdv-bench-${sizeName}${opt("chunks") !== undefined ? `-${size.chunks}` : ""}`));
// other builds to time beside this one in `start`: --compare cache=/path/to/dist/bin/tdv.js,…
const COMPARE = (opt("compare", "") ?? "")
  .split(",")
  .filter(Boolean)
  .map((spec) => {
    const [label, file] = spec.includes("=") ? [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)] : [spec, spec];
    if (!fs.existsSync(file)) throw new Error(`--compare ${spec}: no file ${file}`);
    return { label, bin: `node ${path.resolve(file)}` };
  });
const has = (cmd, a = ["--version"]) => spawnSync(cmd, a, { stdio: "ignore" }).status === 0;
const HAVE_LFS = has("git", ["lfs", "version"]);
const HAVE_TIME = fs.existsSync("/usr/bin/time");

const ENV = {
  ...process.env,
  TDV_AUTHOR_NAME: "Bench",
  TDV_AUTHOR_EMAIL: "bench@example.org",
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.org",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.org",
  GIT_CONFIG_NOSYSTEM: "1",
  HOME: path.join(WORK, "home"),
};
// Node 20 reads the certificates NODE_EXTRA_CA_CERTS names as each process starts, before any of its
// code runs (measured on a machine that sets it to the system's bundle: `node -e 0` 75 ms with it, 27
// without; Node 22 reads them when TLS first needs them). Most machines do not set it, and no row
// here speaks TLS: every command runs without it, so the floor is Node's own start.
const EXTRA_CA = ENV.NODE_EXTRA_CA_CERTS;
delete ENV.NODE_EXTRA_CA_CERTS;

// ---- data ----------------------------------------------------------------------

/** Deterministic incompressible bytes (compressed chunks look random). */
function bytesFor(seed, n) {
  const out = Buffer.alloc(n);
  let block = createHash("sha256").update(String(seed)).digest();
  for (let off = 0; off < n; off += 32) {
    block.copy(out, off, 0, Math.min(32, n - off));
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/**
 * The huge dataset's chunk bytes: one pseudo-random pool (AES-CTR of zeros, a
 * fixed key), chunk n the window at n × 16 bytes. A million windows of 512 B
 * are all different and cost nothing to make; `bytesFor`'s hash chain would
 * take longer than writing the files.
 */
let hugePoolBuf;
function hugeChunk(n) {
  hugePoolBuf ??= createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0)).update(Buffer.alloc(size.chunks * 16 + size.chunkBytes));
  return hugePoolBuf.subarray(n * 16, n * 16 + size.chunkBytes);
}

const LAT = 10;
const LON = 10;

function arrayMeta(shape, chunks) {
  return JSON.stringify({
    zarr_format: 3,
    node_type: "array",
    shape,
    data_type: "float32",
    chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "gzip", configuration: { level: 5 } }],
    fill_value: "NaN",
    dimension_names: shape.length === 3 ? ["time", "lat", "lon"] : ["x"],
    attributes: { units: "K" },
  });
}

/** era.zarr: t2m with `chunks` chunk files (time × 10 × 10 grid), plus small arrays. */
function writeDataset(dir) {
  const store = path.join(dir, "era.zarr");
  const nTime = Math.ceil(size.chunks / (LAT * LON));
  fs.mkdirSync(path.join(store, "t2m"), { recursive: true });
  fs.writeFileSync(path.join(store, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: { title: "bench" } }));
  fs.writeFileSync(path.join(store, "t2m/zarr.json"), arrayMeta([nTime * 4, LAT * 20, LON * 20], [4, 20, 20]));
  let n = 0;
  for (let t = 0; t < nTime && n < size.chunks; t++) {
    for (let y = 0; y < LAT && n < size.chunks; y++) {
      fs.mkdirSync(path.join(store, `t2m/c/${t}/${y}`), { recursive: true });
      for (let x = 0; x < LON && n < size.chunks; x++, n++) {
        fs.writeFileSync(path.join(store, `t2m/c/${t}/${y}/${x}`), sizeName === "huge" ? hugeChunk(n) : bytesFor(`${t}.${y}.${x}`, size.chunkBytes));
      }
    }
  }
  for (const name of ["lat", "lon", "time"]) {
    fs.mkdirSync(path.join(store, `${name}/c`), { recursive: true });
    fs.writeFileSync(path.join(store, `${name}/zarr.json`), arrayMeta([100], [100]));
    fs.writeFileSync(path.join(store, `${name}/c/0`), bytesFor(name, 400));
  }
  fs.writeFileSync(path.join(dir, "README.md"), "# bench dataset\n");
  return { nTime };
}

/** Change 1% of t2m's chunks and append one time slice (new chunk files, shape grows). Returns the paths written. */
function editOnePercent(dir, nTime, round) {
  const store = path.join(dir, "era.zarr/t2m");
  const changed = Math.max(1, Math.floor(size.chunks / 100));
  const written = new Set();
  for (let i = 0; i < changed; i++) {
    const t = Math.floor((i * 97) % nTime);
    const y = i % LAT;
    const x = (i * 7) % LON;
    const f = path.join(store, `c/${t}/${y}/${x}`);
    if (fs.existsSync(f)) {
      fs.writeFileSync(f, bytesFor(`edit${round}.${i}`, size.chunkBytes));
      written.add(`era.zarr/t2m/c/${t}/${y}/${x}`);
    }
  }
  for (let y = 0; y < LAT; y++) {
    fs.mkdirSync(path.join(store, `c/${nTime}/${y}`), { recursive: true });
    for (let x = 0; x < LON; x++) {
      fs.writeFileSync(path.join(store, `c/${nTime}/${y}/${x}`), bytesFor(`append${round}.${y}.${x}`, size.chunkBytes));
      written.add(`era.zarr/t2m/c/${nTime}/${y}/${x}`);
    }
  }
  fs.writeFileSync(path.join(store, "zarr.json"), arrayMeta([(nTime + 1) * 4, LAT * 20, LON * 20], [4, 20, 20]));
  written.add("era.zarr/t2m/zarr.json");
  return [...written];
}

/** Rewrite `count` chunks of t2m spread over the whole array (chunk number i × 997, round-specific bytes). Returns the paths. */
function editChunks(dir, count, round) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const n = (i * 997) % size.chunks;
    const rel = `era.zarr/t2m/c/${Math.floor(n / (LAT * LON))}/${Math.floor(n / LON) % LAT}/${n % LON}`;
    fs.writeFileSync(path.join(dir, rel), bytesFor(`chunk-edit${round}.${n}`, size.chunkBytes));
    out.push(rel);
  }
  return out;
}

/** Rewrite the chunk of every 100th array of manyArrays' store (1%). Returns the paths. */
function editManyArrays(dir, n, round) {
  const out = [];
  for (let i = 0; i < n; i += 100) {
    const rel = `many.zarr/a${i}/c/0`;
    fs.writeFileSync(path.join(dir, rel), bytesFor(`many-edit${round}.${i}`, 64));
    out.push(rel);
  }
  return out;
}

function manyArrays(dir, n = 2000) {
  const store = path.join(dir, "many.zarr");
  fs.mkdirSync(store, { recursive: true });
  fs.writeFileSync(path.join(store, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }));
  for (let i = 0; i < n; i++) {
    fs.mkdirSync(path.join(store, `a${i}/c`), { recursive: true });
    fs.writeFileSync(path.join(store, `a${i}/zarr.json`), arrayMeta([16], [16]));
    fs.writeFileSync(path.join(store, `a${i}/c/0`), bytesFor(`many${i}`, 64));
  }
}

// ---- measuring -----------------------------------------------------------------

function sh(cmd, cwd) {
  execFileSync("bash", ["-c", cmd], { cwd, env: ENV, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 28 });
}

/**
 * Run a shell command once; returns seconds, peak RSS in MB (largest process of the pipeline) and
 * CPU seconds (user + system, GNU time's 10 ms steps): on a busy machine the CPU a command uses
 * swings less than the time it takes.
 */
function timeOnce(cmd, cwd) {
  const quoted = `'${cmd.replace(/'/g, "'\\''")}'`;
  const wrapped = HAVE_TIME ? `/usr/bin/time -f "__TIME %e %M %U %S" bash -c ${quoted}` : cmd;
  const t0 = process.hrtime.bigint();
  const r = spawnSync("bash", ["-c", wrapped], { cwd, env: ENV, encoding: "utf8", maxBuffer: 1 << 28 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}\n${r.stderr}`);
  const m = /__TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr ?? "");
  return { secs, rssMB: m ? Math.round(Number(m[2]) / 1024) : null, cpuSecs: m ? Number(m[3]) + Number(m[4]) : null };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * A row to measure: `cmd` run RUNS times; `setup` prepares a fresh state before
 * each run (not timed). `record` runs the rows of one operation interleaved, in
 * an order rotated each run, so no tool always runs first or last.
 */
function measure(label, cmd, { setup, cwd }) {
  return { label, cmd, setup, cwd };
}

function runRows(specs) {
  const rows = specs.map((s) => ({ label: s.label, cmd: s.cmd, times: [], cpu: [], rss: 0 }));
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < specs.length; k++) {
      const j = (k + i) % specs.length;
      const s = specs[j];
      const dir = s.setup ? s.setup(i) : s.cwd;
      // the set-up's writes (copies, resets) reach the disk before the clock starts: a tool that
      // syncs (tdv) would otherwise pay for writing back the set-up's data, one that does not (git) not
      execFileSync("sync");
      const r = timeOnce(s.cmd, dir);
      rows[j].times.push(r.secs);
      rows[j].rss = Math.max(rows[j].rss, r.rssMB ?? 0);
      if (r.cpuSecs !== null) rows[j].cpu.push(r.cpuSecs);
    }
  }
  return rows.map((r) => ({ label: r.label, cmd: r.cmd, median: median(r.times), runs: r.times, peakRssMB: r.rss || null, cpuMean: r.cpu.length ? r.cpu.reduce((a, b) => a + b, 0) / r.cpu.length : null, cpu: r.cpu }));
}

function du(p) {
  try {
    return Number(execFileSync("du", ["-sb", p], { encoding: "utf8" }).split("\t")[0]);
  } catch {
    return null;
  }
}

const tdv = `node ${TDV}`;
/** the floor of a clean `status`: every file's size and mtime, listed by find (the repository's folder skipped) */
const STAT_WALK_LABEL = "stat walk (find -printf '%s %T@')";
const STAT_WALK = "find . -path ./.tdv -prune -o -printf '%s %T@\\n' >/dev/null";
/** the same walk inside one Node process (listing and lstat only): what is left of a `status` beyond it is tdv's own */
const NODE_WALK_LABEL = "Node's stat walk (bench/node-stat-walk.cjs)";
const NODE_WALK = `node ${JSON.stringify(path.join(ROOT, "bench/node-stat-walk.cjs"))}`;
/**
 * The floor of the bytes `log` and `diff --stat` read: every file of the repository's Git objects
 * (loose and packed), a superset of the commits and snapshot trees they read, so a floor that is
 * generous to tdv.
 */
const GIT_OBJECTS_LABEL = "cat of every Git object file";
const GIT_OBJECTS = "find .tdv/git/objects -type f -exec cat {} + >/dev/null";
/** the target of a reading command: ≤ 1.3 × `node -e 0` + the floor of the bytes it reads */
function readingVerdict(m, row) {
  const bound = 1.3 * m["node -e 0"] + m[GIT_OBJECTS_LABEL];
  // the ratio is to the bound itself (≤ 1 meets it), not to a base as the status and --version lines
  console.log(`  target ${row.replace(/^tdv /, "")} ≤ 1.3 × node -e 0 + the bytes read = ${bound.toFixed(3)} s: ${(m[row] / bound).toFixed(2)}× the bound, ${metOrNo(m[row] <= bound)}`);
}
/** the status target's verdict, and where the Node process's own floor stands against it */
function statusVerdict(node, walk, nodeWalk, status) {
  const bound = node + walk;
  console.log(`  target status ≤ 1.5 × (start + stat walk) = ${(1.5 * bound).toFixed(3)} s: ${(status / bound).toFixed(2)}×, ${metOrNo(status <= 1.5 * bound)}`);
  const beyond =
    status >= nodeWalk
      ? `tdv status beyond it: ${((status - nodeWalk) * 1000).toFixed(0)} ms (code loading, the index, the comparison)`
      : `tdv status under it by ${((nodeWalk - status) * 1000).toFixed(0)} ms (from 30,000 files its scan shares the tree between two threads)`;
  console.log(`  Node's stat walk alone: ${(nodeWalk / bound).toFixed(2)}× (start + stat walk); ${beyond}`);
}
const gitInit = "git init -q -b main . && git config core.autocrlf false && git config gc.auto 0";
const lfsInit = `${gitInit} && git lfs install --local >/dev/null && git lfs track 'era.zarr/**/c/**' 'many.zarr/**/c/**' >/dev/null && git add .gitattributes`;

// ---- the operations --------------------------------------------------------------

/**
 * Icechunk's JS binding, installed with npm into the bench's work folder (the
 * project does not depend on it). Its native addon is built against glibc
 * 2.38; on an older glibc the only entry points it lacks are C23's
 * `__isoc23_sscanf` and `__isoc23_strto*`, which bench/icechunk-c23.c defines
 * by calling the classic functions: compiled here with `cc` and preloaded into
 * the Icechunk runs only. Returns { dir, node (the command that runs node for
 * it), why (when it cannot run), how }; computed once.
 */
let icechunkFound;
function icechunkPackage() {
  icechunkFound ??= findIcechunk();
  return icechunkFound;
}

function findIcechunk() {
  if (process.argv.includes("--no-icechunk")) return { dir: null, why: "--no-icechunk" };
  const dir = path.join(WORK, "icechunk-pkg");
  if (!fs.existsSync(path.join(dir, "node_modules/@earthmover/icechunk"))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-icechunk", private: true }));
    const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", dir, "@earthmover/icechunk@^2"], { encoding: "utf8", timeout: 180_000 });
    if (r.status !== 0) return { dir: null, why: `npm could not install @earthmover/icechunk: ${(r.stderr ?? "").trim().split("\n").slice(-1)[0]}` };
  }
  const version = JSON.parse(fs.readFileSync(path.join(dir, "node_modules/@earthmover/icechunk/package.json"), "utf8")).version;
  const probe = (preload) =>
    spawnSync("node", ["-e", `require(require("node:module").createRequire(${JSON.stringify(path.join(dir, "package.json"))}).resolve("@earthmover/icechunk"))`], {
      encoding: "utf8",
      env: preload ? { ...process.env, LD_PRELOAD: preload } : process.env,
    });
  const first = probe(null);
  if (first.status === 0) return { dir, node: "node", why: null, how: `@earthmover/icechunk ${version}` };
  const symbol = /undefined symbol: (\S+)/.exec(first.stderr ?? "")?.[1];
  if (!symbol) return { dir: null, why: `@earthmover/icechunk is installed but does not load: ${(first.stderr ?? "").trim().split("\n")[0]}` };
  if (!symbol.startsWith("__isoc23_")) return { dir: null, why: `@earthmover/icechunk is installed but its native addon needs ${symbol}, which this glibc (${glibc()}) lacks` };
  if (!has("cc")) return { dir: null, why: `its native addon needs glibc 2.38's ${symbol} (this one is ${glibc()}) and there is no \`cc\` to build bench/icechunk-c23.c, which provides it` };
  const lib = path.join(WORK, "icechunk-c23.so");
  const cc = spawnSync("cc", ["-shared", "-fPIC", "-O2", "-o", lib, path.join(ROOT, "bench/icechunk-c23.c")], { encoding: "utf8" });
  if (cc.status !== 0) return { dir: null, why: `cc could not build bench/icechunk-c23.c: ${(cc.stderr ?? "").trim().split("\n")[0]}` };
  const second = probe(lib);
  if (second.status !== 0) return { dir: null, why: `@earthmover/icechunk does not load even with bench/icechunk-c23.c preloaded: ${(second.stderr ?? "").trim().split("\n")[0]}` };
  return { dir, node: `LD_PRELOAD=${lib} node`, why: null, how: `@earthmover/icechunk ${version}, glibc ${glibc()} with bench/icechunk-c23.c preloaded for C23's ${symbol} and kin` };
}

/** The shell command that runs bench/icechunk.mjs SUB ARGS… (Icechunk's package found). */
function iceCmd(sub, ...rest) {
  const ice = icechunkPackage();
  return `${ice.node} ${path.join(ROOT, "bench/icechunk.mjs")} ${sub} ${ice.dir} ${rest.join(" ")}`;
}

function glibc() {
  const r = spawnSync("ldd", ["--version"], { encoding: "utf8" });
  return /(\d+\.\d+)\s*$/m.exec((r.stdout ?? "").split("\n")[0] ?? "")?.[0] ?? "this one's";
}

/**
 * A folder a set-up replaces is moved aside into WORK/trash, not deleted, and
 * the trash is emptied after each operation's timed runs. Deleted just before
 * a timed run, its files' inodes, freed a moment earlier, made the run's file
 * creation several times slower on a file system without a journal (ext4 then
 * passes over each inode freed in the last minutes, reading its dtime: 45% of a
 * first `add`'s samples in `recently_deleted`), by an amount that depended on
 * how much the set-up had deleted, not on the command timed.
 */
const TRASH = path.join(WORK, "trash");
let trashed = 0;
function fresh(name) {
  const d = path.join(WORK, name);
  if (fs.existsSync(d)) {
    fs.mkdirSync(TRASH, { recursive: true });
    fs.renameSync(d, path.join(TRASH, `${name}-${trashed++}`));
  }
  return d;
}

function emptyTrash() {
  fs.rmSync(TRASH, { recursive: true, force: true });
}

/** A setup that clears `name` (where the command writes: moved to the trash), then gives the folder to run in. */
function clearing(name, then) {
  return () => {
    fresh(name);
    return then();
  };
}

function copyOf(src, name) {
  const d = fresh(name);
  sh(`cp -r ${JSON.stringify(src)} ${JSON.stringify(d)}`);
  return d;
}

const results = [];
const want = (op) => ONLY.length === 0 || ONLY.includes(op);

function record(op, specs, note) {
  const rows = runRows(specs);
  emptyTrash();
  const base = rows[0].median;
  for (const r of rows) r.ratioToFirst = r.median / base;
  results.push({ op, rows, note });
  const w = Math.max(...rows.map((r) => r.label.length));
  console.log(`\n${op}${note ? `  (${note})` : ""}`);
  for (const r of rows) {
    const ratio = r === rows[0] ? "" : `  ${(r.median / base).toFixed(2)}× of ${rows[0].label}`;
    const mem = r.peakRssMB ? `  peak ${r.peakRssMB} MB` : "";
    // the mean: GNU time counts CPU in 10 ms steps, too coarse for the median of a short command
    const cpu = r.cpuMean !== null ? `  cpu ${r.cpuMean.toFixed(3)} s` : "";
    console.log(`  ${r.label.padEnd(w)}  ${r.median.toFixed(3)} s${ratio}${cpu}${mem}`);
  }
}

/**
 * The dataset in WORK/data, generated once per size: a stamp beside it names
 * what was generated, and a later run of the same size reuses it (every
 * operation works on copies).
 */
function dataset() {
  const data = path.join(WORK, "data");
  const stamp = path.join(WORK, "data.stamp");
  const expect = JSON.stringify({ format: 2, size: sizeName, ...size });
  const nTime = Math.ceil(size.chunks / (LAT * LON));
  if (fs.existsSync(data) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === expect) {
    console.log(`dataset: reusing ${data} (generated by an earlier run)`);
    return { data, nTime };
  }
  fs.rmSync(stamp, { force: true });
  fresh("data");
  fs.mkdirSync(data);
  const t0 = Date.now();
  writeDataset(data);
  execFileSync("sync");
  fs.writeFileSync(stamp, expect);
  console.log(`dataset: generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { data, nTime };
}

/** The medians of an operation's rows by label. */
function medians(op) {
  return Object.fromEntries(op.rows.map((r) => [r.label, r.median]));
}

const metOrNo = (ok) => (ok ? "met" : "no");

function main() {
  if (!fs.existsSync(TDV)) throw new Error("run `npm run build` first");
  fs.mkdirSync(WORK, { recursive: true });
  emptyTrash(); // an earlier run's, if it was stopped
  fs.mkdirSync(ENV.HOME, { recursive: true });
  fs.mkdirSync(OUT, { recursive: true });
  console.log(`tdv bench: ${sizeName} dataset, ${size.chunks} chunks × ${size.chunkBytes} B, ${RUNS} runs, work dir ${WORK}`);
  console.log(`git ${execFileSync("git", ["--version"], { encoding: "utf8" }).trim()}${HAVE_LFS ? ", git-lfs present" : ", git-lfs NOT installed (apt-get install git-lfs): its columns are skipped"}`);
  if (EXTRA_CA) console.log(`NODE_EXTRA_CA_CERTS (${EXTRA_CA}) is unset for every command: Node 20 reads those certificates as each process starts`);

  const { data, nTime } = dataset();
  const dataBytes = du(data);
  console.log(`dataset: ${(dataBytes / 1e6).toFixed(1)} MB`);
  if (sizeName === "huge") return huge(data, nTime);

  // first commit
  if (want("first-commit")) {
    const rows = [
      measure("cp -r", `cp -r ${data} ../cp-copy`, { setup: clearing("cp-copy", () => copyOf(data, "cp-src")) }),
      // the copy made durable, as tdv makes its objects before a ref names them (git does not sync loose objects)
      measure("cp -r, then sync", `cp -r ${data} ../cp-copy && sync`, { setup: clearing("cp-copy", () => copyOf(data, "cp-src")) }),
      measure("tdv init+add+commit", `${tdv} init >/dev/null && ${tdv} add -A -q >/dev/null && ${tdv} commit -q -m import >/dev/null`, { setup: () => copyOf(data, "tdv1") }),
      measure("git add+commit", `${gitInit} && git add -A && git commit -q -m import`, { setup: () => copyOf(data, "git1") }),
    ];
    if (HAVE_LFS) rows.push(measure("git-lfs add+commit", `${lfsInit} && git add -A && git commit -q -m import`, { setup: () => copyOf(data, "lfs1") }));
    const ice = icechunkPackage();
    if (ice.dir) rows.push(measure("Icechunk JS set+commit", iceCmd("import", data, path.join(WORK, "ice1")), { setup: clearing("ice1", () => data) }));
    record("first commit of the dataset", rows);
    if (!ice.dir) console.log(`  (Icechunk column skipped: ${ice.why})`);
    else console.log(`  (Icechunk: ${ice.how})`);
    const m = medians(results.at(-1));
    const t = m["tdv init+add+commit"];
    const ic = m["Icechunk JS set+commit"];
    const vsIce = ic ? `; faster than Icechunk's: ${(t / ic).toFixed(2)}×, ${metOrNo(t < ic)}` : "";
    console.log(`  targets: tdv ≤ 1.3 × \`cp -r, then sync\`: ${(t / m["cp -r, then sync"]).toFixed(2)}×, ${metOrNo(t <= 1.3 * m["cp -r, then sync"])}${vsIce}`);
  } else {
    for (const [name, init] of [["tdv1", `${tdv} init >/dev/null && ${tdv} add -A -q && ${tdv} commit -q -m import >/dev/null`], ["git1", `${gitInit} && git add -A && git commit -q -m import`]]) sh(init, copyOf(data, name));
  }
  const tdvRepo = path.join(WORK, "tdv1");
  const gitRepo = path.join(WORK, "git1");
  // Icechunk's repository of the import (the first commit's last run made one; else made here)
  const ice = icechunkPackage();
  const iceRepo = path.join(WORK, "ice1");
  if (ice.dir && !want("first-commit")) sh(iceCmd("import", data, clearing("ice1", () => iceRepo)()), WORK);
  if (!ice.dir && !process.argv.includes("--no-icechunk")) console.log(`(Icechunk rows skipped: ${ice.why})`);
  const iceRows = (...rows) => (ice.dir ? rows : []);
  sh(`${tdv} tag -f base >/dev/null && ${tdv} status >/dev/null`, tdvRepo);
  sh("git tag -f base >/dev/null && git status >/dev/null", gitRepo);

  if (want("status")) {
    sh(`${tdv} status >/dev/null; git -C ${gitRepo} status >/dev/null`, tdvRepo);
    record("status, clean tree", [
      measure("node -e 0", "node -e 0", { cwd: tdvRepo }),
      measure("tdv status", `${tdv} status >/dev/null`, { cwd: tdvRepo }),
      measure(STAT_WALK_LABEL, STAT_WALK, { cwd: tdvRepo }),
      measure(NODE_WALK_LABEL, NODE_WALK, { cwd: tdvRepo }),
      measure("git status", "git status >/dev/null", { cwd: gitRepo }),
      // Icechunk has no working folder to scan: the nearest is a session's own uncommitted changes
      ...iceRows(measure("Icechunk open + Session.status()", iceCmd("status", iceRepo), { cwd: WORK })),
    ]);
    const m = medians(results.at(-1));
    statusVerdict(m["node -e 0"], m[STAT_WALK_LABEL], m[NODE_WALK_LABEL], m["tdv status"]);
  }

  // incremental commit: 1% of t2m + an appended time slice
  const changedFiles = [];
  if (want("incremental-commit")) {
    // in place, as a user works: reset to the imported state (not timed), edit, commit
    const prep = (dir, resetCmd) => (i) => {
      sh(resetCmd, dir);
      editOnePercent(dir, nTime, i);
      return dir;
    };
    const probe = copyOf(data, "probe");
    const before = new Map(walkFiles(probe).map((f) => [f, fs.readFileSync(path.join(probe, f))]));
    editOnePercent(probe, nTime, 0);
    for (const f of walkFiles(probe)) if (!before.get(f)?.equals(fs.readFileSync(path.join(probe, f)))) changedFiles.push(f);
    fs.writeFileSync(path.join(WORK, "changed.txt"), changedFiles.join("\n"));
    const rows = [
      measure("cp of the changed files", `xargs -a ${path.join(WORK, "changed.txt")} cp --parents -t ../cp-inc`, {
        setup: clearing("cp-inc", () => {
          fs.mkdirSync(path.join(WORK, "cp-inc"));
          return probe;
        }),
      }),
      measure("tdv commit -a", `${tdv} commit -a -q -m edit >/dev/null`, { setup: prep(tdvRepo, `${tdv} reset -q --hard base >/dev/null`) }),
      measure("git add -A && git commit", "git add -A && git commit -q -m edit", { setup: prep(gitRepo, "git reset -q --hard base && git clean -qfd") }),
    ];
    if (ice.dir) {
      // handed the changed keys (tdv and git find them); the repository reset by a copy of the import
      rows.push(measure("Icechunk set the changed keys + commit", iceCmd("commit", probe, path.join(WORK, "ice-inc"), path.join(WORK, "changed.txt")), { setup: () => path.dirname(copyOf(iceRepo, "ice-inc")) }));
    }
    if (HAVE_LFS) {
      const lfsRepo = copyOf(data, "lfs-base");
      sh(`${lfsInit} && git add -A && git commit -q -m import && git tag base`, lfsRepo);
      rows.push(measure("git-lfs add+commit", "git add -A && git commit -q -m edit", { setup: prep(lfsRepo, "git reset -q --hard base && git clean -qfd") }));
    }
    record("commit after changing 1% of one array and appending a time slice", rows, `${changedFiles.length} files changed or added`);
    const m = medians(results.at(-1));
    const ic = m["Icechunk set the changed keys + commit"];
    const t = m["tdv commit -a"];
    const vsIce = ic ? `; ≤ 1.5 × Icechunk's (handed the keys): ${(t / ic).toFixed(2)}×, ${metOrNo(t <= 1.5 * ic)}` : "";
    console.log(`  targets: tdv ≤ git: ${(t / m["git add -A && git commit"]).toFixed(2)}×, ${metOrNo(t <= m["git add -A && git commit"])}${vsIce}`);
    sh(`${tdv} reset -q --hard base >/dev/null`, tdvRepo);
    sh("git reset -q --hard base && git clean -qfd", gitRepo);
  }

  // two commits on two branches for checkout / switch / diff
  // copies get new inodes and times: refresh their stat caches first, as a user's steady state
  const tdv2 = copyOf(tdvRepo, "tdv2");
  const git2 = copyOf(gitRepo, "git2");
  sh(`${tdv} status >/dev/null`, tdv2);
  sh("git status >/dev/null", git2);
  sh(`${tdv} switch -c edit -q >/dev/null`, tdv2);
  editOnePercent(tdv2, nTime, 7);
  sh(`${tdv} commit -a -q -m edit >/dev/null && ${tdv} switch main -q >/dev/null`, tdv2);
  sh("git switch -q -c edit", git2);
  editOnePercent(git2, nTime, 7);
  sh("git add -A && git commit -q -m edit && git switch -q main", git2);
  // Icechunk: the import, then the same edit on a branch `edit`
  const ice2 = path.join(WORK, "ice2");
  if (ice.dir) {
    copyOf(iceRepo, "ice2");
    const edited = copyOf(data, "ice-edit-data");
    fs.writeFileSync(path.join(WORK, "ice-edit.txt"), editOnePercent(edited, nTime, 7).join("\n"));
    sh(iceCmd("commit", edited, ice2, path.join(WORK, "ice-edit.txt"), "edit"), WORK);
  }

  if (want("checkout")) {
    record("checkout of the first commit (full tree)", [
      measure("cp -r", `cp -r ${data} ../cp-co`, { setup: clearing("cp-co", () => data) }),
      // the same copy into a working copy emptied as tdv's and git's are: file creation right after
      // thousands of deletions costs far more on ext4 (it skips recently freed inodes)
      measure("cp -r into an emptied copy", `cp -r ${data}/. .`, { setup: () => emptyWorktree(copyOf(tdv2, "cpe-co"), ".tdv") }),
      measure("tdv checkout", `${tdv} checkout -q --force main >/dev/null`, { setup: () => emptyWorktree(copyOf(tdv2, "tdv-co"), ".tdv") }),
      measure("git checkout", "git checkout -q -f main", { setup: () => emptyWorktree(copyOf(git2, "git-co"), ".git") }),
    ]);
  }

  if (want("switch")) {
    let tdvOn = "main";
    let gitOn = "main";
    record("switch between two branches differing by 1%", [
      measure("tdv switch", `${tdv} switch -q $(cat .bench-target) >/dev/null`, {
        setup: () => {
          tdvOn = tdvOn === "main" ? "edit" : "main";
          fs.writeFileSync(path.join(tdv2, ".bench-target"), tdvOn);
          return tdv2;
        },
      }),
      measure("git switch", "git switch -q $(cat .bench-target)", {
        setup: () => {
          gitOn = gitOn === "main" ? "edit" : "main";
          fs.writeFileSync(path.join(git2, ".bench-target"), gitOn);
          return git2;
        },
      }),
    ]);
    for (const d of [tdv2, git2]) fs.rmSync(path.join(d, ".bench-target"), { force: true });
  }

  if (want("diff")) {
    const tdvHasDiff = /\n {2}diff\b/.test(spawnSync("node", [TDV, "--help"], { encoding: "utf8" }).stdout ?? "");
    if (tdvHasDiff) {
      record("diff --stat between the two commits", [
        measure("node -e 0", "node -e 0", { cwd: tdv2 }),
        measure(GIT_OBJECTS_LABEL, GIT_OBJECTS, { cwd: tdv2 }),
        measure("tdv diff --stat", `${tdv} diff --stat main edit >/dev/null`, { cwd: tdv2 }),
        measure("git diff --stat", "git diff --stat main edit >/dev/null", { cwd: git2 }),
        ...iceRows(measure("Icechunk Repository.diff", iceCmd("diff", ice2, "main", "edit"), { cwd: WORK })),
      ]);
      readingVerdict(medians(results.at(-1)), "tdv diff --stat");
    } else console.log("\ndiff --stat: skipped (this tdv has no diff command yet)");
  }

  if (want("read")) {
    // every chunk's bytes of the older commit, without a checkout; first, untimed, that all three
    // read the same bytes (a checksum over every key and its bytes' SHA-256)
    const reader = `node ${path.join(ROOT, "bench/read-revision.mjs")}`;
    const sums = [["the dataset's files", execFileSync("bash", ["-c", `${reader} --folder ${data}`], { encoding: "utf8", env: ENV })]];
    sums.push(["tdv", execFileSync("bash", ["-c", `${reader} main`], { cwd: tdv2, encoding: "utf8", env: ENV })]);
    if (ice.dir) sums.push(["Icechunk", execFileSync("bash", ["-c", iceCmd("read", ice2, "main")], { encoding: "utf8", env: ENV })]);
    const same = sums.every(([, out]) => out.trim() === sums[0][1].trim());
    record(
      "read every chunk of the older commit (no checkout)",
      [
        measure("cat of the dataset's files", "find era.zarr -type f -exec cat {} + >/dev/null", { cwd: data }),
        measure("tdv read session (library), verified", `${reader} main >/dev/null`, { cwd: tdv2 }),
        ...iceRows(measure("Icechunk readonly session, every key", `${iceCmd("read", ice2, "main")} >/dev/null`, { cwd: WORK })),
      ],
      `${sums[0][1].trim().split(",").slice(0, 2).join(",")}; ${same ? `the same bytes read by ${sums.map(([w]) => w).join(", ")}` : `BYTES DIFFER: ${sums.map(([w, o]) => `${w}: ${o.trim()}`).join(" / ")}`}`,
    );
    if (!same) process.exitCode = 1;
  }

  if (want("log")) {
    const tl = fresh("tdv-log");
    const gl = fresh("git-log");
    fs.mkdirSync(tl);
    fs.mkdirSync(gl);
    fs.writeFileSync(path.join(tl, "a.txt"), "x");
    fs.writeFileSync(path.join(gl, "a.txt"), "x");
    sh(`${tdv} init >/dev/null && ${tdv} add -A -q && node ${path.join(ROOT, "bench/commits.mjs")} 1000`, tl);
    sh(`${gitInit} && git add -A && git commit -q -m c0 && for i in $(seq 1 999); do git commit -q --allow-empty -m c$i; done`, gl);
    record("log of 1,000 commits", [
      measure("node -e 0", "node -e 0", { cwd: tl }),
      measure(GIT_OBJECTS_LABEL, GIT_OBJECTS, { cwd: tl }),
      measure("tdv log --oneline", `${tdv} log --oneline >/dev/null`, { cwd: tl }),
      measure("git log --oneline", "git log --oneline >/dev/null", { cwd: gl }),
    ]);
    readingVerdict(medians(results.at(-1)), "tdv log --oneline");
  }

  if (want("many-arrays")) {
    const src = fresh("many-src");
    fs.mkdirSync(src);
    manyArrays(src);
    record("commit of 2,000 small arrays", [
      measure("tdv add -A && tdv commit", `${tdv} init >/dev/null && ${tdv} add -A -q && ${tdv} commit -q -m many >/dev/null`, { setup: () => copyOf(src, "tdv-many") }),
      measure("git add -A && git commit", `${gitInit} && git add -A && git commit -q -m many`, { setup: () => copyOf(src, "git-many") }),
    ]);
  }

  if (want("ten-thousand-arrays")) {
    const N = 10_000;
    const src = fresh("many10k-src");
    fs.mkdirSync(src);
    manyArrays(src, N);
    const first = [measure("tdv init+add+commit", `${tdv} init >/dev/null && ${tdv} add -A -q && ${tdv} commit -q -m many >/dev/null`, { setup: () => copyOf(src, "tdv-10k") })];
    if (ice.dir) first.push(measure("Icechunk JS set+commit", iceCmd("import", src, path.join(WORK, "ice-10k")), { setup: clearing("ice-10k", () => src) }));
    record(`first commit of ${N.toLocaleString("en")} small arrays`, first);
    // a 1% change among them: every 100th array's chunk, committed in place (tdv finds it; Icechunk is
    // handed the keys, its repository reset to the import by a copy)
    const tdv10k = path.join(WORK, "tdv-10k");
    sh(`${tdv} tag -f base >/dev/null && ${tdv} status >/dev/null`, tdv10k);
    const iceEdited = copyOf(src, "ice-10k-edit");
    fs.writeFileSync(path.join(WORK, "ice-10k-keys.txt"), editManyArrays(iceEdited, N, 0).join("\n"));
    if (ice.dir) copyOf(path.join(WORK, "ice-10k"), "ice-10k-base");
    const change = [
      measure("tdv commit -a", `${tdv} commit -a -q -m edit >/dev/null`, {
        setup: (i) => {
          editManyArrays(tdv10k, N, i + 1);
          return tdv10k;
        },
      }),
    ];
    if (ice.dir) change.push(measure("Icechunk set the changed keys + commit", iceCmd("commit", iceEdited, path.join(WORK, "ice-10k"), path.join(WORK, "ice-10k-keys.txt")), { setup: () => path.dirname(copyOf(path.join(WORK, "ice-10k-base"), "ice-10k")) }));
    record(`commit of a 1% change among ${N.toLocaleString("en")} arrays (${N / 100} chunks)`, change);
    const f = results.at(-2).rows[0].median;
    const c = results.at(-1).rows[0].median;
    console.log(`  targets: first commit ≤ 10 s: ${f.toFixed(2)} s, ${f <= 10 ? "met" : "no"}; the 1% change ≤ 1 s: ${c.toFixed(2)} s, ${c <= 1 ? "met" : "no"}`);
  }

  if (want("start")) {
    record("CLI start", [
      measure("node -e 0", "node -e 0", { cwd: WORK }),
      measure("tdv --version", `${tdv} --version >/dev/null`, { cwd: WORK }),
    ]);
    const m = medians(results.at(-1));
    console.log(`  target --version ≤ 1.3 × node -e 0 = ${(1.3 * m["node -e 0"]).toFixed(3)} s: ${(m["tdv --version"] / m["node -e 0"]).toFixed(2)}×, ${metOrNo(m["tdv --version"] <= 1.3 * m["node -e 0"])}`);
    // --compare LABEL=PATH,…: other builds of the command line (their dist/bin/tdv.js) on the same
    // repositories, rows interleaved with this build's
    if (COMPARE.length > 0) {
      const logRepo = path.join(WORK, "tdv-log");
      if (!fs.existsSync(path.join(logRepo, ".tdv"))) {
        fs.rmSync(logRepo, { recursive: true, force: true });
        fs.mkdirSync(logRepo);
        fs.writeFileSync(path.join(logRepo, "a.txt"), "x");
        sh(`${tdv} init >/dev/null && ${tdv} add -A -q && node ${path.join(ROOT, "bench/commits.mjs")} 1000`, logRepo);
      }
      const builds = [{ label: "this build", bin: tdv }, ...COMPARE];
      for (const [op, args, cwd] of [
        ["start: --version", "--version", WORK],
        ["start: clean status", "status", tdvRepo],
        ["start: diff --stat between the two commits", "diff --stat main edit", tdv2],
        ["start: log --oneline of 1,000 commits", "log --oneline", logRepo],
      ]) {
        record(op, builds.map((b) => measure(`tdv ${args} (${b.label})`, `${b.bin} ${args} >/dev/null`, { cwd })));
      }
    }
  }

  if (want("remote")) {
    // push/clone throughput against an S3-compatible server on 127.0.0.1 vs plain parallel requests
    console.log("\npush and clone through S3 (bench/remote.mjs)");
    const r = spawnSync("node", [path.join(ROOT, "bench/remote.mjs"), "--rounds", String(Math.max(1, Math.min(RUNS, 2)))], { encoding: "utf8", env: ENV, maxBuffer: 1 << 26 });
    process.stdout.write((r.stdout ?? "").replace(/^/gm, "  "));
    if (r.status !== 0) console.log(`  skipped: bench/remote.mjs exited ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" / ")}`);
  }

  // repository size: a repository made for it with just the two commits (the import and the edit;
  // the timed runs above leave unreachable history behind, which their reflogs keep)
  const sizeTdv = copyOf(data, "size-tdv");
  const sizeGit = copyOf(data, "size-git");
  sh(`${tdv} init >/dev/null && ${tdv} add -A -q && ${tdv} commit -q -m import >/dev/null && ${tdv} switch -c edit -q >/dev/null`, sizeTdv);
  sh(`${gitInit} && git add -A && git commit -q -m import && git switch -q -c edit`, sizeGit);
  editOnePercent(sizeTdv, nTime, 7);
  editOnePercent(sizeGit, nTime, 7);
  sh(`${tdv} commit -a -q -m edit >/dev/null`, sizeTdv);
  sh("git add -A && git commit -q -m edit && git gc -q", sizeGit);
  const edit = JSON.parse(execFileSync("node", [TDV, "show", "edit", "--json"], { cwd: sizeTdv, encoding: "utf8", maxBuffer: 1 << 28 }));
  const editAdded = (edit.changes?.arrays ?? []).reduce((n, a) => n + (a.bytesAdded ?? 0), 0);
  const sizes = {
    data: dataBytes,
    dataHeld: dataBytes + editAdded,
    tdvRepoAfterTwoCommits: du(path.join(sizeTdv, ".tdv")),
    gitRepoAfterTwoCommits: du(path.join(sizeGit, ".git")),
    icechunkRepoAfterTwoCommits: ice.dir ? du(ice2) : null,
  };
  console.log(
    `\nbytes on disk: data ${(sizes.data / 1e6).toFixed(1)} MB, +${(editAdded / 1e6).toFixed(1)} MB the edit added: ${(sizes.dataHeld / 1e6).toFixed(1)} MB held by the two commits; ` +
      `.tdv ${(sizes.tdvRepoAfterTwoCommits / 1e6).toFixed(1)} MB (${(sizes.tdvRepoAfterTwoCommits / sizes.dataHeld).toFixed(3)}× what it holds), ` +
      `.git (git gc) ${(sizes.gitRepoAfterTwoCommits / 1e6).toFixed(1)} MB (${(sizes.gitRepoAfterTwoCommits / sizes.dataHeld).toFixed(3)}×)` +
      (sizes.icechunkRepoAfterTwoCommits ? `, Icechunk ${(sizes.icechunkRepoAfterTwoCommits / 1e6).toFixed(1)} MB (${(sizes.icechunkRepoAfterTwoCommits / sizes.dataHeld).toFixed(3)}×)` : ""),
  );

  const file = path.join(OUT, `results-${sizeName}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ size: sizeName, ...size, runs: RUNS, node: process.version, cpus: os.cpus().length, sizes, results }, null, 2));
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
}

/**
 * --size huge: one array of 1,000,000 chunk files of 512 B (issue 23's scale targets). Its own
 * set of rows, tdv against the floors (Node's start, a stat walk of the tree); the peak memory of
 * every tdv command against 500 MB. The first commit and the copy it starts from run once.
 */
function huge(data, nTime) {
  const peaks = [];
  const once = (label, cmd, cwd) => {
    const r = timeOnce(cmd, cwd);
    console.log(`  ${label.padEnd(36)}  ${r.secs.toFixed(2)} s${r.cpuSecs !== null ? `  cpu ${r.cpuSecs.toFixed(2)} s` : ""}${r.rssMB ? `  peak ${r.rssMB} MB` : ""}`);
    results.push({ op: label, rows: [{ label, cmd, median: r.secs, runs: [r.secs], peakRssMB: r.rssMB, cpuMean: r.cpuSecs }] });
    if (label.startsWith("tdv")) peaks.push([label, r.rssMB]);
    return r;
  };
  const peaksOf = () => {
    for (const row of results.at(-1).rows) if (row.label.startsWith("tdv")) peaks.push([row.label, row.peakRssMB]);
  };
  const verdict = metOrNo;
  console.log(`
huge: ${size.chunks.toLocaleString("en")} chunk files in one array (${nTime} × ${LAT} × ${LON} chunks), run once each`);
  const repo = fresh("huge-tdv");
  once("cp -r of the dataset, then sync", `cp -r ${data} ${repo} && sync`, WORK);
  once("tdv init", `${tdv} init >/dev/null`, repo);
  const add = once("tdv add -A", `${tdv} add -A -q >/dev/null`, repo);
  const commit = once("tdv commit", `${tdv} commit -q -m import >/dev/null`, repo);
  console.log(`  first commit (add + commit): ${(add.secs + commit.secs).toFixed(2)} s`);
  // the repository's objects beside the chunks: trees, manifest shards, commits (Git objects)
  const gitBytes = du(path.join(repo, ".tdv/git"));
  const chunkBytes = du(path.join(repo, ".tdv/chunks"));
  console.log(`  manifest bytes per chunk: ${(gitBytes / size.chunks).toFixed(1)} B (.tdv/git ${(gitBytes / 1e6).toFixed(1)} MB for ${size.chunks.toLocaleString("en")} chunks; the chunk objects ${(chunkBytes / 1e6).toFixed(0)} MB on disk)`);
  results.push({ op: "manifest bytes per chunk", value: gitBytes / size.chunks, gitBytes, chunkObjectBytes: chunkBytes });
  sh(`${tdv} tag -f base >/dev/null && ${tdv} status >/dev/null`, repo);

  let statusMedian = null;
  if (ONLY.length === 0 || ONLY.includes("huge-status")) {
    record(`clean status, ${size.chunks.toLocaleString("en")} chunk files`, [
      measure("node -e 0", "node -e 0", { cwd: repo }),
      measure(STAT_WALK_LABEL, STAT_WALK, { cwd: repo }),
      measure(NODE_WALK_LABEL, NODE_WALK, { cwd: repo }),
      measure("tdv status", `${tdv} status >/dev/null`, { cwd: repo }),
    ]);
    const [node, walk, nodeWalk, status] = results.at(-1).rows.map((r) => r.median);
    statusMedian = status;
    peaksOf();
    statusVerdict(node, walk, nodeWalk, status);
  }
  if (ONLY.length === 0 || ONLY.includes("huge-commit")) {
    record(`commit -a of 1,000 changed chunks among ${size.chunks.toLocaleString("en")}`, [
      measure("tdv commit -a", `${tdv} commit -a -q -m edit >/dev/null`, {
        setup: (i) => {
          editChunks(repo, 1000, i);
          return repo;
        },
      }),
    ]);
    const c = results.at(-1).rows[0].median;
    peaksOf();
    if (statusMedian !== null) console.log(`  target commit -a ≤ 2 × status (${(2 * statusMedian).toFixed(3)} s): ${(c / statusMedian).toFixed(2)}×, ${verdict(c <= 2 * statusMedian)}`);
  }
  if (ONLY.length === 0 || ONLY.includes("huge-one-percent")) {
    const n = size.chunks / 100;
    record(`commit -a of 1% (${n.toLocaleString("en")} chunks) of the one array`, [
      measure("tdv commit -a", `${tdv} commit -a -q -m one-percent >/dev/null`, {
        setup: (i) => {
          editChunks(repo, n, 100 + i);
          return repo;
        },
      }),
    ]);
    peaksOf();
    record(`diff --stat of that 1% (HEAD~1 → HEAD)`, [measure("tdv diff --stat", `${tdv} diff --stat HEAD~1 HEAD >/dev/null`, { cwd: repo })]);
    peaksOf();
  }
  const worst = peaks.filter(([, mb]) => mb !== null).sort((a, b) => b[1] - a[1])[0];
  if (worst) console.log(`
  peak memory of every tdv command ≤ 500 MB: largest ${worst[1]} MB (${worst[0]}), ${verdict(worst[1] <= 500)}`);
  const file = path.join(OUT, `results-${sizeName}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ size: sizeName, ...size, runs: RUNS, node: process.version, cpus: os.cpus().length, peaks, results }, null, 2));
  console.log(`
wrote ${path.relative(ROOT, file)}`);
}

function walkFiles(dir, rel = "") {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (e.name === ".tdv" || e.name === ".git") continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walkFiles(dir, r));
    else out.push(r);
  }
  return out;
}

function emptyWorktree(dir, keep) {
  for (const n of fs.readdirSync(dir)) if (n !== keep) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  // make the repository think its working files are gone (an index matching nothing)
  return dir;
}

main();
emptyTrash();
