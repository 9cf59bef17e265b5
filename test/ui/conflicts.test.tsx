/** The conflicts screen on a real stopped merge: the conflicts, base/ours/theirs values, taking a side, continuing. */
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { log, status } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { merge } from "../../src/index.js";
import { commitAll, diverge, flat, repoFrom, values } from "../merge/helpers.js";
import { conflictRepo, KEYS, press, threeConflictsRepo, waitFor } from "./helpers.js";

const SIZE = { width: 80, height: 24 };
const SST = [6, 16, 24];

describe("conflicts screen", () => {
  it("shows the conflicted chunk's base/ours/theirs values; t takes theirs; c concludes the merge", async () => {
    const { repo, dir, store } = await conflictRepo();
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} start="conflicts" />);
    let f = await waitFor(ui.lastFrame, (s) => s.includes("element in conflict (!)"), "the conflict with decoded values");
    expect(f).toContain("Merging 'feature' into main: 1 open, 0 settled");
    expect(f).toMatch(/^> ! ocean\.zarr\/sst\s+chunk \[0,0,0\] · 1 element$/m);
    expect(f).toMatch(/coords\s+base\s+ours\s+theirs/);
    expect(f).toMatch(/^! \[0,3,4\]\s+21\.97\s+11\s+22\s*$/m);
    expect(f).toMatch(/^ {2}\[0,0,0\]\s+17\.3\s+1\s+17\.3\s*$/m); // changed by ours only: merged, not a conflict
    expect(f).toMatch(/^ {2}\[0,0,1\]\s+17\.34\s+17\.34\s+2\s*$/m);
    await press(ui.stdin, "c");
    await waitFor(ui.lastFrame, (s) => s.includes("1 conflict still open"));
    await press(ui.stdin, "t");
    f = await waitFor(ui.lastFrame, (s) => s.includes("1 conflict settled with theirs; no conflict left: c concludes the merge"), "resolved");
    expect(f).toContain("Merging 'feature' into main: 0 open, 1 settled"); // the header and the note agree
    await press(ui.stdin, "c");
    f = await waitFor(ui.lastFrame, (s) => s.includes("history of") && s.includes("Merge"), "history after the merge");
    expect(f.split("\n").find((l) => l.startsWith(">"))).toContain("(HEAD -> main) Merge");
    ui.unmount();
    expect((await status(repo)).merge).toBeUndefined();
    expect((await log(repo))[0]?.parents).toHaveLength(2);
    const v = await values(dir, `${store}/sst`);
    expect([v[flat(SST, [0, 3, 4])], v[flat(SST, [0, 0, 0])], v[flat(SST, [0, 0, 1])]]).toEqual([22, 1, 2]);
  });

  it("lists every conflict of an array; o settles one with ours, T the rest of the array with theirs", async () => {
    const { repo, dir, store } = await threeConflictsRepo();
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} start="conflicts" />);
    let f = await waitFor(ui.lastFrame, (s) => s.includes("3 open"), "three conflicts");
    expect(f).toMatch(/^> ! ocean\.zarr\/sst\s+attribute units$/m);
    expect(f).toMatch(/^ {2}! \s+chunk \[0,0,0\] · 1 element$/m);
    expect(f).toMatch(/^ {2}! \s+chunk \[2,1,2\] · 1 element$/m);
    expect(f).toMatch(/ours\s+"degF"/);
    expect(f).toMatch(/theirs\s+"K"/);
    await press(ui.stdin, "j", "j");
    f = await waitFor(ui.lastFrame, (s) => s.includes("[5,15,23]"), "chunk [2,1,2]'s values");
    expect(f).toMatch(/^! \[5,15,23\]\s+\S+\s+111\s+222\s*$/m);
    await press(ui.stdin, "o");
    f = await waitFor(ui.lastFrame, (s) => s.includes("settled with ours") && s.includes("2 open"), "one settled");
    expect(f).toContain("into main: 2 open, 1 settled");
    expect(f).toContain("1 conflict settled with ours");
    expect(f).not.toMatch(/left/);
    await press(ui.stdin, "T");
    f = await waitFor(ui.lastFrame, (s) => s.includes("settled with theirs") && s.includes("0 open"), "the rest settled");
    expect(f).toContain("into main: 0 open, 3 settled");
    expect(f).toContain("2 conflicts settled with theirs; no conflict left: c concludes the merge");
    ui.unmount();
    const v = await values(dir, `${store}/sst`);
    expect([v[flat(SST, [0, 3, 4])], v[flat(SST, [5, 15, 23])]]).toEqual([22, 111]);
    const st = await status(repo);
    expect(st.merge?.conflicts).toEqual([]);
  });

  it("without a merge in progress, C on the history says so; Esc goes back", async () => {
    const { repo } = await conflictRepo();
    const { mergeAbort } = await import("../../src/index.js");
    await mergeAbort(repo);
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await press(ui.stdin, "C");
    await waitFor(ui.lastFrame, (s) => s.includes("No merge in progress."));
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("history of all branches"));
    ui.unmount();
  });

  it("a side that would discard the other side's edits of an undecodable chunk asks first; the same key again takes it", async () => {
    const { repo, dir } = await repoFrom("v3/ocean.zarr");
    const a = path.join(dir, "opaque");
    await fsp.mkdir(a, { recursive: true });
    // a v2 array whose codec no one can decode: its chunks cannot merge element by element
    await fsp.writeFile(path.join(a, ".zarray"), JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: "<i4", compressor: { id: "tdv-test-opaque" }, fill_value: 0, filters: null, order: "C" }));
    await fsp.writeFile(path.join(a, "0"), "base chunk 0");
    await commitAll(repo, "opaque array");
    await diverge(
      repo,
      dir,
      () => fsp.writeFile(path.join(a, "0"), "ours chunk 0"),
      () => fsp.writeFile(path.join(a, "0"), "theirs chunk 0"),
    );
    expect((await merge(repo, { rev: "feature" })).kind).toBe("conflicts");
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} start="conflicts" />);
    await waitFor(ui.lastFrame, (s) => s.includes("1 open"), "the conflict");
    await press(ui.stdin, "t");
    await waitFor(ui.lastFrame, (s) => s.includes("t again takes theirs, discarding ours' edits of 1 unmergeable chunk"), "the question");
    expect((await fsp.readFile(path.join(a, "0"))).toString()).toBe("ours chunk 0"); // nothing taken yet
    await press(ui.stdin, "t");
    await waitFor(ui.lastFrame, (s) => s.includes("settled with theirs, discarding ours' edits of 1 chunk") && s.includes("0 open"), "taken");
    ui.unmount();
    expect((await fsp.readFile(path.join(a, "0"))).toString()).toBe("theirs chunk 0");
  });
});
