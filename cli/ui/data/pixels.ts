/**
 * The value map's picture, computed: a 2-D slice of an array on two sides
 * (before and after a change) downsampled to the pixels a terminal has, each
 * pixel coloured, two pixels per character cell (`▀`: the upper pixel is the
 * foreground colour, the lower one the background). Pure: numbers in, colours
 * and strings out; the golden test in test/ui/pixels.test.ts pins them.
 *
 * - Downsampling: a pixel covers a block of elements; its before and after
 *   values are the mean of the block's finite values, its Δ the block's
 *   largest |Δ| (with its sign). A slice smaller than the space is enlarged by
 *   a whole factor, an element to a square of pixels.
 * - Colours: before and after share one sequential scale (min..max of both,
 *   so the same colour is the same value); Δ a diverging scale centred on 0
 *   (white), symmetric to ± max |Δ|. NaN is magenta, apart from both scales;
 *   an element outside a side's shape (not there) is left blank.
 * - Depths: 24-bit colour, the 256-colour cube, or none: a glyph ramp, one
 *   character per cell for its two pixels.
 */

export type Rgb = readonly [number, number, number];

/** One pixel: a value, NaN, or null (no element there on this side). */
export type Px = number | null;

/** A 2-D slice on both sides, row-major; null: the array is absent on that side. */
export interface SliceValues {
  rows: number;
  cols: number;
  /** NaN for NaN; null elements (outside the side's shape) are marked in `has` */
  before: Float64Array | null;
  after: Float64Array | null;
  /** 1 where the side has an element (inside its shape) */
  hasBefore: Uint8Array | null;
  hasAfter: Uint8Array | null;
}

export type Which = "before" | "after" | "delta";

/** How slice elements map to pixels: `per` elements per pixel along each axis, or `zoom` pixels per element. */
export interface Sampling {
  /** elements per pixel (1 when enlarged) */
  per: number;
  /** pixels per element (1 when reduced) */
  zoom: number;
  /** image size in pixels */
  rows: number;
  cols: number;
}

/** The sampling that fits `rows × cols` elements into at most `maxRows × maxCols` pixels (same factor on both axes). */
export function sampling(rows: number, cols: number, maxRows: number, maxCols: number): Sampling {
  const r = Math.max(1, rows);
  const c = Math.max(1, cols);
  const mr = Math.max(1, maxRows);
  const mc = Math.max(1, maxCols);
  if (r <= mr && c <= mc) {
    const zoom = Math.max(1, Math.min(Math.floor(mr / r), Math.floor(mc / c), 8));
    return { per: 1, zoom, rows: r * zoom, cols: c * zoom };
  }
  const per = Math.max(Math.ceil(r / mr), Math.ceil(c / mc));
  return { per, zoom: 1, rows: Math.ceil(r / per), cols: Math.ceil(c / per) };
}

/** The elements a pixel covers: rows [r0, r1), columns [c0, c1). */
export function pixelBlock(s: Sampling, pr: number, pc: number, rows: number, cols: number): { r0: number; r1: number; c0: number; c1: number } {
  if (s.zoom > 1) {
    const r = Math.floor(pr / s.zoom);
    const c = Math.floor(pc / s.zoom);
    return { r0: r, r1: r + 1, c0: c, c1: c + 1 };
  }
  return { r0: pr * s.per, r1: Math.min(rows, (pr + 1) * s.per), c0: pc * s.per, c1: Math.min(cols, (pc + 1) * s.per) };
}

/** Δ of one element: after − before; NaN when exactly one side is NaN; null when either side has no element. */
export function elementDelta(v: SliceValues, i: number): number | null {
  if (!v.before || !v.after || !v.hasBefore?.[i] || !v.hasAfter?.[i]) return null;
  const a = v.before[i] as number;
  const b = v.after[i] as number;
  if (Number.isNaN(a) && Number.isNaN(b)) return 0; // NaN equals NaN (as the diff counts)
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return b - a;
}

