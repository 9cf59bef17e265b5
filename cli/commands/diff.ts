import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { ArrayDiff, AttributeChange, DiffResult, FileDiff, GroupDiff, MetadataChange, ValueDiff } from "../../src/index.js";
import { isRevision, refuseAmbiguous, splitAtDashes } from "../operands.js";
import { displayPaths } from "../paths.js";
import { action, formatBytes, formatTable, loadLib, openRepo, out, plural, printJson, quotePath, shortOid, warn, withProgress, type Lib, type Repo, type RepoContext } from "../output.js";

interface DiffOptions {
  stat?: boolean;
  values?: boolean;
  json?: boolean;
  exitCode?: boolean;
  quiet?: boolean;
  cached?: boolean;
  staged?: boolean;
  remote?: string;
}

export function register(program: Command): void {
  program
    .command("diff")
    .description("show what changed, by array: structure, metadata, chunks and (with --values) the data itself")
    .usage("[options] [REV [REV]] [-- PATH...]")
    .argument("[revs...]", "no REV: working copy vs HEAD; one REV: working copy vs REV; two: REV vs REV. Paths go after --")
    .option("--cached", "compare the index (what the next commit records) with HEAD, or with REV; the working copy is not read")
    .option("--staged", "the same as --cached")
    .option("--stat", "one line per array and file: chunks changed and bytes (never decodes a chunk)")
    .option("--values", "decode the changed chunks and summarize how the values changed")
    .option("--json", "print the diff as one JSON document (schema: docs/diff-json.md)")
    .option("--exit-code", "exit with 1 when there are differences, 0 when there are none")
    .option("-q, --quiet", "no progress display")
    .option("--remote <name|url>", "compare two revisions of a remote, read from it without a clone (paths are then from the remote's root)")
    .addHelpText(
      "after",
      `
Examples:
  $ tdv diff                          working copy vs HEAD
  $ tdv diff --stat main              working copy vs main, one line per array
  $ tdv diff --cached --stat          what \`tdv commit\` would record (index vs HEAD)
  $ tdv diff v1 v2 --values           how the data changed between two tags
  $ tdv diff HEAD~1 HEAD -- era5.zarr/t2m
  $ tdv diff --exit-code --stat || echo "dataset changed"
  $ tdv diff v1 --json | jq '.arrays[] | {path, changed: .values.changed}'
  $ tdv diff --remote origin main~1 main --stat            review a remote's change, no fetch
  $ tdv diff --remote s3://bucket/climate v1 v2 --values -- era5.zarr/t2m`,
    )
    .action(action((operands: string[], opts: DiffOptions) => (opts.remote === undefined ? openRepo().then((ctx) => run(ctx, operands, opts)) : runRemote(opts.remote, operands, opts))));
}

/**
 * Two revisions of a remote, read in place: the objects the diff needs are
 * fetched (and verified) one by one, chunks only with --values. Operands
 * before `--` are the two revisions, the rest paths from the remote's root.
 */
async function runRemote(remote: string, operands: string[], opts: DiffOptions): Promise<number> {
  const lib = await loadLib();
  if (opts.cached === true || opts.staged === true) {
    throw new lib.UsageError("--cached compares with the index, which a remote has not", { hint: "name two revisions of the remote: `tdv diff --remote NAME REV REV`" });
  }
  const { before, after } = splitAtDashes(operands);
  if (before.length < 2) {
    throw new lib.UsageError(`--remote compares two revisions of the remote, got ${before.length === 0 ? "none" : `only '${before[0]}'`}: a remote has no working copy`, {
      hint: "name both: `tdv diff --remote NAME main~1 main` (paths after `--`)",
    });
  }
  const [from, to, ...paths] = [...before, ...after] as [string, string, ...string[]];
  // a remote's name needs the repository that names it; a URL works anywhere
  const local = await openRepo().then(
    (r) => r.repo,
    () => null,
  );
  const repo = await lib.remoteRepository(remote, local ? { repo: local } : {});
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.diff(repo, { from, to, ...(paths.length > 0 ? { paths } : {}), values: opts.values === true, onProgress }),
  );
  return report(res, opts, "");
}

