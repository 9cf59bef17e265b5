/**
 * Checking a revision against its rules (`tdv-rules.toml` of that revision).
 *
 * Metadata rules (dtype, shape, chunk shape, dimension names, attributes)
 * read the array's documents; element rules (max_nan_fraction, range) read
 * and decode chunks, one at a time, each on its own (a failure names the
 * chunk and the coordinates of its first failing element); complete_along
 * reads only the manifest; monotonic reads the whole 1-D array; group and
 * consolidated rules read metadata documents only.
 *
 * Incremental: every verdict is kept in `.tdv/checks/<commit>.<rules>.json`.
 * A check starts from the nearest ancestor that passed under the same rules
 * (or `changedSince`) and reads only what changed since: the tree diff
 * names the changed chunks of each array; an array whose metadata changed
 * (its shape, its codecs, its attributes) is checked whole.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { parseChunkKey } from "../format/chunk-key.js";
import type { GitOid } from "../format/hash.js";
import { MANIFEST_TREE } from "../format/manifest.js";
import { gridShape, parseZattrs, type ArrayMeta } from "../format/zarr-meta.js";
import { cfTime, isoDate } from "../repo/diff/time.js";
import { listedDocs, disagreement } from "../repo/consolidated-check.js";
import { joinPath, parentDir } from "../repo/hierarchy.js";
import type { Repository, Stores } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import { diffTrees } from "../repo/tree-diff.js";
import { writeAtomic } from "../store/atomic.js";
import { openSession, type ArrayAt, type ReadSession } from "../session/read.js";
import { ndindex, type DecodedChunk } from "../zarr/decode.js";
import { elementAt } from "../zarr/bits.js";
import type { RuleFailure } from "./errors.js";
import { canonicalDtype, parseRules, RULES_FILE, type ArrayRule, type Rules } from "./parse.js";
import { chunkStats, vectorOf } from "./values.js";

export interface Verdict {
  commit: string;
  /** blob id of tdv-rules.toml, null when the revision has none */
  rules: string | null;
  passed: boolean;
  failures: RuleFailure[];
  arraysChecked: number;
  chunksRead: number;
  /** the commit it was incremental from */
  since: string | null;
}

export interface CheckOptions {
  /** check only what changed since this revision (taken as checked) */
  changedSince?: string;
  onProgress?: (p: { done: number; total: number }) => void;
}

/** At most this many failures of one rule on one array are listed; the rest are counted in one more. */
const PER_RULE = 10;
/** Ancestors searched for a verdict to start from. */
const SEARCH = 1000;
const CHECKS_DIR = "checks";
/** Chunks read and decoded at once. */
const BATCH = 16;

/** The rules of `commit` (its tdv-rules.toml), or null when it has none. RulesFileError when the file is not valid. */
export async function loadRules(repo: Repository<Stores>, commit: string): Promise<Rules | null> {
  const session = await openSession(repo, commit);
  return rulesOf(session);
}

async function rulesOf(session: ReadSession): Promise<Rules | null> {
  const f = await session.file(RULES_FILE);
  if (!f) return null;
  const text = new TextDecoder("utf-8", { fatal: false }).decode(await session.read(f));
  return await parseRules(text, f.id, `${RULES_FILE} (commit ${session.commit.slice(0, 12)})`);
}

/** Check revision `rev` against its own rules; reads only what changed since the last passed check where it can. */
export async function checkRevision(repo: Repository<Stores>, rev: string, opts: CheckOptions = {}): Promise<Verdict> {
  const commit = await resolveRevision(repo, rev);
  const session = await openSession(repo, commit);
  const rules = await rulesOf(session);
  if (!rules) return { commit, rules: null, passed: true, failures: [], arraysChecked: 0, chunksRead: 0, since: null };
  const store = new VerdictStore(repo.tdvDir);
  let base: GitOid | null = null;
  let trusted = true; // a base found among passed verdicts: the result may be kept
  if (opts.changedSince !== undefined) {
    base = await resolveRevision(repo, opts.changedSince);
    trusted = false;
    // other rules at the base: what did not change was not checked by these rules
    const baseRules = await rulesOf(await openSession(repo, base)).catch(() => null);
    if (baseRules?.id !== rules.id) base = null;
  } else {
    const kept = await store.read(commit, rules.id);
    if (kept) return kept;
    base = await store.nearestPassed(repo, commit, rules.id);
  }
  const verdict = await evaluate(repo, session, rules, base, opts.onProgress);
  if (trusted || verdict.since === null) await store.write(verdict);
  return verdict;
}

