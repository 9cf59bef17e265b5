/**
 * Colours, and how they degrade: with NO_COLOR (or no colour support) every
 * tone is plain text, and what colour would say is said by characters too
 * (the cursor is `>` or `[ ]`, heatmap cells are `.`, `+`, `-`, `*`, `1`..`4`).
 */
import type { TextProps } from "ink";
import type { Depth } from "../data/pixels.js";

export interface Theme {
  color: boolean;
  /** the value map's colours: 24-bit, 256, or none (a glyph ramp); absent: 256 when color is on */
  depth?: Depth;
}

export type Tone =
  | "title"
  | "dim"
  | "cursor"
  | "oid"
  | "head"
  | "branch"
  | "tag"
  | "added"
  | "removed"
  | "modified"
  | "renamed"
  | "unchanged"
  | "heat1"
  | "heat2"
  | "heat3"
  | "heat4"
  | "same"
  | "pending"
  | "error"
  | "warn"
  | "ok"
  | "conflict"
  | "key";

const TONES: Record<Tone, TextProps> = {
  title: { bold: true, color: "cyan" },
  dim: { color: "gray" },
  cursor: { bold: true, color: "cyan" },
  oid: { color: "yellow" },
  head: { bold: true, color: "cyan" },
  branch: { bold: true, color: "green" },
  tag: { bold: true, color: "yellow" },
  added: { color: "green" },
  removed: { color: "red" },
  modified: { color: "yellow" },
  renamed: { color: "blue" },
  unchanged: { color: "gray" },
  heat1: { color: "blue", bold: true },
  heat2: { color: "cyan", bold: true },
  heat3: { color: "yellow", bold: true },
  heat4: { color: "red", bold: true },
  same: { color: "gray" },
  pending: { color: "white" },
  error: { color: "red", bold: true },
  warn: { color: "yellow" },
  ok: { color: "green" },
  conflict: { color: "red", bold: true },
  key: { bold: true, color: "cyan" },
};

/** Text props for a tone: nothing at all without colour. */
export function tone(theme: Theme, t: Tone | undefined): TextProps {
  return theme.color && t ? TONES[t] : {};
}

/** Colour is on unless NO_COLOR is set to anything but "" (no-color.org) or TERM is "dumb". */
export function colorFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}
