/**
 * `tdv-rules.toml`: the validation rules, committed at the repository root
 * with the data they check (docs/rules.md). Parsed strictly: an unknown key,
 * a value of the wrong type or a bad glob is a RulesFileError naming the
 * file, the key and the fix, never a rule silently ignored.
 *
 *   [branches.main]
 *   protected = true
 *   check_on = ["commit", "merge", "push"]
 *
 *   [[arrays]]
 *   path = "era.zarr/t2m"
 *   max_nan_fraction = 0.0
 *   range = [180.0, 340.0]
 *   attrs = { units = "K" }
 *   dtype = "float32"
 *   complete_along = "time"
 *
 *   [[groups]]
 *   path = "era.zarr"
 *   shared_dimensions = true
 *
 *   consolidated = true
 */
import { RulesFileError } from "./errors.js";

export const RULES_FILE = "tdv-rules.toml";

export type CheckPoint = "commit" | "merge" | "push";
const CHECK_POINTS: readonly CheckPoint[] = ["commit", "merge", "push"];

export interface BranchRule {
  /** the name or glob as written ("main", "release/*") */
  name: string;
  match: (branch: string) => boolean;
  protected: boolean;
  checkOn: CheckPoint[];
}

export interface ArrayRule {
  /** the glob as written */
  path: string;
  match: (path: string) => boolean;
  /** where in the file ("arrays[2]"), for messages */
  where: string;
  maxNanFraction?: number;
  range?: [number, number];
  attrs?: Record<string, unknown>;
  dtype?: string;
  completeAlong?: string;
  shape?: number[];
  chunkShape?: number[];
  dimensionNames?: (string | null)[];
  monotonic?: "increasing" | "decreasing";
}

export interface GroupRule {
  path: string;
  match: (path: string) => boolean;
  where: string;
  sharedDimensions: boolean;
}

export interface Rules {
  /** the Git blob id of the rules file: verdicts are kept per commit and rules */
  id: string;
  branches: BranchRule[];
  arrays: ArrayRule[];
  groups: GroupRule[];
  /** consolidated metadata (.zmetadata, v3 consolidated_metadata) must list exactly the tree's arrays and groups */
  consolidated: boolean;
}

