/**
 * `tdv ui` as a user runs it: the built binary, Ink loaded only by this
 * command, a clear refusal without a terminal, and the real app in a
 * pseudo-terminal (tmux) showing history, a commit's arrays, resizing, quitting.
 */
import { spawnSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, baseEnv, tdv, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { until as poll } from "../helpers/time.js";
import { historyRepo } from "./helpers.js";

const DIST = fileURLToPath(new URL("../../dist/cli/", import.meta.url));
let dir = "";

beforeAll(async () => {
  ({ dir } = await historyRepo());
});

async function jsFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...(await jsFiles(p)));
    else if (e.name.endsWith(".js")) out.push(p);
  }
  return out;
}

describe("tdv ui: loading", () => {
  it("no static import of ink or react outside dist/cli/ui: the command loads the app with import()", async () => {
    const files = (await jsFiles(DIST)).filter((f) => !f.startsWith(path.join(DIST, "ui") + path.sep));
    expect(files).toContain(path.join(DIST, "commands", "ui.js"));
    for (const f of files) {
      const text = await fsp.readFile(f, "utf8");
      expect(text, f).not.toMatch(/^import[^;]*from\s+["'](ink|react|react\/jsx-runtime|ink-testing-library)["']/m);
      expect(text, f).not.toMatch(/^import\s+["'](ink|react)["']/m);
    }
    const cmd = await fsp.readFile(path.join(DIST, "commands", "ui.js"), "utf8");
    expect(cmd).toMatch(/await import\(["']\.\.\/ui\/app\.js["']\)/);
    expect(cmd).not.toMatch(/^import[^;]*from\s+["'][./]*ui\//m);
  });

  it("tdv --version runs without loading ink or react", () => {
    // a loader hook that fails the process if ink or react is ever resolved
    const hook = `data:text/javascript,export async function resolve(s, c, n) { if (/^(ink|react)(\\/|$)/.test(s)) { process.stderr.write("loaded " + s); process.exit(9); } return n(s, c); }`;
    const reg = `data:text/javascript,import { register } from "node:module"; register(${JSON.stringify(hook)});`;
    const r = spawnSync(process.execPath, ["--import", reg, BIN, "--version"], { env: baseEnv(), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const ui = spawnSync(process.execPath, ["--import", reg, BIN, "ui"], { cwd: dir, env: baseEnv(), encoding: "utf8" });
    expect(ui.status).toBe(1); // not a terminal: refused before ink loads
  });

  it("without a terminal: a clear error and exit 1; an unknown revision as everywhere; --help has examples", async () => {
    const r = await tdv(dir, ["ui"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("tdv ui needs a terminal");
    expect(r.stderr).toContain("tdv log --graph");
    expect(r.stdout).toBe("");
    const bad = await tdv(dir, ["ui", "nosuchrev"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nosuchrev/);
    const help = await tdvOk(dir, ["ui", "--help"]);
    expect(help.stdout).toContain("Usage: tdv ui");
    expect(help.stdout).toContain("$ tdv ui");
    expect(help.stdout).toContain("$ tdv ui --remote origin feature");
    // --remote: an unknown remote named as everywhere; a known one, still a terminal needed
    const unknown = await tdv(dir, ["ui", "--remote", "nosuchremote"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/nosuchremote/);
    const { dir: other } = await historyRepo(); // not the repository the terminal test below shows
    const remote = path.join(await tempDir(), "remote");
    await tdvOk(other, ["remote", "add", "origin", remote]);
    await tdvOk(other, ["push", "origin", "main", "--quiet"]);
    const noTty = await tdv(other, ["ui", "--remote", "origin", "main"]);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toContain("tdv ui needs a terminal");
    const badRev = await tdv(other, ["ui", "--remote", "origin", "feature"]); // not pushed
    expect(badRev.code).not.toBe(0);
    expect(badRev.stderr).toMatch(/feature/);
  });
});

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

describe.skipIf(!hasTmux && process.env.CI !== "true")("tdv ui in a pseudo-terminal (tmux)", () => {
  const socket = `tdv-ui-test-${process.pid}`;
  const tmux = (...args: string[]) => {
    const r = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const screen = () => tmux("capture-pane", "-p", "-t", "ui");
  async function until(ok: (s: string) => boolean, what: string, ms = 20_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const s = screen();
      if (ok(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  afterAll(() => {
    spawnSync("tmux", ["-L", socket, "kill-server"]);
  });

  it("shows the history, Enter opens a commit's arrays, follows a resize, q exits with 0; NO_COLOR writes no colour", async () => {
    const scratch = await tempDir();
    const exitFile = path.join(scratch, "exit-code");
    const outFile = path.join(scratch, "output");
    // CI=true as on a CI machine: Ink would then draw only the last frame, and tdv ui must still draw every one
    const env = baseEnv({ NO_COLOR: "1", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TERM: "xterm-256color", CI: "true" });
    const vars = ["TDV_AUTHOR_NAME", "TDV_AUTHOR_EMAIL", "TDV_FSYNC", "NO_COLOR", "LANG", "LC_ALL", "CI"].map((k) => `${k}=${JSON.stringify(env[k] ?? "")}`).join(" ");
    // the app's output is also copied to a file (pipe-pane) to look for colour codes
    const cmd = `cd ${JSON.stringify(dir)} && env ${vars} ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ui; echo $? > ${JSON.stringify(exitFile)}; sleep 30`;
    tmux("-u", "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", cmd);
    tmux("pipe-pane", "-t", "ui", "-o", `cat >> ${JSON.stringify(outFile)}`);
    let s = await until((x) => x.includes("feature: fix") && x.includes("9 arrays: +40 chunks"), "the history with summaries");
    let lines = s.replace(/\n$/, "").split("\n");
    expect(lines).toHaveLength(24);
    expect(lines[0]).toContain("history of all branches and tags");
    expect(s).toMatch(/^> \*\s+[0-9a-f]{7} 2026-03-04 Test\s+\(HEAD -> main\) Merge/m);
    expect(s).toMatch(/^\s+\| \* [0-9a-f]{7} 2026-03-02 .*\(feature\) feature: fix/m);
    expect(lines[22]).toMatch(/^↑↓\/jk move/); // the footer, above the line left free
    tmux("send-keys", "-t", "ui", "j");
    await until((x) => /^> \* \| [0-9a-f]{7} .*main: recalibrate/m.test(x), "the cursor on the second commit");
    tmux("send-keys", "-t", "ui", "Enter");
    s = await until((x) => x.includes("2 arrays changed"), "the commit's arrays");
    expect(s).toMatch(/^> ~ ocean\.zarr\/depth/m);
    expect(s).toMatch(/^ {2}~ ocean\.zarr\/sst/m);
    tmux("resize-window", "-t", "ui", "-x", "100", "-y", "30");
    s = await until((x) => x.split("\n").some((l) => l.startsWith("─".repeat(100))), "the review redrawn 100 wide");
    lines = s.replace(/\n$/, "").split("\n");
    expect(lines).toHaveLength(30);
    expect(lines[28]).toMatch(/^↑↓\/jk array/);
    tmux("send-keys", "-t", "ui", "q");
    const code = await poll(async () => (await fsp.readFile(exitFile, "utf8").catch(() => "")).trim() || null, "tdv ui to exit after q", { timeoutMs: 10_000, detail: screen });
    expect(code).toBe("0");
    const raw = await fsp.readFile(outFile, "utf8");
    expect(raw).toContain("feature: fix");
    expect(raw).not.toMatch(/\u001B\[[0-9;]*m/); // no SGR sequence at all: no colour, no bold, no inverse
  });
});
