/**
 * Acting from the history: switch to a commit's branch (or check the commit
 * out), create a branch or a tag at it, merge a marked commit's branch into
 * the current one. Each is asked first on the status line: a yes/no for a
 * switch or a merge, a name for a branch or a tag. Pure: what to ask, and
 * how keys change the question; the library does the rest with its own
 * safety (a switch refuses to lose uncommitted work, a merge stops on
 * conflicts).
 */
import type { HistoryEntry } from "../data/source.js";

export type HistoryDeed =
  | { what: "switch"; branch: string }
  | { what: "checkout"; rev: string }
  | { what: "merge"; rev: string; into: string }
  | { what: "branch"; at: string; name: string }
  | { what: "tag"; at: string; name: string };

/** A question on the status line: yes/no for a deed, or a name being typed. */
export type Pending = { kind: "confirm"; deed: HistoryDeed; text: string } | { kind: "name"; what: "branch" | "tag"; at: string; name: string };

function branchesOf(e: HistoryEntry): string[] {
  return e.refs.filter((r) => r !== "HEAD" && !r.startsWith("tag: ") && !r.includes("/"));
}

/** `s`: switch to the selected commit's branch, else check the commit out (detached). */
export function planSwitch(e: HistoryEntry, current: string | null): Pending | { note: string } {
  const branch = branchesOf(e).find((b) => b !== current);
  if (branch) return { kind: "confirm", deed: { what: "switch", branch }, text: `switch to branch '${branch}'? y/n` };
  if (current !== null && branchesOf(e).includes(current)) return { note: `already on '${current}'` };
  const short = e.oid.slice(0, 7);
  return { kind: "confirm", deed: { what: "checkout", rev: e.oid }, text: `check out ${short} (detached: no branch moves)? y/n` };
}

/** `M`: merge the marked commit (its branch when it has one) into the current branch. */
export function planMerge(marked: HistoryEntry | null, current: string | null): Pending | { note: string } {
  if (!marked) return { note: "mark the commit or branch to merge first (m), then M merges it into the current branch" };
  if (current === null) return { note: "HEAD is detached: switch to the branch to merge into first (s)" };
  const branch = branchesOf(marked).find((b) => b !== current);
  const rev = branch ?? marked.oid;
  return { kind: "confirm", deed: { what: "merge", rev, into: current }, text: `merge ${branch ? `'${branch}'` : marked.oid.slice(0, 7)} into '${current}'? y/n` };
}

/** `B` / `t`: a branch or a tag at the selected commit, its name typed. */
export function planRef(what: "branch" | "tag", e: HistoryEntry): Pending {
  return { kind: "name", what, at: e.oid, name: "" };
}

/** The question's text on the status line. */
export function pendingText(p: Pending): string {
  return p.kind === "confirm" ? p.text : `new ${p.what} at ${p.at.slice(0, 7)}: ${p.name}_  (Enter creates, Esc cancels)`;
}

/** A key typed while a question is asked: the question after it, and the deed to do (confirmed) or null. */
export function answer(p: Pending, key: { input: string; enter: boolean; escape: boolean; backspace: boolean }): { pending: Pending | null; deed: HistoryDeed | null } {
  if (p.kind === "confirm") {
    if (key.input === "y" || key.input === "Y" || key.enter) return { pending: null, deed: p.deed };
    return { pending: null, deed: null }; // any other key: no
  }
  if (key.escape) return { pending: null, deed: null };
  if (key.enter) return p.name === "" ? { pending: p, deed: null } : { pending: null, deed: { what: p.what, at: p.at, name: p.name } };
  if (key.backspace) return { pending: { ...p, name: p.name.slice(0, -1) }, deed: null };
  if (key.input.length === 1 && key.input >= " " && key.input !== "\x7f") return { pending: { ...p, name: p.name + key.input }, deed: null };
  return { pending: p, deed: null };
}
