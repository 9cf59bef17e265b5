/**
 * Everything the commands share for talking to the user: loading the library
 * lazily (so `tdv --help` stays fast), byte and count formatting, JSON,
 * tables, change summaries and a TTY-aware progress line on stderr.
 *
 * Only type imports from the library here: the runtime module is loaded by
 * `loadLib()` inside actions.
 */
import { InvalidArgumentError } from "commander";
import type { ArrayChanges, Change, CommitObject, GroupedChanges, Person, Repository } from "../src/index.js";
// the one runtime import from the library: a small pure module, so that every line printed is escaped
// (one of the library's public entries, test/architecture.test.ts; src/index.ts would load it all at start)
import { escapeControl, formatBytes, quotePath } from "../src/format/display.js";
import { repoOptions } from "./env.js";

export { escapeControl, formatBytes, quotePath };

export type Lib = typeof import("../src/index.js");

let libPromise: Promise<Lib> | undefined;

/** The tdv library, imported on first use (isomorphic-git and zarrita load only then). */
export function loadLib(): Promise<Lib> {
  libPromise ??= import("../src/index.js");
  return libPromise;
}

/** Open the repository holding the current directory (searching upward). */
export async function openRepo(): Promise<{ lib: Lib; repo: Repo }> {
  const lib = await loadLib();
  const repo = await lib.openRepository({ dir: process.cwd(), ...repoOptions() });
  // waits (for gc) and recoveries (a killed command's lock replaced) are told on stderr
  repo.onNotice = (message) => void process.stderr.write(`note: ${message}\n`);
  return { lib, repo };
}

/**
 * The library and, when there is one, the repository for a command given
 * `--remote NAME|URL`: a remote's name needs the repository that names it
 * (opening it fails with the usual error); a URL works anywhere.
 */
export async function remoteContext(remote: string): Promise<{ lib: Lib; repo: Repo | null }> {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(remote) || remote.includes("/") || remote.startsWith(".");
  if (!isUrl) return openRepo();
  const lib = await loadLib();
  const repo = await openRepo().then(
    (r) => r.repo,
    () => null,
  );
  return { lib, repo };
}

/**
 * Wrap a command's action: it returns an exit code (or nothing for 0) and this
 * sets `process.exitCode`; errors propagate to `main`, which maps them.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: an action returns an exit code or nothing (most are Promise<void>)
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (typeof code === "number" && code !== 0) process.exitCode = code;
  };
}

/** Commander argument parser for a count (`-n 3`): a bad value is a usage error (exit 2). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return n;
}

/** What a command that runs in a repository gets first: the library and the open repository. */
export interface RepoContext {
  lib: Lib;
  repo: Repo;
}

/**
 * The setup declaration of a command that needs a repository (all but init):
 * the action opens it from the current folder, searching upward (a
 * NotARepositoryError otherwise), and passes it to `fn` before commander's arguments.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: as for action(): an exit code or nothing
export function inRepo<A extends unknown[]>(fn: (ctx: RepoContext, ...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return action(async (...args: A) => fn(await openRepo(), ...args));
}

// ---- plain output -------------------------------------------------------------
//
// Every line of human output goes through out() or err(), which escape control
// characters (C0 but line feed and tab, DEL, C1): a file, branch or commit
// message from a hostile dataset cannot move the cursor, clear or retitle the
// terminal. Paths are also quoted where they are printed (quotePath), so that
// a name with a line feed or an escape reads as one name.

export function out(line = ""): void {
  process.stdout.write(`${escapeControl(line)}\n`);
}

export function err(line = ""): void {
  process.stderr.write(`${escapeControl(line)}\n`);
}

export function warn(message: string): void {
  err(`warning: ${message}`);
}

/**
 * One JSON document on stdout, 2-space indent; bigints become strings.
 * JSON.stringify escapes C0 controls; DEL and C1 (U+009B is a CSI to some
 * terminals) are escaped too (`\u009b`): the same value, nothing a terminal acts on.
 */
export function printJson(value: unknown): void {
  const text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
  process.stdout.write(`${text.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`);
}

// ---- formatting ---------------------------------------------------------------

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

export function shortOid(oid: string): string {
  return oid.slice(0, 7);
}

