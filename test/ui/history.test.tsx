/** The history screen on a real repository: graph, refs, summaries, moving, search, branch choice, opening a commit. */
import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import { Repository } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { historyRepo, KEYS, press, waitFor } from "./helpers.js";

const SIZE = { width: 80, height: 24 };
let repo: Repository;

beforeAll(async () => {
  ({ repo } = await historyRepo());
});

function selectedLine(frame: string): string {
  return frame.split("\n").find((l) => l.startsWith(">")) ?? "";
}

describe("history screen", () => {
  it("shows the graph of all branches with refs, authors, dates and a change summary per commit", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    const f = await waitFor(ui.lastFrame, (s) => s.includes("9 arrays: +40 chunks") && s.includes("2 arrays: ~2 chunks") && (s.match(/1 array: ~2 chunks/g) ?? []).length === 2, "history with every summary");
    const lines = f.split("\n");
    expect(lines).toHaveLength(24);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(lines[0]).toContain("history of all branches and tags");
    expect(f).toMatch(/^> \*   [0-9a-f]{7} 2026-03-04 Test\s+\(HEAD -> main\) Merge/m);
    expect(f).toMatch(/^ {2}\|\\$/m);
    expect(f).toMatch(/^ {2}\* \| [0-9a-f]{7} 2026-03-03 .*main: recalibrate.* 2 arrays: ~2 chunks$/m);
    expect(f).toMatch(/^ {2}\| \* [0-9a-f]{7} 2026-03-02 .*\(feature\) feature: .* 1 array: ~2 chunks$/m);
    expect(f).toMatch(/^ {2}\*\s+[0-9a-f]{7} 2026-03-01 .*\(tag: v1\) import .*9 arrays: \+40 chunks$/m);
    expect(lines[23]).toContain("Enter open");
    ui.unmount();
  });

  it("moves with j/k and arrows over commits (not edge rows), and / finds a message; n repeats", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await press(ui.stdin, "j");
    expect(selectedLine(await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("recalibrate")))).toContain("recalibrate");
    await press(ui.stdin, KEYS.down, KEYS.down);
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("import"), "the root selected");
    await press(ui.stdin, "k");
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("feature: fix"));
    await press(ui.stdin, "G");
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("import"));
    await press(ui.stdin, "g");
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("Merge"));
    // search: the prompt takes every key (q does not quit while typing)
    await press(ui.stdin, "/", "t", "i", "q", KEYS.backspace, "l", "e");
    await waitFor(ui.lastFrame, (s) => s.includes("/tile_"), "the search prompt");
    await press(ui.stdin, KEYS.enter);
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("recalibrate"), "the first match");
    await press(ui.stdin, "n");
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("feature: fix"), "the next match");
    await press(ui.stdin, "/", "n", "o", "p", "e", KEYS.enter);
    await waitFor(ui.lastFrame, (s) => s.includes("no commit matches 'nope'"));
    ui.unmount();
  });

  it("b chooses the branch shown; the history of one branch leaves the others out", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await press(ui.stdin, "b");
    let f = await waitFor(ui.lastFrame, (s) => s.includes("Show which history?"));
    expect(f).toContain("> all branches and tags");
    expect(f).toContain("main (current)");
    expect(f).toContain("tag v1");
    await press(ui.stdin, "j", KEYS.enter); // feature (branches sorted by name, then tags)
    f = await waitFor(ui.lastFrame, (s) => s.includes("history of feature") && s.includes("2 commits"), "feature's history");
    expect(f).not.toContain("recalibrate");
    expect(f).toContain("feature: fix");
    await press(ui.stdin, "b", "k", "k", "k", KEYS.enter);
    await waitFor(ui.lastFrame, (s) => s.includes("history of all branches and tags") && s.includes("recalibrate"));
    ui.unmount();
  });

  it("a repository without commits says how to make the first", async () => {
    const { repo: empty } = await Repository.init({ dir: await tempDir() });
    const ui = render(<App source={repoSource(empty)} color={false} size={SIZE} />);
    const f = await waitFor(ui.lastFrame, (s) => s.includes("No commits yet"));
    expect(f).toContain("0 commits");
    await press(ui.stdin, KEYS.enter, "j", "m"); // nothing to open, move or mark
    expect(ui.lastFrame()).toContain("No commits yet");
    ui.unmount();
  });

  it("a REV shows that revision's history", async () => {
    const ui = render(<App source={repoSource(repo)} rev="v1" color={false} size={SIZE} />);
    const f = await waitFor(ui.lastFrame, (s) => s.includes("v1: 1 commit"));
    expect(f).toContain("history of v1");
    expect(f).toContain("import");
    expect(f).not.toContain("Merge");
    ui.unmount();
  });

  it("Enter opens the selected commit's arrays; Esc comes back to the same commit", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await press(ui.stdin, "j", KEYS.enter);
    const f = await waitFor(ui.lastFrame, (s) => s.includes("2 arrays changed"), "the review");
    expect(f).toContain("main: recalibrate");
    expect(f).toMatch(/> ~ ocean\.zarr\/depth\s+\+0 ~1 -0\s+meta$/m);
    expect(f).toContain("attribute comment added: \"recalibrated\"");
    expect(f).toMatch(/ {2}~ ocean\.zarr\/sst\s+\+0 ~1 -0/);
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("recalibrate"), "history, same selection");
    ui.unmount();
  });
});
