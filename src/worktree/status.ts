/**
 * Status: what differs between HEAD, the index and the working tree.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { GitOid } from "../format/hash.js";
import { disagreementWarning, listedUntracked } from "../repo/consolidated-check.js";
import { diffFileMaps, groupChanges, type Change, type GroupedChanges } from "../repo/changes.js";
import { classifyWith, plainFolderWarning } from "../repo/hierarchy.js";
import type { Repository } from "../repo/repository.js";
import { mergeStatus, type MergeStatus } from "../repo/merge/state.js";
import { rebaseStatus, type RebaseStatus } from "../repo/rebase-state.js";
import { headTree, readSnapshot, storedHierarchy, type SnapEntry } from "../repo/snapshot.js";
import { diffTrees } from "../repo/tree-diff.js";
import type { BadName } from "./scan.js";
import type { IndexEntry } from "../store/index-file.js";
import { classifyAll, compareWorktree, workHierarchy } from "./work-state.js";
import { isUnder } from "../format/paths.js";
import { outsideGridWarnings } from "../repo/grid-warnings.js";
export interface StatusResult {
  branch: string | null;
  head: GitOid | null;
  /** changes staged for the next commit (index vs HEAD) */
  staged: Change[];
  /** changes in the working tree not staged (working tree vs index) */
  unstaged: Change[];
  untracked: Change[];
  grouped: { staged: GroupedChanges; unstaged: GroupedChanges; untracked: GroupedChanges };
  warnings: string[];
  /** files and folders whose names are not UTF-8: tdv cannot track them until they are renamed */
  badNames: BadName[];
  /** nothing staged, changed, untracked or badly named */
  clean: boolean;
  /** files read and hashed to decide (0 when the stat cache answered everything) */
  hashed: number;
  /** a merge stopped on conflicts (`tdv merge`): what is merged and each conflict */
  merge?: MergeStatus;
  /** a rebase in progress (`tdv rebase`): where it stands; a step stopped on conflicts has `merge` too */
  rebase?: RebaseStatus;
}

/**
 * The working copy against the index and HEAD: staged, unstaged and untracked
 * changes, with warnings, the merge in progress and whether all is clean.
 * Refreshes the index's stat cache opportunistically, as git's status does.
 */
export async function workingCopyStatus(repo: Repository, { paths }: { paths?: readonly string[] } = {}): Promise<StatusResult> {
  const head = await repo.refs.head();
  const index = await repo.readIndex();
  const tree = await headTree(repo, head.oid);
  const ws = await compareWorktree(repo, index, { under: paths });
  if (ws.refreshed.size > 0) {
    for (const [p, e] of ws.refreshed) index.entries.set(p, e);
    await repo.writeIndex(index).catch(() => {}); // opportunistic, like git's refresh
  }

  let staged: Change[] = [];
  if (index.tree && index.tree !== tree) {
    // the index names its snapshot (`add` writes it): compare the two trees, reading only what differs
    staged = await stagedFromTrees(repo, tree, index.tree, index.entries);
  } else if (!index.tree) {
    const snap = await readSnapshot(repo, tree);
    const ih = storedHierarchy(repo, index.entries, false);
    staged = await diffFileMaps(snap.files, index.entries, (rel, side) => (side === "before" ? classifyWith(snap.arrays, rel) : ih.classify(rel)));
  }
  if (paths) staged = staged.filter((c) => paths.some((p) => isUnder(c.path, p)));

  const h = workHierarchy(repo, index, false, paths ? undefined : ws.scan);
  const changedPaths = [...ws.modified.keys(), ...ws.deleted, ...ws.untracked];
  const kinds = await classifyAll(h, changedPaths);
  const warnings = ws.scan.skipped.map((s) => `${s.path}: ${s.reason}`);
  // only files on disk now: a deleted file is no longer outside anything
  const outside: { path: string; array: string | null }[] = [];
  const change = (path: string, c: Change["change"]): Change => {
    const k = kinds.get(path)!;
    if (k.kind === "chunk" && !k.inGrid && c !== "deleted") outside.push({ path, array: k.array });
    const bytes = c === "deleted" ? 0 : (ws.modified.get(path)?.size ?? ws.scan.files.get(path)?.size ?? 0);
    const oldBytes = c === "added" ? 0 : (index.entries.get(path)?.size ?? 0);
    return { path, change: c, kind: k.kind, array: k.array, bytes, oldBytes };
  };
  const unstaged = [
    ...[...ws.modified.keys()].map((p) => change(p, "modified")),
    ...ws.deleted.map((p) => change(p, "deleted")),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  const untracked = ws.untracked.map((p) => change(p, "added"));
  warnings.push(...outsideGridWarnings(outside));
  for (const p of h.problems) warnings.push(plainFolderWarning(p));
  // a tracked .zmetadata naming arrays not tracked (zarr-python consolidated an array the user has not added)
  const exists = (rel: string) => ws.scan.files.has(rel) && index.entries.has(rel);
  const readWork = (rel: string) => fsp.readFile(path.join(repo.root, ...rel.split("/"))).catch(() => null);
  for (const d of await listedUntracked(ws.untracked, exists, readWork)) warnings.push(disagreementWarning(d, "the tracked files"));

  const merge = await mergeStatus(repo, index.entries, head.oid);
  const rebase = await rebaseStatus(repo);
  return {
    ...(merge ? { merge } : {}),
    ...(rebase ? { rebase } : {}),
    branch: head.branch,
    head: head.oid,
    staged,
    unstaged,
    untracked,
    grouped: { staged: groupChanges(staged), unstaged: groupChanges(unstaged), untracked: groupChanges(untracked) },
    warnings,
    badNames: ws.scan.badNames,
    clean: staged.length === 0 && unstaged.length === 0 && untracked.length === 0 && ws.scan.badNames.length === 0,
    hashed: ws.hashed,
  };
}

/**
 * Changes from HEAD's tree to the index's, said as a comparison of the two
 * file lists says them: a path both sides have is modified (classified as it
 * is now) or, with the same bytes, not a change, even where its array changed
 * identity and the trees list it once as a chunk and once as a plain file.
 */
async function stagedFromTrees(repo: Repository, head: GitOid | null, indexTree: GitOid, entries: ReadonlyMap<string, IndexEntry>): Promise<Change[]> {
  const before = new Map<string, SnapEntry>();
  const after = new Map<string, SnapEntry>();
  const out: Change[] = [];
  const seen = new Map<string, number>();
  for (const c of await diffTrees(repo, head, indexTree, after, before)) {
    const at = seen.get(c.path);
    if (at === undefined) {
      seen.set(c.path, out.push(c) - 1);
      continue;
    }
    // the same path deleted under one classification and added under another
    const added = c.change === "added" ? c : (out[at] as Change);
    const deleted = c.change === "added" ? (out[at] as Change) : c;
    out[at] = { ...added, change: "modified", oldBytes: deleted.oldBytes };
    if (before.get(c.path)?.id === after.get(c.path)?.id) seen.set(c.path, -1);
  }
  return out
    .filter((c, i) => seen.get(c.path) === i)
    .map((c) => {
      const e = c.change === "deleted" ? undefined : entries.get(c.path);
      return e && c.bytes < 0 ? { ...c, bytes: e.size } : c; // Git trees do not record blob sizes; the index does
    });
}

/** Paths with staged or unstaged changes to tracked files (not untracked ones), sorted: what revert, merge and stash refuse to overwrite. */
export async function uncommittedPaths(repo: Repository): Promise<string[]> {
  const st = await workingCopyStatus(repo);
  return [...new Set([...st.staged, ...st.unstaged].map((c) => c.path))].sort();
}
