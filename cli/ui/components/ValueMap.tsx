/**
 * The value map: a 2-D slice of an array before and after a change as
 * pictures of half-block pixels, a colour bar per scale, the cursor's element
 * with its values on both sides. Props only; the pixels come from
 * data/pixels.ts.
 */
import { Box, Text } from "ink";
import { escapeControlLine } from "../../../src/index.js";
import { cellLine, colorBar, DELTA_NEG, DELTA_POS, elementDelta, pixels, scaleOf, VALUE_GLYPHS, type Depth, type Which } from "../data/pixels.js";
import type { SliceData } from "../data/source.js";
import { formatValue } from "../data/values.js";
import { cursorPixel, GAP, mapSampling, pictureCols, readySlice, specKey, type MapState } from "../state/valuemap.js";
import { Spinner } from "./Spinner.js";
import { Line, Seg } from "./Text.js";
import type { Theme } from "./theme.js";

export interface ValueMapProps {
  state: MapState;
  theme: Theme;
  width: number;
  height: number;
}

const LABEL: Record<Which, string> = { before: "before", after: "after", delta: "Δ after − before" };

export function dimLabel(s: Pick<MapState, "array">, d: number): string {
  const a = s.array;
  return (a?.after ?? a?.before)?.dimensionNames?.[d] ?? `dim ${d}`;
}

/** The element under the cursor, or the block of elements its pixel covers (first line), with its values (second). */
function cursorText(s: MapState, v: SliceData, per: number): [string, string] {
  const r = s.rowDim < 0 ? 0 : (s.at[s.rowDim] as number);
  const c = s.colDim < 0 ? 0 : (s.at[s.colDim] as number);
  const r0 = r - (r % per);
  const c0 = c - (c % per);
  const where = s.shape
    .map((_, d) => {
      if (d === s.rowDim) return per > 1 ? `${r0}..${Math.min(v.rows, r0 + per) - 1}` : String(r);
      if (d === s.colDim) return per > 1 ? `${c0}..${Math.min(v.cols, c0 + per) - 1}` : String(c);
      return String(s.at[d]);
    })
    .join(", ");
  const names = [s.rowDim, s.colDim].filter((d) => d >= 0).map((d) => `${dimLabel(s, d)} ${coordText(s, d, d === s.rowDim ? r : c)}`);
  if (per > 1) {
    // a block: the mean of each side and the largest |Δ|, as the pixel shows them
    let sb = 0;
    let nb = 0;
    let sa = 0;
    let na = 0;
    let best: number | null = null;
    for (let i = r0; i < Math.min(v.rows, r0 + per); i++) {
      for (let j = c0; j < Math.min(v.cols, c0 + per); j++) {
        const k = i * v.cols + j;
        if (v.before && v.hasBefore?.[k] && Number.isFinite(v.before[k])) {
          sb += v.before[k] as number;
          nb++;
        }
        if (v.after && v.hasAfter?.[k] && Number.isFinite(v.after[k])) {
          sa += v.after[k] as number;
          na++;
        }
        const d = elementDelta(v, k);
        if (d !== null && Number.isFinite(d) && (best === null || Math.abs(d) > Math.abs(best))) best = d;
      }
    }
    return [`${names.join(" · ")} · [${where}]`, `mean before ${nb ? formatValue(sb / nb) : "—"} · after ${na ? formatValue(sa / na) : "—"} · largest Δ ${best === null ? "—" : formatValue(best)}`];
  }
  const k = r * v.cols + c;
  const b = v.before && v.hasBefore?.[k] ? v.before[k] : undefined;
  const a = v.after && v.hasAfter?.[k] ? v.after[k] : undefined;
  const d = elementDelta(v, k);
  return [`${names.join(" · ")} · [${where}]`, `before ${formatValue(b)} · after ${formatValue(a)} · Δ ${d === null ? "—" : formatValue(d)}`];
}

/** An index along dimension `d` with its coordinate value when the array has one ("lat 8 = -7.5"). */
export function coordText(s: Pick<MapState, "coords">, d: number, i: number): string {
  const label = s.coords?.[d]?.[i];
  return label ? `${i} = ${label}` : String(i);
}

function Raw({ width, text }: { width: number; text: string }) {
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Text wrap="truncate-end">{text || " "}</Text>
    </Box>
  );
}