async function run({ lib, repo }: RepoContext, operands: string[], opts: DiffOptions): Promise<number> {
  const { revs, paths } = await splitOperands(lib, repo, operands);
  const staged = opts.cached === true || opts.staged === true;
  if (staged && revs.length > 1) {
    throw new lib.UsageError(`--cached compares the index with one revision, got ${revs.length}: ${revs.join(" ")}`, { hint: "`tdv diff --cached [REV]` (default HEAD); `tdv diff REV REV` compares two revisions" });
  }
  const [from, to] = revs;
  const res = await withProgress(opts.quiet || opts.json, (onProgress) =>
    lib.diff(repo, {
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      staged,
      ...(paths.length > 0 ? { paths: paths.map((p) => repo.relPath(p)) } : {}),
      values: opts.values === true,
      onProgress,
    }),
  );
  return report(res, opts, repo.root);
}

/** Print `res` as the options ask; the exit code. `root`: where the repository's paths are shown from ("" for a remote's root). */
function report(res: DiffResult, opts: DiffOptions, root: string): number {
  if (opts.json) printJson(res);
  else if (opts.stat) {
    printStat(res, root ? displayPaths(root) : (p) => p);
    if (opts.values) printValues(res);
  } else printFull(res);
  for (const w of res.warnings) warn(w);
  return opts.exitCode && res.different ? 1 : 0;
}

/** Operands before `--` are revisions (at most two); a first operand that is a path in the working tree starts the paths. */
async function splitOperands(lib: Lib, repo: Repo, operands: string[]): Promise<{ revs: string[]; paths: string[] }> {
  const { before, after: paths, dashes } = splitAtDashes(operands);
  const revs: string[] = [];
  for (const [i, op] of before.entries()) {
    if (await isRevision(lib, repo, op, ["HEAD"])) {
      revs.push(op);
      continue;
    }
    if (!dashes && before.slice(i).every((p) => existsSync(p))) return { revs: check(lib, revs), paths: [...before.slice(i), ...paths] };
    if (!dashes) await refuseAmbiguous(lib, repo, op, "`tdv diff [REV [REV]] -- PATH...`");
    await lib.resolveRevision(repo, op); // throws the UnknownRevisionError with its hint
  }
  return { revs: check(lib, revs), paths };
}

function check(lib: Lib, revs: string[]): string[] {
  if (revs.length > 2) {
    throw new lib.UsageError(`too many revisions: ${revs.join(" ")}`, { hint: "give at most two: `tdv diff REV REV`; paths go after `--`" });
  }
  return revs;
}

// ---- the full diff ------------------------------------------------------------------

function sideName(s: DiffResult["from"]): string {
  if (s.index) return "index";
  if (s.rev === null) return "working copy";
  return s.commit ? `${s.rev} (${shortOid(s.commit)})` : `${s.rev} (no commits)`;
}

function printFull(res: DiffResult): void {
  if (!res.different) return;
  out(`diff ${sideName(res.from)} → ${sideName(res.to)}`);
  for (const a of res.arrays) {
    out("");
    for (const l of arrayLines(a)) out(l);
  }
  if (res.groups.length > 0) out("");
  for (const g of res.groups) for (const l of groupLines(g)) out(l);
  if (res.files.length > 0) out("");
  for (const f of res.files) out(fileLine(f));
  printValues(res);
}

const LABEL = 11;
const label = (s: string) => `  ${s.padEnd(LABEL)}`;
const cont = () => `  ${"".padEnd(LABEL)}`;

