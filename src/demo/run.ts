/**
 * `tdv demo`: tdv's main job shown end to end on the sample climate dataset,
 * through the public API only, as a narrative of the commands a user would
 * type and what they report:
 *
 *   a pipeline writes climate.zarr → init → add -A → commit → switch -c
 *   heatwave-fix → a second pipeline run rewrites a region → status →
 *   commit -a → switch main (byte-identical to the first write, verified) →
 *   log, show, and what differs between the branches.
 *
 * It returns the facts as data (DemoResult); `log` receives the narrative.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import {
  add,
  commit,
  historyGraph,
  listBranches,
  log as logCommits,
  ls,
  merge,
  Repository,
  show,
  status,
  switchBranch,
  UsageError,
  type ArrayChanges,
  type ArrayInfo,
  type GitOid,
  type LogEntry,
  type RepoOptions,
  type Person,
} from "../index.js";
import { formatBytes } from "../format/display.js";
import {
  dayOf,
  editRegion,
  hashTree,
  HEATWAVE,
  writeClimateDataset,
  type ClimateDatasetResult,
  type RegionEdit,
  type RegionEditResult,
} from "./dataset.js";

export const DEFAULT_DEMO_DIR = "./tdv-demo";
export const DEMO_STORE = "climate.zarr";
export const DEMO_BRANCH = "heatwave-fix";
export const IMPORT_MESSAGE = "Import ERA-like climate sample";
export const FIX_MESSAGE = "Correct heatwave region";
export const ARCTIC_MESSAGE = "Recalibrate Arctic stations";

/** The second team's edit: -1.2 K in the Arctic (64-84°N, 10-50°E), July-December 2021; it shares chunk c/3/2/3 with HEATWAVE. */
export const ARCTIC: RegionEdit = { array: "temperature", time: [18, 24], lat: [64, 84], lon: [10, 50], delta: -1.2 };

export interface DemoOptions {
  /** the folder to create the demo repository in; must be new or empty */
  dir: string;
  /** receives the narrative, one line at a time */
  log: (line: string) => void;
  /** seed of the sample dataset */
  seed?: number;
  /**
   * How to run tdv when no `tdv` is on PATH (`["node", "/path/to/tdv.js"]`):
   * the "Try next" commands then start by defining `tdv` for the shell.
   */
  runAs?: readonly string[];
  /** how the demo repository behaves (durability, waits) */
  repoOptions?: RepoOptions;
}

export interface DemoResult {
  /** the repository's working tree (absolute) */
  dir: string;
  /** the dataset's path inside it */
  store: string;
  dataset: ClimateDatasetResult;
  /** the current branch at the end (the demo switches back) */
  branch: string;
  branches: string[];
  commits: { import: GitOid; fix: GitOid; recalibration: GitOid; merge: GitOid };
  edit: RegionEditResult;
  /** what differs between main and the fix branch */
  diff: {
    arrays: ArrayChanges[];
    /** chunk files changed, and how many the edited array has */
    chunksChanged: number;
    chunksTotal: number;
    /** bytes of the changed chunks on the fix branch */
    bytesChanged: number;
    /** bytes both branches share */
    bytesShared: number;
  };
  /** main's files after switching back are byte for byte those first written */
  mainIdentical: boolean;
  /** files that differ when mainIdentical is false */
  mismatched: string[];
  /** the merge of the fix into main after a second edit on main (steps 9 and 10) */
  merge: {
    arctic: RegionEditResult;
    /** chunk keys both edits rewrote */
    sharedChunks: string[];
    chunksMerged: number;
    parents: GitOid[];
    /** the merged temperature is the original with both corrections, value for value */
    verified: boolean;
  };
}

