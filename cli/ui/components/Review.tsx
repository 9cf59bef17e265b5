/** The review screen: arrays changed between two commits with their statistics, or one array's heatmap. Props only. */
import { Box } from "ink";
import { selectedArray, type ReviewState } from "../state/review.js";
import { attributeLine, chunkCounts, chunksLine, formatBox, formLine, metadataLine, STATUS_CHAR, valueLines } from "./describe.js";
import { Heatmap } from "./Heatmap.js";
import { DetailPane, type DetailLine } from "./Detail.js";
import { Spinner } from "./Spinner.js";
import { fit, Line, Seg } from "./Text.js";
import type { Theme, Tone } from "./theme.js";

export interface ReviewProps {
  state: ReviewState;
  theme: Theme;
  width: number;
  height: number;
  panelRows: number;
}

const STATUS_TONE: Record<string, Tone> = { added: "added", removed: "removed", modified: "modified", renamed: "renamed" };

export function Review({ state, theme, width, height, panelRows }: ReviewProps) {
  if (state.status === "loading") {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Line width={width}>
          <Spinner theme={theme} label={`computing the diff of ${state.title}…`} />
        </Line>
      </Box>
    );
  }
  if (state.status === "error" || !state.diff) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Line width={width}>
          <Seg theme={theme} t="error">{state.error ?? "no diff"}</Seg>
        </Line>
      </Box>
    );
  }
  const arr = selectedArray(state);
  if (state.focus === "grid" && state.grid && arr && arr.path === state.grid.path) {
    return <Heatmap array={arr} grid={state.grid} state={state} theme={theme} width={width} height={height} panelRows={panelRows} />;
  }
  const d = state.diff;
  const s = d.summary;
  const others = [s.files.added + s.files.removed + s.files.modified, s.groups.added + s.groups.removed + s.groups.modified];
  const head = `${d.arrays.length} ${d.arrays.length === 1 ? "array" : "arrays"} changed (+${s.arrays.added} ~${s.arrays.modified} -${s.arrays.removed}${s.arrays.renamed ? ` →${s.arrays.renamed}` : ""})${others[0] ? `, ${others[0]} ${others[0] === 1 ? "file" : "files"}` : ""}${others[1] ? `, ${others[1]} ${others[1] === 1 ? "group" : "groups"}` : ""}`;
  const listRows = Math.min(d.arrays.length, state.view.listRows);
  const nameWidth = Math.max(12, Math.min(40, width - 30));
  const detail: DetailLine[] = [];
  if (arr) {
    detail.push({ text: `${arr.path || "."}  ${arr.status}${arr.oldPath !== null ? ` from ${arr.oldPath}` : ""}`, t: "title" });
    detail.push({ text: formLine(arr) });
    for (const m of arr.metadata) detail.push({ text: metadataLine(m), t: "modified" });
    for (const a of arr.attributes) detail.push({ text: attributeLine(a), t: "modified" });
    detail.push({ text: chunksLine(arr) });
    const boxes = [...arr.chunks.modified.boxes, ...arr.chunks.added.boxes, ...arr.chunks.removed.boxes];
    if (boxes.length) detail.push({ text: `  at ${boxes.slice(0, 4).map(formatBox).join(" ")}${boxes.length > 4 ? ` and ${boxes.length - 4} more` : ""}`, t: "dim" });
    const v = state.arrayValues[arr.path];
    if (!state.values) detail.push({ text: "values: press v to compare them (decodes this array's changed chunks)", t: "dim" });
    else if (!v || v.status === "loading") detail.push({ text: "comparing values…", spin: true });
    else if (v.status === "error") detail.push({ text: v.error, t: "error" });
    else {
      if (v.value.values) for (const l of valueLines(v.value.values)) detail.push({ text: l });
      if (v.value.note) detail.push({ text: `note: ${v.value.note}`, t: "warn" });
    }
    detail.push({ text: "Enter: the chunk grid as a heatmap", t: "dim" });
  }
  for (const w of d.warnings) detail.push({ text: `warning: ${w}`, t: "warn" });
  const detailRows = Math.max(0, height - 2 - listRows);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line width={width}>
        <Seg theme={theme} t="title">{head}</Seg>
      </Line>
      {d.arrays.length === 0 ? <Line width={width}>No array changed{others[0] ? ` (only files: ${d.files.map((f) => f.path).join(", ")})` : ""}.</Line> : null}
      <Box flexDirection="column" height={listRows} flexShrink={0}>
        {d.arrays.slice(state.top, state.top + listRows).map((a, i) => {
          const at = state.top + i;
          const here = at === state.selected;
          return (
            <Line key={a.path} width={width}>
              <Seg theme={theme} t={here ? "cursor" : undefined}>{here ? "> " : "  "}</Seg>
              <Seg theme={theme} t={STATUS_TONE[a.status]}>{STATUS_CHAR[a.status]}</Seg> <Seg theme={theme} t={here ? "cursor" : undefined}>{fit(a.path || ".", nameWidth)}</Seg> {fit(chunkCounts(a), 16)}
              {a.metadata.length + a.attributes.length > 0 ? " meta" : ""}
            </Line>
          );
        })}
      </Box>
      <DetailPane lines={detail} rows={detailRows} theme={theme} width={width} />
    </Box>
  );
}
