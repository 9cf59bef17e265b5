/**
 * What a reviewer met in use, on a real repository: keys arriving in one
 * burst, an appended chunk, a rechunked array, the changed-values table on a
 * tall terminal. (The conflict screen's counts are in conflicts.test.tsx.)
 */
import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import type { Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { dataRepo, KEYS, press, selectCommit, selectedLine, waitFor } from "./helpers.js";

let repo: Repository;

beforeAll(async () => {
  ({ repo } = await dataRepo());
});

async function grid(subject: string, size = { width: 80, height: 24 }) {
  const ui = render(<App source={repoSource(repo)} color={false} size={size} />);
  await waitFor(ui.lastFrame, (s) => s.includes("import"));
  await selectCommit(ui, subject);
  await press(ui.stdin, KEYS.enter);
  await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "the review");
  await press(ui.stdin, KEYS.enter);
  return ui;
}

describe("found in use", () => {
  it("letter keys sent in one burst are each handled, in order, each seeing the state the one before left", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={{ width: 80, height: 24 }} />);
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("nan and a s") && s.includes("9 arrays"));
    ui.stdin.write("jj"); // one read of two keys, as a fast typist or a held key over SSH gives
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("append two time steps"), "two rows down");
    ui.stdin.write("k\r"); // a move, then Enter on the commit it reached
    await waitFor(ui.lastFrame, (s) => s.includes("rechunk sst") && s.includes("changed ("), "the review of the commit one row up");
    expect(ui.lastFrame()?.split("\n")[0]).toMatch(/[0-9a-f]{7} rechunk sst/);
    ui.unmount();
  });

  it("an appended chunk: its elements are added, not 'N of 0 changed'", async () => {
    const ui = await grid("append two time steps");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("chunk [3, 0, 0] added ·"), "the appended chunk decoded");
    expect(f).toContain("chunk [3, 0, 0] added · 128 elements added (nothing before)");
    expect(f).not.toMatch(/of 0 elements/);
    expect(f).toMatch(/^\[6,0,0\]\s+—\s+100\s*$/m);
    ui.unmount();
  });

  it("a rechunked array: the new grid, the change of grid said, no chunk compared with another grid's", async () => {
    const ui = await grid("rechunk sst");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("rechunked") && s.includes("lat\\lon"), "the rechunked grid with its coordinates");
    expect(f).toContain("ocean.zarr/sst · slice time=0/3◂ · lat × lon · grid 3×4×6");
    expect(f).toContain("rechunked 2×8×8 → 3×4×4: the new grid, every chunk new (+)");
    expect(f).toMatch(/^-37\.5 {6}\[\+\] \+ {2}\+ {2}\+ {2}\+ {2}\+\s*$/m);
    expect(f).toContain("the chunk grid changed (chunks 2×8×8 → 3×4×4)");
    expect(f).not.toMatch(/elements changed/);
    await press(ui.stdin, "v"); // values on: still nothing decoded chunk against chunk
    await new Promise((r) => setTimeout(r, 300));
    expect(ui.lastFrame()).not.toMatch(/elements changed|^\d+ .*\?/m); // no cell waits for a decode
    ui.unmount();
  });

  it("the changed-values table fills a tall terminal", async () => {
    const ui = await grid("append two time steps", { width: 80, height: 45 });
    const f = await waitFor(ui.lastFrame, (s) => s.includes("128 elements added"), "the appended chunk decoded");
    const rows = f.split("\n").filter((l) => /^\[\d+,\d+,\d+\]/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(f).toContain(`… ${128 - rows.length} more elements`);
    expect(f.split("\n")).toHaveLength(45);
    ui.unmount();
  });
});
