/**
 * History: commits reachable from a revision, newest first by committer time
 * (git log's default order), optionally only those that changed one path.
 */
import type { GitOid } from "../format/hash.js";
import type { CommitObject } from "../format/git-object.js";
import type { Repository } from "../repo/repository.js";
import { peelObject, resolveRevision } from "../repo/revision.js";
import { CommitQueue } from "../repo/history.js";

export interface LogEntry extends CommitObject {
  /** "HEAD" when HEAD points here, then short names of branches, then of tags */
  refs: string[];
}

export interface LogOptions {
  rev?: string;
  /** start from every branch, tag, remote-tracking ref, the stash and HEAD instead of `rev` (git log --all) */
  all?: boolean;
  /** at most this many entries (counted after the path filter) */
  n?: number;
  /** posix path relative to the repository root: only commits that change it */
  path?: string;
}

export async function log(repo: Repository, { rev = "HEAD", all = false, n, path }: LogOptions = {}): Promise<LogEntry[]> {
  const starts = all ? await allTips(repo) : [await resolveRevision(repo, rev)];
  const limit = n ?? Number.POSITIVE_INFINITY;
  const keep = path === undefined ? null : pathFilter(repo, path);
  const decorations = await refsByCommit(repo);
  const out: LogEntry[] = [];
  for (const { commit, parentTree } of walk(repo, starts)) {
    if (out.length >= limit) break;
    if (!keep || (await keep(commit, parentTree))) out.push(toEntry(commit, decorations.get(commit.oid) ?? []));
  }
  return out;
}

function toEntry(c: CommitObject, refs: string[]): LogEntry {
  const message = c.message.endsWith("\n") ? c.message.slice(0, -1) : c.message;
  return { oid: c.oid, tree: c.tree, parents: c.parents, author: c.author, committer: c.committer, message, refs };
}

/** The object at `path` ("a/b/c", posix) inside `tree`, or null. "" is the tree itself. */
export async function treeEntryAt(repo: Repository, tree: GitOid, path: string): Promise<GitOid | null> {
  let cur = tree;
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  for (const [i, name] of parts.entries()) {
    const entry = (await repo.git.readTree(cur)).find((e) => e.name === name);
    if (!entry) return null;
    if (i < parts.length - 1 && entry.mode !== "040000") return null;
    cur = entry.oid;
  }
  return cur;
}

// ---- the walk -------------------------------------------------------------

/**
 * The commits every ref names (git log --all): HEAD, branches, tags (peeled),
 * remote-tracking refs and the stash, each once. An unborn repository has none.
 */
async function allTips(repo: Repository): Promise<GitOid[]> {
  const tips = new Set<GitOid>();
  const head = await repo.refs.head();
  if (head.oid) tips.add(head.oid);
  const named: GitOid[] = [];
  for (const prefix of ["refs/heads/", "refs/tags/", "refs/remotes/"]) named.push(...(await repo.refs.list(prefix)).values());
  const stash = await repo.refs.read("refs/stash");
  if (stash) named.push(stash);
  for (const oid of named) {
    const peeled = await peelObject(repo, oid);
    if (peeled.type === "commit") tips.add(peeled.oid);
  }
  return [...tips];
}

/** Each commit reachable from `starts` once, newest committer time first, with its first parent's tree. */
function* walk(repo: Repository, starts: readonly GitOid[]): Generator<{ commit: CommitObject; parentTree: GitOid | null }> {
  const trees = new Map<string, GitOid>();
  const queue = new CommitQueue();
  for (const start of starts) {
    if (trees.has(start)) continue;
    const first = repo.git.readCommitSync(start);
    trees.set(first.oid, first.tree);
    queue.push(first);
  }
  for (let c = queue.pop(); c; c = queue.pop()) {
    for (const p of c.parents) {
      if (trees.has(p)) continue;
      const parent = repo.git.readCommitSync(p);
      trees.set(p, parent.tree);
      queue.push(parent);
    }
    const p0 = c.parents[0];
    yield { commit: c, parentTree: p0 === undefined ? null : (trees.get(p0) ?? null) };
  }
}

// ---- path filter and decorations --------------------------------------------

/** Keeps a commit when the object at `path` differs from its first parent's (or exists, at a root). */
function pathFilter(repo: Repository, path: string): (c: CommitObject, parentTree: GitOid | null) => Promise<boolean> {
  const byTree = new Map<string, Promise<GitOid | null>>();
  const at = (tree: GitOid) => {
    let hit = byTree.get(tree);
    if (!hit) {
      hit = treeEntryAt(repo, tree, path);
      byTree.set(tree, hit);
    }
    return hit;
  };
  return async (c, parentTree) => {
    const mine = await at(c.tree);
    return parentTree === null ? mine !== null : mine !== (await at(parentTree));
  };
}

async function refsByCommit(repo: Repository): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const add = (oid: GitOid, name: string) => out.set(oid, [...(out.get(oid) ?? []), name]);
  const head = await repo.refs.head();
  if (head.oid) add(head.oid, "HEAD");
  for (const [ref, oid] of await repo.refs.list("refs/heads/")) add(oid, ref.slice("refs/heads/".length));
  for (const [ref, oid] of await repo.refs.list("refs/tags/")) {
    const peeled = await peelObject(repo, oid);
    if (peeled.type === "commit") add(peeled.oid, ref.slice("refs/tags/".length));
  }
  return out;
}
