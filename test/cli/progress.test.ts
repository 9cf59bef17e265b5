/**
 * The progress line never goes backwards: counts only grow within a phase,
 * and a total revised after it was shown becomes "unknown" (a count without
 * a percentage), never a smaller percentage. The library's transfer meter
 * reports a growing total as unknown in the first place.
 */
import { describe, expect, it } from "vitest";
import { nextProgressView, progress, type ProgressEvent, type ProgressView } from "../../cli/output.js";
import { meter, type TransferProgress } from "../../src/remote/transfer.js";

/** Feed events 200 ms apart to a reporter on a fake terminal; returns the lines it drew. */
function drawn(events: ProgressEvent[]): string[] {
  let t = 0;
  const lines: string[] = [];
  const stream = {
    isTTY: true,
    write: (s: string) => {
      lines.push(s.replace(/^\r\x1b\[K/, ""));
      return true;
    },
  };
  const p = progress({ stream, now: () => t });
  for (const e of events) {
    t += 200;
    p.update(e);
  }
  return lines.filter((l) => l !== "");
}

const pct = (line: string) => {
  const m = / +(\d+)%/.exec(line);
  return m ? Number(m[1]) : null;
};

describe("progress", () => {
  it("never shows a smaller percentage: 98% then a count that dropped (a worker's files reported again) stays at 98%", () => {
    const lines = drawn([
      { phase: "writing", done: 50, total: 100, bytes: 500 },
      { phase: "writing", done: 98, total: 100, bytes: 980 },
      { phase: "writing", done: 79, total: 100, bytes: 790 },
      { phase: "writing", done: 100, total: 100, bytes: 1000 },
    ]);
    expect(lines.map(pct)).toEqual([50, 98, 98, 100]);
    expect(lines[2]).toMatch(/ 98\/100 files/);
  });

  it("a total that grows turns into an unknown total: the count goes on, without a percentage", () => {
    const lines = drawn([
      { phase: "receiving metadata", done: 9, total: 10, bytes: 0, unit: "objects" },
      { phase: "receiving metadata", done: 10, total: 50, bytes: 0, unit: "objects" },
      { phase: "receiving metadata", done: 40, total: 50, bytes: 0, unit: "objects" },
      { phase: "receiving chunks", done: 1, total: 4, bytes: 10, unit: "objects" },
    ]);
    expect(lines.map(pct)).toEqual([90, null, null, 25]);
    expect(lines[1]).toMatch(/^receiving metadata {2}10 objects/);
    expect(lines[2]).toMatch(/^receiving metadata {2}40 objects/);
  });

  it("is monotonic for any sequence of events in a phase (model check)", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 200; run++) {
      let view: ProgressView | null = null;
      let lastPct = -1;
      let lastDone = -1;
      for (let i = 0; i < 30; i++) {
        const total = rand(4) === 0 ? undefined : 50 + rand(3) * 10;
        view = nextProgressView(view, { phase: "p", done: rand(60), ...(total === undefined ? {} : { total }), bytes: rand(1000) });
        expect(view.done).toBeGreaterThanOrEqual(lastDone);
        lastDone = view.done;
        if (view.total !== null) {
          const p = Math.floor((100 * Math.min(view.done, view.total)) / view.total);
          expect(p).toBeGreaterThanOrEqual(lastPct);
          lastPct = p;
        } else lastPct = Number.POSITIVE_INFINITY; // unknown for the rest of the phase
      }
    }
  });

  it("the transfer meter reports totals only while they are final", () => {
    const seen: TransferProgress[] = [];
    const m = meter((p) => seen.push(p), "receiving metadata", 2);
    m.add(10);
    m.grow(3);
    m.add(10);
    m.add(10);
    m.add(10);
    m.add(10);
    expect(seen[0]).toMatchObject({ done: 0, total: 2 });
    const after = seen.filter((p) => p.done > 1);
    expect(after.length).toBeGreaterThan(0);
    for (const p of after) expect(p.total).toBeUndefined();
  });
});
