/** The header (what is shown) and the footer (the keys of the screen). */
import { Box, Text } from "ink";
import { safe, Seg } from "./Text.js";
import type { Theme } from "./theme.js";

export function Header({ title, right, theme, width }: { title: string; right: string; theme: Theme; width: number }) {
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Box flexGrow={1} flexShrink={1}>
        <Text wrap="truncate-end">
          <Seg theme={theme} t="title">
            tdv ui
          </Seg>{" "}
          {safe(title)}
        </Text>
      </Box>
      <Box flexShrink={0} marginLeft={1}>
        <Text wrap="truncate-end">{safe(right)}</Text>
      </Box>
    </Box>
  );
}

export type KeyHelp = readonly (readonly [string, string])[];

export function Footer({ keys, theme, width }: { keys: KeyHelp; theme: Theme; width: number }) {
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Text wrap="truncate-end">
        {keys.map(([k, what], i) => (
          <Text key={k}>
            {i > 0 ? "  " : ""}
            <Seg theme={theme} t="key">
              {k}
            </Seg>{" "}
            {safe(what)}
          </Text>
        ))}
      </Text>
    </Box>
  );
}
