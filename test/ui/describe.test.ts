/** The value summaries the UI prints: counts with the right noun (1 element, 2 chunks). */
import { describe, expect, it } from "vitest";
import { valueLines } from "../../cli/ui/components/describe.js";
import type { ValueDiff } from "../../src/index.js";

const equality = (over: Partial<ValueDiff>): ValueDiff =>
  ({
    kind: "equality",
    chunks: 1,
    chunksSkipped: 0,
    compared: 1,
    changed: 1,
    maxAbsDelta: null,
    meanDelta: null,
    nanIntroduced: 0,
    nanRemoved: 0,
    before: null,
    after: null,
    bbox: null,
    appended: { count: 0, nan: 0, range: null },
    truncated: 0,
    ...over,
  }) as ValueDiff;

describe("valueLines", () => {
  it("says 1 element and 1 chunk, and 2,048 elements in 2 chunks", () => {
    expect(valueLines(equality({}))[0]).toBe("values: 1 of 1 element changed in 1 chunk");
    expect(valueLines(equality({ chunks: 2, compared: 2048, changed: 3, truncated: 1, appended: { count: 1, nan: 0, range: null } }))).toEqual([
      "values: 3 of 2,048 elements changed in 2 chunks",
      "  appended 1 element",
      "  truncated 1 element",
    ]);
  });
});
