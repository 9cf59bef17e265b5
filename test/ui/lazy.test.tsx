/**
 * Large repositories stay responsive: summaries only for the rows on screen,
 * no chunk decoded until the cursor reaches it (and with values on, only the
 * changed chunks in view), a spinner while a diff is computed, history read a
 * page at a time.
 */
import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource, type UiSource } from "../../cli/ui/data/source.js";
import { commitAll, historyRepo, KEYS, press, repoFrom, selectCommit, setPoints, waitFor } from "./helpers.js";

const SIZE = { width: 80, height: 24 };

/** The repository's source, counting calls. */
function counted(inner: UiSource, opts: { diffDelay?: Promise<void> } = {}) {
  const calls = { summary: [] as string[], chunk: [] as string[], arrayValues: 0, diff: 0 };
  const source: UiSource = {
    ...inner,
    summary: (e) => {
      calls.summary.push(e.oid);
      return inner.summary(e);
    },
    chunk: (from, to, a, index) => {
      calls.chunk.push(`${a.path}[${index.join(",")}]`);
      return inner.chunk(from, to, a, index);
    },
    arrayValues: (from, to, a) => {
      calls.arrayValues++;
      return inner.arrayValues(from, to, a);
    },
    diff: async (from, to) => {
      calls.diff++;
      await opts.diffDelay;
      return inner.diff(from, to);
    },
  };
  return { source, calls };
}

describe("responsive on large repositories", () => {
  let long: Repository;
  beforeAll(async () => {
    const r = await repoFrom("v3/ocean.zarr");
    long = r.repo;
    for (let i = 1; i <= 40; i++) {
      process.env.TDV_AUTHOR_DATE = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      await setPoints(r.dir, `${r.store}/depth`, { [String(i % 10)]: i });
      await commitAll(r.repo, `step ${i}`);
    }
    delete process.env.TDV_AUTHOR_DATE;
  });

  it("summarizes only the commits on screen, and the next ones as the user scrolls to them", async () => {
    const { source, calls } = counted(repoSource(long));
    const ui = render(<App source={source} color={false} size={SIZE} />);
    // every row on screen summarized (steps 40 to 21 each changed one chunk): the rows on screen were all asked for at once
    await waitFor(ui.lastFrame, (s) => s.includes("step 21") && (s.match(/1 array: ~1 chunk/g) ?? []).length === 20, "the 20 rows summarized");
    expect(calls.summary.length).toBe(20); // the 20 rows of an 80×24 screen, of 41 commits
    await press(ui.stdin, "G");
    await waitFor(ui.lastFrame, (s) => s.includes("9 arrays: +40 chunks"), "the root's summary");
    expect(new Set(calls.summary).size).toBeGreaterThan(20);
    expect(new Set(calls.summary).size).toBe(calls.summary.length); // each commit once
    ui.unmount();
  });

  it("reads the history a page at a time: a cut history says so and shows nothing older than it knows", async () => {
    const h = await repoSource(long).history({ rev: null, limit: 10 });
    expect(h.complete).toBe(false);
    expect(h.entries.map((e) => e.message.split("\n")[0])).toEqual(Array.from({ length: 10 }, (_, i) => `step ${40 - i}`));
    const all = await repoSource(long).history({ rev: null, limit: 400 });
    expect([all.complete, all.entries.length]).toEqual([true, 41]);
  });
});

describe("decoding on demand", () => {
  let repo: Repository;
  beforeAll(async () => {
    ({ repo } = await historyRepo());
  });

  it("a spinner while the diff is computed; the heatmap decodes the chunk under the cursor only; values: the changed chunks in view", async () => {
    let release = () => {};
    const delay = new Promise<void>((r) => {
      release = r;
    });
    const { source, calls } = counted(repoSource(repo), { diffDelay: delay });
    const ui = render(<App source={source} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("import"));
    await selectCommit(ui, "feature: fix");
    await press(ui.stdin, KEYS.enter);
    await waitFor(ui.lastFrame, (s) => /[|/\\-] computing the diff of [0-9a-f]{7} feature: fix/.test(s), "the spinner");
    release();
    await waitFor(ui.lastFrame, (s) => s.includes("1 array changed"));
    expect(calls.chunk).toEqual([]);
    expect(calls.arrayValues).toBe(0);
    await press(ui.stdin, KEYS.enter);
    await waitFor(ui.lastFrame, (s) => s.includes("elements changed"));
    expect(calls.chunk).toEqual(["ocean.zarr/sst[0,0,0]"]);
    // unchanged chunks: nothing to decode. The app waits a moment before decoding what the cursor
    // rests on (holding an arrow key decodes nothing passed over): the test moves that clock on
    // (timers run ahead of real time on demand) rather than sleeping past it
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
    try {
      await press(ui.stdin, "l", "l", "j");
      await waitFor(ui.lastFrame, (s) => s.includes("chunk [0, 1, 2] unchanged"));
      await vi.advanceTimersByTimeAsync(10_000); // every pause the app took has ended
    } finally {
      vi.useRealTimers();
    }
    expect(calls.chunk).toEqual(["ocean.zarr/sst[0,0,0]"]);
    await press(ui.stdin, ".", "v"); // slice time=1 holds the other changed chunk
    await waitFor(ui.lastFrame, (s) => s.includes("chunk [1, 1, 2] changed") && s.includes("max|Δ| to 18.98"));
    expect(calls.chunk.sort()).toEqual(["ocean.zarr/sst[0,0,0]", "ocean.zarr/sst[1,1,2]"]);
    expect(calls.arrayValues).toBe(0); // the array's statistics only in the list, with values on
    await press(ui.stdin, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("values: 2 of 256"));
    expect(calls.arrayValues).toBe(1);
    ui.unmount();
  });
});