export function ValueMap({ state: s, theme, width, height }: ValueMapProps) {
  const depth: Depth = theme.color ? (theme.depth ?? "256") : "none";
  const a = s.array;
  if (!a) return <Box height={height} />;
  const title = [
    a.path || ".",
    ...s.shape
      .map((n, d) => {
        if (d === s.rowDim || d === s.colDim) return null;
        const label = s.coords?.[d]?.[s.at[d] as number];
        return `${dimLabel(s, d)}=${s.at[d]}/${n}${d === s.sliceDim ? "◂" : ""}${label ? ` ${label}` : ""}`;
      })
      .filter((x): x is string => x !== null),
    `${[s.rowDim, s.colDim].filter((d) => d >= 0).map((d) => dimLabel(s, d)).join(" × ") || "one element"}`,
  ].join(" · ");
  const load = s.data?.key === specKey(s) ? s.data.load : null;
  const v = readySlice(s);
  const smp = mapSampling(s);
  if (!v || !smp) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Line width={width}>
          <Seg theme={theme} t="title">
            {title}
          </Seg>
        </Line>
        <Line width={width}>
          {load?.status === "error" ? (
            <Seg theme={theme} t="error">
              {load.error}
            </Seg>
          ) : (
            <Spinner theme={theme} label={`reading the slice${s.progress ? `: ${s.progress.done} of ${s.progress.total} chunks` : "…"}`} />
          )}
        </Line>
      </Box>
    );
  }
  const views: Which[] = s.view === "all" ? ["before", "after", "delta"] : [s.view];
  const cols = pictureCols(s);
  const cur = cursorPixel(s, smp);
  const valueScale = scaleOf(v, "before");
  const deltaScale = scaleOf(v, "delta");
  const imgs = views.map((w) => ({ w, img: pixels(v, w, smp), scale: w === "delta" ? deltaScale : valueScale }));
  const cellRows = Math.ceil(smp.rows / 2);
  const at = cursorText(s, v, smp.per);
  const how =
    smp.per > 1
      ? `each pixel: mean of ${smp.per}×${smp.per} elements (Δ: their largest |Δ|)`
      : `each pixel: one element${smp.zoom > 1 ? ` (drawn ${smp.zoom}×${smp.zoom})` : ""}`;
  const lines: string[] = [];
  for (let k = 0; k < cellRows; k++) {
    lines.push(imgs.map(({ w, img, scale }) => cellLine(img, k, w, scale, depth, cur) + " ".repeat(Math.max(0, cols - smp.cols))).join(" ".repeat(GAP)));
  }
  const units = v.units ? ` ${escapeControlLine(v.units)}` : ""; // an attribute: the repository's text, escaped
  const barW = Math.max(8, Math.min(24, Math.floor(width / 5))) | 1; // odd: the middle cell is the centre of the scale (Δ = 0)
  const bars: string[] = [];
  if (views.some((w) => w !== "delta")) bars.push(`values ${valueScale ? formatValue(valueScale.min) : "—"} ${colorBar("after", valueScale, barW, depth)} ${valueScale ? formatValue(valueScale.max) : "—"}${units}`);
  if (views.includes("delta")) bars.push(`Δ ${deltaScale ? formatValue(deltaScale.min) : "—"} ${colorBar("delta", deltaScale, barW, depth)} ${deltaScale ? formatValue(deltaScale.max) : "—"}${units}`);
  const nanKey = depth === "none" ? "× NaN, blank: no element" : `\x1b[${depth === "24bit" ? "48;2;255;0;255" : "48;5;201"}m \x1b[0m NaN (Δ: NaN on one side), blank: no element`;
  const glyphKey =
    depth === "none" ? ` · values ${VALUE_GLYPHS.slice(1)} · Δ ${[...DELTA_NEG].reverse().join("")}·${DELTA_POS}` : "";
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line width={width}>
        <Seg theme={theme} t="title">
          {title}
        </Seg>
        {` · ${v.rows}×${v.cols}`}
      </Line>
      <Line width={width}>
        {s.view === "all" ? views.map((w) => LABEL[w].padEnd(cols + GAP)).join("") : `${LABEL[views[0] as Which]} · ${how}`}
      </Line>
      <Box flexDirection="column" height={Math.min(cellRows, Math.max(1, height - 6))} flexShrink={0}>
        {lines.slice(0, Math.max(1, height - 6)).map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: picture rows are positions
          <Raw key={i} width={width} text={l} />
        ))}
      </Box>
      <Raw width={width} text={bars.join("   ")} />
      <Raw width={width} text={`${nanKey}${glyphKey}${s.view === "all" ? ` · ${how}` : ""}`} />
      <Line width={width}>{at[0]}</Line>
      <Line width={width}>
        {at[1]}
        <Seg theme={theme} t="dim">{`   read ${v.chunks} ${v.chunks === 1 ? "chunk" : "chunks"}: the slice's`}</Seg>
      </Line>
    </Box>
  );
}