function arrayLines(a: ArrayDiff): string[] {
  const name = quotePath(a.path || ".");
  const lines: string[] = [];
  if (a.status === "renamed") {
    lines.push(`renamed array ${quotePath(a.oldPath || ".")} → ${name}`);
    return lines;
  }
  if (a.status === "added" || a.status === "removed") {
    const m = (a.after ?? a.before)!;
    const set = a.status === "added" ? a.chunks.added : a.chunks.removed;
    lines.push(`${a.status === "added" ? "new" : "removed"} array ${name}`);
    lines.push(`${label("array")}${m.dtype} [${m.shape.join(", ")}], chunks [${m.chunkShape.join(", ")}], ${m.codecs.join(", ") || "no codecs"}`);
    lines.push(`${label("chunks")}${plural(set.count, "chunk")}${set.count > 0 ? ` ${boxes(set.boxes)}` : ""} (${formatBytes(set.bytes)})`);
    return lines;
  }
  lines.push(`modified array ${name}`);
  for (const m of a.metadata) lines.push(...metadataLines(m));
  lines.push(...attributeLines(a.attributes));
  const c = a.chunks;
  const chunkLines: string[] = [];
  if (c.modified.count) chunkLines.push(`${c.modified.count} modified ${boxes(c.modified.boxes)} (${formatBytes(c.modified.bytesBefore)} → ${formatBytes(c.modified.bytes)})`);
  if (c.added.count) chunkLines.push(`${c.added.count} added ${boxes(c.added.boxes)} (+${formatBytes(c.added.bytes)})`);
  if (c.removed.count) chunkLines.push(`${c.removed.count} removed ${boxes(c.removed.boxes)} (-${formatBytes(c.removed.bytes)})`);
  chunkLines.forEach((l, i) => {
    lines.push(`${i === 0 ? label("chunks") : cont()}${l}`);
  });
  if (a.metadata.length === 0 && a.attributes.length === 0 && chunkLines.length === 0) lines.push(`${label("metadata")}document rewritten, same content`);
  const inner = a.values?.innerChunks;
  if (inner) lines.push(`${label("inner")}${plural(inner.count, "inner chunk")} of [${inner.shape.join(", ")}] changed${inner.count > 0 ? ` ${boxes(inner.boxes)}` : ""}`);
  if (a.valuesNote) lines.push(`${label("values")}${a.valuesNote}`);
  return lines;
}

const MAX_BOXES = 6;

function boxes(list: [number, number][][]): string {
  const shown = list.slice(0, MAX_BOXES).map((b) => `[${b.map(([x, y]) => (x === y ? `${x}` : `${x}..${y}`)).join(", ")}]`);
  return shown.join(" ") + (list.length > MAX_BOXES ? ` … (${list.length - MAX_BOXES} more ranges)` : "");
}

const FIELD_LABEL: Record<MetadataChange["field"], string> = {
  zarrFormat: "format",
  shape: "shape",
  dtype: "dtype",
  chunkShape: "chunks",
  innerChunkShape: "inner chunks",
  chunkKeyEncoding: "chunk keys",
  order: "order",
  fillValue: "fill value",
  codecs: "codecs",
  dimensionNames: "dim names",
};

function metadataLines(m: MetadataChange): string[] {
  const fmt = m.field === "codecs" ? codecsText : m.field === "chunkKeyEncoding" || m.field === "dtype" || m.field === "order" ? String : compactJson;
  let line = `${label(FIELD_LABEL[m.field])}${fmt(m.before)} → ${fmt(m.after)}`;
  if (m.dims && m.dims.length > 0) {
    line += `  (${m.dims.map((d) => `dim ${d.dim}${d.name ? ` "${d.name}"` : ""} ${d.change} by ${d.by}`).join(", ")})`;
  }
  return [line];
}

/** `bytes(endian=little), gzip(level=5)` */
function codecsText(v: unknown): string {
  if (!Array.isArray(v) || v.length === 0) return "none";
  return v
    .map((c) => {
      if (typeof c === "string") return c;
      const o = c as { name?: string; id?: string; configuration?: Record<string, unknown> } & Record<string, unknown>;
      const name = o.name ?? o.id ?? "?";
      const config = o.name !== undefined ? (o.configuration ?? {}) : Object.fromEntries(Object.entries(o).filter(([k]) => k !== "id"));
      const args = Object.entries(config).map(([k, x]) => `${k}=${typeof x === "object" && x !== null ? compactJson(x) : String(x)}`);
      return args.length ? `${name}(${args.join(", ")})` : name;
    })
    .join(", ");
}

