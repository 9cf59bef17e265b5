/** The keys of each screen: the footer shows the short list, `?` the whole one. */
import type { KeyHelp } from "./Chrome.js";

export const HISTORY_KEYS: KeyHelp = [
  ["↑↓/jk", "move"],
  ["Enter", "open"],
  ["m", "mark"],
  ["/", "search"],
  ["b", "branch"],
  ["s/B/t/M", "act"],
  ["?", "help"],
  ["q", "quit"],
];

export const REVIEW_KEYS: KeyHelp = [
  ["↑↓/jk", "array"],
  ["Enter", "chunk grid"],
  ["v", "values"],
  ["i", "value map"],
  ["Esc", "back"],
  ["?", "help"],
  ["q", "quit"],
];

export const GRID_KEYS: KeyHelp = [
  ["←↑↓→/hjkl", "chunk"],
  [",.", "slice"],
  ["d", "dim"],
  ["v", "values"],
  ["i", "map"],
  ["Esc", "back"],
  ["?", "help"],
  ["q", "quit"],
];

export const MAP_KEYS: KeyHelp = [
  ["←↑↓→/hjkl", "pixel"],
  ["Tab/123s", "view"],
  [",.d", "slice"],
  ["x", "axes"],
  ["Esc", "back"],
  ["?", "help"],
  ["q", "quit"],
];

export const CONFLICT_KEYS: KeyHelp = [
  ["↑↓/jk", "move"],
  ["o/t", "ours/theirs"],
  ["O/T", "array"],
  ["c", "continue"],
  ["Esc", "back"],
  ["?", "help"],
  ["q", "quit"],
];

export const HELP: readonly { title: string; keys: KeyHelp }[] = [
  {
    title: "History",
    keys: [
      ["↑ ↓  j k", "move between commits (PgUp PgDn g G: page, first, last)"],
      ["Enter", "open the commit: the arrays it changed against its first parent"],
      ["m", "mark a commit; Enter on another compares the two"],
      ["/", "search messages, authors and ids; n N: next, previous match"],
      ["b", "choose the branch or tag shown (or all of them)"],
      ["C", "the conflicts of a merge in progress"],
      ["s", "switch to the commit's branch, or check the commit out (asks y/n)"],
      ["B  t", "create a branch / a tag at the commit (type its name)"],
      ["M", "merge the marked commit's branch into the current one (asks y/n; conflicts open their screen)"],
    ],
  },
  {
    title: "Review",
    keys: [
      ["↑ ↓  j k", "choose an array"],
      ["Enter", "its chunk grid as a heatmap"],
      ["v", "values on/off: value statistics, and max |Δ| per chunk in the heatmap"],
      ["← ↑ ↓ →  h j k l", "heatmap: move between chunks; the chunk's changed values show below"],
      [", .", "heatmap of 3 or more dimensions: move the slice along a dimension"],
      ["d", "choose the dimension , and . move along"],
      ["i", "the value map of the array (from the list or the heatmap)"],
    ],
  },
  {
    title: "Value map",
    keys: [
      ["← ↑ ↓ →  h j k l", "move the cursor by a pixel; its element's values show below"],
      ["Tab  1 2 3  s", "before, after, Δ, or the three side by side"],
      [", .  d", "move the slice along a dimension not shown; d chooses which"],
      ["x", "draw another pair of dimensions (3 or more)"],
    ],
  },
  {
    title: "Conflicts",
    keys: [
      ["↑ ↓  j k", "choose a conflict; a chunk's base, ours and theirs values show below"],
      ["o  t", "settle this conflict with ours / theirs (a chunk: only its conflicting elements)"],
      ["O  T", "settle every conflict of the array with ours / theirs"],
      ["c", "continue: commit the merge once no conflict is left"],
      ["r", "read the merge state again (after `tdv add` elsewhere)"],
    ],
  },
  {
    title: "Everywhere",
    keys: [
      ["?", "this help"],
      ["Esc", "back"],
      ["q", "quit"],
    ],
  },
];