// ---- verdicts on disk ------------------------------------------------------------------

class VerdictStore {
  private names: Set<string> | null = null;
  constructor(private readonly tdvDir: string) {}

  private file(commit: string, rules: string): string {
    return path.join(this.tdvDir, CHECKS_DIR, `${commit}.${rules}.json`);
  }

  async read(commit: string, rules: string): Promise<Verdict | null> {
    if (!/^[0-9a-f]{40,64}$/.test(commit) || !/^[0-9a-f]{40,64}$/.test(rules)) return null;
    try {
      const v = JSON.parse(await fsp.readFile(this.file(commit, rules), "utf8")) as Verdict;
      return v.commit === commit && v.rules === rules && typeof v.passed === "boolean" && Array.isArray(v.failures) ? v : null;
    } catch {
      return null;
    }
  }

  async write(v: Verdict): Promise<void> {
    if (!v.rules) return;
    const file = this.file(v.commit, v.rules);
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeAtomic(file, `${JSON.stringify(v)}\n`, { durable: false });
    } catch {
      // a read-only repository: the next check reads again, nothing else
    }
  }

  /** The nearest ancestor of `commit` (breadth first, parents before grandparents) with a passed verdict under `rules`. */
  async nearestPassed(repo: Repository<Stores>, commit: GitOid, rules: string): Promise<GitOid | null> {
    this.names ??= new Set(await fsp.readdir(path.join(this.tdvDir, CHECKS_DIR)).catch(() => [] as string[]));
    if (this.names.size === 0) return null;
    const seen = new Set<GitOid>([commit]);
    let frontier: GitOid[] = [commit];
    for (let n = 0; frontier.length > 0 && n < SEARCH; ) {
      const next: GitOid[] = [];
      for (const c of frontier) {
        const parents = (await repo.git.readCommit(c).catch(() => null))?.parents ?? [];
        for (const p of parents) {
          if (seen.has(p)) continue;
          seen.add(p);
          n++;
          if (this.names.has(`${p}.${rules}.json`) && (await this.read(p, rules))?.passed) return p;
          next.push(p);
        }
      }
      frontier = next;
    }
    return null;
  }
}

// ---- evaluation ------------------------------------------------------------------------

/** What to check of one array: everything, or these chunks (and whether its metadata changed). */
interface Plan {
  path: string;
  rules: ArrayRule[];
  /** null: every chunk of the grid */
  chunks: number[][] | null;
  whole: boolean;
}

class Failures {
  readonly list: RuleFailure[] = [];
  private readonly counts = new Map<string, number>();

  add(f: RuleFailure): void {
    const k = `${f.rule}\u0000${f.array}`;
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n);
    if (n <= PER_RULE) this.list.push(f);
  }

  /** Whether the next failure of `rule` on `array` is listed (not only counted). */
  listed(rule: string, array: string): boolean {
    return (this.counts.get(`${rule}\u0000${array}`) ?? 0) < PER_RULE;
  }

  /** One more failure per rule and array that had more than PER_RULE, saying how many. */
  finish(): RuleFailure[] {
    for (const [k, n] of this.counts) {
      if (n <= PER_RULE) continue;
      const [rule, array] = k.split("\u0000") as [string, string];
      this.list.push({ rule, array, message: `${n - PER_RULE} more chunks fail this rule (${n} in all)` });
    }
    return this.list;
  }
}

