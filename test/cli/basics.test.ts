/** The program itself: version, help, usage errors, errors outside a repository, fast start. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { BIN, baseEnv, tdv } from "../helpers/cli.js";
import { makeFixture, tempDir } from "../helpers/fixture.js";

const COMMANDS = ["init", "status", "add", "commit", "log", "show", "ls", "branch", "switch", "checkout", "restore", "reset", "revert", "stash", "config", "tag", "cat", "demo"];
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe.concurrent("program", () => {
  it("--version prints the package version", async () => {
    const pkg = JSON.parse(await fsp.readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const r = await tdv(ROOT, ["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("--help lists every command with examples", async () => {
    const r = await tdv(ROOT, ["--help"]);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(r.stdout).toContain("Example");
  });

  it("every command's --help has an example", async () => {
    const results = await Promise.all(COMMANDS.map((c) => tdv(ROOT, [c, "--help"])));
    for (const [i, r] of results.entries()) {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout, COMMANDS[i]).toContain(`Usage: tdv ${COMMANDS[i]}`);
      expect(r.stdout, COMMANDS[i]).toContain("Example");
      expect(r.stdout, COMMANDS[i]).toContain(`$ tdv ${COMMANDS[i]}`);
      // a repeatable option shows no empty default (commit -m)
      expect(r.stdout, COMMANDS[i]).not.toMatch(/\(default:\s+\[\]\)/);
    }
  });

  it("starts without loading the library: no static import of src/ in the built CLI", async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== "ui") await walk(p);
        else if (e.name.endsWith(".js")) files.push(p);
      }
    };
    await walk(path.join(ROOT, "dist/cli"));
    expect(files.length).toBeGreaterThanOrEqual(COMMANDS.length + 3);
    for (const f of files) {
      const text = await fsp.readFile(f, "utf8");
      // type-only imports are erased by tsc: what is left is a real, eager import. The one allowed:
      // src/format/display.js (escaping for the terminal), pure and without imports of its own
      expect(text.replace(/^import[^;]*from\s+["'][./]*src\/format\/display\.js["'];$/gm, ""), f).not.toMatch(/^import[^;]*from\s+["'][./]*src\//m);
      expect(text, f).not.toMatch(/^import[^;]*from\s+["'](isomorphic-git|zarrita)/m);
    }
  });

  it("init -q prints nothing on stdout and still makes the repository, in a store root beside it", async () => {
    const dir = path.dirname(await makeFixture("v3/ocean.zarr"));
    const r = await tdv(dir, ["init", "-q"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect((await tdv(dir, ["status"])).code).toBe(0);
    const store = path.join(path.dirname(await makeFixture("v3/ocean.zarr")), "ocean.zarr");
    const inStore = await tdv(store, ["init", "--quiet"]);
    expect(inStore.code).toBe(0);
    expect(inStore.stdout).toBe("");
    expect(inStore.stderr).toBe("");
    expect(await fsp.readFile(path.join(store, ".tdv"), "utf8")).toBe(`tdvdir: ${path.join(path.dirname(store), "ocean.tdv")}\n`);
  });

  it("the installed binary (the bundle, commander inside it) loads no package for --version, and no decoder, Git library or UI for status", async () => {
    const dir = path.dirname(await makeFixture("v3/ocean.zarr"));
    expect((await tdv(dir, ["init"])).code).toBe(0);
    expect((await tdv(dir, ["add", "-A"])).code).toBe(0);
    expect((await tdv(dir, ["commit", "-m", "x"])).code).toBe(0);
    // hooks that print every package (not node: builtins, not relative files) the process imports or requires
    const isPackage = `(s) => !["node:", ".", "/", "file:", "data:"].some((p) => s.startsWith(p))`;
    const hook = `data:text/javascript,export async function resolve(s, c, n) { if ((${isPackage})(s)) process.stderr.write("[pkg " + s + "]"); return n(s, c); }`;
    const reg = `data:text/javascript,import { register } from "node:module"; register(${JSON.stringify(hook)});`;
    const preload = path.join(dir, "requires.cjs");
    await fsp.writeFile(
      preload,
      `const M = require("node:module"); const load = M._load; M._load = function (s, ...rest) { if ((${isPackage})(s)) process.stderr.write("[pkg " + s + "]"); return load.call(this, s, ...rest); };`,
    );
    const packages = (stderr: string) => [...new Set([...stderr.matchAll(/\[pkg ([^\]]+)\]/g)].map((m) => m[1]))].sort();
    const traced = ["--import", reg, "--require", preload, BIN];
    const version = spawnSync(process.execPath, [...traced, "--version"], { env: baseEnv(), encoding: "utf8" });
    expect(version.status, version.stderr).toBe(0);
    expect(packages(version.stderr)).toEqual([]);
    const st = spawnSync(process.execPath, [...traced, "status"], { cwd: dir, env: baseEnv(), encoding: "utf8" });
    expect(st.status, st.stderr).toBe(0);
    expect(packages(st.stderr)).toEqual([]);
    // the hooks do see a package where one is loaded: diff --values decodes with zarrita
    const chunk = path.join(dir, "ocean.zarr/depth/c/0");
    const bytes = await fsp.readFile(chunk);
    await fsp.writeFile(chunk, bytes.map((b) => b ^ 1));
    const values = spawnSync(process.execPath, [...traced, "diff", "--values"], { cwd: dir, env: baseEnv(), encoding: "utf8" });
    expect(values.status, values.stderr).toBe(0);
    expect(packages(values.stderr)).toContain("zarrita");
  });
});

describe.concurrent("usage errors exit 2 with a clear message", () => {
  let dir = "";
  beforeAll(async () => {
    dir = path.dirname(await makeFixture("v2/single.zarr"));
    expect((await tdv(dir, ["init"])).code).toBe(0);
  });

  it.each([
    [["nosuchcommand"], /unknown command/],
    // every command registered for a name no command has: commander names the nearest
    [["stauts"], /unknown command 'stauts'\n\(Did you mean status\?\)/],
    [["status", "--bogus"], /unknown option '--bogus'/],
    [["log", "-n", "x"], /not a whole number/],
    [["cat", "HEAD"], /missing required argument 'path'/],
    [["commit"], /commit message is required/],
    [["add"], /nothing specified/],
    [["restore"], /name the paths to restore/],
    [["reset", "--soft", "--hard"], /cannot be used together/],
    [["branch", "bad..name"], /not a valid branch or tag name/],
    [["switch"], /missing branch name/],
  ])("tdv %j", async (args, message) => {
    const r = await tdv(dir, args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });

  it("`tdv` alone shows the usage and exits 2", async () => {
    const r = await tdv(ROOT, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: tdv");
  });
});

describe.concurrent("failures exit 1 with the error and a hint", () => {
  it("outside a repository", async () => {
    const dir = await tempDir();
    for (const args of [["status"], ["log"], ["add", "-A"]]) {
      const r = await tdv(dir, args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: not a tdv repository/m);
      expect(r.stderr).toMatch(/^hint: .*tdv init/m);
    }
  });

  it("unknown revision", async () => {
    const dir = path.dirname(await makeFixture("v2/single.zarr"));
    await tdv(dir, ["init"]);
    await tdv(dir, ["add", "-A"]);
    await tdv(dir, ["commit", "-m", "one"]);
    for (const args of [["show", "nope"], ["log", "nope", "--"], ["checkout", "nope"], ["cat", "HEAD~5", "single.zarr/.zarray"]]) {
      const r = await tdv(dir, args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/^error: unknown revision/m);
      expect(r.stderr).toMatch(/^hint: /m);
    }
  });

  it("no stack trace unless TDV_DEBUG=1", async () => {
    const dir = await tempDir();
    expect((await tdv(dir, ["status"])).stderr).not.toMatch(/\n\s+at /);
    const debug = await tdv(dir, ["status"], { env: { TDV_DEBUG: "1" } });
    expect(debug.stderr).toMatch(/\n\s+at /);
    expect(debug.code).toBe(1);
  });
});
