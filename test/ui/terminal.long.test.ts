/**
 * `tdv ui` in a real pseudo-terminal (tmux): keys sent in one burst, as a
 * fast typist, a held key or a slow SSH link delivers them, and the value map
 * drawn in 24-bit colour and, with NO_COLOR, in glyphs.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, baseEnv } from "../helpers/cli.js";
import { dataRepo } from "./helpers.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
let dir = "";

beforeAll(async () => {
  ({ dir } = await dataRepo());
});

describe.skipIf(!hasTmux && process.env.CI !== "true")("tdv ui in tmux: bursts of keys, the value map", () => {
  const socket = `tdv-ui-long-${process.pid}`;
  const tmux = (...args: string[]) => {
    const r = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const screen = (name: string, escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", name);
  async function until(name: string, ok: (s: string) => boolean, what: string, escapes = false, ms = 20_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const s = screen(name, escapes);
      if (ok(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  function start(name: string, env: Record<string, string>) {
    const e = baseEnv({ LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TERM: "xterm-256color", ...env });
    const vars = ["TDV_AUTHOR_NAME", "TDV_AUTHOR_EMAIL", "TDV_FSYNC", "LANG", "LC_ALL", "TERM", ...Object.keys(env)].map((k) => `${k}=${JSON.stringify(e[k] ?? "")}`).join(" ");
    tmux("-u", "new-session", "-d", "-s", name, "-x", "80", "-y", "30", `cd ${JSON.stringify(dir)} && env ${vars} ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ui; sleep 30`);
  }

  afterAll(() => {
    spawnSync("tmux", ["-L", socket, "kill-server"]);
  });

  it("j j Enter sent at once opens the commit two rows down; i draws the value map in 24-bit colour", async () => {
    start("burst", { COLORTERM: "truecolor" });
    await until("burst", (s) => /^> \*.*nan and a s/m.test(s) && s.includes("9 arrays"), "the history");
    tmux("send-keys", "-t", "burst", "jj"); // one write of two keys
    await until("burst", (s) => /^> \*.*append two time steps/m.test(s), "two rows down");
    tmux("send-keys", "-t", "burst", "k", "Enter"); // the issue's `j j j j Enter`: keys and Enter in one go
    await until("burst", (s) => s.includes("rechunk sst") && s.includes("1 array changed"), "the review of the commit one row up");
    tmux("send-keys", "-t", "burst", "i");
    const s = await until("burst", (x) => x.includes("read 30 chunks") || x.includes("read 48 chunks"), "the value map", true);
    expect(s).toMatch(/\u001B\[[0-9;]*38;2;\d+;\d+;\d+[0-9;]*m/); // 24-bit foreground …
    expect(s).toMatch(/\u001B\[[0-9;]*48;2;\d+;\d+;\d+[0-9;]*m/); // … and background
    expect(s).toContain("▀");
    tmux("send-keys", "-t", "burst", "q");
  });

  it("NO_COLOR: the value map in glyphs, not one colour code", async () => {
    start("plain", { NO_COLOR: "1" });
    await until("plain", (s) => /^> \*.*nan and a s/m.test(s), "the history");
    tmux("send-keys", "-t", "plain", "Enter", "i"); // i typed ahead, while the review is computed
    const s = await until("plain", (x) => x.includes("chunks: the slice's"), "the value map", true);
    expect(s).not.toMatch(/\u001B\[[0-9;]*m/);
    expect(s).toMatch(/^▲×·+\s*$/m);
    tmux("send-keys", "-t", "plain", "q");
  });
});