/** The pixel values of one view of the slice. */
export function pixels(v: SliceValues, which: Which, s: Sampling): Px[][] {
  const out: Px[][] = [];
  const side = which === "before" ? v.before : v.after;
  const has = which === "before" ? v.hasBefore : v.hasAfter;
  for (let pr = 0; pr < s.rows; pr++) {
    const line: Px[] = [];
    for (let pc = 0; pc < s.cols; pc++) {
      const b = pixelBlock(s, pr, pc, v.rows, v.cols);
      let sum = 0;
      let n = 0;
      let nan = false;
      let best: number | null = null;
      let any = false;
      for (let r = b.r0; r < b.r1; r++) {
        for (let c = b.c0; c < b.c1; c++) {
          const i = r * v.cols + c;
          if (which === "delta") {
            const d = elementDelta(v, i);
            if (d === null) continue;
            any = true;
            if (Number.isNaN(d)) nan = true;
            else if (best === null || Math.abs(d) > Math.abs(best)) best = d;
          } else {
            if (!side || !has?.[i]) continue;
            any = true;
            const x = side[i] as number;
            if (Number.isFinite(x)) {
              sum += x;
              n++;
            } else if (Number.isNaN(x)) nan = true;
            else {
              sum += x; // ±Infinity: the mean is infinite, drawn at the scale's end
              n++;
            }
          }
        }
      }
      if (!any) line.push(null);
      else if (which === "delta") line.push(best !== null && (best !== 0 || !nan) ? best : nan ? Number.NaN : 0);
      else line.push(n > 0 ? sum / n : nan ? Number.NaN : null);
    }
    out.push(line);
  }
  return out;
}

