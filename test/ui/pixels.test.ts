/** The value map's pixels, golden: a small known slice, its colours at known places, NaN apart, Δ white at 0, the three depths. */
import { describe, expect, it } from "vitest";
import { cellLine, colorBar, colorOf, depthFromEnv, NAN_RGB, pixels, sampling, scaleOf, xterm256, type SliceValues } from "../../cli/ui/data/pixels.js";

/** 2 × 4: before 0..7 with a NaN at [1,3]; after the same but [0,1] + 4 and [1,0] − 2, and [1,3] no longer NaN. */
function slice(): SliceValues {
  const before = Float64Array.from([0, 1, 2, 3, 4, 5, 6, Number.NaN]);
  const after = Float64Array.from([0, 5, 2, 3, 2, 5, 6, 7]);
  return { rows: 2, cols: 4, before, after, hasBefore: new Uint8Array(8).fill(1), hasAfter: new Uint8Array(8).fill(1) };
}

describe("value map pixels", () => {
  it("samples: a small slice enlarged by a whole factor, a large one reduced by blocks", () => {
    expect(sampling(2, 4, 20, 40)).toEqual({ per: 1, zoom: 8, rows: 16, cols: 32 }); // at most 8 pixels an element
    expect(sampling(2, 4, 6, 40)).toEqual({ per: 1, zoom: 3, rows: 6, cols: 12 });
    expect(sampling(2, 4, 2, 4)).toEqual({ per: 1, zoom: 1, rows: 2, cols: 4 });
    expect(sampling(100, 300, 20, 60)).toEqual({ per: 5, zoom: 1, rows: 20, cols: 60 });
  });

  it("colours at known places: one scale for both sides (min..max of both), NaN magenta, Δ diverging with white at 0", () => {
    const v = slice();
    const s = sampling(2, 4, 2, 4);
    const scale = scaleOf(v, "before");
    expect(scale).toEqual({ min: 0, max: 7 });
    const before = pixels(v, "before", s);
    expect(before).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, Number.NaN],
    ]);
    expect(colorOf(before[0]![0]!, "before", scale)).toEqual([68, 1, 84]); // the scale's low end
    expect(colorOf(7, "after", scale)).toEqual([253, 231, 37]); // its high end
    expect(colorOf(3.5, "after", scale)).toEqual([33, 145, 140]); // the middle stop
    expect(colorOf(before[1]![3]!, "before", scale)).toEqual(NAN_RGB);
    expect(colorOf(null, "before", scale)).toBeNull(); // no element: blank
    const dscale = scaleOf(v, "delta");
    expect(dscale).toEqual({ min: -4, max: 4 });
    const delta = pixels(v, "delta", s);
    expect(delta).toEqual([
      [0, 4, 0, 0],
      [-2, 0, 0, Number.NaN],
    ]);
    expect(colorOf(0, "delta", dscale)).toEqual([247, 247, 247]); // the centre: no change is white
    expect(colorOf(4, "delta", dscale)).toEqual([178, 24, 43]); // the largest increase: red
    expect(colorOf(-4, "delta", dscale)).toEqual([33, 102, 172]); // a decrease as large: blue
    expect(colorOf(-2, "delta", dscale)).toEqual([140, 175, 210]); // half way to blue
    expect(colorOf(delta[1]![3]!, "delta", dscale)).toEqual(NAN_RGB); // NaN on one side only
  });

  it("reduces by blocks: values by their mean, Δ by the largest |Δ| with its sign", () => {
    const v = slice();
    const s = sampling(2, 4, 1, 2); // 2×2 blocks
    expect(s).toEqual({ per: 2, zoom: 1, rows: 1, cols: 2 });
    expect(pixels(v, "before", s)).toEqual([[2.5, 11 / 3]]); // NaN left out of the mean
    expect(pixels(v, "delta", s)).toEqual([[4, Number.NaN]]); // the right block changed only by a NaN: the NaN shows
  });

  it("draws two pixels per cell with ▀ in 24-bit colour, the 256-colour cube, or glyphs", () => {
    const v = slice();
    const s = sampling(2, 4, 2, 4);
    const img = pixels(v, "before", s);
    const scale = scaleOf(v, "before");
    const line = cellLine(img, 0, "before", scale, "24bit");
    expect(line.startsWith("\x1b[38;2;68;1;84;48;2;" )).toBe(true); // [0,0] on top (fg), [1,0] below (bg)
    const cells = line.split("▀");
    expect(cells).toHaveLength(5);
    expect(cells[3]).toBe("\x1b[38;2;33;145;140;48;2;255;0;255m".replace("33;145;140", colorOf(3, "before", scale)!.join(";"))); // [0,3] over NaN
    expect(cells[4]).toBe("\x1b[0m");
    expect(cellLine(img, 0, "before", scale, "256")).toContain(`38;5;${xterm256([68, 1, 84])};48;5;`);
    expect(xterm256([255, 0, 255])).toBe(201);
    expect(xterm256([247, 247, 247])).toBe(231);
    expect(xterm256([128, 128, 128])).toBe(244); // a grey: the grey ramp
    expect(xterm256([0, 0, 0])).toBe(16);
    const glyphs = cellLine(img, 0, "before", scale, "none");
    expect(glyphs).not.toMatch(/\x1b/);
    expect(glyphs).toHaveLength(4);
    expect(glyphs[3]).toBe("×"); // a cell holding a NaN pixel
    // Δ glyphs: the larger |Δ| of a cell's two pixels by sign and size, · no change, × NaN
    expect(cellLine(pixels(v, "delta", s), 0, "delta", scaleOf(v, "delta"), "none")).toBe("=#·×");
    expect(cellLine(img, 0, "before", scale, "none", { r: 1, c: 2 })).toMatch(/^..▼.$/);
    expect(colorBar("delta", { min: -1, max: 1 }, 3, "24bit")).toBe("\x1b[48;2;33;102;172m \x1b[48;2;247;247;247m \x1b[48;2;178;24;43m \x1b[0m");
  });

  it("colour depth from the environment: NO_COLOR and TERM=dumb none, COLORTERM=truecolor 24-bit, else 256", () => {
    expect(depthFromEnv({ NO_COLOR: "1", COLORTERM: "truecolor" })).toBe("none");
    expect(depthFromEnv({ NO_COLOR: "", COLORTERM: "truecolor" })).toBe("24bit");
    expect(depthFromEnv({ TERM: "dumb" })).toBe("none");
    expect(depthFromEnv({ TERM: "xterm-256color" })).toBe("256");
  });
});