/** Run the demo in `dir`. Refuses a folder that exists and is not empty. */
export async function runDemo({ dir, log, seed, runAs, repoOptions = {} }: DemoOptions): Promise<DemoResult> {
  const root = path.resolve(dir);
  await assertFreshFolder(dir, root);
  const storeDir = path.join(root, DEMO_STORE);
  const say = (line = "") => log(line);
  const cmd = (line: string) => log(`$ ${line}`);
  const out = (line: string) => log(`  ${line}`);

  say(`tdv demo: version control for a Zarr dataset, in ${shortPath(root)}`);
  say();

  // ---- 1. a pipeline writes a dataset
  say("1. A pipeline writes a Zarr v3 dataset (zarrita, 2 years of monthly means on a 4° grid).");
  const dataset = await writeClimateDataset(storeDir, seed === undefined ? {} : { seed });
  const original = await hashTree(storeDir);
  out(`wrote ${DEMO_STORE}: ${plural(dataset.arrays.length, "array")}, ${plural(dataset.files, "file")}, ${formatBytes(dataset.bytes)}`);
  say();

  // ---- 2. version it
  say("2. Put the folder under version control.");
  cmd(`cd ${shellQuote(shortPath(root))}`);
  cmd("tdv init");
  const { repo } = await Repository.init({ dir: root, ...repoOptions });
  out(`Initialized empty tdv repository in ${shortPath(repo.tdvDir)}`);
  cmd("tdv add -A");
  const staged = await add(repo, { all: true });
  out(`staged ${plural(staged.added.length, "file")} (${formatBytes(staged.bytes)}) in ${DEMO_STORE}`);
  cmd(`tdv commit -m "${IMPORT_MESSAGE}"`);
  const first = await commit(repo, { message: IMPORT_MESSAGE, trailers: { "Tdv-Command": "tdv demo" } });
  out(`[${first.branch?.replace("refs/heads/", "") ?? "HEAD"} (root-commit) ${short(first.oid)}] ${IMPORT_MESSAGE}`);
  const chunksAdded = first.changes.arrays.reduce((n, a) => n + a.chunks.added, 0);
  out(` ${plural(first.changes.arrays.length, "array")} added, ${plural(chunksAdded, "chunk")}, ${formatBytes(staged.bytes)}`);
  cmd("tdv ls");
  const arraysMain = await ls(repo, {});
  for (const line of formatLs(arraysMain)) out(line);
  say();

  // ---- 3. branch
  say("3. Branch for a fix. A branch shares every chunk with main: nothing is copied.");
  cmd(`tdv switch -c ${DEMO_BRANCH}`);
  const sw = await switchBranch(repo, { name: DEMO_BRANCH, create: true });
  out(`Switched to a new branch '${DEMO_BRANCH}'`);
  out(`(${plural(sw.written, "file")} written: the working copy already holds main's bytes)`);
  say();

  // ---- 4. a pipeline run changes a region
  const [t0, t1] = HEATWAVE.time;
  say(
    `4. A pipeline run corrects the ${monthRange(t0, t1 - 1)} heatwave over Europe ` +
      `(${formatLat(HEATWAVE.lat[0])}-${formatLat(HEATWAVE.lat[1])}, ${formatLon(HEATWAVE.lon[0])}-${formatLon(HEATWAVE.lon[1])}): ` +
      `temperature ${HEATWAVE.delta >= 0 ? "+" : ""}${HEATWAVE.delta} K, written in place with zarrita.`,
  );
  const edit = await editRegion(storeDir, HEATWAVE);
  out(`${plural(edit.elements, "value")} changed in ${DEMO_STORE}/${edit.array} (the ${plural(edit.chunks.length, "chunk")} that hold them were rewritten)`);
  cmd("tdv status");
  const st = await status(repo);
  out(`On branch ${st.branch?.replace("refs/heads/", "") ?? "(detached)"}`);
  if (st.clean) out("nothing to commit, working tree clean");
  else {
    out("Changes not staged for commit:");
    for (const a of st.grouped.unstaged.arrays) out(`  ${"modified".padEnd(13)} ${a.path}  ${formatChunkCounts(a)}`);
    for (const f of st.grouped.unstaged.files) out(`  ${f.change}:  ${f.path}`);
  }
  say();

  // ---- 5. commit the fix
  say("5. Commit the fix on its branch.");
  cmd(`tdv commit -a -m "${FIX_MESSAGE}"`);
  const fix = await commit(repo, { message: FIX_MESSAGE, all: true, trailers: { "Tdv-Command": "tdv demo" } });
  out(`[${DEMO_BRANCH} ${short(fix.oid)}] ${FIX_MESSAGE}`);
  for (const a of fix.changes.arrays) out(`  ${a.path}: ${formatChunkCounts(a)}`);
  say();

  // ---- 6. back to main: the original bytes
  say("6. Back on main, the dataset is exactly what the first pipeline run wrote.");
  cmd("tdv switch main");
  const back = await switchBranch(repo, { name: "main" });
  out("Switched to branch 'main'");
  out(`(${plural(back.written, "file")} written, ${back.deleted} removed, ${formatBytes(back.bytes)})`);
  const now = await hashTree(storeDir);
  const mismatched = compareHashes(original, now);
  const mainIdentical = mismatched.length === 0;
  if (mainIdentical) out(`verified: all ${original.size} files of ${DEMO_STORE} are byte-identical to the original write (SHA-256)`);
  else out(`MISMATCH: ${mismatched.length} files differ from the original write: ${mismatched.slice(0, 5).join(", ")}`);
  say();

  // ---- 7. history
  say("7. History and what the fix changed.");
  cmd(`tdv log --oneline ${DEMO_BRANCH}`);
  const history = await logCommits(repo, { rev: DEMO_BRANCH });
  const current = "main";
  for (const e of history) out(formatOneline(e, current));
  cmd(`tdv show ${DEMO_BRANCH}`);
  const shown = await show(repo, { rev: DEMO_BRANCH });
  out(`commit ${shown.commit.oid} (${DEMO_BRANCH})`);
  out(`Author: ${shown.commit.author.name} <${shown.commit.author.email}>`);
  out(`Date:   ${formatDate(shown.commit.author)}`);
  out("");
  for (const line of shown.commit.message.trimEnd().split("\n")) out(`    ${line}`);
  out("");
  for (const a of shown.changes.arrays) out(`  ${a.path}: ${formatChunkCounts(a)}`);
  say();

  // ---- 8. what differs between the branches
  const fixParent = shown.commit.parents[0];
  if (fixParent !== first.oid) throw new Error(`demo: ${DEMO_BRANCH} should sit directly on main's commit`);
  const arraysFix = await ls(repo, { rev: DEMO_BRANCH });
  const edited = arraysFix.find((a) => a.path === `${DEMO_STORE}/${edit.array}`);
  const chunksChanged = shown.changes.arrays.reduce((n, a) => n + a.chunks.added + a.chunks.modified + a.chunks.deleted, 0);
  const bytesChanged = shown.changes.arrays.reduce((n, a) => n + a.bytesAdded, 0);
  const bytesRemoved = shown.changes.arrays.reduce((n, a) => n + a.bytesRemoved, 0);
  const totalMain = sumBytes(arraysMain);
  const bytesShared = totalMain - bytesRemoved;
  say(`8. main and ${DEMO_BRANCH} differ in ${chunksChanged} of ${edited?.chunks ?? "?"} chunks of ${edited?.path ?? edit.array}:`);
  out(`the ${edit.chunks.length} chunks covering the corrected box (${edit.chunks.join(", ")}), ${formatBytes(bytesChanged)}.`);
  out(
    `Everything else, ${formatBytes(bytesShared)} of chunks, is shared: the chunks of both versions ` +
      `take ${formatBytes(totalMain + bytesChanged)} in the repository, not ${formatBytes(2 * totalMain)}.`,
  );
  say();

  // ---- 9. meanwhile on main, another team edits the same chunks elsewhere
  const before = await readTemperature(storeDir);
  say(
    `9. Meanwhile, on main, a second team recalibrates the Arctic stations (${formatLat(ARCTIC.lat[0])}-${formatLat(ARCTIC.lat[1])}, ` +
      `${formatLon(ARCTIC.lon[0])}-${formatLon(ARCTIC.lon[1])}, ${monthRange(ARCTIC.time[0], ARCTIC.time[1] - 1)}): temperature ${ARCTIC.delta} K.`,
  );
  const arctic = await editRegion(storeDir, ARCTIC);
  const shared = arctic.chunks.filter((k) => edit.chunks.includes(k));
  const n = arctic.chunks.length;
  out(`${plural(arctic.elements, "value")} changed in ${n === 1 ? "chunk" : `${n} chunks:`} ${arctic.chunks.join(", ")}; the heatwave fix rewrote ${shared.join(", ")} too`);
  cmd(`tdv commit -a -m "${ARCTIC_MESSAGE}"`);
  const recal = await commit(repo, { message: ARCTIC_MESSAGE, all: true, trailers: { "Tdv-Command": "tdv demo" } });
  out(`[main ${short(recal.oid)}] ${ARCTIC_MESSAGE}`);
  for (const a of recal.changes.arrays) out(`  ${a.path}: ${formatChunkCounts(a)}`);
  say();

  // ---- 10. merge: the shared chunks merge element by element
  say(`10. Merge the fix into main. Both branches rewrote ${shared.join(", ")}, in different regions: tdv merges it element by element.`);
  cmd(`tdv merge ${DEMO_BRANCH}`);
  const merged = await merge(repo, { rev: DEMO_BRANCH, trailers: { "Tdv-Command": "tdv demo" } });
  if (merged.kind !== "merged" || !merged.commit) throw new Error(`demo: merging ${DEMO_BRANCH} should make a merge commit, not '${merged.kind}'`);
  for (const a of merged.changes.arrays) out(`  ${a.path}: ${formatChunkCounts(a)}`);
  out(`  ${merged.summary.chunksMerged} chunk${merged.summary.chunksMerged === 1 ? "" : "s"} changed on both sides, merged element by element`);
  out(`[main ${short(merged.commit.oid)}] Merge made by tdv (2 parents)`);
  const after = await readTemperature(storeDir);
  const mergeVerified = checkBothEdits(before, after, [
    { box: edit.box, delta: HEATWAVE.delta },
    { box: arctic.box, delta: ARCTIC.delta },
  ]);
  if (mergeVerified) out(`verified: every value of temperature is the original one, with both corrections applied (${edit.elements + arctic.elements} values changed)`);
  else out("MISMATCH: the merged temperature is not the original with both corrections");
  cmd("tdv log --graph --oneline");
  const graphLog = await logCommits(repo, { rev: "main" });
  for (const row of historyGraph(graphLog)) {
    out(row.kind === "edge" ? row.graph : `${row.graph} ${formatOneline(graphLog[row.index] as LogEntry, current)}`);
  }
  say();

  if (runAs) {
    say("Try next (`tdv` is not on your PATH: `npm link` in tdv's folder puts it there; the first line defines it for this shell):");
  } else say("Try next:");
  for (const line of [
    ...(runAs ? [`tdv() { ${runAs.map(shellQuote).join(" ")} "$@"; }`] : []),
    `cd ${shellQuote(shortPath(root))}`,
    "tdv log --graph --oneline",
    `tdv show ${DEMO_BRANCH}`,
    "tdv ls",
    `tdv switch ${DEMO_BRANCH}`,
    "tdv status",
    `tdv cat main ${DEMO_STORE}/temperature/zarr.json`,
  ]) {
    out(`$ ${line}`);
  }

  const branches = (await listBranches(repo)).map((b) => b.name);
  return {
    dir: root,
    store: DEMO_STORE,
    dataset,
    branch: current,
    branches,
    commits: { import: first.oid, fix: fix.oid, recalibration: recal.oid, merge: merged.commit.oid },
    edit,
    diff: { arrays: shown.changes.arrays, chunksChanged, chunksTotal: edited?.chunks ?? 0, bytesChanged, bytesShared },
    mainIdentical,
    mismatched,
    merge: { arctic, sharedChunks: shared, chunksMerged: merged.summary.chunksMerged, parents: merged.commit.parents, verified: mergeVerified },
  };
}

