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
const RANK: Record<string, number> = { format: 0, errors: 0, store: 1, zarr: 1, repo: 2, worktree: 3, session: 4, commands: 5, remote: 6, index: 7, demo: 8, cli: 9 };

/** Arrows known to run the wrong way, each with the work that removes it. Shrink this list; never grow it. */
const KNOWN: readonly string[] = ["cli/output.ts -> src/format/display.ts", "cli/paths.ts -> src/format/display.ts", "cli/ui/components/Text.tsx -> src/format/display.ts"];

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
    const entries = new Set(["src/index.ts", "src/demo/run.ts"]); // the demo is loaded lazily, by `tdv demo` only
    const reach = arrows
      .filter(({ from, to }) => from.startsWith("cli/") && to.startsWith("src/") && !entries.has(to))
      .map(({ from, to }) => `${from} -> ${to}`)
      .filter((a) => !KNOWN.includes(a));
    expect(reach).toEqual([]);
  });

  it("the known exceptions still exist (a mended one leaves the list)", () => {
    const all = new Set(arrows.map(({ from, to }) => `${from} -> ${to}`));
    expect(KNOWN.filter((k) => !all.has(k))).toEqual([]);
  });
});
