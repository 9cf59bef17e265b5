/** The `?` overlay: every key of every screen. */
import { Box } from "ink";
import { fit, Line, Seg } from "./Text.js";
import { HELP } from "./keys.js";
import type { Theme } from "./theme.js";

export function Help({ theme, width, height }: { theme: Theme; width: number; height: number }) {
  const lines: { kind: "title" | "key"; a: string; b: string }[] = [];
  for (const section of HELP) {
    lines.push({ kind: "title", a: section.title, b: "" });
    for (const [k, what] of section.keys) lines.push({ kind: "key", a: k, b: what });
  }
  const shown = lines.slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shown.map((l, i) =>
        l.kind === "title" ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: a row of the help is its position on screen
          <Line key={i} width={width}>
            <Seg theme={theme} t="title">
              {l.a}
            </Seg>
          </Line>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: a row of the help is its position on screen
          <Line key={i} width={width}>
            {"  "}
            <Seg theme={theme} t="key">
              {fit(l.a, 18)}
            </Seg>
            {l.b}
          </Line>
        ),
      )}
      <Line width={width}>
        <Seg theme={theme} t="dim">
          {lines.length > shown.length ? "(more: a taller terminal shows all) " : ""}? or Esc closes this help
        </Seg>
      </Line>
    </Box>
  );
}