// ---- checks --------------------------------------------------------------------

/** The temperature array's values, read with zarrita. */
async function readTemperature(storeDir: string): Promise<{ data: Float32Array; shape: number[] }> {
  const arr = await zarr.open.v3(zarr.root(new FileSystemStore(storeDir)).resolve("temperature"), { kind: "array" });
  const got = (await zarr.get(arr)) as { data: Float32Array; shape: number[] };
  return { data: got.data, shape: got.shape };
}

/** `after` is `before` plus each edit's delta inside its box (float32 arithmetic), and equal elsewhere. */
function checkBothEdits(before: { data: Float32Array; shape: number[] }, after: { data: Float32Array }, edits: { box: [number, number][]; delta: number }[]): boolean {
  const [, ny, nx] = before.shape as [number, number, number];
  const expected = Float32Array.from(before.data);
  for (const { box, delta } of edits) {
    const [[t0, t1], [y0, y1], [x0, x1]] = box as [[number, number], [number, number], [number, number]];
    for (let t = t0; t < t1; t++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) expected[(t * ny + y) * nx + x]! += delta;
  }
  return expected.length === after.data.length && expected.every((v, i) => v === after.data[i]);
}

// ---- checks (folders) --------------------------------------------------------------------

async function assertFreshFolder(given: string, root: string): Promise<void> {
  const st = await fsp.stat(root).catch(() => null);
  if (!st) return;
  if (!st.isDirectory()) {
    throw new UsageError(`${given} exists and is not a folder`, { hint: "give `tdv demo` a new folder, e.g. `tdv demo ./tdv-demo-2`" });
  }
  if ((await fsp.readdir(root)).length > 0) {
    throw new UsageError(`${given} is not empty: the demo writes a new repository and dataset there`, {
      hint: `give a new or empty folder (\`tdv demo ${shellQuote(`${given.replace(/[\\/]+$/, "")}-2`)}\`), or remove ${given} first`,
    });
  }
}