/** Parse the text of a rules file (`file` names it in errors; `id` is its blob id). */
export async function parseRules(text: string, id: string, file = RULES_FILE): Promise<Rules> {
  // loaded when a rules file is read: commands that meet none (status, log) never load the parser
  const { parse, TomlError } = await import("smol-toml");
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    const first = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    throw new RulesFileError(file, null, `not valid TOML${where}: ${first}`, "fix the TOML syntax (https://toml.io); `tdv check` reads it again");
  }
  const fail = (key: string, problem: string, fix: string): never => {
    throw new RulesFileError(file, key, problem, fix);
  };
  known(doc, ["branches", "arrays", "groups", "consolidated"], "", fail);

  const branches: BranchRule[] = [];
  const b = doc.branches;
  if (b !== undefined) {
    if (!isTable(b)) fail("branches", "must be a table of branches", "write `[branches.main]` sections");
    for (const [name, v] of Object.entries(b as Record<string, unknown>)) {
      const key = `branches.${name}`;
      if (!isTable(v)) fail(key, "must be a table", `write \`[${key}]\` with protected and check_on`);
      const t = v as Record<string, unknown>;
      known(t, ["protected", "check_on"], key, fail);
      const prot = t.protected ?? false;
      if (typeof prot !== "boolean") fail(`${key}.protected`, `must be true or false, not ${show(prot)}`, "write `protected = true`");
      let checkOn: CheckPoint[] = prot ? [...CHECK_POINTS] : [];
      if (t.check_on !== undefined) {
        if (!Array.isArray(t.check_on) || !t.check_on.every((x) => typeof x === "string" && (CHECK_POINTS as string[]).includes(x))) {
          fail(`${key}.check_on`, `must be a list of "commit", "merge", "push", not ${show(t.check_on)}`, 'write `check_on = ["commit", "merge", "push"]`');
        }
        checkOn = [...new Set(t.check_on as CheckPoint[])];
      }
      branches.push({ name, match: globMatcher(name, `${key}`, file, false), protected: prot as boolean, checkOn });
    }
  }

  const arrays: ArrayRule[] = [];
  for (const [i, t] of tables(doc.arrays, "arrays", fail).entries()) {
    const where = `arrays[${i}]`;
    known(t, ["path", "max_nan_fraction", "range", "attrs", "dtype", "complete_along", "shape", "chunk_shape", "dimension_names", "monotonic"], where, fail);
    const path = pathOf(t, where, fail);
    const r: ArrayRule = { path, match: globMatcher(path, `${where}.path`, file, true), where };
    if (t.max_nan_fraction !== undefined) {
      const v = t.max_nan_fraction;
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) fail(`${where}.max_nan_fraction`, `must be a number from 0 to 1, not ${show(v)}`, "write `max_nan_fraction = 0.0` for no NaN at all");
      r.maxNanFraction = v as number;
    }
    if (t.range !== undefined) {
      const v = t.range;
      if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === "number" || typeof x === "bigint") || Number(v[0]) > Number(v[1])) {
        fail(`${where}.range`, `must be [low, high] with low <= high, not ${show(v)}`, "write `range = [180.0, 340.0]`");
      }
      r.range = [Number((v as unknown[])[0]), Number((v as unknown[])[1])];
    }
    if (t.attrs !== undefined) {
      if (!isTable(t.attrs)) fail(`${where}.attrs`, `must be a table of attribute values, not ${show(t.attrs)}`, 'write `attrs = { units = "K" }`');
      r.attrs = jsonOf(t.attrs) as Record<string, unknown>;
    }
    if (t.dtype !== undefined) {
      if (typeof t.dtype !== "string" || canonicalDtype(t.dtype) === null) fail(`${where}.dtype`, `is not a data type tdv knows: ${show(t.dtype)}`, 'write a Zarr v3 name or a NumPy type string: `dtype = "float32"` or `dtype = "<f4"`');
      r.dtype = t.dtype as string;
    }
    if (t.complete_along !== undefined) {
      if (typeof t.complete_along !== "string" || t.complete_along === "") fail(`${where}.complete_along`, `must be a dimension name, not ${show(t.complete_along)}`, 'write `complete_along = "time"`');
      r.completeAlong = t.complete_along as string;
    }
    for (const [k, prop] of [["shape", "shape"], ["chunk_shape", "chunkShape"]] as const) {
      const v = t[k];
      if (v === undefined) continue;
      if (!Array.isArray(v) || !v.every((x) => (typeof x === "number" && Number.isInteger(x) && x >= 0) || typeof x === "bigint")) fail(`${where}.${k}`, `must be a list of whole numbers, not ${show(v)}`, `write \`${k} = [365, 721, 1440]\``);
      r[prop] = (v as unknown[]).map(Number);
    }
    if (t.dimension_names !== undefined) {
      const v = t.dimension_names;
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(`${where}.dimension_names`, `must be a list of names, not ${show(v)}`, 'write `dimension_names = ["time", "lat", "lon"]` ("" for an unnamed dimension)');
      r.dimensionNames = (v as string[]).map((x) => (x === "" ? null : x));
    }
    if (t.monotonic !== undefined) {
      if (t.monotonic !== "increasing" && t.monotonic !== "decreasing") fail(`${where}.monotonic`, `must be "increasing" or "decreasing", not ${show(t.monotonic)}`, 'write `monotonic = "increasing"`');
      r.monotonic = t.monotonic as "increasing" | "decreasing";
    }
    arrays.push(r);
  }

  const groups: GroupRule[] = [];
  for (const [i, t] of tables(doc.groups, "groups", fail).entries()) {
    const where = `groups[${i}]`;
    known(t, ["path", "shared_dimensions"], where, fail);
    const path = pathOf(t, where, fail);
    const s = t.shared_dimensions ?? false;
    if (typeof s !== "boolean") fail(`${where}.shared_dimensions`, `must be true or false, not ${show(s)}`, "write `shared_dimensions = true`");
    groups.push({ path, match: globMatcher(path, `${where}.path`, file, true), where, sharedDimensions: s as boolean });
  }

  const c = doc.consolidated ?? false;
  if (typeof c !== "boolean") fail("consolidated", `must be true or false, not ${show(c)}`, "write `consolidated = true` (at the top, before any [section])");
  return { id, branches, arrays, groups, consolidated: c as boolean };
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

