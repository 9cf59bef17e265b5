/**
 * The history graph `tdv log --graph` draws, as git draws it: one lane per
 * line of history, `*` for a commit, `|` for a lane passing by, `\` where a
 * merge commit's second parent branches off, `/` where lanes join again.
 *
 *   *   Merge branch 'feature'
 *   |\
 *   | * theirs
 *   * | ours
 *   |/
 *   * import
 *
 * Pure: commits in, rows out (newest first, children before parents).
 */

export interface GraphCommit {
  oid: string;
  parents: readonly string[];
}

export type GraphRow =
  /** the row of commit `index` (into the input), and the prefix for its further lines */
  | { kind: "commit"; index: number; graph: string; continuation: string }
  /** a row of edges only (branching off, joining) */
  | { kind: "edge"; graph: string };

const lanesRow = (n: number, mark?: number): string =>
  Array.from({ length: n }, (_, i) => (i === mark ? "*" : "|")).join(" ");

export function historyGraph(commits: readonly GraphCommit[]): GraphRow[] {
  const rows: GraphRow[] = [];
  let lanes: string[] = [];
  commits.forEach((c, index) => {
    // lanes waiting for this commit: the first is its lane, the others join it
    let at = lanes.indexOf(c.oid);
    if (at < 0) {
      lanes.push(c.oid);
      at = lanes.length - 1;
    }
    for (let j = lanes.lastIndexOf(c.oid); j > at; j = lanes.lastIndexOf(c.oid)) {
      rows.push({ kind: "edge", graph: joinRow(lanes.length, j) });
      lanes.splice(j, 1);
    }
    const parents = c.parents;
    const after = [...lanes.slice(0, at), ...parents.slice(0, 1), ...parents.slice(1), ...lanes.slice(at + 1)];
    const extra = Math.max(0, parents.length - 1);
    rows.push({ kind: "commit", index, graph: lanesRow(lanes.length, at), continuation: lanesRow(Math.max(after.length, 1)) });
    if (extra > 0) rows.push({ kind: "edge", graph: branchRow(lanes.length, at, extra) });
    else if (parents.length === 0 && at < lanes.length - 1) rows.push({ kind: "edge", graph: shiftRow(lanes.length, at) });
    lanes = after;
  });
  return rows.map((r) => ({ ...r, graph: r.graph.trimEnd() }));
}

/** Lane `j` joins the lane to its left; lanes right of it move left: `| |/ /`. */
function joinRow(n: number, j: number): string {
  const chars = Array(2 * n).fill(" ");
  for (let i = 0; i < n; i++) {
    if (i < j) chars[2 * i] = "|";
    else chars[2 * i - 1] = "/";
  }
  return chars.join("");
}

/** A merge at lane `at` opens `extra` lanes to its right; lanes further right move right: `|\ \`. */
function branchRow(n: number, at: number, extra: number): string {
  const chars = Array(2 * (n + extra) + 1).fill(" ");
  for (let i = 0; i <= at; i++) chars[2 * i] = "|";
  for (let k = 1; k <= extra; k++) chars[2 * (at + k) - 1] = "\\";
  for (let i = at + 1; i < n; i++) chars[2 * (i + extra) - 1] = "\\";
  return chars.join("");
}

/** A root commit ends lane `at`; lanes right of it move left. */
function shiftRow(n: number, at: number): string {
  const chars = Array(2 * n).fill(" ");
  for (let i = 0; i < at; i++) chars[2 * i] = "|";
  for (let i = at + 1; i < n; i++) chars[2 * i - 1] = "/";
  return chars.join("");
}