function compactJson(v: unknown): string {
  const s = JSON.stringify(v);
  const text = s === undefined ? String(v) : s.replace(/,/g, ", ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function attributeLines(changes: AttributeChange[]): string[] {
  return changes.map((c, i) => {
    const head = i === 0 ? label("attributes") : cont();
    if (c.change === "added") return `${head}+ ${c.key}: ${compactJson(c.after)}`;
    if (c.change === "removed") return `${head}- ${c.key}: ${compactJson(c.before)}`;
    return `${head}~ ${c.key}: ${compactJson(c.before)} → ${compactJson(c.after)}`;
  });
}

function groupLines(g: GroupDiff): string[] {
  const name = quotePath(g.path || ".");
  if (g.status !== "modified") return [`${g.status === "added" ? "new" : "removed"} group ${name}`];
  const lines = [`modified group ${name}`, ...attributeLines(g.attributes)];
  if (g.consolidatedChanged) lines.push(`${label("metadata")}consolidated metadata changed`);
  return lines;
}

function fileLine(f: FileDiff): string {
  if (f.status === "added") return `new file ${quotePath(f.path)} (${formatBytes(f.bytesAfter ?? 0)})`;
  if (f.status === "removed") return `removed file ${quotePath(f.path)} (${formatBytes(f.bytesBefore ?? 0)})`;
  return `modified file ${quotePath(f.path)} (${formatBytes(f.bytesBefore ?? 0)} → ${formatBytes(f.bytesAfter ?? 0)})`;
}

// ---- values -------------------------------------------------------------------------

function printValues(res: DiffResult): void {
  if (!res.values) return;
  const rows: string[][] = [];
  for (const a of res.arrays) {
    const v = a.values;
    if (!v) continue;
    rows.push([
      quotePath(a.path || "."),
      count(v.changed),
      count(v.compared),
      num(v.maxAbsDelta),
      v.meanDelta === null ? "-" : `${v.meanDelta >= 0 ? "+" : ""}${num(v.meanDelta)}`,
      v.kind === "numeric" ? `+${v.nanIntroduced}/-${v.nanRemoved}` : "-",
      range(v.before),
      range(v.after),
      v.bbox ? `[${v.bbox.map(([x, y]) => (x === y ? `${x}` : `${x}..${y}`)).join(", ")}]` : "-",
      appended(v),
    ]);
  }
  if (rows.length === 0) return;
  out("");
  out("Values in the changed chunks:");
  const header = ["array", "changed", "of", "max |Δ|", "mean Δ", "NaN", "before", "after", "where", "appended"];
  for (const l of formatTable(header, rows, new Set([1, 2, 3, 4, 5]))) out(`  ${l}`);
  // where, in coordinate values: "  temperature: time 2024-06-01..2024-06-03, lat 30..45.5"
  const located = res.arrays.filter((a) => a.values?.coords?.length);
  if (located.length === 0) return;
  out("");
  out("Where, in coordinates:");
  for (const a of located) out(`  ${quotePath(a.path || ".")}: ${formatCoords(a.values!.coords!)}`);
}

/** "time 2024-06-01..2024-06-03, lat 30..45.5" */
function formatCoords(coords: NonNullable<ValueDiff["coords"]>): string {
  return coords.map((c) => `${c.dim} ${c.first === c.last ? String(c.first) : `${String(c.first)}..${String(c.last)}`}`).join(", ");
}

function appended(v: ValueDiff): string {
  if (v.appended.count === 0) return v.truncated > 0 ? `-${count(v.truncated)} cut` : "-";
  return `${count(v.appended.count)}${v.appended.range ? ` in ${range(v.appended.range)}` : ""}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** Four significant digits, no exponent for everyday magnitudes. */
function num(x: number | null): string {
  if (x === null) return "-";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

function range(r: { min: number; max: number } | null): string {
  return r ? `${num(r.min)}..${num(r.max)}` : "-";
}

// ---- --stat ---------------------------------------------------------------------------

const BAR = 30;

function printStat(res: DiffResult, show: (rel: string) => string = (p) => p): void {
  if (!res.different) return;
  const rows: { name: string; n: string; bytes: string; bar: string }[] = [];
  const totals = res.arrays.map((a) => a.chunks.added.count + a.chunks.modified.count + a.chunks.removed.count);
  const max = Math.max(1, ...totals);
  const scale = (k: number) => (k === 0 ? 0 : Math.max(1, Math.round((k * BAR) / Math.max(max, BAR))));
  for (const a of res.arrays) {
    const c = a.chunks;
    const n = c.added.count + c.modified.count + c.removed.count;
    const name = a.status === "renamed" ? `${quotePath(show(a.oldPath ?? "") || ".")} → ${quotePath(show(a.path) || ".")}` : quotePath(show(a.path) || ".");
    const tag = a.status === "added" ? " (new)" : a.status === "removed" ? " (removed)" : a.status === "renamed" ? " (renamed)" : "";
    const meta = n > 0 && a.metadata.length + a.attributes.length > 0 ? " +metadata" : "";
    const written = c.added.bytes + c.modified.bytes;
    const dropped = c.removed.bytes + c.modified.bytesBefore;
    rows.push({
      name: `${name}${tag}`,
      n: n > 0 ? plural(n, "chunk") : a.status === "renamed" ? "" : "metadata",
      bytes: n > 0 ? bytesDelta(written, dropped) : "",
      bar: "+".repeat(scale(c.added.count)) + "~".repeat(scale(c.modified.count)) + "-".repeat(scale(c.removed.count)) + meta,
    });
  }
  for (const g of res.groups) rows.push({ name: `${quotePath(show(g.path) || ".")} (${g.status === "added" ? "new group" : g.status === "removed" ? "removed group" : "group"})`, n: groupStat(g), bytes: "", bar: "" });
  for (const f of res.files) {
    rows.push({ name: quotePath(show(f.path)), n: f.status === "added" ? "new file" : f.status === "removed" ? "removed" : "file", bytes: bytesDelta(f.bytesAfter ?? 0, f.bytesBefore ?? 0), bar: "" });
  }
  const w = Math.max(...rows.map((r) => r.name.length));
  const wn = Math.max(...rows.map((r) => r.n.length));
  const wb = Math.max(...rows.map((r) => r.bytes.length));
  for (const r of rows) out(` ${r.name.padEnd(w)} | ${r.n.padStart(wn)}  ${r.bytes.padStart(wb)}  ${r.bar}`.trimEnd());
  out(` ${summaryLine(res)}`);
}

/** What changed in a group, for --stat: its attributes, its consolidated metadata, or both. */
function groupStat(g: GroupDiff): string {
  if (g.status !== "modified") return "metadata";
  const what = [g.attributes.length > 0 ? "attributes" : "", g.consolidatedChanged ? "consolidated metadata" : ""].filter(Boolean);
  return what.join(", ") || "metadata";
}

function bytesDelta(written: number, dropped: number): string {
  if (dropped === 0) return `+${formatBytes(written)}`;
  if (written === 0) return `-${formatBytes(dropped)}`;
  return `+${formatBytes(written)} -${formatBytes(dropped)}`;
}

function summaryLine(res: DiffResult): string {
  const s = res.summary;
  const parts: string[] = [];
  const arrays = s.arrays.added + s.arrays.removed + s.arrays.modified + s.arrays.renamed;
  if (arrays > 0) {
    const kinds = [
      s.arrays.added ? `${s.arrays.added} new` : "",
      s.arrays.removed ? `${s.arrays.removed} removed` : "",
      s.arrays.renamed ? `${s.arrays.renamed} renamed` : "",
    ].filter(Boolean);
    parts.push(`${plural(arrays, "array")} changed${kinds.length ? ` (${kinds.join(", ")})` : ""}`);
  }
  const chunks = [
    s.chunks.modified ? `${s.chunks.modified} modified` : "",
    s.chunks.added ? `${s.chunks.added} added` : "",
    s.chunks.removed ? `${s.chunks.removed} removed` : "",
  ].filter(Boolean);
  if (chunks.length) parts.push(`chunks: ${chunks.join(", ")} (${bytesDelta(s.bytesAdded, s.bytesRemoved)})`);
  const groups = s.groups.added + s.groups.removed + s.groups.modified;
  if (groups > 0) parts.push(`${plural(groups, "group")} changed`);
  const files = s.files.added + s.files.removed + s.files.modified;
  if (files > 0) parts.push(`${plural(files, "file")} changed`);
  return parts.join("; ");
}