/** The first line of a commit message. */
export function subject(message: string): string {
  return message.trim().split("\n")[0] ?? "";
}

/** "refs/heads/main" → "main". */
export function branchName(ref: string | null): string | null {
  return ref === null ? null : ref.replace(/^refs\/heads\//, "");
}

/** Git's date format: "Tue Mar 4 12:30:05 2025 +0100", in the person's own time zone. */
export function formatDate(p: Person): string {
  const d = new Date((p.timestamp + p.tzOffset * 60) * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n: number) => String(n).padStart(2, "0");
  const sign = p.tzOffset < 0 ? "-" : "+";
  const abs = Math.abs(p.tzOffset);
  const zone = `${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${d.getUTCDate()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()} ${zone}`;
}

/** Rows as aligned columns (two spaces apart); `right` lists the columns aligned right. */
export function formatTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  return all.map((r) =>
    r
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c] ?? 0) : c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

// ---- change summaries (status, commit, show) -------------------------------------

function chunkCounts(a: ArrayChanges): string[] {
  const parts: string[] = [];
  if (a.chunks.modified) parts.push(`${a.chunks.modified} modified`);
  if (a.chunks.added) parts.push(`${a.chunks.added} added`);
  if (a.chunks.deleted) parts.push(`${a.chunks.deleted} deleted`);
  return parts;
}

function baseNameOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** The array's own file names relative to its folder ("zarr.json", ".zattrs"). */
function metaNames(a: ArrayChanges): string {
  return a.metadata.map((m) => quotePath(a.path && m.path.startsWith(`${a.path}/`) ? m.path.slice(a.path.length + 1) : baseNameOf(m.path))).join(", ");
}

const LABEL_WIDTH = 13;
/** names longer than this do not push the details of every other line to the right */
const NAME_WIDTH = 40;

/** One line of a status section: a label column, the path, and details aligned after the longest path. */
export interface StatusRow {
  label: string;
  name: string;
  detail: string;
}

/**
 * Status rows as lines: labels padded to one column, and the details of every
 * row in one column after the longest name (up to NAME_WIDTH), so that the
 * rows of all sections given together line up.
 */
export function formatStatusRows(sections: readonly (readonly StatusRow[])[]): string[][] {
  const width = Math.min(NAME_WIDTH, Math.max(0, ...sections.flat().filter((r) => r.detail).map((r) => r.name.length)));
  return sections.map((rows) =>
    rows.map((r) => `  ${r.label.padEnd(LABEL_WIDTH)} ${r.detail ? `${r.name.padEnd(width)}  ${r.detail}` : r.name}`.trimEnd()),
  );
}

/**
 * Rows that describe changes, for `status` sections:
 *   new array     era5.zarr/t2m  (48 chunks, 1.2 MB)
 *   modified      era5.zarr/t2m  chunks: 3 modified, 12 added (4.1 MB); metadata: zarr.json
 *   deleted array era5.zarr/old  (3 chunks)
 *   modified      README.md
 */
export function statusRows(g: GroupedChanges, show: (rel: string) => string = (p) => p): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const a of g.arrays) {
    const name = quotePath(show(a.path) || ".");
    if (a.change === "added") {
      rows.push({ label: "new array", name, detail: `(${plural(a.chunks.added, "chunk")}, ${formatBytes(a.bytesAdded)})` });
    } else if (a.change === "deleted") {
      rows.push({ label: "deleted array", name, detail: `(${plural(a.chunks.deleted, "chunk")})` });
    } else {
      const parts: string[] = [];
      const counts = chunkCounts(a);
      if (counts.length) parts.push(`chunks: ${counts.join(", ")}${a.bytesAdded > 0 ? ` (${formatBytes(a.bytesAdded)})` : ""}`);
      if (a.metadata.length) parts.push(`metadata: ${metaNames(a)}`);
      rows.push({ label: "modified", name, detail: parts.join("; ") });
    }
  }
  for (const f of g.files) rows.push({ label: fileLabel(f), name: quotePath(show(f.path)), detail: "" });
  return rows;
}

export function statusLines(g: GroupedChanges, show: (rel: string) => string = (p) => p): string[] {
  return formatStatusRows([statusRows(g, show)])[0] as string[];
}

function fileLabel(f: Change): string {
  return f.change === "added" ? "new file" : f.change;
}

