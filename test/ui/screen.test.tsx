/**
 * What every screen shares: 80×24 and resizing, colour and NO_COLOR, the help
 * overlay, q. Colour is forced on for this file (chalk decides at import), so
 * that "no colour codes with NO_COLOR" means something.
 */
import { vi } from "vitest";

vi.hoisted(() => {
  process.env.FORCE_COLOR = "1";
});

import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import type { Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { colorFromEnv } from "../../cli/ui/components/theme.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { historyRepo, KEYS, press, selectCommit, waitFor } from "./helpers.js";

let repo: Repository;
const SGR = /\u001B\[[0-9;]*m/g;

beforeAll(async () => {
  ({ repo } = await historyRepo());
});

async function heatmapFrame(color: boolean): Promise<string> {
  const ui = render(<App source={repoSource(repo)} color={color} size={{ width: 80, height: 24 }} />);
  await waitFor(ui.lastFrame, (s) => s.replace(SGR, "").includes("import"));
  await selectCommit(ui, "feature: fix");
  await press(ui.stdin, KEYS.enter);
  await waitFor(ui.lastFrame, (s) => s.replace(SGR, "").includes("1 array changed"));
  await press(ui.stdin, KEYS.enter, "v");
  const f = await waitFor(ui.lastFrame, (s) => s.replace(SGR, "").includes("max|Δ| to 10.47") && s.replace(SGR, "").includes("elements changed") && s.includes("lat\\lon"), "the values heatmap");
  ui.unmount();
  return f;
}

describe("every screen", () => {
  it("NO_COLOR turns colour off (no-color.org: any value but the empty string)", () => {
    expect(colorFromEnv({ NO_COLOR: "1" })).toBe(false);
    expect(colorFromEnv({ NO_COLOR: "" })).toBe(true);
    expect(colorFromEnv({})).toBe(true);
    expect(colorFromEnv({ TERM: "dumb" })).toBe(false);
  });

  it("colour marks the heatmap; without colour not one escape code is written and the characters are the same", async () => {
    const coloured = await heatmapFrame(true);
    const plain = await heatmapFrame(false);
    expect(coloured).toMatch(SGR);
    expect(plain).not.toMatch(/\u001B/);
    const trim = (f: string) => f.split("\n").map((l) => l.trimEnd()).join("\n");
    expect(trim(coloured.replace(SGR, ""))).toBe(trim(plain));
    expect(plain).toMatch(/^-37\.5 {6}\[4\] \. {2}\.\s*$/m);
    // with values on, a changed chunk's background is its level on the colour scale (10.47 of 10.47: the top, yellow)
    const cell = coloured.split("\n").find((l) => l.replace(SGR, "").startsWith("-37.5")) ?? "";
    // (in as many colours as the terminal has: here chalk's 16, bright yellow)
    expect(cell).toMatch(/\u001B\[(48;2;253;231;37|48;5;\d+|103)m(\u001B\[[0-9;]*m)*\[4\]/);
    expect(coloured).toMatch(/\u001B\[(48;[25];[\d;]+|10[0-7]|4[0-7])m(\u001B\[[0-9;]*m)*1/); // the legend's digits on their colours
  });

  it("fits 80×24 and redraws for a new size: every line within the width, the footer on the last line", async () => {
    const source = repoSource(repo);
    const ui = render(<App source={source} color={false} size={{ width: 80, height: 24 }} />);
    let f = await waitFor(ui.lastFrame, (s) => s.includes("9 arrays: +40 chunks"));
    let lines = f.split("\n");
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[23]).toMatch(/^↑↓\/jk move/);
    ui.rerender(<App source={source} color={false} size={{ width: 120, height: 30 }} />);
    f = await waitFor(ui.lastFrame, (s) => s.split("\n").length === 30, "30 lines");
    lines = f.split("\n");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
    expect(lines.some((l) => l.length > 80)).toBe(true);
    expect(lines[29]).toMatch(/^↑↓\/jk move/);
    ui.rerender(<App source={source} color={false} size={{ width: 60, height: 12 }} />);
    f = await waitFor(ui.lastFrame, (s) => s.split("\n").length === 12, "12 lines");
    for (const l of f.split("\n")) expect(l.length).toBeLessThanOrEqual(60);
    expect(f).toContain("Merge"); // the selected commit still shows
    ui.unmount();
  });

  it("? shows every key; ? or Esc closes it; q quits", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={{ width: 80, height: 24 }} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await press(ui.stdin, "?");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("Everywhere") || s.includes("(more:"), "help");
    expect(f).toContain("History");
    expect(f).toContain("search messages");
    await press(ui.stdin, "j"); // keys do not reach the screen under the help
    await press(ui.stdin, KEYS.escape);
    // the header names the history under the help too: wait for the help to go and the rows to show
    // (on a busy machine Ink may take a while to settle a lone Esc)
    const historyShown = (s: string) => !s.includes("closes this help") && s.split("\n").some((l) => l.startsWith(">"));
    f = await waitFor(ui.lastFrame, historyShown, "the help to close");
    expect(f.split("\n").find((l) => l.startsWith(">"))).toContain("Merge");
    await press(ui.stdin, "?");
    await waitFor(ui.lastFrame, (s) => s.includes("closes this help"), "help again");
    await press(ui.stdin, "?");
    await waitFor(ui.lastFrame, historyShown, "the help to close with ?");
    const before = ui.stdin.listenerCount("readable");
    expect(before).toBeGreaterThan(0);
    await press(ui.stdin, "q");
    await waitFor(() => String(ui.stdin.listenerCount("readable")), (n) => n === "0", "the app to stop reading keys");
    ui.unmount();
  });
});
