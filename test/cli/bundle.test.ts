/**
 * The installed command line (dist/bin): the launcher compiles the bundle
 * with the code cache the build wrote; a cache V8 refuses (another Node, a
 * damaged file) or no cache at all only costs time, never a command.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, baseEnv } from "../helpers/cli.js";
import { makeFixture } from "../helpers/fixture.js";

const binDir = path.dirname(BIN);
// a copy beside dist/bin: the same node_modules and package.json two levels up
const copy = path.join(binDir, "..", "bin-cache-test");
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const node = (args: string[], cwd?: string) => spawnSync(process.execPath, args, { cwd, env: baseEnv(), encoding: "utf8" });

describe("the bundle's code cache", () => {
  it("is written by the build and accepted by this Node", () => {
    expect(existsSync(path.join(binDir, "main.cache"))).toBe(true);
    const probe = `const { load } = require(${JSON.stringify(BIN)}); const fs = require("node:fs");
      const { script } = load(fs.readFileSync(${JSON.stringify(path.join(binDir, "main.cache"))}));
      process.stdout.write(String(script.cachedDataRejected));`;
    const r = node(["-e", probe]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("false");
  });

  it("refused or missing, the commands still run, import() of zarrita and the UI's modules included", async () => {
    const dir = path.dirname(await makeFixture("v3/ocean.zarr"));
    const pkg = JSON.parse(readFileSync(path.join(binDir, "../../package.json"), "utf8")) as { version: string };
    for (const cache of ["garbage", "none"]) {
      rmSync(copy, { recursive: true, force: true });
      cpSync(binDir, copy, { recursive: true });
      if (cache === "none") rmSync(path.join(copy, "main.cache"));
      else writeFileSync(path.join(copy, "main.cache"), Buffer.alloc(4096, 7));
      const bin = path.join(copy, "tdv.js");
      expect(node([bin, "--version"]).stdout.trim(), cache).toBe(pkg.version);
      if (cache === "garbage") {
        for (const args of [["init"], ["add", "-A"], ["commit", "-m", "one"]]) expect(node([bin, ...args], dir).status, `${cache}: ${args}`).toBe(0);
        const chunk = path.join(dir, "ocean.zarr/depth/c/0");
        writeFileSync(chunk, readFileSync(chunk).map((b) => b ^ 1));
      }
      const values = node([bin, "diff", "--values"], dir);
      expect(values.status, `${cache}: ${values.stderr}`).toBe(0);
      expect(values.stdout, cache).toMatch(/ocean\.zarr\/depth/);
      // the UI (an ES module) imports the library from the bundle and finds what it needs there
      const ui = node(["--input-type=module", "-e", `import(${JSON.stringify(path.join(copy, "ui.mjs"))}).then((m) => process.stdout.write(typeof m.runUi))`]);
      expect(ui.stderr, cache).toBe("");
      expect(ui.stdout, cache).toBe("function");
    }
  });
});