/** Untracked things: arrays and groups as such, other files by path. */
export function untrackedRows(g: GroupedChanges, show: (rel: string) => string = (p) => p): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const a of g.arrays) {
    // an array whose metadata is tracked but which has new chunk files (an append) is not a new array
    const label = a.change === "added" ? "new array" : "new chunks";
    rows.push({ label, name: quotePath(show(a.path) || "."), detail: `(${plural(a.chunks.added, "chunk")}, ${formatBytes(a.bytesAdded)})` });
  }
  const { groups, rest } = splitGroups(g);
  for (const [dir, names] of groups) rows.push({ label: "new group", name: quotePath(show(dir) || "."), detail: `(${names.map(quotePath).join(", ")})` });
  const inArray = new Set(g.arrays.map((a) => a.path));
  for (const f of rest) {
    if (f.array !== null && inArray.has(f.array)) continue;
    rows.push({ label: "", name: quotePath(show(f.path)), detail: "" });
  }
  return rows;
}

export function untrackedLines(g: GroupedChanges, show: (rel: string) => string = (p) => p): string[] {
  return formatStatusRows([untrackedRows(g, show)])[0] as string[];
}

const GROUP_DOC = /(^|\/)(zarr\.json|\.zgroup)$/;

/**
 * New Zarr groups among added files: a folder whose group document (zarr.json,
 * .zgroup) was added, with the metadata files added with it. The other files stay.
 */
function splitGroups(g: GroupedChanges): { groups: Map<string, string[]>; rest: Change[] } {
  const dirOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
  const groupDirs = new Set(g.files.filter((f) => f.kind === "meta" && f.array === null && f.change === "added" && GROUP_DOC.test(f.path)).map((f) => dirOf(f.path)));
  const groups = new Map<string, string[]>();
  const rest: Change[] = [];
  for (const f of g.files) {
    const dir = dirOf(f.path);
    if (f.kind === "meta" && f.array === null && f.change === "added" && groupDirs.has(dir)) {
      groups.set(dir, [...(groups.get(dir) ?? []), baseNameOf(f.path)]);
    } else rest.push(f);
  }
  return { groups: new Map([...groups].sort(([a], [b]) => (a < b ? -1 : 1))), rest };
}

/**
 * Lines that summarize a commit's changes (commit, show):
 *   era5.zarr/t2m: 3 chunks modified, 1 added (+2.1 MB)
 *   new array era5.zarr/sp (48 chunks, 1.2 MB)
 *   README.md: added
 */
export function commitSummaryLines(g: GroupedChanges): string[] {
  const lines: string[] = [];
  for (const a of g.arrays) {
    const name = quotePath(a.path || ".");
    if (a.change === "added") {
      lines.push(`  new array ${name} (${plural(a.chunks.added, "chunk")}, ${formatBytes(a.bytesAdded)})`);
      continue;
    }
    if (a.change === "deleted") {
      lines.push(`  deleted array ${name} (${plural(a.chunks.deleted, "chunk")}, -${formatBytes(a.bytesRemoved)})`);
      continue;
    }
    const parts: string[] = [];
    const counts = chunkCounts(a);
    if (counts.length) {
      const total = a.chunks.added + a.chunks.modified + a.chunks.deleted;
      // "3 chunks modified, 1 added": the noun once, after the first count
      const [first, ...rest] = counts;
      const firstN = Number((first as string).split(" ")[0]);
      const firstWord = (first as string).split(" ")[1];
      parts.push([`${firstN} ${total === 1 || firstN === 1 ? "chunk" : "chunks"} ${firstWord}`, ...rest].join(", "));
      const delta = a.bytesAdded - a.bytesRemoved;
      parts[parts.length - 1] += ` (${delta >= 0 ? "+" : "-"}${formatBytes(Math.abs(delta))})`;
    }
    if (a.metadata.length) parts.push(`metadata: ${metaNames(a)}`);
    lines.push(`  ${name}: ${parts.join("; ")}`);
  }
  const { groups, rest } = splitGroups(g);
  for (const [dir, names] of groups) lines.push(`  new group ${quotePath(dir || ".")} (${names.map(quotePath).join(", ")})`);
  const byChange = { added: [] as string[], modified: [] as string[], deleted: [] as string[] };
  for (const f of rest) byChange[f.change].push(quotePath(f.path));
  for (const kind of ["added", "modified", "deleted"] as const) {
    const files = byChange[kind];
    if (files.length === 0) continue;
    if (files.length <= 5) for (const p of files) lines.push(`  ${kind === "added" ? "new file" : kind} ${p}`);
    else lines.push(`  ${plural(files.length, "file")} ${kind} (${files.slice(0, 3).join(", ")}, ...)`);
  }
  return lines;
}

