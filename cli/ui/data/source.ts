/**
 * Everything the terminal UI reads or does, through the library: history of
 * refs, per-commit summaries, diffs, one chunk's values, the stopped merge and
 * its resolution. Views never call the library; they get data from here,
 * through the data hooks, so tests can also hand the app a fake source.
 */
import * as lib from "../../../src/index.js";
import type { ArrayDiff, ChunkBothChanged, DiffResult, MergeStatus, ReadSession, Repository, ResolveResult, Side, ValueDiff, GraphRow } from "../../../src/index.js";
import type { HistoryDeed } from "../state/actions.js";
import { mergeHistories } from "./order.js";
import { diffSummaryLine, groupedSummaryLine } from "./summary.js";
import type { SliceValues } from "./pixels.js";
import { readSide, sliceSize, type SliceSpec } from "./slice.js";
import { compareChunk, formatValue, threeWay, type ChunkComparison, type ThreeWayComparison } from "./values.js";

/** A 2-D slice of an array on both sides of a review, for the value map. */
export interface SliceData extends SliceValues {
  /** the `units` attribute (after, else before), or null */
  units: string | null;
  /** chunks decoded, both sides */
  chunks: number;
}

export interface HistoryEntry {
  oid: string;
  parents: string[];
  author: { name: string; email: string; timestamp: number; tzOffset: number };
  committer: { timestamp: number };
  message: string;
  /** decorations: "HEAD", branch names, tag names */
  refs: string[];
}

export interface HistoryData {
  entries: HistoryEntry[];
  rows: GraphRow[];
  /** false when older commits were left out (ask again with a larger limit) */
  complete: boolean;
  branches: string[];
  tags: string[];
  current: string | null;
}

export interface MergeView extends MergeStatus {
  branch: string | null;
}

export interface UiSource {
  /** the working copy's folder, for the header */
  root: string;
  /** the commit a revision names */
  resolve(rev: string): Promise<string>;
  /** the history of `rev` (null: every branch and tag), the newest `limit` commits of each */
  history(opts: { rev: string | null; limit: number }): Promise<HistoryData>;
  /** a one-line summary of what a commit changed (against its first parent) */
  summary(entry: Pick<HistoryEntry, "oid" | "parents">): Promise<string>;
  /** the arrays changed between two commits (from null: the empty snapshot), without values */
  diff(from: string | null, to: string): Promise<DiffResult>;
  /** value statistics of one array's changed chunks (decodes them all: on request only) */
  arrayValues(from: string | null, to: string, a: ArrayDiff): Promise<{ values: ValueDiff | null; note: string | null }>;
  /** one chunk decoded on both sides and compared */
  chunk(from: string | null, to: string, a: ArrayDiff, index: readonly number[]): Promise<ChunkComparison>;
  /** a 2-D slice of one array on both sides (reads only the chunks it crosses); `progress` counts chunks read of those to read */
  slice(from: string | null, to: string, a: ArrayDiff, spec: SliceSpec, progress?: (done: number, total: number) => void): Promise<SliceData>;
  /** per dimension of array `a` on side `commit`, a label for each index from its 1-D coordinate array (CF time as dates), or null */
  coordinates(commit: string, a: ArrayDiff): Promise<(string[] | null)[]>;
  /** do what the history asked and the user confirmed, through the commands' own functions; a line to show, and whether a merge stopped on conflicts */
  act(deed: HistoryDeed): Promise<{ note: string; conflicts: boolean; select: string | null }>;
  /** whether a merge stopped on conflicts (cheap: reads the merge state file) */
  merging(): Promise<boolean>;
  /** the merge in progress, or null */
  merge(): Promise<MergeView | null>;
  /** a conflicted chunk decoded at base, ours and theirs */
  conflictChunk(m: MergeView, c: ChunkBothChanged): Promise<ThreeWayComparison>;
  resolveConflict(opts: { path: string; chunk?: number[]; side: Side; discardOtherEdits?: boolean }): Promise<ResolveResult>;
  continueMerge(): Promise<{ oid: string }>;
}

/** A queue that runs at most `n` tasks at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * The UI's source over a repository. `remote`: a remote's stores read in
 * place (remoteRepository), named so in the header; it has no working copy,
 * so no merge in progress: the working-copy verbs (status, resolve, merge
 * --continue), which need a local repository's stores, are never called.
 */
