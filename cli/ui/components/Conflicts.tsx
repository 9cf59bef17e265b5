/** The conflicts screen: the open conflicts of a stopped merge and the selected one's three versions. Props only. */
import { Box } from "ink";
import { formatValue } from "../data/values.js";
import { counts, selectedItem, type ConflictItem, type ConflictsState } from "../state/conflicts.js";
import { DetailPane, type DetailLine } from "./Detail.js";
import { Spinner } from "./Spinner.js";
import { fit, Line, Seg } from "./Text.js";
import type { Theme } from "./theme.js";

export interface ConflictsProps {
  state: ConflictsState;
  theme: Theme;
  width: number;
  height: number;
}


function json(v: unknown, max: number): string {
  const s = v === null ? "(absent)" : (JSON.stringify(v) ?? String(v));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function valueTable(rows: { coords: number[]; base: unknown; ours: unknown; theirs: unknown; conflict: boolean }[], width: number): DetailLine[] {
  const cw = Math.max(9, Math.min(16, Math.floor((width - 4) / 4)));
  const out: DetailLine[] = [{ text: `  ${fit("coords", cw)}${fit("base", cw)}${fit("ours", cw)}${fit("theirs", cw)}`, t: "dim" }];
  for (const r of rows) {
    out.push({
      text: `${r.conflict ? "! " : "  "}${fit(`[${r.coords.join(",")}]`, cw)}${fit(formatValue(r.base, cw - 1), cw)}${fit(formatValue(r.ours, cw - 1), cw)}${fit(formatValue(r.theirs, cw - 1), cw)}`,
      t: r.conflict ? "conflict" : undefined,
    });
  }
  return out;
}

function details(state: ConflictsState, item: ConflictItem, width: number): DetailLine[] {
  const c = item.conflict;
  const lines: DetailLine[] = [{ text: `${item.subject || "."}: ${item.label}${item.resolved ? " (resolved: staged with tdv add)" : ""}`, t: "title" }];
  for (const r of item.reasons.slice(0, 2)) lines.push({ text: r, t: "dim" });
  switch (c._tag) {
    case "ChunkBothChanged": {
      const load = state.details[item.key];
      if (load?.status === "ready") {
        lines.push({ text: `${load.value.conflicts} ${load.value.conflicts === 1 ? "element" : "elements"} in conflict (!), ${load.value.changed} changed by either side` });
        lines.push(...valueTable(load.value.rows, width));
      } else {
        if (load?.status === "error") lines.push({ text: load.error, t: "error" });
        else lines.push({ text: "decoding base, ours and theirs…", spin: true });
        if (item.elements) {
          lines.push({ text: `${item.elements.count} ${item.elements.count === 1 ? "element" : "elements"} in conflict; the first ones:` });
          lines.push(...valueTable(item.elements.examples.map((e) => ({ coords: e.coords, ...e.values, conflict: true })), width));
        }
      }
      break;
    }
    case "MetaBothChanged":
    case "AttrBothChanged": {
      const w = Math.max(10, width - 12);
      lines.push({ text: `  base    ${json(c.values.base, w)}` });
      lines.push({ text: `  ours    ${json(c.values.ours, w)}`, t: "conflict" });
      lines.push({ text: `  theirs  ${json(c.values.theirs, w)}`, t: "conflict" });
      if (c._tag === "MetaBothChanged") {
        lines.push({ text: `ours: ${c.ours}` });
        lines.push({ text: `theirs: ${c.theirs}` });
      }
      break;
    }
    case "DeleteOfChanged":
      lines.push({ text: `${c.deletedBy} deleted ${c.array ? "the array" : "the file"}; the other side changed ${c.changed.join(", ")}` });
      lines.push({ text: "o/t: keep the side's version (the deleting side deletes it)", t: "dim" });
      break;
    case "FileBothChanged":
      lines.push({ text: `sizes: base ${c.entries.base?.size ?? "absent"}, ours ${c.entries.ours?.size ?? "absent"}, theirs ${c.entries.theirs?.size ?? "absent"} bytes` });
      break;
    case "ArrayAddedBoth":
      lines.push({ text: `differs in ${c.differing.join(", ")}` });
      break;
  }
  return lines;
}

export function Conflicts({ state, theme, width, height }: ConflictsProps) {
  if (state.status === "loading" && !state.merge) {
    return (
      <Box width={width} height={height}>
        <Spinner theme={theme} label="reading the merge in progress…" />
      </Box>
    );
  }
  if (state.status === "error") {
    return (
      <Box width={width} height={height} flexDirection="column">
        <Line width={width}>
          <Seg theme={theme} t="error">{state.error}</Seg>
        </Line>
      </Box>
    );
  }
  const m = state.merge;
  if (!m) {
    return (
      <Box width={width} height={height} flexDirection="column">
        <Line width={width}>{state.done ? `Merge concluded: commit ${state.done.slice(0, 7)}.` : "No merge in progress."}</Line>
        <Line width={width}>
          <Seg theme={theme} t="dim">
            Esc: back to the history
          </Seg>
        </Line>
      </Box>
    );
  }
  const { open, settled } = counts(state);
  const head = `Merging '${m.name}' into ${m.branch ?? "HEAD"}: ${open} open, ${settled} settled`;
  const listRows = Math.min(state.items.length, state.listRows);
  const item = selectedItem(state);
  const detailRows = Math.max(0, height - 3 - listRows);
  const lines = item ? details(state, item, width) : [];
  let last: string | null = null;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line width={width}>
        <Seg theme={theme} t="title">{head}</Seg>
        {m.stale ? <Seg theme={theme} t="warn"> · HEAD moved since the merge began: `tdv merge --quit`</Seg> : null}
      </Line>
      <Box flexDirection="column" height={listRows} flexShrink={0}>
        {state.items.slice(state.top, state.top + listRows).map((it, i) => {
          const at = state.top + i;
          const here = at === state.selected;
          const subject = it.subject === last && i > 0 ? "" : it.subject || ".";
          last = it.subject;
          return (
            <Line key={it.key} width={width}>
              <Seg theme={theme} t={here ? "cursor" : undefined}>{here ? "> " : "  "}</Seg>
              <Seg theme={theme} t={it.resolved ? "ok" : "conflict"}>{it.resolved ? "✓ " : "! "}</Seg>
              {fit(subject, Math.min(28, Math.floor(width / 3)))} <Seg theme={theme} t={here ? "cursor" : undefined}>{it.label}</Seg>
              {it.elements ? ` · ${it.elements.count} element${it.elements.count === 1 ? "" : "s"}` : ""}
            </Line>
          );
        })}
      </Box>
      <DetailPane lines={lines} rows={detailRows} theme={theme} width={width} />
      <Line width={width}>
        {state.busy !== null ? (
          <Spinner theme={theme} label={state.busy} />
        ) : state.note ? (
          open === 0 && state.status === "ready" && !state.done ? `${state.note}; no conflict left: c concludes the merge` : state.note
        ) : open === 0 ? (
          <Seg theme={theme} t="ok">
            No conflict left: c concludes the merge (a commit with two parents)
          </Seg>
        ) : (
          <Seg theme={theme} t="dim">
            o/t: this conflict with ours/theirs · O/T: the whole array · then c to continue
          </Seg>
        )}
      </Line>
    </Box>
  );
}
