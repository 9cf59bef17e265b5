/**
 * An array's chunk grid as a heatmap: one cell per chunk of a 2-D slice,
 * marked by what happened to it (or, with values on, by its max |Δ|), the
 * cursor as `[ ]`, and under it the changed values of the chunk under the
 * cursor. Props only.
 */
import { Box, Text } from "ink";
import type { ArrayDiff } from "../../../src/index.js";
import { chunkShapeOf, deltaBucket, gridChanges, key, regrid, windowKinds, type CellKind } from "../data/grid.js";
import { colorOf } from "../data/pixels.js";
import { comparisonText, differing, formatValue } from "../data/values.js";
import { cellIndex, chunkKey, gridWindow, type GridState, type ReviewState } from "../state/review.js";
import { CELL, ROW_LABEL, ROW_LABEL_COORDS } from "./layout.js";
import { Spinner } from "./Spinner.js";
import { fit, Line, Seg } from "./Text.js";
import type { Theme, Tone } from "./theme.js";

export interface HeatmapProps {
  array: ArrayDiff;
  grid: GridState;
  state: ReviewState;
  theme: Theme;
  width: number;
  height: number;
  panelRows: number;
}

const KIND_CHAR: Record<CellKind, string> = { unchanged: ".", added: "+", removed: "-", modified: "*" };
const KIND_TONE: Record<CellKind, Tone> = { unchanged: "unchanged", added: "added", removed: "removed", modified: "modified" };

/**
 * What a cell shows: its character and tone, and with values on a level in
 * 0..1 for its background colour (max |Δ| on a log scale up to `max`, or the
 * fraction of its elements that changed). Added and removed chunks keep
 * their `+` and `-`.
 */
export function cellLook(
  kind: CellKind,
  values: boolean,
  delta: number | null | undefined,
  max: number,
  fraction: number | null = null,
  metric: "delta" | "fraction" = "delta",
): { ch: string; t: Tone; level: number | null } {
  if (!values || kind === "unchanged") return { ch: KIND_CHAR[kind], t: KIND_TONE[kind], level: null };
  if (delta === undefined) return { ch: "?", t: "pending", level: null };
  if (kind !== "modified" || delta === null) return { ch: KIND_CHAR[kind], t: KIND_TONE[kind], level: null }; // not numbers, or nothing to compare
  if (metric === "fraction" && fraction !== null) {
    if (fraction === 0) return { ch: "=", t: "same", level: null };
    const b = Math.min(4, Math.max(1, Math.ceil(fraction * 4)));
    return { ch: String(b), t: `heat${b}` as Tone, level: fraction };
  }
  const b = deltaBucket(delta, max);
  if (b === 0) return { ch: "=", t: "same", level: null };
  return { ch: String(b), t: `heat${b}` as Tone, level: max > 0 ? Math.min(1, Math.log1p(delta) / Math.log1p(max)) : 1 };
}

/** A level's background colour (the value map's sequential ramp) and a readable foreground over it. */
function levelColors(level: number): { bg: string; fg: string } {
  const c = colorOf(level, "after", { min: 0, max: 1 }) ?? [0, 0, 0];
  const hex = `#${c.map((x) => x.toString(16).padStart(2, "0")).join("")}`;
  return { bg: hex, fg: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140 ? "#000000" : "#ffffff" };
}

/** Column labels: each at its cell when it fits after the one before. */
function columnLabels(labels: string[], n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) {
    const at = i * CELL;
    if (out.length > at) continue;
    const l = labels[i] ?? "";
    out = `${out.padEnd(at)}${l} `;
  }
  return out.trimEnd();
}

function dimName(a: ArrayDiff, d: number): string {
  return (a.after ?? a.before)?.dimensionNames?.[d] ?? `dim ${d}`;
}