/** What `decorate` needs to tell branches from tags and mark HEAD's branch. */
export interface RefContext {
  current: string | null;
  branches: ReadonlySet<string>;
}

export type Repo = Repository;

/** Branch names and the current branch, for decorations. */
export async function refContext(lib: Lib, repo: Repo): Promise<RefContext> {
  const branches = await lib.listBranches(repo);
  return { current: await lib.currentBranch(repo), branches: new Set(branches.map((b) => b.name)) };
}

/** git log's medium format for one commit. */
export function commitHeaderLines(c: CommitObject, refs: string[], ctx: RefContext): string[] {
  const lines = [`commit ${c.oid}${refs.length ? ` (${decorate(refs, ctx)})` : ""}`];
  if (c.parents.length > 1) lines.push(`Merge: ${c.parents.map(shortOid).join(" ")}`);
  lines.push(`Author: ${c.author.name} <${c.author.email}>`);
  lines.push(`Date:   ${formatDate(c.author)}`);
  lines.push("");
  for (const l of c.message.replace(/\n+$/, "").split("\n")) lines.push(l ? `    ${l}` : "");
  return lines;
}

/** git's decoration of a commit: "HEAD -> main, feature, tag: v1". */
export function decorate(refs: readonly string[], { current, branches }: RefContext): string {
  const headHere = refs.includes("HEAD");
  const names = refs.filter((r) => r !== "HEAD");
  const out: string[] = [];
  let head = headHere ? "HEAD" : null;
  // the library lists HEAD, then branches, then tags: a name met twice is a branch, then a tag
  const seen = new Set<string>();
  for (const r of names) {
    const branch = !seen.has(r) && branches.has(r);
    seen.add(r);
    if (!branch) out.push(`tag: ${r}`);
    else if (headHere && r === current) head = `HEAD -> ${r}`;
    else out.push(r);
  }
  return (head ? [head, ...out] : out).join(", ");
}

// ---- progress -------------------------------------------------------------------

export interface ProgressEvent {
  phase: string;
  done: number;
  /** absent when not known (yet): the count is shown without a percentage */
  total?: number;
  bytes: number;
  /** bytes expected in all: adds "of N" and an ETA */
  totalBytes?: number;
  /** what is counted (default "files") */
  unit?: string;
}

export interface ProgressReporter {
  /** pass as the library's `onProgress` */
  update: (p: ProgressEvent) => void;
  /** erase the progress line */
  done: () => void;
}

/**
 * What a progress line shows, kept so that it never goes backwards within a
 * phase: counts only grow, and a total that changes after it was shown (a
 * walk that discovers more) turns into "unknown" (a count without a
 * percentage) instead of a smaller percentage.
 */
export interface ProgressView {
  phase: string;
  done: number;
  bytes: number;
  /** null: unknown for the rest of the phase */
  total: number | null;
  totalBytes: number | null;
}

/** The next view after event `p` (pure; a new phase starts afresh). */
export function nextProgressView(prev: ProgressView | null, p: ProgressEvent): ProgressView {
  if (!prev || prev.phase !== p.phase) {
    return { phase: p.phase, done: p.done, bytes: p.bytes, total: p.total ?? null, totalBytes: p.totalBytes ?? null };
  }
  return {
    phase: p.phase,
    done: Math.max(prev.done, p.done),
    bytes: Math.max(prev.bytes, p.bytes),
    total: prev.total !== null && p.total === prev.total ? prev.total : null,
    totalBytes: prev.totalBytes !== null && p.totalBytes === prev.totalBytes ? prev.totalBytes : null,
  };
}

