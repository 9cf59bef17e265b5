/**
 * The history of several refs as one list, as `git log --all --date-order`
 * lists it: every commit once, children before parents, otherwise newest
 * committer time first. Pure.
 */
export interface OrderedCommit {
  oid: string;
  parents: readonly string[];
  committer: { timestamp: number };
}

export function mergeHistories<T extends OrderedCommit>(lists: readonly (readonly T[])[]): T[] {
  const byOid = new Map<string, T>();
  for (const list of lists) for (const c of list) if (!byOid.has(c.oid)) byOid.set(c.oid, c);
  // children still to be listed, per commit
  const waiting = new Map<string, number>();
  for (const c of byOid.values()) for (const p of new Set(c.parents)) if (byOid.has(p)) waiting.set(p, (waiting.get(p) ?? 0) + 1);
  const heap = new Heap<T>((a, b) => b.committer.timestamp - a.committer.timestamp);
  for (const c of byOid.values()) if (!waiting.has(c.oid)) heap.push(c);
  const out: T[] = [];
  for (let c = heap.pop(); c; c = heap.pop()) {
    out.push(c);
    for (const p of new Set(c.parents)) {
      const n = waiting.get(p);
      if (n === undefined) continue;
      if (n > 1) waiting.set(p, n - 1);
      else {
        waiting.delete(p);
        heap.push(byOid.get(p) as T);
      }
    }
  }
  return out;
}

/** A binary heap; equal keys come out in insertion order. */
class Heap<T> {
  private items: { v: T; seq: number }[] = [];
  private seq = 0;
  constructor(private readonly cmp: (a: T, b: T) => number) {}

  push(v: T): void {
    const items = this.items;
    items.push({ v, seq: this.seq++ });
    for (let i = items.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!this.less(i, up)) break;
      [items[i], items[up]] = [items[up]!, items[i]!];
      i = up;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!top || !last) return undefined;
    if (items.length > 0) {
      items[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let best = i;
        if (l < items.length && this.less(l, best)) best = l;
        if (r < items.length && this.less(r, best)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top.v;
  }

  private less(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    const c = this.cmp(x.v, y.v);
    return c < 0 || (c === 0 && x.seq < y.seq);
  }
}