/** The range of a view's colour scale, from the elements (not the pixels): min/max of both sides, or ± max |Δ|. Null: no finite value. */
export function scaleOf(v: SliceValues, which: Which): { min: number; max: number } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const n = v.rows * v.cols;
  if (which === "delta") {
    let m = 0;
    let any = false;
    for (let i = 0; i < n; i++) {
      const d = elementDelta(v, i);
      if (d === null || !Number.isFinite(d)) continue;
      any = true;
      if (Math.abs(d) > m) m = Math.abs(d);
    }
    return any ? { min: -m, max: m } : null;
  }
  for (const [side, has] of [
    [v.before, v.hasBefore],
    [v.after, v.hasAfter],
  ] as const) {
    if (!side || !has) continue;
    for (let i = 0; i < n; i++) {
      const x = side[i] as number;
      if (!has[i] || !Number.isFinite(x)) continue;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  return min <= max ? { min, max } : null;
}

/** Five stops of a perceptually ordered dark-blue → teal → yellow ramp (viridis' endpoints and quartiles). */
const SEQUENTIAL: readonly Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
/** Blue → white → red, white exactly at the centre (ColorBrewer RdBu's ends and middle). */
const DIVERGING: readonly Rgb[] = [
  [33, 102, 172],
  [247, 247, 247],
  [178, 24, 43],
];
export const NAN_RGB: Rgb = [255, 0, 255];

function ramp(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i] as Rgb;
  const b = stops[i + 1] as Rgb;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** Where a value lies on a scale: 0..1 for values, -1..1 for Δ (0 at Δ = 0). */
export function position(x: number, which: Which, scale: { min: number; max: number } | null): number {
  if (!scale) return which === "delta" ? 0 : 0.5;
  if (which === "delta") return scale.max > 0 ? Math.max(-1, Math.min(1, x / scale.max)) : 0;
  const span = scale.max - scale.min;
  return span > 0 ? Math.max(0, Math.min(1, (x - scale.min) / span)) : 0.5;
}

/** The colour of a pixel; null: nothing there. */
export function colorOf(p: Px, which: Which, scale: { min: number; max: number } | null): Rgb | null {
  if (p === null) return null;
  if (Number.isNaN(p)) return NAN_RGB;
  const t = position(p, which, scale);
  return which === "delta" ? ramp(DIVERGING, (t + 1) / 2) : ramp(SEQUENTIAL, t);
}

export type Depth = "24bit" | "256" | "none";

/** The colour depth the terminal offers: none with NO_COLOR (non-empty) or TERM=dumb; 24-bit when COLORTERM says so; else 256. */
export function depthFromEnv(env: NodeJS.ProcessEnv = process.env): Depth {
  if ((env.NO_COLOR !== undefined && env.NO_COLOR !== "") || env.TERM === "dumb") return "none";
  if (env.COLORTERM === "truecolor" || env.COLORTERM === "24bit") return "24bit";
  return "256";
}

/** The nearest colour of xterm's 6×6×6 cube or its grey ramp. */
export function xterm256(c: Rgb): number {
  const level = (v: number) => (v < 48 ? 0 : v < 115 ? 1 : Math.floor((v - 35) / 40));
  const steps = [0, 95, 135, 175, 215, 255];
  const [r, g, b] = c.map(level) as [number, number, number];
  const cube = 16 + 36 * r + 6 * g + b;
  const cd = (c[0] - (steps[r] as number)) ** 2 + (c[1] - (steps[g] as number)) ** 2 + (c[2] - (steps[b] as number)) ** 2;
  const avg = (c[0] + c[1] + c[2]) / 3;
  const gi = avg > 238 ? 23 : Math.max(0, Math.round((avg - 8) / 10));
  const gv = 8 + gi * 10;
  const gd = (c[0] - gv) ** 2 + (c[1] - gv) ** 2 + (c[2] - gv) ** 2;
  return gd < cd ? 232 + gi : cube;
}

function sgr(c: Rgb | null, ground: "fg" | "bg", depth: Depth): string {
  if (c === null) return ground === "fg" ? "39" : "49";
  const base = ground === "fg" ? "38" : "48";
  return depth === "24bit" ? `${base};2;${c[0]};${c[1]};${c[2]}` : `${base};5;${xterm256(c)}`;
}

/** Glyphs by value (dark to bright), and for Δ by sign and size. */
export const VALUE_GLYPHS = " .:-=+*#%@";
export const DELTA_NEG = "-=≡";
export const DELTA_POS = "+*#";

function glyph(ps: Px[], which: Which, scale: { min: number; max: number } | null): string {
  const there = ps.filter((p): p is number => p !== null);
  if (there.length === 0) return " ";
  if (there.some((p) => Number.isNaN(p))) return "×";
  if (which === "delta") {
    const p = there.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    const t = position(p, which, scale);
    if (p === 0 || Math.abs(t) < 1e-12) return "·";
    const ramp = t < 0 ? DELTA_NEG : DELTA_POS;
    return ramp[Math.min(ramp.length - 1, Math.floor(Math.abs(t) * ramp.length))] as string;
  }
  const t = position(there.reduce((a, b) => a + b, 0) / there.length, which, scale);
  return VALUE_GLYPHS[Math.min(VALUE_GLYPHS.length - 1, 1 + Math.floor(t * (VALUE_GLYPHS.length - 1)))] as string;
}

/**
 * One line of cells for pixel rows `2k` and `2k + 1`; `cursor` (a pixel) is
 * drawn as `+` over the cell's colour (`▲`/`▼`: which of its two pixels).
 */
export function cellLine(
  img: Px[][],
  k: number,
  which: Which,
  scale: { min: number; max: number } | null,
  depth: Depth,
  cursor: { r: number; c: number } | null = null,
): string {
  const top = img[2 * k] ?? [];
  const bottom = img[2 * k + 1] ?? [];
  const cols = top.length;
  let out = "";
  for (let c = 0; c < cols; c++) {
    const a = top[c] ?? null;
    const b = bottom[c] ?? null;
    const here = cursor !== null && cursor.c === c && Math.floor(cursor.r / 2) === k;
    if (depth === "none") {
      out += here ? (cursor.r % 2 === 0 ? "▲" : "▼") : glyph([a, b], which, scale);
      continue;
    }
    const ca = colorOf(a, which, scale);
    const cb = colorOf(b, which, scale);
    if (here) {
      const under = (cursor.r % 2 === 0 ? ca : cb) ?? [0, 0, 0];
      const light = 0.299 * under[0] + 0.587 * under[1] + 0.114 * under[2] > 140;
      const bg = cursor.r % 2 === 0 ? ca : cb;
      out += `\x1b[${sgr(light ? [0, 0, 0] : [255, 255, 255], "fg", depth)};${sgr(bg, "bg", depth)}m${cursor.r % 2 === 0 ? "▲" : "▼"}`;
    } else if (ca === null && cb === null) out += "\x1b[39;49m ";
    else out += `\x1b[${sgr(ca, "fg", depth)};${sgr(cb, "bg", depth)}m${ca === null ? " " : "▀"}`;
  }
  return depth === "none" || cols === 0 ? out : `${out}\x1b[0m`;
}

/** A colour bar of `width` cells from the scale's low end to its high end. */
export function colorBar(which: Which, scale: { min: number; max: number } | null, width: number, depth: Depth): string {
  const n = Math.max(1, width);
  let out = "";
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? 0.5 : i / (n - 1);
    const lo = scale ? scale.min : 0;
    const hi = scale ? scale.max : 1;
    const x = lo + (hi - lo) * t;
    if (depth === "none") out += glyph([x], which, scale);
    else out += `\x1b[${sgr(colorOf(x, which, scale), "bg", depth)}m `;
  }
  return depth === "none" ? out : `${out}\x1b[0m`;
}
