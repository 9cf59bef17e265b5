/** Small building blocks: a one-line row that truncates, and a coloured segment. */
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { tone, type Theme, type Tone } from "./theme.js";

export function Seg({ theme, t, children }: { theme: Theme; t?: Tone | undefined; children: ReactNode }) {
  return <Text {...tone(theme, t)}>{children}</Text>;
}

/** One line of at most `width` columns; what does not fit is cut with an ellipsis. */
export function Line({ width, children }: { width: number; children?: ReactNode }) {
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Text wrap="truncate-end">{children ?? " "}</Text>
    </Box>
  );
}

/** `s` cut or padded to exactly `n` columns. */
export function fit(s: string, n: number): string {
  if (n <= 0) return "";
  return s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s.padEnd(n);
}