async function evaluate(repo: Repository<Stores>, session: ReadSession, rules: Rules, base: GitOid | null, onProgress?: CheckOptions["onProgress"]): Promise<Verdict> {
  const failures = new Failures();
  const all = await session.arrays();
  const plans: Plan[] = [];
  let changedGroups: Set<string> | null = null; // null: every group
  let metaChanged = true;
  if (base === null) {
    for (const p of all) {
      const matching = rules.arrays.filter((r) => r.match(p));
      if (matching.length) plans.push({ path: p, rules: matching, chunks: null, whole: true });
    }
  } else {
    const baseTree = (await repo.git.readCommit(base)).tree;
    const changes = await diffTrees(repo as Repository, baseTree, session.info.tree);
    const byArray = new Map<string, { meta: boolean; chunks: string[] }>();
    metaChanged = false;
    changedGroups = new Set();
    for (const c of changes) {
      if (c.kind === "meta" || c.path.endsWith(".zmetadata") || c.path.endsWith("zarr.json")) metaChanged = true;
      if (c.array === null) continue;
      const e = byArray.get(c.array) ?? { meta: false, chunks: [] };
      if (c.kind === "chunk") e.chunks.push(c.path);
      else if (c.kind === "meta") e.meta = true;
      byArray.set(c.array, e);
      changedGroups.add(parentDir(c.array));
    }
    const present = new Set(all);
    for (const [p, e] of byArray) {
      if (!present.has(p)) continue;
      const matching = rules.arrays.filter((r) => r.match(p));
      if (!matching.length) continue;
      if (e.meta) {
        plans.push({ path: p, rules: matching, chunks: null, whole: true });
        continue;
      }
      const arr = await session.array(p);
      if (!arr) continue;
      const prefix = p === "" ? "" : `${p}/`;
      const chunks: number[][] = [];
      for (const cp of e.chunks) {
        const idx = parseChunkKey(arr.meta.keyEncoding, cp.slice(prefix.length), arr.meta.shape.length);
        if (idx) chunks.push(idx);
      }
      plans.push({ path: p, rules: matching, chunks, whole: false });
    }
  }

  const ctx = new Context(session);
  const total = plans.reduce((s, p) => s + (p.chunks ? p.chunks.length : 0), 0) + plans.filter((p) => p.chunks === null).length;
  let done = 0;
  let planned = total;
  const tick = (n = 1) => {
    done += n;
    onProgress?.({ done, total: Math.max(planned, done) });
  };
  for (const plan of plans) {
    const arr = await session.array(plan.path);
    if (!arr) continue;
    const info = await ctx.info(arr);
    const add = (rule: string, message: string, extra: Partial<RuleFailure> = {}) => failures.add({ rule, array: plan.path, message, ...extra });
    for (const r of plan.rules) if (plan.whole) metadataRules(r, arr.meta, info, add);
    const elementRules = plan.rules.filter((r) => r.maxNanFraction !== undefined || r.range !== undefined);
    let chunks = plan.chunks;
    if (chunks === null) {
      chunks = elementRules.length ? [...ndindex(gridShape(arr.meta))] : [];
      planned += chunks.length - 1;
      tick();
    }
    if (elementRules.length) {
      // read and decode a few chunks at once; failures are listed in chunk order
      for (let i = 0; i < chunks.length; i += BATCH) {
        const batch = chunks.slice(i, i + BATCH);
        const found = await Promise.all(batch.map((index) => checkChunk(ctx, arr, index, elementRules)));
        for (const f of found.flat()) {
          // coordinates only for the failures that are listed
          const coords = f.at && failures.listed(f.rule, plan.path) ? await ctx.coords(arr, info, f.at) : undefined;
          add(f.rule, f.message, { chunk: f.chunk, ...(coords ? { coords } : {}) });
        }
        tick(batch.length);
      }
    } else if (plan.chunks) tick(plan.chunks.length);
    for (const r of plan.rules) {
      if (r.completeAlong !== undefined) await completeAlong(ctx, arr, info, r.completeAlong, add);
      if (r.monotonic !== undefined) await monotonic(ctx, arr, r.monotonic, add);
    }
  }

  // groups: arrays of a group share their dimensions' lengths
  for (const g of rules.groups) {
    if (!g.sharedDimensions) continue;
    const groups = new Map<string, string[]>();
    for (const p of all) {
      const dir = parentDir(p);
      if (p === "" || !g.match(dir)) continue;
      if (changedGroups && !changedGroups.has(dir)) continue;
      groups.set(dir, [...(groups.get(dir) ?? []), p]);
    }
    for (const [dir, members] of groups) await sharedDimensions(ctx, dir, members, failures);
  }
  if (rules.consolidated && metaChanged) await consolidated(repo, session, failures);

  const list = failures.finish();
  return {
    commit: session.commit,
    rules: rules.id,
    passed: list.length === 0,
    failures: list,
    arraysChecked: plans.length,
    chunksRead: ctx.chunksRead,
    since: base,
  };
}

type Add = (rule: string, message: string, extra?: Partial<RuleFailure>) => void;

interface ArrayInfo {
  attrs: Record<string, unknown>;
  dims: (string | null)[] | null;
}

