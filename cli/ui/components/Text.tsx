/**
 * Small building blocks: a one-line row that truncates, and a coloured segment.
 * Both escape control characters in the text they are given (a path, a branch
 * or an author from a hostile repository must not reach the terminal raw:
 * "\x1b[2J" would clear it), as every line the command line prints is.
 */
import { Box, Text } from "ink";
import { Children, cloneElement, Fragment, isValidElement, type ReactElement, type ReactNode } from "react";
import { escapeControlLine } from "../../../src/index.js";
import { tone, type Theme, type Tone } from "./theme.js";

/** `children` with every string child's control characters escaped, inside fragments too (elements are left to escape their own). */
export function safe(children: ReactNode): ReactNode {
  if (typeof children === "string") return escapeControlLine(children);
  if (children === null || children === undefined || typeof children !== "object") return children;
  return Children.map(children, (c) => {
    if (typeof c === "string") return escapeControlLine(c);
    if (isValidElement(c) && c.type === Fragment) {
      const f = c as ReactElement<{ children?: ReactNode }>;
      return cloneElement(f, {}, safe(f.props.children));
    }
    return c;
  });
}

export function Seg({ theme, t, children }: { theme: Theme; t?: Tone | undefined; children: ReactNode }) {
  return <Text {...tone(theme, t)}>{safe(children)}</Text>;
}

/** One line of at most `width` columns; what does not fit is cut with an ellipsis. */
export function Line({ width, children }: { width: number; children?: ReactNode }) {
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Text wrap="truncate-end">{safe(children) ?? " "}</Text>
    </Box>
  );
}

/** `s` (control characters escaped) cut or padded to exactly `n` columns. */
export function fit(s: string, n: number): string {
  if (n <= 0) return "";
  const text = escapeControlLine(s);
  return text.length > n ? `${text.slice(0, Math.max(0, n - 1))}…` : text.padEnd(n);
}