type Fail = (key: string, problem: string, fix: string) => never;

function known(t: Record<string, unknown>, keys: readonly string[], where: string, fail: Fail): void {
  for (const k of Object.keys(t)) {
    if (keys.includes(k)) continue;
    const near = keys.find((x) => distance(x, k.toLowerCase().replace(/-/g, "_")) <= 2);
    fail(where ? `${where}.${k}` : k, "is not a key tdv knows", near ? `did you mean \`${near}\`? (known keys: ${keys.join(", ")})` : `remove it, or use one of: ${keys.join(", ")} (docs/rules.md)`);
  }
}

/** Edit distance (insertions, deletions, substitutions, transpositions of neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

function tables(v: unknown, key: string, fail: Fail): Record<string, unknown>[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isTable)) fail(key, "must be an array of tables", `write each as a \`[[${key}]]\` section with a path`);
  return v as Record<string, unknown>[];
}

function pathOf(t: Record<string, unknown>, where: string, fail: Fail): string {
  const p = t.path;
  if (typeof p !== "string") fail(`${where}.path`, p === undefined ? "is missing" : `must be a string, not ${show(p)}`, 'name the arrays it applies to: `path = "era.zarr/t2m"` (a glob: `*` within a folder name, `**` across folders)');
  return (p as string).replace(/^\/+|\/+$/g, "");
}

/** TOML values as JSON values (integers beyond 2^53 as numbers, dates as ISO strings), to compare with attributes. */
function jsonOf(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(jsonOf);
  if (isTable(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonOf(x)]));
  return v;
}

/**
 * A glob over paths: `*` any run of characters within one path part, `?`
 * one such character, `**` any number of whole parts, `{a,b}` either,
 * `[abc]` (or `[!abc]`) one of. Anything else is literal. Matched by dynamic
 * programming over the glob's tokens and the path's characters, never by a
 * backtracking regular expression: a hostile rules file cannot make a match
 * take exponential time. Outside paths (`paths` false: branch names) `*`
 * also crosses `/`.
 */
export function globMatcher(glob: string, key: string, file: string, paths: boolean): (path: string) => boolean {
  const bad = (problem: string): never => {
    throw new RulesFileError(file, key, `bad glob ${JSON.stringify(glob)}: ${problem}`, "`*` matches within a folder name, `**` across folders, `?` one character, `{a,b}` either, `[abc]` one of; escape nothing else");
  };
  if (glob === "") bad('it is empty; `"*"` names the top-level arrays, `"**"` every array');
  if (glob.length > 1024) bad("it is longer than 1024 characters");
  const alternatives = expandBraces(glob, bad).flatMap(expandGlobstars);
  if (alternatives.length > 256) bad("its `{a,b}` and `**` parts make more than 256 alternatives");
  const compiled = alternatives.map((g) => tokenize(g, paths, bad));
  return (p) => compiled.some((t) => matchTokens(t, p));
}

type Token = { kind: "char"; c: string } | { kind: "one" } | { kind: "star" } | { kind: "globstar" } | { kind: "class"; set: string; negate: boolean };

/** `{a,b}` expanded into whole globs (at most 256), innermost first. */
function expandBraces(glob: string, bad: (problem: string) => never): string[] {
  let out = [glob];
  for (let guard = 0; guard < 64; guard++) {
    const next: string[] = [];
    let expanded = false;
    for (const g of out) {
      const close = g.indexOf("}");
      const open = close < 0 ? -1 : g.lastIndexOf("{", close);
      if (close < 0) {
        if (g.includes("{")) bad("a `{` without its `}`");
        next.push(g);
        continue;
      }
      if (open < 0) bad("a `}` without its `{`");
      expanded = true;
      for (const alt of g.slice(open + 1, close).split(",")) next.push(g.slice(0, open) + alt + g.slice(close + 1));
    }
    if (next.length > 256) bad("its `{a,b}` alternatives make more than 256 globs");
    out = next;
    if (!expanded) return out;
  }
  return bad("its `{}` nest too deep");
}