/** Reads of one check: metadata, chunks (counted), coordinates (cached). */
class Context {
  chunksRead = 0;
  private readonly infos = new Map<string, Promise<ArrayInfo>>();
  private readonly coordChunks = new Map<string, Promise<DecodedChunk | null>>();

  constructor(readonly session: ReadSession) {}

  info(arr: ArrayAt): Promise<ArrayInfo> {
    let hit = this.infos.get(arr.path);
    if (!hit) {
      hit = this.readInfo(arr);
      this.infos.set(arr.path, hit);
    }
    return hit;
  }

  private async readInfo(arr: ArrayAt): Promise<ArrayInfo> {
    const doc = arr.meta.zarrFormat === 3 ? "zarr.json" : ".zattrs";
    const f = await this.session.file(joinPath(arr.path, doc));
    let attrs: Record<string, unknown> = {};
    if (f) {
      try {
        const parsed = parseZattrs(await this.session.read(f), f.path);
        const a = arr.meta.zarrFormat === 3 ? parsed.attributes : parsed;
        if (typeof a === "object" && a !== null && !Array.isArray(a)) attrs = a as Record<string, unknown>;
      } catch {
        // unreadable attributes: every attrs rule then fails, saying they are missing
      }
    }
    let dims = arr.meta.dimensionNames;
    const v2 = attrs._ARRAY_DIMENSIONS;
    if (!dims && Array.isArray(v2) && v2.length === arr.meta.shape.length) dims = v2.map((n) => (typeof n === "string" && n !== "" ? n : null));
    return { attrs, dims };
  }

  /** The chunk at `index`, decoded (its stored bytes counted as one chunk read); `stored` false: the fill value. */
  async chunk(arr: ArrayAt, index: readonly number[]): Promise<{ chunk: DecodedChunk; stored: boolean }> {
    const bytes = await arr.chunkBytes(index);
    if (bytes) this.chunksRead++;
    return { chunk: await arr.decode(index, bytes), stored: bytes !== null };
  }

