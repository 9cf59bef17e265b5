/** The history screen: the commit graph with id, date, author, refs, subject and a change summary per commit. Props only. */
import { pendingText } from "../state/actions.js";
import { Box } from "ink";
import type { ReactNode } from "react";
import type { HistoryEntry } from "../data/source.js";
import { entryAt, pickerChoices, selectedEntry, type HistoryState } from "../state/history.js";
import { Spinner } from "./Spinner.js";
import { fit, Line, Seg } from "./Text.js";
import type { Theme } from "./theme.js";

export interface HistoryProps {
  state: HistoryState;
  theme: Theme;
  width: number;
  height: number;
}

/** "2026-03-04" in the author's own time zone. */
export function formatDay(p: { timestamp: number; tzOffset: number }): string {
  const d = new Date((p.timestamp + p.tzOffset * 60) * 1000);
  return d.toISOString().slice(0, 10);
}

function formatFull(p: { timestamp: number; tzOffset: number }): string {
  const d = new Date((p.timestamp + p.tzOffset * 60) * 1000);
  const sign = p.tzOffset < 0 ? "-" : "+";
  const abs = Math.abs(p.tzOffset);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} ${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
}

function Decorations({ refs, state, theme }: { refs: string[]; state: HistoryState; theme: Theme }) {
  if (refs.length === 0) return null;
  const head = refs.includes("HEAD");
  const branches = new Set(state.branches);
  const seen = new Set<string>();
  const parts: { text: string; t: "head" | "branch" | "tag" }[] = [];
  if (head && (state.current === null || !refs.includes(state.current))) parts.push({ text: "HEAD", t: "head" });
  for (const r of refs) {
    if (r === "HEAD") continue;
    const branch = !seen.has(r) && branches.has(r);
    seen.add(r);
    if (branch) parts.push({ text: head && r === state.current ? `HEAD -> ${r}` : r, t: branch && head && r === state.current ? "head" : "branch" });
    else parts.push({ text: `tag: ${r}`, t: "tag" });
  }
  return (
    <>
      (
      {parts.map((p, i) => (
        <Seg key={p.text} theme={theme} t={p.t}>
          {i > 0 ? ", " : ""}
          {p.text}
        </Seg>
      ))}
      ){" "}
    </>
  );
}

function CommitRow({ e, graph, graphWidth, selected, marked, summary, state, theme, width }: {
  e: HistoryEntry;
  graph: string;
  graphWidth: number;
  selected: boolean;
  marked: boolean;
  summary: string | undefined;
  state: HistoryState;
  theme: Theme;
  width: number;
}) {
  const sumWidth = width >= 100 ? 32 : width >= 70 ? 20 : 0;
  const subject = e.message.split("\n")[0] ?? "";
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Line width={width - (sumWidth ? sumWidth + 1 : 0)}>
        <Seg theme={theme} t={selected ? "cursor" : undefined}>
          {selected ? ">" : " "}
          {marked ? "m" : " "}
        </Seg>
        {fit(graph, graphWidth)} <Seg theme={theme} t="oid">{e.oid.slice(0, 7)}</Seg> <Seg theme={theme} t="dim">{formatDay(e.author)}</Seg>{" "}
        {fit(e.author.name, 8)} <Decorations refs={e.refs} state={state} theme={theme} />
        <Seg theme={theme} t={selected ? "cursor" : undefined}>
          {subject}
        </Seg>
      </Line>
      {sumWidth > 0 ? (
        <Box width={sumWidth + 1} flexShrink={0} paddingLeft={1}>
          <Line width={sumWidth}>
            <Seg theme={theme} t="dim">
              {summary ?? "…"}
            </Seg>
          </Line>
        </Box>
      ) : null}
    </Box>
  );
}

export function History({ state, theme, width, height }: HistoryProps) {
  const listRows = Math.max(1, height - 2);
  const sel = selectedEntry(state);
  if (state.picker.open) {
    const choices = pickerChoices(state);
    const first = Math.max(0, Math.min(state.picker.index - Math.floor(listRows / 2), choices.length - (listRows - 1)));
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Line width={width}>
          <Seg theme={theme} t="title">
            Show which history?
          </Seg>{" "}
          Enter: show it  Esc: cancel
        </Line>
        {choices.slice(first, first + listRows - 1).map((c, i) => (
          <Line key={c.label} width={width}>
            <Seg theme={theme} t={first + i === state.picker.index ? "cursor" : undefined}>
              {first + i === state.picker.index ? "> " : "  "}
              {c.label}
            </Seg>
          </Line>
        ))}
      </Box>
    );
  }
  const rows = state.rows.slice(state.top, state.top + listRows);
  const graphWidth = Math.min(24, Math.max(1, ...rows.map((r) => r.graph.length)));
  const shownRev = state.rev === null ? "all branches and tags" : state.rev.replace(/^tags\//, "tag ");
  let status: ReactNode;
  if (state.search.editing) status = `/${state.search.query}_`;
  else if (state.pending) status = <Seg theme={theme} t="warn">{pendingText(state.pending)}</Seg>;
  else if (state.busy !== null) status = <Spinner theme={theme} label={state.busy} />;
  else if (state.note) status = state.note;
  else if (state.status === "loading") status = <Spinner theme={theme} label="reading history…" />;
  else if (state.status === "error") status = <Seg theme={theme} t="error">{state.error}</Seg>;
  else status = <Seg theme={theme} t="dim">{`${shownRev}: ${state.entries.length} ${state.entries.length === 1 ? "commit" : "commits"}${state.complete ? "" : " (older ones read as you scroll)"}${state.mark ? ` · marked ${state.mark.slice(0, 7)}` : ""}`}</Seg>;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box flexDirection="column" height={listRows} flexShrink={0}>
        {state.status !== "loading" && state.entries.length === 0 ? (
          <Line width={width}>{state.status === "error" ? "" : "No commits yet: `tdv add -A && tdv commit -m MSG` makes the first."}</Line>
        ) : null}
        {rows.map((r, i) => {
          const at = state.top + i;
          if (r.kind === "edge") {
            return (
              <Line key={`e${at}`} width={width}>
                {"  "}
                {r.graph}
              </Line>
            );
          }
          const e = entryAt(state, at) as HistoryEntry;
          return (
            <CommitRow
              key={e.oid}
              e={e}
              graph={r.graph}
              graphWidth={graphWidth}
              selected={at === state.selected}
              marked={state.mark === e.oid}
              summary={state.summaries[e.oid]}
              state={state}
              theme={theme}
              width={width}
            />
          );
        })}
      </Box>
      <Line width={width}>
        {sel ? (
          <>
            <Seg theme={theme} t="oid">{sel.oid}</Seg> {sel.author.name} {`<${sel.author.email}>`} {formatFull(sel.author)}
            {sel.parents.length > 1 ? ` · merge of ${sel.parents.map((p) => p.slice(0, 7)).join(" ")}` : ""}
          </>
        ) : (
          " "
        )}
      </Line>
      <Line width={width}>{status}</Line>
    </Box>
  );
}
