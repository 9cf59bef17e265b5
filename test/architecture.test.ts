/**
 * The layers, as the folder tree shows them (docs/architecture.md):
 *
 *   format → store, zarr → repo → worktree → session → commands → remote
 *     → index (the public library) → demo, cli
 *
 * A file imports only from its own layer or the ones below it; a command
 * never imports another command; the CLI and the terminal UI reach the
 * library through its public entry (src/index.ts) only. Read from the
 * sources' own import statements, so a new arrow back up fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

/** Lower number, lower layer. errors.ts sits with the formats: every layer throws its errors. */
const RANK: Record<string, number> = { format: 0, errors: 0, store: 1, zarr: 1, repo: 2, worktree: 3, session: 4, rules: 4.5, commands: 5, remote: 6, index: 7, later: 7, demo: 8, cli: 9 };

/** Arrows known to run the wrong way, each with the work that removes it. Shrink this list; never grow it. */
const KNOWN: readonly string[] = [];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

function layerOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "cli") return "cli";
  const top = parts.length === 2 ? (parts[1] as string).replace(/\.tsx?$/, "") : (parts[1] as string);
  if (!(top in RANK)) throw new Error(`${file}: no layer for src/${top}; add it to RANK in test/architecture.test.ts`);
  return top;
}

/** Every relative import (static, dynamic, re-export) of `file`, as repository paths of .ts/.tsx files. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s*"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g)) {
    const spec = (m[1] ?? m[2]) as string;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, "");
    out.push(readdirSafe(target));
  }
  return out;
}

function readdirSafe(noExt: string): string {
  for (const ext of [".ts", ".tsx"]) {
    try {
      readFileSync(path.join(root, noExt + ext));
      return noExt + ext;
    } catch {}
  }
  return `${noExt}.js`;
}

/**
 * Member access to a repository's stores in `text`: `repo.git`, `this.repo.refs`,
 * `repository?.chunks`, and destructuring them out of a repository. A text
 * check (the CLI names its repository `repo`), proven on examples below.
 */
function storeReaches(text: string): string[] {
  const member = /\b(?:this\.)?\w*repo(?:sitory)?\s*(?:\?\.|\.)\s*(?:git|refs|chunks)\b/gi;
  const destructure = /\{[^{}]*\b(?:git|refs|chunks)\b[^{}]*\}\s*=\s*(?:await\s+)?[\w.]*repo(?:sitory)?\b(?:\.open\()?/gi;
  const hits = [...text.matchAll(member), ...text.matchAll(destructure)].sort((x, y) => (x.index as number) - (y.index as number));
  return hits.map((m) => m[0]);
}

const files = [...sources("src"), ...sources("cli")];
const arrows = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

describe("the layers", () => {
  it("reads the arrows (a broken reader would pass everything)", () => {
    expect(arrows.length).toBeGreaterThan(500);
    expect(arrows).toContainEqual({ from: "src/commands/commit.ts", to: "src/worktree/record.ts" });
  });

  it("no file imports from a layer above its own", () => {
    const up = arrows
      .filter(({ to }) => to.startsWith("src/") || to.startsWith("cli/"))
      .filter(({ from, to }) => (RANK[layerOf(to)] as number) > (RANK[layerOf(from)] as number))
      .map(({ from, to }) => `${from} -> ${to}`)
      .filter((a) => !KNOWN.includes(a));
    expect(up).toEqual([]);
  });

  it("no command imports another command", () => {
    const between = arrows.filter(({ from, to }) => from.startsWith("src/commands/") && to.startsWith("src/commands/")).map(({ from, to }) => `${from} -> ${to}`);
    expect(between).toEqual([]);
  });

  it("the CLI and the UI reach the library through src/index.ts only", () => {
    // the demo is loaded lazily, by `tdv demo` only; the terminal escaping (also exported by src/index.ts) is
    // imported statically by cli/output.ts and cli/paths.ts, so that the CLI starts without loading the
    // library (test/cli/basics.test.ts): it is pure and imports nothing
    const entries = new Set(["src/index.ts", "src/demo/run.ts", "src/format/display.ts"]);
    const reach = arrows
      .filter(({ from, to }) => from.startsWith("cli/") && to.startsWith("src/") && !entries.has(to))
      .map(({ from, to }) => `${from} -> ${to}`)
      .filter((a) => !KNOWN.includes(a));
    expect(reach).toEqual([]);
  });

  it("the CLI and the UI never reach into a repository's stores (git, refs, chunks): they call library functions", () => {
    const reach = sources("cli").flatMap((file) => storeReaches(readFileSync(path.join(root, file), "utf8")).map((r) => `${file}: ${r}`));
    expect(reach).toEqual([]);
  });

  it("reads store reaches (a broken reader would pass everything)", () => {
    const text = [
      "const head = await repo.refs.head();",
      "const c = await this.repo.git.readCommit(oid);",
      "const b = await ctx.repo?.chunks.get(id);",
      "const git = repository.git;",
      "const { chunks, refs: r } = repo;",
      "const { git } = await lib.Repository.open({ dir });",
      // not a repository: a diff's chunk counts, a push result's refs
      "n += a.chunks.added.count; res.refs.filter(ok); const repoPath = x.git; lib.Repository.open({});",
    ].join("\n");
    expect(storeReaches(text)).toEqual(["repo.refs", "this.repo.git", "repo?.chunks", "repository.git", "{ chunks, refs: r } = repo", "{ git } = await lib.Repository.open("]);
  });

  it("the terminal escaping, a public entry of its own, stays pure: it imports nothing", () => {
    expect(arrows.filter(({ from }) => from === "src/format/display.ts")).toEqual([]);
  });

  it("the known exceptions still exist (a mended one leaves the list)", () => {
    const all = new Set(arrows.map(({ from, to }) => `${from} -> ${to}`));
    expect(KNOWN.filter((k) => !all.has(k))).toEqual([]);
  });
});