// Each "**" + "/" as zero parts, or as any characters then a slash: the alternatives.
function expandGlobstars(glob: string): string[] {
  const parts = glob.split("**/");
  let out = [parts[0] as string];
  for (const part of parts.slice(1)) {
    out = out.flatMap((g) => [g + part, `${g}**/${part}`]);
    if (out.length > 512) break;
  }
  return out;
}

function tokenize(glob: string, paths: boolean, bad: (problem: string) => never): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        // "**/" is zero parts (expandGlobstars) or any characters then a slash
        if (i + 1 < glob.length && glob[i + 1] !== "/") bad("`**` stands for whole folder names: write `**/name`, or `*` within a name");
        out.push({ kind: "globstar" });
      } else out.push(paths ? { kind: "star" } : { kind: "globstar" });
    } else if (c === "?") out.push({ kind: "one" });
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) bad("a `[` without its `]`");
      const body = glob.slice(i + 1, end);
      const negate = body.startsWith("!");
      out.push({ kind: "class", set: negate ? body.slice(1) : body, negate });
      i = end;
    } else if (c === "]") bad("a `]` without its `[`");
    else out.push({ kind: "char", c });
  }
  return out;
}

/** Whether `tokens` match all of `p`: reachable token positions, advanced one character at a time (O(tokens × length)). */
function matchTokens(tokens: readonly Token[], p: string): boolean {
  const n = tokens.length;
  let states = new Uint8Array(n + 1);
  const close = (s: Uint8Array) => {
    // a star or globstar may match nothing: the position after it is reachable too
    for (let k = 0; k < n; k++) {
      const t = tokens[k] as Token;
      if (s[k] && (t.kind === "star" || t.kind === "globstar")) s[k + 1] = 1;
    }
  };
  states[0] = 1;
  close(states);
  for (const ch of p) {
    const next = new Uint8Array(n + 1);
    let any = false;
    for (let k = 0; k < n; k++) {
      if (!states[k]) continue;
      const t = tokens[k] as Token;
      const slash = ch === "/";
      if (t.kind === "globstar") {
        next[k] = 1; // stays
        any = true;
      } else if (t.kind === "star") {
        if (!slash) {
          next[k] = 1;
          any = true;
        }
      } else if ((t.kind === "char" && t.c === ch) || (t.kind === "one" && !slash) || (t.kind === "class" && !slash && classHas(t.set, ch) !== t.negate)) {
        next[k + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    states = next;
  }
  return states[n] === 1;
}

function classHas(set: string, ch: string): boolean {
  for (let i = 0; i < set.length; i++) {
    if (set[i + 1] === "-" && i + 2 < set.length) {
      if (ch >= (set[i] as string) && ch <= (set[i + 2] as string)) return true;
      i += 2;
    } else if (set[i] === ch) return true;
  }
  return false;
}

const V2_DTYPES: Record<string, string> = {
  b1: "bool",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  f2: "float16",
  f4: "float32",
  f8: "float64",
  c8: "complex64",
  c16: "complex128",
};
const V3_DTYPES = new Set(Object.values(V2_DTYPES));

/** A data type as a Zarr v3 name ("float32"), from a v3 name or a NumPy type string ("<f4", "|u1"); null when neither. */
export function canonicalDtype(d: string): string | null {
  if (V3_DTYPES.has(d)) return d;
  const m = /^[<>|=]?([biufc]\d+)$/.exec(d);
  return m ? (V2_DTYPES[m[1] as string] ?? null) : null;
}

/** What the rules say of `branch` ("main" or "refs/heads/main"): protected, and where its rules run. */
export function branchPolicy(rules: Rules | null, branch: string): { protected: boolean; checkOn: Set<CheckPoint> } {
  const name = branch.replace(/^refs\/heads\//, "");
  const out = { protected: false, checkOn: new Set<CheckPoint>() };
  if (!rules) return out;
  // the section that names the branch exactly, else every glob section that matches it
  const exact = rules.branches.filter((b) => b.name === name);
  for (const b of exact.length ? exact : rules.branches.filter((b) => b.match(name))) {
    out.protected ||= b.protected;
    for (const c of b.checkOn) out.checkOn.add(c);
  }
  if (out.protected) out.checkOn.add("push");
  return out;
}