  /** The values of the array's 1-D coordinates at array index `at`, by dimension name. */
  async coords(arr: ArrayAt, info: ArrayInfo, at: readonly number[]): Promise<Record<string, string | number> | undefined> {
    if (!info.dims) return undefined;
    const out: Record<string, string | number> = {};
    for (let d = 0; d < info.dims.length; d++) {
      const name = info.dims[d];
      if (!name || name.includes("/")) continue;
      try {
        const cpath = joinPath(parentDir(arr.path), name);
        const c = cpath === arr.path ? arr : await this.session.array(cpath);
        if (c?.meta.shape.length !== 1 || c.meta.shape[0] !== arr.meta.shape[d] || c.meta.innerChunkShape !== null) continue;
        const i = at[d] as number;
        const size = c.meta.chunkShape[0] as number;
        const k = Math.floor(i / size);
        const key = `${cpath}\u0000${k}`;
        let hit = this.coordChunks.get(key);
        if (!hit) {
          hit = c.chunk([k]);
          this.coordChunks.set(key, hit);
        }
        const chunk = await hit;
        if (!chunk) continue;
        let v = elementAt(chunk.data, (i % size) * (chunk.stride[0] ?? 1));
        if (typeof v === "bigint") v = Number(v);
        if (typeof v === "number") {
          const time = cfTime((await this.info(c)).attrs);
          if (time && Number.isFinite(v)) {
            const ms = time(v);
            out[name] = Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? isoDate(ms) : v;
          } else out[name] = Number.isFinite(v) ? v : String(v);
        } else if (typeof v === "string") out[name] = v;
      } catch {
        // a coordinate tdv cannot read is left out
      }
    }
    return Object.keys(out).length ? out : undefined;
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (typeof a === "object" && typeof b === "object" && a && b && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

const json = (v: unknown) => JSON.stringify(v) ?? String(v);

function metadataRules(r: ArrayRule, meta: ArrayMeta, info: ArrayInfo, add: Add): void {
  if (r.dtype !== undefined) {
    const want = canonicalDtype(r.dtype);
    const have = canonicalDtype(meta.dtype) ?? meta.dtype;
    if (want !== have) add("dtype", `data type is ${meta.dtype}, the rules want ${r.dtype}`);
  }
  if (r.shape && !same(r.shape, meta.shape)) add("shape", `shape is ${json(meta.shape)}, the rules want ${json(r.shape)}`);
  if (r.chunkShape && !same(r.chunkShape, meta.chunkShape)) add("chunk_shape", `chunk shape is ${json(meta.chunkShape)}, the rules want ${json(r.chunkShape)}`);
  if (r.dimensionNames && !same(r.dimensionNames, info.dims)) add("dimension_names", `dimension names are ${json(info.dims)}, the rules want ${json(r.dimensionNames)}`);
  for (const [k, want] of Object.entries(r.attrs ?? {})) {
    if (!(k in info.attrs)) add("attrs", `attribute ${json(k)} is missing; the rules want ${json(want)}`);
    else if (!same(info.attrs[k], want)) add("attrs", `attribute ${json(k)} is ${json(info.attrs[k])}, the rules want ${json(want)}`);
  }
}

const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;

/** A failure found in one chunk: `at`, the array index of its first failing element (for coordinates). */
interface ChunkFailure {
  rule: string;
  message: string;
  chunk: number[];
  at: number[] | null;
}

async function checkChunk(ctx: Context, arr: ArrayAt, index: number[], rules: ArrayRule[]): Promise<ChunkFailure[]> {
  const { chunk, stored: isStored } = await ctx.chunk(arr, index);
  const out: ChunkFailure[] = [];
  for (const r of rules) {
    const s = chunkStats(chunk, arr.meta.shape, r.range ?? null);
    if (s.count === 0) continue;
    if (!s.numeric) {
      out.push({ rule: r.range ? "range" : "max_nan_fraction", message: `the values are not numbers (${arr.meta.dtype}): the rule does not apply; remove it for this array`, chunk: index, at: null });
      continue;
    }
    const stored = isStored ? "" : " (no chunk stored: the fill value)";
    if (r.maxNanFraction !== undefined && s.nan / s.count > r.maxNanFraction) {
      out.push({ rule: "max_nan_fraction", message: `${s.nan} of ${s.count} values are NaN (${pct(s.nan / s.count)}, at most ${pct(r.maxNanFraction)} allowed)${stored}`, chunk: index, at: s.firstNan });
    }
    if (r.range && s.outside > 0 && s.firstOutside) {
      const first = s.firstOutside;
      out.push({ rule: "range", message: `${s.outside} of ${s.count} values outside [${r.range[0]}, ${r.range[1]}], first ${first.value} at [${first.index.join(",")}]${stored}`, chunk: index, at: first.index });
    }
  }
  return out;
}

async function completeAlong(ctx: Context, arr: ArrayAt, info: ArrayInfo, dim: string, add: Add): Promise<void> {
  const d = info.dims?.indexOf(dim) ?? -1;
  if (d < 0) {
    add("complete_along", `the array has no dimension named ${json(dim)} (its dimensions: ${json(info.dims)}); name one it has`);
    return;
  }
  const grid = gridShape(arr.meta);
  const perStep = grid.reduce((a, g, i) => (i === d ? a : a * g), 1);
  const counts = new Map<number, number>();
  let last = -1;
  for (const c of await arr.stored()) {
    const k = c.index[d] as number;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if (k > last) last = k;
  }
  const size = arr.meta.chunkShape[d] as number;
  for (let k = 0; k < last; k++) {
    const n = counts.get(k) ?? 0;
    if (n >= perStep) continue;
    const at = arr.meta.shape.map((_s, i) => (i === d ? k * size : 0));
    const chunk = grid.map((_g, i) => (i === d ? k : 0));
    const all = await ctx.coords(arr, info, at);
    const coords = all && dim in all ? { [dim]: all[dim] as string | number } : undefined;
    add("complete_along", `${n === 0 ? "no chunk" : `${n} of ${perStep} chunks`} stored at ${dim} chunk ${k}, before the last written one (${last}): a missing ${dim} step`, { chunk, ...(coords ? { coords } : {}) });
  }
}

async function monotonic(ctx: Context, arr: ArrayAt, order: "increasing" | "decreasing", add: Add): Promise<void> {
  if (arr.meta.shape.length !== 1) {
    add("monotonic", `applies to 1-D arrays (coordinates); this one has ${arr.meta.shape.length} dimensions`);
    return;
  }
  const length = arr.meta.shape[0] as number;
  const grid = gridShape(arr.meta)[0] as number;
  let prev: number | null = null;
  for (let k = 0; k < grid; k++) {
    const values = vectorOf((await ctx.chunk(arr, [k])).chunk, length);
    if (!values) {
      add("monotonic", `the values are not numbers (${arr.meta.dtype})`);
      return;
    }
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      const ok = prev === null || (order === "increasing" ? v > prev : v < prev) ;
      if (!ok || Number.isNaN(v)) {
        const at = k * (arr.meta.chunkShape[0] as number) + i;
        add("monotonic", `not strictly ${order}: element ${at} is ${v} after ${prev}`, { chunk: [k] });
        return;
      }
      prev = v;
    }
  }
}

async function sharedDimensions(ctx: Context, group: string, members: string[], failures: Failures): Promise<void> {
  const first = new Map<string, { length: number; array: string }>();
  for (const p of members) {
    const arr = await ctx.session.array(p);
    if (!arr) continue;
    const { dims } = await ctx.info(arr);
    if (!dims) continue;
    for (let d = 0; d < dims.length; d++) {
      const name = dims[d];
      if (!name) continue;
      const length = arr.meta.shape[d] as number;
      const seen = first.get(name);
      if (!seen) first.set(name, { length, array: p });
      else if (seen.length !== length) {
        failures.add({ rule: "shared_dimensions", array: p, message: `dimension ${json(name)} has length ${length} here but ${seen.length} in ${seen.array} (group ${group === "" ? "/" : group})` });
      }
    }
  }
}

/** Consolidated metadata (v2 .zmetadata, v3 consolidated_metadata) against the tree's arrays and groups. */
async function consolidated(repo: Repository<Stores>, session: ReadSession, failures: Failures): Promise<void> {
  const docs: string[] = [];
  const visit = async (tree: GitOid, dir: string): Promise<void> => {
    for (const e of await repo.git.readTree(tree, dir || "root tree")) {
      if (e.name === MANIFEST_TREE) continue;
      const rel = joinPath(dir, e.name);
      if (e.mode === "040000") await visit(e.oid, rel);
      else if ([".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json"].includes(e.name)) docs.push(rel);
    }
  };
  await visit(session.info.tree, "");
  const has = new Set(docs);
  for (const p of docs) {
    const f = await session.file(p);
    if (!f) continue;
    if (p.endsWith(".zmetadata")) {
      const listed = listedDocs(await session.read(f), p);
      if (!listed) {
        failures.add({ rule: "consolidated", array: parentDir(p), message: `${p} is not consolidated metadata tdv can read` });
        continue;
      }
      const dir = parentDir(p);
      const under = docs.filter((x) => (dir === "" || x.startsWith(`${dir}/`)) && /(^|\/)\.z(array|group|attrs)$/.test(x));
      const d = disagreement(p, listed, (rel) => has.has(rel), under);
      if (d) failures.add({ rule: "consolidated", array: dir, message: describe(d.missing, d.unlisted, p) });
    } else if (p.endsWith("zarr.json")) {
      let doc: Record<string, unknown>;
      try {
        doc = parseZattrs(await session.read(f), p);
      } catch {
        continue;
      }
      const cm = doc.consolidated_metadata as { metadata?: unknown } | null | undefined;
      if (doc.node_type !== "group" || !cm || typeof cm.metadata !== "object" || cm.metadata === null) continue;
      const dir = parentDir(p);
      const listed = Object.keys(cm.metadata).map((k) => joinPath(dir, k));
      const nodes = docs.filter((x) => x.endsWith("zarr.json") && x !== p && (dir === "" || x.startsWith(`${dir}/`))).map(parentDir);
      const nodeSet = new Set(nodes);
      const listedSet = new Set(listed);
      const missing = listed.filter((x) => !nodeSet.has(x)).sort();
      const unlisted = nodes.filter((x) => !listedSet.has(x)).sort();
      if (missing.length || unlisted.length) failures.add({ rule: "consolidated", array: dir, message: describe(missing, unlisted, p) });
    }
  }
}

function describe(missing: string[], unlisted: string[], p: string): string {
  const parts: string[] = [];
  if (missing.length) parts.push(`it lists ${missing.join(", ")}, not in the commit`);
  if (unlisted.length) parts.push(`it does not list ${unlisted.join(", ")}, in the commit`);
  return `consolidated metadata ${p} disagrees with the tree: ${parts.join("; ")} (consolidate the metadata again)`;
}