function compareHashes(a: ReadonlyMap<string, { sha256: string }>, b: ReadonlyMap<string, { sha256: string }>): string[] {
  const out: string[] = [];
  for (const [p, h] of a) if (b.get(p)?.sha256 !== h.sha256) out.push(p);
  for (const p of b.keys()) if (!a.has(p)) out.push(p);
  return out.sort();
}

// ---- formatting ------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function monthOf(t: number): { month: string; year: number } {
  const d = new Date(Date.UTC(2020, 0, 1) + dayOf(t) * 86_400_000);
  return { month: MONTHS[d.getUTCMonth()] ?? "?", year: d.getUTCFullYear() };
}

/** "Jun-Aug 2021", or "Dec 2020-Feb 2021" across a year. */
function monthRange(first: number, last: number): string {
  const a = monthOf(first);
  const b = monthOf(last);
  if (first === last) return `${a.month} ${a.year}`;
  return a.year === b.year ? `${a.month}-${b.month} ${b.year}` : `${a.month} ${a.year}-${b.month} ${b.year}`;
}

const formatLat = (x: number): string => `${Math.abs(x)}°${x < 0 ? "S" : "N"}`;
const formatLon = (x: number): string => `${Math.abs(x)}°${x < 0 ? "W" : "E"}`;