export function Heatmap({ array, grid, state, theme, width, height, panelRows }: HeatmapProps) {
  const win = gridWindow(grid, state.view);
  const kinds = windowKinds(gridChanges(array), grid.cursor, grid, win.rows, win.cols);
  const rechunk = regrid(array);
  const deltas = new Map<string, number | null>();
  const fractions = new Map<string, number | null>();
  for (const k of kinds.keys()) {
    const c = state.chunks[`${array.path}|${k}`];
    if (c?.status === "ready") {
      deltas.set(k, c.value.maxAbsDelta);
      const all = c.value.compared + c.value.added + c.value.removed;
      fractions.set(k, all > 0 ? differing(c.value) / all : null);
    }
  }
  // coordinate labels of the shown dimensions: a chunk is labelled by its first element's coordinate
  const coords = state.coords[array.path]?.status === "ready" ? (state.coords[array.path] as { value: (string[] | null)[] }).value : [];
  const cs = chunkShapeOf(array);
  const labelOf = (d: number, k: number): string | null => coords[d]?.[k * (cs[d] ?? 1)] ?? null;
  const rowCoords = grid.rowDim >= 0 && coords[grid.rowDim] ? grid.rowDim : -1;
  const colCoords = grid.colDim >= 0 && coords[grid.colDim] ? grid.colDim : -1;
  const labelW = rowCoords >= 0 || colCoords >= 0 ? ROW_LABEL_COORDS : ROW_LABEL;
  // the scale: the largest |Δ| of every chunk of the array decoded so far, so a cell keeps its mark across slices
  let max = 0;
  const prefix = `${array.path}|`;
  for (const [k, c] of Object.entries(state.chunks)) {
    if (k.startsWith(prefix) && c.status === "ready" && c.value.maxAbsDelta !== null && c.value.maxAbsDelta > max) max = c.value.maxAbsDelta;
  }
  const slice =
    grid.sliceDim >= 0
      ? ` · slice ${grid.shape
          .map((n, d) => (d === grid.rowDim || d === grid.colDim ? null : `${dimName(array, d)}=${grid.cursor[d]}/${n}${d === grid.sliceDim ? "◂" : ""}`))
          .filter(Boolean)
          .join(" ")}`
      : "";
  const axes = grid.rowDim >= 0 ? ` · ${dimName(array, grid.rowDim)} × ${dimName(array, grid.colDim)}` : grid.colDim >= 0 ? ` · ${dimName(array, grid.colDim)}` : "";
  const header = colCoords >= 0 ? columnLabels(Array.from({ length: win.cols[1] - win.cols[0] }, (_, i) => labelOf(colCoords, win.cols[0] + i) ?? ""), win.cols[1] - win.cols[0]) : Array.from({ length: win.cols[1] - win.cols[0] }, (_, i) => {
    const c = win.cols[0] + i;
    // every index that fits its cell, else every fifth
    return String(c).length < CELL || c % 5 === 0 || i === 0 ? String(c).padEnd(CELL) : " ".repeat(CELL);
  }).join("");
  const rowsShown: number[] = [];
  for (let r = win.rows[0]; r < win.rows[1]; r++) rowsShown.push(r);
  const coloured = theme.color && state.values && !rechunk;
  const legend = rechunk
    ? `rechunked ${rechunk.before.join("×")} → ${rechunk.after.join("×")}: the new grid, every chunk new (+); i: the values`
    : state.values
    ? state.metric === "fraction"
      ? "1234 changed fraction  = same values  ? decoding  + added  - removed  (f: max |Δ|)"
      : `1234 max|Δ| to ${formatValue(max, 10)} (log)  = same values  ? decoding  + added  - removed  (f: fraction)`
    : ". unchanged  + added  - removed  * changed   (v: colour by max |Δ|)";
  const cur = grid.cursor;
  const curKey = key(cur);
  const curKind = kinds.get(curKey) ?? "unchanged";
  // the grid takes the rows it has (at most the window), the chunk's values the rest of the screen
  const gridLines = Math.max(1, rowsShown.length);
  const panel = Math.max(panelRows, height - 3 - gridLines);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line width={width}>
        <Seg theme={theme} t="title">
          {array.path || "."}
        </Seg>
        {`${slice}${axes} · grid ${grid.shape.join("×") || "1"}`}
      </Line>
      <Line width={width}>{`${labelW > ROW_LABEL && grid.rowDim >= 0 ? fit(`${dimName(array, grid.rowDim)}\\${dimName(array, grid.colDim)}`, labelW) : " ".repeat(labelW)}${grid.colDim >= 0 ? header : ""}`}</Line>
      <Box flexDirection="column" height={gridLines} flexShrink={0}>
        {rowsShown.map((r) => (
          <Line key={r} width={width}>
            {fit(grid.rowDim < 0 ? "" : rowCoords >= 0 ? (labelOf(rowCoords, r) ?? String(r)) : String(r), labelW)}
            {Array.from({ length: win.cols[1] - win.cols[0] }, (_, i) => {
              const c = win.cols[0] + i;
              const idx = cellIndex(grid, r, c);
              const k = key(idx);
              const kind = kinds.get(k) ?? "unchanged";
              const look = cellLook(kind, state.values && !rechunk, deltas.get(k), max, fractions.get(k) ?? null, state.metric);
              const here = k === curKey;
              if (coloured && look.level !== null) {
                const { bg, fg } = levelColors(look.level);
                return (
                  <Text key={c} backgroundColor={bg} color={fg} bold={here}>
                    {here ? `[${look.ch}]` : ` ${look.ch} `}
                  </Text>
                );
              }
              return (
                <Seg key={c} theme={theme} t={here ? "cursor" : look.t}>
                  {here ? `[${look.ch}]` : ` ${look.ch} `}
                </Seg>
              );
            })}
          </Line>
        ))}
      </Box>
      <Line width={width}>
        {coloured
          ? [1, 2, 3, 4].map((b) => (
              // the scale's colours, on the digits the cells show (the same characters as without colour)
              <Text key={b} backgroundColor={levelColors(b / 4).bg} color={levelColors(b / 4).fg}>
                {String(b)}
              </Text>
            ))
          : null}
        <Seg theme={theme} t="dim">
          {coloured ? legend.slice(4) : legend}
        </Seg>
      </Line>
      <ChunkPanel array={array} index={cur} kind={curKind} state={state} theme={theme} width={width} rows={panel} />
    </Box>
  );
}