/**
 * A one-line progress display on stderr: "storing  120/480 files  4.1 MB  12.3 MB/s".
 * Silent unless stderr is a terminal and `quiet` is false; redraws at most 10 times a second.
 * What it shows never goes backwards (nextProgressView).
 */
export function progress({
  quiet = false,
  stream = process.stderr,
  now = Date.now,
}: { quiet?: boolean; stream?: Pick<NodeJS.WriteStream, "isTTY" | "write">; now?: () => number } = {}): ProgressReporter {
  const enabled = !quiet && stream.isTTY === true && process.env.TDV_NO_PROGRESS !== "1";
  if (!enabled) return { update: () => {}, done: () => {} };
  let start = now();
  let view: ProgressView | null = null;
  let last = 0;
  let shown = false;
  const draw = (v: ProgressView, unit: string) => {
    const secs = (now() - start) / 1000;
    const rate = secs > 0.2 ? `  ${formatBytes(v.bytes / secs)}/s` : "";
    const total = v.total !== null && v.total > 0 ? v.total : null;
    const pct = total !== null ? ` ${String(Math.floor((100 * Math.min(v.done, total)) / total)).padStart(3)}%` : "";
    const count = total !== null ? `${v.done}/${total}` : `${v.done}`;
    const of = v.totalBytes !== null ? `/${formatBytes(v.totalBytes)}` : "";
    const left = v.totalBytes !== null && secs > 1 && v.bytes > 0 ? Math.max(0, ((v.totalBytes - v.bytes) * secs) / v.bytes) : null;
    const eta = left !== null && total !== null && v.done < total ? `  ETA ${left < 60 ? `${Math.ceil(left)}s` : `${Math.floor(left / 60)}m${String(Math.ceil(left % 60)).padStart(2, "0")}s`}` : "";
    stream.write(`\r\x1b[K${v.phase}${pct}  ${count} ${unit}  ${formatBytes(v.bytes)}${of}${rate}${eta}`);
    shown = true;
  };
  return {
    update(p) {
      const t = now();
      if (!view || p.phase !== view.phase) {
        // rate and ETA are per phase
        start = t;
        last = 0;
      }
      view = nextProgressView(view, p);
      if (t - last < 100 && (view.total === null || view.done < view.total)) return;
      last = t;
      draw(view, p.unit ?? "files");
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}

/** Run `fn` with a progress reporter and always erase the line afterwards. */
export async function withProgress<T>(quiet: boolean | undefined, fn: (onProgress: (p: ProgressEvent) => void) => Promise<T>): Promise<T> {
  const p = progress({ quiet: quiet === true });
  try {
    return await fn(p.update);
  } finally {
    p.done();
  }
}

// ---- refs -----------------------------------------------------------------------

/** Refs a listing passed over because they cannot be followed: reported as git's "ignoring broken ref", each with its fix. */
export function warnBrokenRefs(broken: readonly { ref: string; file: string; problem: string }[]): void {
  for (const b of broken) {
    warn(`ignoring broken ref ${b.ref}: ${b.problem}`);
    err(`hint: ${b.file.endsWith("/packed-refs") || b.file === "packed-refs" ? `delete its line from '${b.file}'` : `remove it (rm '${b.file}') or write a commit id into it`}`);
  }
}

// ---- transfers ------------------------------------------------------------------

/** Commander parser for `--jobs N`: a whole number (NaN otherwise); the library's checkJobs refuses what is out of range. */
export function jobsOption(value: string): number {
  return /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
}

/** The help line of `--jobs N`. */
export const JOBS_HELP = "requests in flight at once, 1 to 256 (default 16)";

/**
 * Stop a long command cooperatively on Ctrl-C or SIGTERM: the first signal
 * aborts `signal` with `reason(sig)` (and says so on stderr when `talk`); a
 * second one stops the process at once. `release()` removes the handlers.
 */
export function stopOnSignals(what: string, talk: boolean, reason: (sig: NodeJS.Signals) => Error): { signal: AbortSignal; release: () => void } {
  const stop = new AbortController();
  const release = (): void => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      release();
      process.kill(process.pid, sig);
      return;
    }
    if (talk) err(`\n${sig === "SIGINT" ? "interrupted" : "terminated"}: stopping the ${what} (again to stop at once)...`);
    stop.abort(reason(sig));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { signal: stop.signal, release };
}