const short = (oid: string): string => oid.slice(0, 7);
const plural = (n: number, word: string): string => `${n} ${n === 1 ? word : `${word}s`}`;

/** A path relative to the current folder when inside it (./x), else absolute. */
function shortPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  if (rel === "") return ".";
  return rel.startsWith("..") || path.isAbsolute(rel) ? p : `.${path.sep}${rel}`;
}

function formatChunkCounts(a: ArrayChanges): string {
  const counts: string[] = [];
  if (a.chunks.modified) counts.push(`${a.chunks.modified} modified`);
  if (a.chunks.added) counts.push(`${a.chunks.added} added`);
  if (a.chunks.deleted) counts.push(`${a.chunks.deleted} deleted`);
  const parts: string[] = [];
  if (counts.length) parts.push(`chunks: ${counts.join(", ")}${a.bytesAdded > 0 ? ` (${formatBytes(a.bytesAdded)})` : ""}`);
  if (a.metadata.length) parts.push(`metadata: ${a.metadata.map((m) => path.posix.basename(m.path)).join(", ")}`);
  return parts.join("; ") || "no chunk changes";
}

function formatLs(arrays: readonly ArrayInfo[]): string[] {
  const rows = arrays.map((a) => [
    a.path,
    a.dtype,
    a.shape.join("×"),
    `chunks ${a.chunkShape.join("×")}`,
    `${a.chunks}/${a.gridChunks}`,
    formatBytes(a.bytes),
  ]);
  const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  "));
}

function sumBytes(arrays: readonly ArrayInfo[]): number {
  return arrays.reduce((n, a) => n + a.bytes, 0);
}

/** `abc1234 (HEAD -> main, v1) subject`, as git log --oneline --decorate. */
function formatOneline(e: LogEntry, current: string): string {
  const refs = e.refs.filter((r) => r !== "HEAD" && r !== current);
  const head = e.refs.includes("HEAD") ? (e.refs.includes(current) ? [`HEAD -> ${current}`] : ["HEAD"]) : e.refs.includes(current) ? [current] : [];
  const deco = [...head, ...refs];
  const subject = e.message.split("\n")[0] ?? "";
  return `${short(e.oid)}${deco.length ? ` (${deco.join(", ")})` : ""} ${subject}`;
}

/** Git's date format, "Tue Mar 4 12:30:05 2025 +0100", in the person's own time zone. */
function formatDate(p: Person): string {
  const d = new Date((p.timestamp + p.tzOffset * 60) * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const two = (n: number) => String(n).padStart(2, "0");
  const abs = Math.abs(p.tzOffset);
  const zone = `${p.tzOffset < 0 ? "-" : "+"}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${days[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${time} ${d.getUTCFullYear()} ${zone}`;
}

/** A word a POSIX shell reads back as is: single-quoted when it holds anything but safe characters. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
