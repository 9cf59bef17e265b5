/** The review screen on a real repository: arrays of a commit, statistics, values, the heatmap and a chunk's values. */
import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import type { Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { historyRepo, KEYS, press, selectCommit, selectedLine, waitFor } from "./helpers.js";

const SIZE = { width: 80, height: 24 };
let repo: Repository;

beforeAll(async () => {
  ({ repo } = await historyRepo());
});


async function openCommit(subject: string, opts: { color?: boolean } = {}) {
  const ui = render(<App source={repoSource(repo)} color={opts.color ?? false} size={SIZE} />);
  await waitFor(ui.lastFrame, (s) => s.includes("import"));
  await selectCommit(ui, subject);
  await press(ui.stdin, KEYS.enter);
  await waitFor(ui.lastFrame, (s) => s.includes("changed ("), "the review");
  return ui;
}

describe("review screen", () => {
  it("lists the arrays a commit changed with form, chunk statistics and, with v, value statistics", async () => {
    const ui = await openCommit("feature: fix");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"));
    expect(f.split("\n")[0]).toMatch(/[0-9a-f]{7} feature: fix two sst tiles/);
    expect(f).toContain("1 array changed (+0 ~1 -0)");
    expect(f).toMatch(/^> ~ ocean\.zarr\/sst\s+\+0 ~2 -0$/m);
    expect(f).toContain("6×16×24 (time, lat, lon) float32, chunks 2×8×8, bytes+gzip");
    expect(f).toMatch(/chunks: ~2 changed \(\d+ B → \d+ B\)/);
    expect(f).toContain("at [0, 0, 0] [1, 1, 2]");
    expect(f).toContain("press v");
    await press(ui.stdin, "v");
    f = await waitFor(ui.lastFrame, (s) => s.includes("values: 2 of 256 elements changed in 2 chunks"), "value statistics");
    expect(f).toContain("values on");
    expect(f).toMatch(/max \|Δ\| 18\.98 · mean Δ -14\.725 · NaN \+0 -0/);
    expect(f).toContain("before 21.97..23.98 · after 5..11.5");
    expect(f).toContain("changed elements within [0..3, 3..10, 4..20]");
    ui.unmount();
  });

  it("the heatmap: one cell per chunk of a slice, moving along time, a chunk's before/after values, max |Δ| with v", async () => {
    const ui = await openCommit("feature: fix");
    await press(ui.stdin, KEYS.enter);
    let f = await waitFor(ui.lastFrame, (s) => s.includes("grid 3×2×3") && s.includes("elements changed") && s.includes("lat\\lon"), "the heatmap");
    expect(f).toContain("ocean.zarr/sst · slice time=0/3◂ · lat × lon · grid 3×2×3");
    expect(f).toMatch(/^lat\\lon {4}7\.5 {3}247\.5\s*$/m);
    expect(f).toMatch(/^-37\.5 {6}\[\*\] \. {2}\.\s*$/m);
    expect(f).toMatch(/^2\.5 {9}\. {2}\. {2}\.\s*$/m);
    expect(f).toContain(". unchanged  + added  - removed  * changed");
    expect(f).toContain("chunk [0, 0, 0] changed · 1 of 128 elements changed · max |Δ| 10.47");
    expect(f).toMatch(/coords\s+before\s+after\s+\|Δ\|/);
    expect(f).toMatch(/^\[0,3,4\]\s+21\.97\s+11\.5\s+10\.47\s*$/m);
    await press(ui.stdin, ".");
    f = await waitFor(ui.lastFrame, (s) => s.includes("time=1/3"), "the next slice");
    expect(f).toMatch(/^2\.5 {9}\. {2}\. {2}\*\s*$/m);
    expect(f).toContain("chunk [1, 0, 0] unchanged");
    await press(ui.stdin, "j", "l", KEYS.right);
    f = await waitFor(ui.lastFrame, (s) => s.includes("chunk [1, 1, 2] changed") && s.includes("elements changed"), "chunk [1,1,2]");
    expect(f).toMatch(/^2\.5 {9}\. {2}\. \[\*\]\s*$/m);
    expect(f).toMatch(/^\[3,10,20\]\s+23\.98\s+5\s+18\.98\s*$/m);
    await press(ui.stdin, "v");
    f = await waitFor(ui.lastFrame, (s) => s.includes("max|Δ| to 18.98"), "values heatmap");
    expect(f).toMatch(/^2\.5 {9}\. {2}\. \[4\]\s*$/m);
    await press(ui.stdin, ",");
    f = await waitFor(ui.lastFrame, (s) => s.includes("time=0/3") && /^-37\.5 {7}[1-4=] {2}\. {2}\.\s*$/m.test(s), "slice 0 decoded");
    expect(f).toMatch(/^-37\.5 {7}4 {2}\. {2}\.\s*$/m); // 10.47 of at most 18.98: the top quarter on a log scale
    expect(f).toContain("max|Δ| to 18.98");
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "back to the list");
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("history of all branches"), "back to the history");
    ui.unmount();
  });

  it("m marks a commit; Enter on another reviews the two", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await press(ui.stdin, "G", "m");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("marked"));
    expect(selectedLine(f)).toMatch(/^>m/);
    await press(ui.stdin, "g", KEYS.enter);
    f = await waitFor(ui.lastFrame, (s) => s.includes("arrays changed"), "the review of two commits");
    expect(f.split("\n")[0]).toMatch(/[0-9a-f]{7}\.\.[0-9a-f]{7}/);
    expect(f).toContain("2 arrays changed (+0 ~2 -0)");
    expect(f).toMatch(/ocean\.zarr\/sst\s+\+0 ~3 -0/);
    ui.unmount();
  });

  it("a root commit: every array added, its stored chunks + in the heatmap", async () => {
    const ui = await openCommit("import");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("9 arrays changed (+9 ~0 -0)"));
    expect(f).toMatch(/^> \+ ocean\.zarr\/depth\s+\+3 ~0 -0$/m);
    // the library's diff from no base: the groups it adds are counted, chunks in boxes as for any commit
    expect(f).toContain("9 arrays changed (+9 ~0 -0), 2 groups");
    f = await waitFor(ui.lastFrame, (s) => s.includes("chunks: +3 added"));
    expect(f).toMatch(/^ {2}at \[0\.\.2\]$/m);
    await press(ui.stdin, "j", "j"); // flags: only 3 of its 18 chunks are stored
    f = await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/flags  added"));
    await press(ui.stdin, KEYS.enter);
    f = await waitFor(ui.lastFrame, (s) => s.includes("grid 3×2×3") && s.includes("elements added") && s.includes("lat\\lon"));
    expect(f).toMatch(/^-37\.5 {6}\[\+\] \. {2}\.\s*$/m);
    expect(f).toContain("chunk [0, 0, 0] added · 128 elements added (nothing before)");
    expect(f).toMatch(/^\[0,0,0\]\s+—\s+\d+/m); // absent before
    // a 0-d array: one cell
    await press(ui.stdin, KEYS.escape, "j", "j", "j");
    await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/reference_density  added"));
    await press(ui.stdin, KEYS.enter);
    f = await waitFor(ui.lastFrame, (s) => s.includes("chunk [] added") && s.includes("1 element added (nothing before)"), "the 0-d heatmap");
    expect(f).toMatch(/^ {5}\[\+\]\s*$/m);
    expect(f).toMatch(/^\[\]\s+—\s+1025/m);
    ui.unmount();
  });
});