function ChunkPanel({ array, index, kind, state, theme, width, rows }: { array: ArrayDiff; index: number[]; kind: CellKind; state: ReviewState; theme: Theme; width: number; rows: number }) {
  const load = state.chunks[chunkKey(array.path, index)];
  const title = (
    <Line width={width}>
      <Seg theme={theme} t="title">{`chunk [${index.join(", ")}]`}</Seg> <Seg theme={theme} t={KIND_TONE[kind]}>{kind === "modified" ? "changed" : kind}</Seg>
      {load?.status === "ready" ? ` · ${comparisonText(load.value)}${load.value.maxAbsDelta !== null ? ` · max |Δ| ${formatValue(load.value.maxAbsDelta)}` : ""}` : ""}
    </Line>
  );
  let body: React.JSX.Element[] = [];
  const rechunk = regrid(array);
  if (rechunk)
    body = [
      <Line key="r" width={width}>{`the chunk grid changed (chunks ${rechunk.before.join("×")} → ${rechunk.after.join("×")}): a chunk of the new grid`}</Line>,
      <Line key="r2" width={width}>has no counterpart of the same index before, so chunks are not compared.</Line>,
      <Line key="r3" width={width}>i: the value map compares the values element by element, across both grids</Line>,
    ];
  else if (kind === "unchanged") body = [<Line key="u" width={width}>unchanged: the same bytes on both sides</Line>];
  else if (!load || load.status === "loading")
    body = [
      <Line key="l" width={width}>
        <Spinner theme={theme} label="decoding this chunk…" />
      </Line>,
    ];
  else if (load.status === "error") body = [<Line key="e" width={width}><Seg theme={theme} t="error">{load.error}</Seg></Line>];
  else if (load.value.elements.length === 0) body = [<Line key="n" width={width}>no element differs (the bytes changed, the values did not)</Line>];
  else {
    const cw = Math.max(10, Math.min(16, Math.floor((width - 2) / 4)));
    const total = differing(load.value);
    const room = Math.max(0, rows - 2); // the title and the column headings
    const show = load.value.elements.slice(0, total > room ? Math.max(0, room - 1) : room); // a last line says how many more
    body = [
      <Line key="h" width={width}>
        <Seg theme={theme} t="dim">{`${fit("coords", cw + 4)}${fit("before", cw)}${fit("after", cw)}${fit("|Δ|", cw)}`}</Seg>
      </Line>,
      ...show.map((e) => {
        const d = typeof e.before === "number" && typeof e.after === "number" && !Number.isNaN(e.before) && !Number.isNaN(e.after) ? Math.abs(e.after - e.before) : undefined;
        return (
          <Line key={e.coords.join(",")} width={width}>
            {fit(`[${e.coords.join(",")}]`, cw + 4)}
            {fit(formatValue(e.before, cw - 1), cw)}
            {fit(formatValue(e.after, cw - 1), cw)}
            {d === undefined ? "" : formatValue(d, cw - 1)}
          </Line>
        );
      }),
    ];
    if (total > show.length) body.push(<Line key="more" width={width}><Seg theme={theme} t="dim">{`… ${total - show.length} more elements`}</Seg></Line>);
  }
  return (
    <Box flexDirection="column" height={rows} flexShrink={0}>
      {title}
      {body.slice(0, rows - 1)}
    </Box>
  );
}
