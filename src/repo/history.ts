/**
 * The commit graph: ancestry, and a queue that walks history newest first
 * (git's order). Shared by log, branch, push, fetch and pull.
 */
import type { GitOid } from "../format/hash.js";
import type { CommitObject } from "../format/git-object.js";
import type { Repository } from "./repository.js";

/** True when `ancestor` is `descendant` or reachable from it through parents. */
export async function isAncestor(repo: Repository, ancestor: GitOid, descendant: GitOid): Promise<boolean> {
  if (ancestor === descendant) return true;
  // Newest first, so a recent ancestor is found without reading old history;
  // no cut-off by date, since clocks skew. The walk ends at the root commits.
  const seen = new Set<string>([descendant]);
  const queue = new CommitQueue();
  queue.push(await repo.git.readCommit(descendant));
  for (let c = queue.pop(); c; c = queue.pop()) {
    for (const p of c.parents) {
      if (p === ancestor) return true;
      if (seen.has(p)) continue;
      seen.add(p);
      queue.push(await repo.git.readCommit(p));
    }
  }
  return false;
}

/** A max-heap on committer time; equal times come out in insertion order, as in git. */
export class CommitQueue {
  private heap: { c: CommitObject; seq: number }[] = [];
  private seq = 0;

  push(c: CommitObject): void {
    this.heap.push({ c, seq: this.seq++ });
    for (let i = this.heap.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!this.before(i, up)) break;
      this.swap(i, up);
      i = up;
    }
  }

  /** the newest queued commit, left in the queue */
  peek(): CommitObject | undefined {
    return this.heap[0]?.c;
  }

  pop(): CommitObject | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.sink(0);
    }
    return top.c;
  }

  private sink(i: number): void {
    for (;;) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let best = i;
      if (l < this.heap.length && this.before(l, best)) best = l;
      if (r < this.heap.length && this.before(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a] as { c: CommitObject; seq: number };
    const y = this.heap[b] as { c: CommitObject; seq: number };
    const dt = x.c.committer.timestamp - y.c.committer.timestamp;
    return dt > 0 || (dt === 0 && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    [this.heap[a], this.heap[b]] = [this.heap[b] as (typeof this.heap)[number], this.heap[a] as (typeof this.heap)[number]];
  }
}

/**
 * The commits reachable from `tip` and from none of `stops` (git's
 * `tip ^stop1 ^stop2`), newest first. A stop this repository lacks (a
 * remote's commit never fetched) or that names no commit is ignored.
 */
export async function commitsSince(repo: Repository, tip: GitOid, stops: readonly GitOid[]): Promise<CommitObject[]> {
  const excluded = new Set<string>();
  const pending: GitOid[] = [];
  for (const s of stops) {
    const oid = await peelToCommit(repo, s);
    if (oid !== null) pending.push(oid);
  }
  while (pending.length > 0) {
    const oid = pending.pop() as GitOid;
    if (excluded.has(oid)) continue;
    excluded.add(oid);
    for (const p of (await repo.git.readCommit(oid)).parents) if (!excluded.has(p)) pending.push(p);
  }
  const start = await peelToCommit(repo, tip);
  if (start === null || excluded.has(start)) return [];
  const out: CommitObject[] = [];
  const seen = new Set<string>([start]);
  const queue = new CommitQueue();
  queue.push(await repo.git.readCommit(start));
  for (let c = queue.pop(); c; c = queue.pop()) {
    out.push(c);
    for (const p of c.parents) {
      if (seen.has(p) || excluded.has(p)) continue;
      seen.add(p);
      queue.push(await repo.git.readCommit(p));
    }
  }
  return out;
}

/** A commit or an annotated tag's commit; null when absent here or not a commit. */
async function peelToCommit(repo: Repository, oid: GitOid): Promise<GitOid | null> {
  let cur = oid;
  for (let depth = 0; depth < 16; depth++) {
    const type = await repo.git.typeOf(cur);
    if (type === "commit") return cur;
    if (type !== "tag") return null;
    cur = (await repo.git.readTag(cur)).object;
  }
  return null;
}
