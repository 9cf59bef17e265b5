/**
 * The installed command line (dist/bin, scripts/bundle.mjs): `tdv.js` is an
 * ES module with the command line and the library; what only some commands
 * need (Ink and React for `tdv ui`) sits in chunks loaded by import(), never
 * in what every command loads before it runs.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, baseEnv } from "../helpers/cli.js";

const binDir = path.dirname(BIN);

/** What a bundle file imports: `import … from "x"` / `import "x"` statements, and `import("x")` calls. */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const text = readFileSync(path.join(binDir, file), "utf8");
  return {
    static: [...text.matchAll(/^import\s*(?:[^;"'()]*?\bfrom\s*)?["']([^"']+)["']/gm)].map((m) => m[1] as string),
    dynamic: [...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] as string),
  };
}

/** The bundle files `file` loads before its code runs (itself and its static imports, transitively), and the packages they import. */
function loadedWith(file: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (f: string) => {
    if (files.has(f)) return;
    files.add(f);
    for (const s of importsOf(f).static) {
      if (s.startsWith("./")) visit(s.slice(2));
      else if (!s.startsWith("node:")) packages.add(s);
    }
  };
  visit(file);
  return { files, packages };
}

const isUiPackage = (s: string) => /^(ink|react)(\/|$)/.test(s);

describe("the bundle", () => {
  it("loads no Ink or React with the command line; the UI is a chunk of its own, loaded by import()", () => {
    const main = loadedWith("tdv.js");
    expect(main.files.size).toBeGreaterThan(0);
    expect([...main.packages].filter(isUiPackage)).toEqual([]);
    // the packages every command loads: none (commander is in the bundle); the library's own (zarrita,
    // isomorphic-git, fflate) come with import() when used
    expect([...main.packages].sort()).toEqual([]);
    expect(readFileSync(BIN, "utf8")).toContain("Command");
    // the chunks loaded by import() from what every command loads: one of them brings Ink and React
    const lazy = [...main.files].flatMap((f) => importsOf(f).dynamic.filter((s) => s.startsWith("./")).map((s) => s.slice(2)));
    const ui = lazy.filter((f) => [...loadedWith(f).packages].some(isUiPackage));
    expect(ui).toHaveLength(1);
    expect(main.files.has(ui[0] as string)).toBe(false);
    expect([...loadedWith(ui[0] as string).packages]).toEqual(expect.arrayContaining(["ink", "react"]));
  });

  it("loads the library's index in three files at most, without the remote client or the codecs; the other verbs come by group with import()", () => {
    const main = loadedWith("tdv.js");
    const lazy = new Set([...main.files].flatMap((f) => importsOf(f).dynamic.filter((s) => s.startsWith("./")).map((s) => s.slice(2))));
    // the library's index: the chunk that exports openRepository (what every command but --version and --help loads)
    const index = [...lazy].filter((f) => /\bas openRepository\b|\bopenRepository\s*[,}]/.test(readFileSync(path.join(binDir, f), "utf8")));
    expect(index).toHaveLength(1);
    const lib = loadedWith(index[0] as string);
    // the index chunk, the one chunk of what it loads (scripts/bundle.mjs, "one-core"), the terminal escaping shared with tdv.js:
    // without the build's consolidation it was 12 files for a `status`
    expect(lib.files.size).toBeLessThanOrEqual(3);
    expect([...lib.packages]).toEqual([]);
    const builtins = [...lib.files].flatMap((f) => importsOf(f).static.filter((s) => s.startsWith("node:")));
    expect(builtins).toEqual(expect.arrayContaining(["node:fs", "node:crypto"]));
    expect(builtins.filter((s) => /^node:(http|https|tls|net)$/.test(s))).toEqual([]);
    // what the index loads by import(): the groups of verbs, and they import the same core, not copies of it
    const groups = [...new Set([...lib.files].flatMap((f) => importsOf(f).dynamic.filter((s) => s.startsWith("./")).map((s) => s.slice(2))))];
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const g of groups) for (const f of lib.files) if (f !== index[0]) expect(loadedWith(g).files.has(f)).toBe(true);
  });

  it("is run directly by its #! line, as npm's link to it is", () => {
    expect(readFileSync(BIN, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(binDir, "../../package.json"), "utf8")) as { version: string; bin: { tdv: string } };
    expect(path.resolve(binDir, "../..", pkg.bin.tdv)).toBe(BIN);
    const r = spawnSync(BIN, ["--version"], { env: baseEnv(), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
