/** The value map on a real repository: a slice before, after and Δ, the cursor's values, the slice moved, only the chunks it crosses read. */
import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import type { Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { dataRepo, KEYS, press, selectCommit, waitFor } from "./helpers.js";

let repo: Repository;

beforeAll(async () => {
  ({ repo } = await dataRepo());
});

async function review(subject: string, opts: { color?: boolean; size?: { width: number; height: number } } = {}) {
  const ui = render(<App source={repoSource(repo)} color={opts.color ?? false} depth="24bit" size={opts.size ?? { width: 80, height: 24 }} />);
  await waitFor(ui.lastFrame, (s) => s.includes("import"));
  await selectCommit(ui, subject);
  await press(ui.stdin, KEYS.enter);
  await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "the review");
  return ui;
}

const SGR = /\u001B\[[0-9;]*m/g;

describe("value map", () => {
  it("i opens the map of the selected array at its first change: Δ, the cursor's element, the slice moved, keys in a burst", async () => {
    const ui = await review("nan and a s");
    await press(ui.stdin, "i");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("chunks: the slice's"), "the map");
    expect(f.split("\n")[0]).toContain("nan and a spike · value map");
    expect(f).toContain("ocean.zarr/sst · time=0/8◂ · lat × lon · 16×24");
    expect(f).toContain("Δ after − before · each pixel: one element (drawn 2×2)");
    expect(f).toContain("read 48 chunks: the slice's"); // 4×6 chunks of 3×4×4 on each side: the slice's, not the array's 3×4×6 per side
    f = await waitFor(ui.lastFrame, (s) => s.includes("lat 0 = "), "the coordinates");
    expect(f).toContain("lat 0 = -37.5 · lon 0 = 7.5 · [0, 0, 0]\nbefore 17.3 · after NaN · Δ NaN"); // from the lat and lon arrays beside sst
    expect(f).toMatch(/^▲×·+\s*$/m); // the cursor on [0,0]; its neighbour (NaN after) ×, no change ·
    expect(f).toContain("× NaN, blank: no element");
    await press(ui.stdin, ".", ".", ".", ".");
    f = await waitFor(ui.lastFrame, (s) => s.includes("time=4/8") && s.includes("read "), "slice 4");
    ui.stdin.write("jjjjjjjjllllllllllll"); // 8 down and 12 right, in one burst
    f = await waitFor(ui.lastFrame, (s) => s.includes("[4, 8, 12]"), "the cursor on the spike");
    expect(f).toMatch(/lat 8 = 2\.5 · lon 12 = 187\.5 · \[4, 8, 12\]\nbefore \S+ · after 1000 · Δ \d+/);
    const before = Number(/before (\S+) · after 1000/.exec(f)?.[1]);
    const m = Number((1000 - before).toPrecision(6));
    expect(f).toContain(`Δ ${m}`);
    expect(f).toContain(`Δ -${m} ≡≡≡===--·++***### ${m} degC`); // the Δ bar in glyphs: − to +, · at 0
    await press(ui.stdin, "s");
    f = await waitFor(ui.lastFrame, (s) => /^before {2,}after {2,}Δ after − before/m.test(s), "side by side");
    expect(f).toMatch(/^values 13.38 \.+[.:\-=+*#%@]+ 1000 degC {3}Δ -973.53 /m); // one value scale for both sides
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "back to the review");
    ui.unmount();
  });

  it("a rechunked array compares element by element across both grids, reading only the chunks the slice crosses", async () => {
    const ui = await review("rechunk sst");
    await press(ui.stdin, KEYS.enter); // the chunk grid
    await waitFor(ui.lastFrame, (s) => s.includes("rechunked"), "the heatmap");
    await press(ui.stdin, ".", ".", "j", "j", "j", "l", "l", "l", "l", "l"); // chunk [2,3,5] of the new grid: elements [6..7, 12..15, 20..23]
    await waitFor(ui.lastFrame, (s) => s.includes("chunk [2, 3, 5]"), "the last chunk");
    await press(ui.stdin, "i");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("chunks: the slice's"), "the map");
    expect(f).toContain("time=6/8◂");
    expect(f).toContain("read 30 chunks: the slice's"); // before 2×3 chunks of 2×8×8, after 4×6 chunks of 3×4×4
    expect(f).toContain("[6, 12, 20]\nbefore 112.2 · after 112.2 · Δ 0");
    await press(ui.stdin, ".");
    ui.stdin.write("jjjlll");
    f = await waitFor(ui.lastFrame, (s) => s.includes("[7, 15, 23]"), "the changed element");
    expect(f).toContain("lat 15 = 37.5 · lon 23 = 352.5 · [7, 15, 23]\nbefore 115.23 · after -5 · Δ -120.23");
    expect(f).toContain("Δ -120.23 ≡≡≡===--·++***### 120.23 degC");
    ui.unmount();
  });

  it("a CF time coordinate reads as dates; a large slice is reduced by block means", async () => {
    const { historyRepo } = await import("./helpers.js");
    const { repo: r } = await historyRepo();
    const ui = render(<App source={repoSource(r)} color={false} size={{ width: 80, height: 12 }} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await selectCommit(ui, "feature: fix");
    await press(ui.stdin, KEYS.enter);
    await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "the review");
    await press(ui.stdin, "i");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("2020-01-15") && s.includes("chunks: the slice's"), "the map with dates");
    expect(f).toContain("ocean.zarr/sst · time=0/6◂ 2020-01-15 · lat × lon · 16×24"); // 14 "days since 2020-01-01", proleptic Gregorian
    expect(f).toContain("Δ after − before · each pixel: mean of 2×2 elements (Δ: their largest |Δ|)"); // 16×24 into 8×80 pixels
    expect(f).toContain("[0, 0..1, 0..1]\nmean before");
    ui.unmount();
  });

  it("Enter and i in one burst: the map opens once the review's diff is ready", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={{ width: 80, height: 24 }} />);
    await waitFor(ui.lastFrame, (s) => s.includes("9 arrays"));
    ui.stdin.write("\ri");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("value map") && s.includes("chunks: the slice's"), "the map");
    expect(f).toContain("ocean.zarr/sst · time=0/8◂ · lat × lon · 16×24");
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "the review under it");
    ui.unmount();
  });

  it("appended time steps: the old side has no element there (blank), the new its values", async () => {
    const ui = await review("append two time");
    await press(ui.stdin, "i");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("chunks: the slice's"), "the map");
    expect(f).toContain("time=6/8◂");
    expect(f).toContain("read 6 chunks: the slice's"); // the old side: none (time 6 is outside its shape)
    expect(f).toContain("[6, 0, 0]\nbefore — · after 100 · Δ —");
    expect(f).toMatch(/^▲\s*$/m); // Δ: no element to compare anywhere, blank
    ui.unmount();
  });

  it("in colour: 24-bit fore and background colours, two pixels per cell; NaN magenta; the Δ bar white at its centre", async () => {
    const ui = await review("nan and a s", { color: true });
    await press(ui.stdin, "i");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("chunks: the slice's"), "the map");
    const lines = f.split("\n");
    const pic = lines[3] ?? "";
    // [0,0] became NaN: its 2×2 pixels magenta (the cursor ▲ on the first); no change: white, fore and background
    expect(pic).toContain("\u001B[48;2;255;0;255m▲\u001B[38;2;255;0;255m▀\u001B[38;2;247;247;247m\u001B[48;2;247;247;247m▀▀▀");
    expect(lines.find((l) => l.startsWith("Δ ") && l.includes("degC"))).toContain("\u001B[48;2;247;247;247m"); // the Δ bar white at its centre
    expect(lines[3]?.replace(SGR, "")).toMatch(/^▲[▀]+\s*$/);
    ui.unmount();
  });
});