export function repoSource(repo: Repository, opts: { remote?: string } = {}): UiSource {
  const remote = opts.remote ?? null;
  const sessions = new Map<string, Promise<ReadSession>>();
  /** the read-only session of one commit, opened once */
  const session = (commit: string): Promise<ReadSession> => {
    let hit = sessions.get(commit);
    if (!hit) {
      hit = lib.openSession(repo, commit);
      hit.catch(() => sessions.delete(commit));
      sessions.set(commit, hit);
    }
    return hit;
  };
  /** the array at `path` in `commit`, or null when the commit has none there */
  const arrayAt = async (commit: string, path: string) => (await session(commit)).array(path);
  /** an attribute of the array at `path` in `commit` when it is a string (zarr.json's attributes, or .zattrs) */
  const attribute = async (commit: string, path: string, key: string, present: boolean): Promise<string | null> => {
    if (!present) return null;
    const v = (await attributes(commit, path))[key];
    return typeof v === "string" ? v : null;
  };
  /** the attributes of the node at `path` in `commit` (zarr.json's, or .zattrs), {} when none */
  const attributes = async (commit: string, path: string): Promise<Record<string, unknown>> => {
    const at = await session(commit);
    const prefix = path === "" ? "" : `/${path}`;
    for (const [doc, pick] of [
      ["zarr.json", (j: Record<string, unknown>) => j.attributes],
      [".zattrs", (j: Record<string, unknown>) => j],
    ] as const) {
      const bytes = await at.get(`${prefix}/${doc}`);
      if (!bytes) continue;
      try {
        const attrs = pick(JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>);
        return attrs && typeof attrs === "object" && !Array.isArray(attrs) ? (attrs as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    }
    return {};
  };
  const coordCache = new Map<string, Promise<string[] | null>>();
  /** labels of the 1-D coordinate array `name` beside the array at `path` (the same group), when it has `n` elements */
  const coordinate = (commit: string, path: string, name: string, n: number): Promise<string[] | null> => {
    const parent = path.split("/").slice(0, -1).join("/");
    const where = parent === "" ? name : `${parent}/${name}`;
    const k = `${commit}|${where}|${n}`;
    let hit = coordCache.get(k);
    if (!hit) {
      hit = (async () => {
        if (where === path || n > 1_000_000) return null;
        const arr = await arrayAt(commit, where).catch(() => null);
        if (arr?.meta.shape.length !== 1 || arr.meta.shape[0] !== n) return null;
        const time = lib.cfTime(await attributes(commit, where));
        const chunk = arr.meta.chunkShape[0] as number;
        const out: string[] = new Array<string>(n).fill("");
        await Promise.all(
          Array.from({ length: Math.ceil(n / chunk) }, (_, c) =>
            decode(async () => {
              const d = await arr.chunk([c]);
              if (!d) return;
              for (let i = c * chunk; i < Math.min(n, (c + 1) * chunk); i++) {
                const raw = lib.elementAt(d.data, (i - (d.origin[0] as number)) * (d.stride[0] as number));
                const v = typeof raw === "bigint" ? Number(raw) : raw;
                const ms = typeof v === "number" && time && Number.isFinite(v) ? time(v) : Number.NaN;
                out[i] = Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? lib.isoDate(ms) : formatValue(v, 12);
              }
            }),
          ),
        );
        return out;
      })().catch(() => null);
      coordCache.set(k, hit);
    }
    return hit;
  };
  /**
   * `log` of a tip. A remote's commits are read asynchronously and log walks
   * synchronously: read the commits it will walk first (the `limit` nearest
   * the tip), and any it then finds unread, as its error names them.
   */
  const logOf = async (tip: string, limit: number): Promise<lib.LogEntry[]> => {
    if (remote === null) return lib.log(repo, { rev: tip, n: limit });
    const seen = new Set<string>();
    const read = async (start: string) => {
      let layer = [start];
      while (layer.length > 0 && seen.size < 2 * limit + 1) {
        const next: string[] = [];
        const fresh = [...new Set(layer)].filter((o) => !seen.has(o));
        for (const o of fresh) seen.add(o);
        for (const c of await Promise.all(fresh.map(async (o) => (await session(o)).info))) next.push(...c.parents);
        layer = next;
      }
    };
    await read(tip);
    for (let tries = 0; ; tries++) {
      try {
        return await lib.log(repo, { rev: tip, n: limit });
      } catch (err) {
        const unread = err instanceof Error ? /commit ([0-9a-f]{40}) .*was not read yet/.exec(err.message)?.[1] : undefined;
        if (!unread || tries > limit) throw err;
        await read(unread);
      }
    }
  };
  const summaries = new Map<string, Promise<string>>();
  const diffs = new Map<string, Promise<DiffResult>>();
  const background = limiter(2);
  const decode = limiter(2);

  const diff = (from: string | null, to: string): Promise<DiffResult> => {
    const k = `${from}..${to}`;
    let hit = diffs.get(k);
    if (!hit) {
      hit = lib.diff(repo, { from, to });
      hit.catch(() => diffs.delete(k));
      diffs.set(k, hit);
    }
    return hit;
  };

  return {
    root: remote ?? repo.root,

    resolve: (rev) => lib.resolveRevision(repo, rev),

    async history({ rev, limit }) {
      const [branches, tags, current, head] = await Promise.all([lib.listBranches(repo), lib.listTags(repo), lib.currentBranch(repo), lib.headCommit(repo)]);
      const starts = new Set<string>();
      if (rev !== null) starts.add(await lib.resolveRevision(repo, rev));
      else {
        if (head) starts.add(head);
        for (const b of branches) starts.add(b.oid);
        for (const t of tags) starts.add(t.oid);
      }
      // newest tip first; a tip already met in an earlier tip's history adds nothing newer than the cut below
      const tips = await Promise.all([...starts].map(async (oid) => ({ oid, time: (await session(oid)).info.committer.timestamp })));
      tips.sort((a, b) => b.time - a.time);
      const seen = new Set<string>();
      const lists: lib.LogEntry[][] = [];
      for (const tip of tips) {
        if (seen.has(tip.oid)) continue;
        const list = await logOf(tip.oid, limit);
        for (const e of list) seen.add(e.oid);
        lists.push(list);
      }
      // a list cut at `limit` is complete only down to its oldest commit: show nothing older than that
      let cutoff = Number.NEGATIVE_INFINITY;
      for (const l of lists) if (l.length >= limit) cutoff = Math.max(cutoff, l[l.length - 1]!.committer.timestamp);
      const merged = mergeHistories(lists).filter((e) => e.committer.timestamp >= cutoff);
      const entries: HistoryEntry[] = merged.map((e) => ({
        oid: e.oid,
        parents: e.parents,
        author: e.author,
        committer: { timestamp: e.committer.timestamp },
        message: e.message,
        refs: e.refs,
      }));
      return {
        entries,
        rows: lib.historyGraph(entries),
        complete: cutoff === Number.NEGATIVE_INFINITY,
        branches: branches.map((b) => b.name),
        tags: tags.map((t) => t.name),
        current,
      };
    },

    summary(entry) {
      let hit = summaries.get(entry.oid);
      if (!hit) {
        const parent = entry.parents[0];
        hit = background(async () =>
          parent === undefined ? groupedSummaryLine((await lib.show(repo, { rev: entry.oid })).changes) : diffSummaryLine((await diff(parent, entry.oid)).summary),
        );
        hit.catch(() => summaries.delete(entry.oid));
        summaries.set(entry.oid, hit);
      }
      return hit;
    },

    diff,

    async arrayValues(from, to, a) {
      if (from === null) return { values: null, note: "a new array: nothing to compare with" };
      const r = await lib.diff(repo, { from, to, paths: [a.path], values: true });
      const got = r.arrays.find((x) => x.path === a.path);
      return { values: got?.values ?? null, note: got?.valuesNote ?? null };
    },

    chunk(from, to, a, index) {
      return decode(async () => {
        const [before, after] = await Promise.all([
          from === null || a.before === null ? null : arrayAt(from, a.oldPath ?? a.path),
          a.after === null ? null : arrayAt(to, a.path),
        ]);
        const [cb, ca] = await Promise.all([before ? before.chunk(index) : null, after ? after.chunk(index) : null]);
        const chunkShape = (after ?? before)?.meta.chunkShape ?? [];
        return compareChunk(index, chunkShape, { chunk: cb, shape: before?.meta.shape ?? [] }, { chunk: ca, shape: after?.meta.shape ?? [] });
      });
    },

    async slice(from, to, a, spec, progress) {
      const [before, after] = await Promise.all([
        from === null || a.before === null ? null : arrayAt(from, a.oldPath ?? a.path),
        a.after === null ? null : arrayAt(to, a.path),
      ]);
      const sides = [before, after].filter((x): x is NonNullable<typeof x> => x !== null);
      const ext = sides.map((x) => sliceSize(x.meta.shape, spec));
      const rows = Math.max(1, ...ext.map((e) => e.rows));
      const cols = Math.max(1, ...ext.map((e) => e.cols));
      const count = (x: lib.ArrayAt) => {
        const per = (d: number) => (d < 0 ? 1 : Math.ceil((x.meta.shape[d] as number) / (x.meta.chunkShape[d] as number)));
        return per(spec.rowDim) * per(spec.colDim);
      };
      const total = sides.reduce((n, x) => n + count(x), 0);
      let done = 0;
      const tick = () => progress?.(++done, total);
      const [b, c] = await Promise.all([before ? readSide(before, spec, rows, cols, decode, tick) : null, after ? readSide(after, spec, rows, cols, decode, tick) : null]);
      const units = (await attribute(to, a.path, "units", a.after !== null)) ?? (from !== null && a.before !== null ? await attribute(from, a.oldPath ?? a.path, "units", true) : null);
      return { rows, cols, before: b?.values ?? null, after: c?.values ?? null, hasBefore: b?.has ?? null, hasAfter: c?.has ?? null, units, chunks: done };
    },

    async coordinates(commit, a) {
      const side = a.after ?? a.before;
      if (!side?.dimensionNames) return side ? side.shape.map(() => null) : [];
      return Promise.all(side.dimensionNames.map((name, d) => (name ? coordinate(commit, a.path, name, side.shape[d] as number) : null)));
    },

    async act(deed) {
      if (remote !== null) throw new Error("a remote is read only here: fetch it (`tdv fetch`) to act on its commits");
      switch (deed.what) {
        case "switch": {
          await lib.switchBranch(repo, { name: deed.branch });
          return { note: `switched to branch '${deed.branch}'`, conflicts: false, select: await lib.resolveRevision(repo, deed.branch) };
        }
        case "checkout": {
          await lib.checkout(repo, { rev: deed.rev });
          return { note: `checked out ${deed.rev.slice(0, 7)} (HEAD detached)`, conflicts: false, select: deed.rev };
        }
        case "branch": {
          await lib.createBranch(repo, { name: deed.name, start: deed.at });
          return { note: `branch '${deed.name}' created at ${deed.at.slice(0, 7)}`, conflicts: false, select: deed.at };
        }
        case "tag": {
          await lib.createTag(repo, { name: deed.name, rev: deed.at });
          return { note: `tag '${deed.name}' created at ${deed.at.slice(0, 7)}`, conflicts: false, select: deed.at };
        }
        case "merge": {
          const r = await lib.merge(repo, { rev: deed.rev, trailers: { "Tdv-Command": "tdv ui" } });
          const head = await lib.headCommit(repo);
          if (r.kind === "conflicts") return { note: `merge of ${deed.rev} stopped on ${r.conflicts.length} conflict${r.conflicts.length === 1 ? "" : "s"}`, conflicts: true, select: head };
          const what = r.kind === "up-to-date" ? "already up to date" : r.kind === "fast-forward" ? "fast-forward" : "merged";
          return { note: `merge of ${deed.rev} into '${deed.into}': ${what}`, conflicts: false, select: head };
        }
      }
    },

    merging: async () => remote === null && (await lib.readMergeState(repo)) !== null,

    async merge() {
      if (remote !== null) return null; // a remote has no working copy, so no merge in progress
      const st = await lib.status(repo);
      return st.merge ? { ...st.merge, branch: st.branch === null ? null : st.branch.replace(/^refs\/heads\//, "") } : null;
    },

    conflictChunk(m, c) {
      return decode(async () => {
        const sides = await Promise.all(
          (["base", "ours", "theirs"] as const).map(async (s) => {
            const commit = s === "base" ? m.base : s === "ours" ? m.origHead : m.theirs;
            const at = commit ? await session(commit) : null;
            const arr = at ? await at.array(c.array) : null;
            if (!at || !arr) return { chunk: null, shape: [] as number[], chunkShape: null };
            const e = c.entries[s];
            const bytes = e === null ? null : await at.object(e, c.path);
            return { chunk: await arr.decode(c.chunk, bytes), shape: arr.meta.shape, chunkShape: arr.meta.chunkShape };
          }),
        );
        const chunkShape = sides.find((x) => x.chunkShape)?.chunkShape ?? [];
        return threeWay(c.chunk, chunkShape, sides[0]!, sides[1]!, sides[2]!);
      });
    },

    resolveConflict: (opts) => lib.resolveConflicts(repo, opts),

    async continueMerge() {
      // a rebase stopped on conflicts goes on to its next commit (and may stop again there)
      if (await lib.readRebaseState(repo).catch(() => null)) return { oid: (await lib.rebaseContinue(repo)).head };
      const r = await lib.mergeContinue(repo, { trailers: { "Tdv-Command": "tdv ui" } });
      return { oid: r.oid };
    },
  };
}
