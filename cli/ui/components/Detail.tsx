/** The lower pane of a list screen: a rule, then the selected item's detail lines (a spinner while one loads). */
import { Box } from "ink";
import { Spinner } from "./Spinner.js";
import { Line, Seg } from "./Text.js";
import type { Theme, Tone } from "./theme.js";

export type DetailLine = { text: string; t?: Tone | undefined; spin?: boolean };

export function DetailPane({ lines, rows, theme, width }: { lines: readonly DetailLine[]; rows: number; theme: Theme; width: number }) {
  return (
    <>
      <Line width={width}>
        <Seg theme={theme} t="dim">{"─".repeat(width)}</Seg>
      </Line>
      <Box flexDirection="column" height={rows} flexShrink={0}>
        {lines.slice(0, rows).map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a row of the pane is its position on screen
          <Line key={i} width={width}>
            {l.spin ? <Spinner theme={theme} label={l.text} /> : <Seg theme={theme} t={l.t}>{l.text}</Seg>}
          </Line>
        ))}
      </Box>
    </>
  );
}
