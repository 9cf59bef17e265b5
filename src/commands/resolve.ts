/**
 * `tdv resolve PATH [--chunk I,J] --ours|--theirs`: settle the open conflicts
 * of a stopped merge for one array (or node, file, folder) or one chunk, with
 * one side; and the merge part of `tdv status`.
 *
 * Settling re-runs the merge of what the conflicts cover from the three
 * snapshots with the chosen side (a chunk still merges element by element:
 * only its conflicting elements take the side), writes the result to the
 * working copy and the index, and records the choice.
 */
import { UsageError } from "../errors.js";
import { sha256 } from "../format/hash.js";
import type { IndexEntry } from "../store/index-file.js";
import type { Repository } from "../repo/repository.js";
import type { SnapEntry } from "../repo/snapshot.js";
import { TreeWriter } from "../worktree/worktree.js";
import { MergeStaleError, NoMergeInProgressError, OtherEditsDiscardedError } from "../repo/merge/errors.js";
import { describeOpen, mergeInputs } from "../repo/merge/inputs.js";
import { solve } from "../repo/merge/solve.js";
import { conflictsAt, isResolvedInIndex, openConflict, readMergeState, writeMergeState } from "../repo/merge/state.js";
import { rebuildConsolidated } from "../repo/merge/consolidated.js";
import { dropOutsideGrid } from "../repo/merge/grid.js";
import { conflictKey, conflictSubject, type Conflict, type DiscardedEdits, type DroppedChunk, type MergedFile, type OpenConflict, type Side } from "../repo/merge/types.js";

export interface ResolveOptions {
  /** an array, group, file or folder (relative to the repository root) */
  path: string;
  /** only this chunk of the array */
  chunk?: number[];
  side: Side;
  /** let a chunk that cannot merge element by element take the side's whole chunk, discarding the other side's edits of it (refused otherwise) */
  discardOtherEdits?: boolean;
}

export interface ResolveResult {
  resolved: Conflict[];
  /** files written to the working copy and the index */
  written: string[];
  deleted: string[];
  notes: string[];
  /** chunk files removed: wholly outside the array's grid once its shape is settled */
  dropped: DroppedChunk[];
  /** chunks taken whole from the chosen side: the other side's edits of them are lost */
  discarded: DiscardedEdits[];
  /** conflicts still open afterwards */
  remaining: number;
}

export function resolve(repo: Repository, opts: Parameters<typeof _resolve>[1]): ReturnType<typeof _resolve> {
  return repo.exclusive("resolve", () => _resolve(repo, opts));
}

async function _resolve(repo: Repository, { path, chunk, side, discardOtherEdits = false }: ResolveOptions): Promise<ResolveResult> {
  const state = await readMergeState(repo);
  if (!state) throw new NoMergeInProgressError();
  const head = await repo.refs.head();
  if (head.oid !== state.origHead) throw new MergeStaleError(state.origHead, head.oid);
  const targets = conflictsAt(state, path, chunk);
  if (targets.length === 0) {
    const open = state.conflicts.map(describeOpen);
    throw new UsageError(`no open merge conflict at '${path || "."}'${chunk ? ` chunk [${chunk.join(",")}]` : ""}`, {
      hint: open.length ? `open conflicts:\n  ${open.slice(0, 10).join("\n  ")}` : "every conflict is settled: run `tdv merge --continue`",
    });
  }
  // an inner chunk of a shard names the shard's conflict: refused when the shard has conflicts in other inner chunks too
  for (const t of targets) {
    const c = t.conflict;
    if (!chunk || c._tag !== "ChunkBothChanged" || c.chunk.every((n, i) => n === chunk[i])) continue;
    const others = (t.innerChunks ?? []).filter((i) => !i.every((n, d) => n === chunk[d]));
    if (others.length > 0) {
      throw new UsageError(`inner chunk [${chunk.join(",")}] shares shard [${c.chunk.join(",")}] with other conflicting inner chunks: ${others.map((i) => `[${i.join(",")}]`).join(", ")}`, {
        hint: `settle the whole shard with \`tdv resolve ${path || "."} --chunk ${c.chunk.join(",")} --ours|--theirs\`, or edit the elements with a Zarr tool and \`tdv add\` them`,
      });
    }
  }
  const wanted = new Set(targets.map((t) => conflictKey(t.conflict)));
  const choose = (c: Conflict): Side | null => (wanted.has(conflictKey(c)) ? side : (state.choices[conflictKey(c)] ?? null));

  const index = await repo.readIndex();
  const before = new Map(index.entries);
  const input = await mergeInputs(repo, state);
  const detection = { files: new Map<string, SnapEntry>(index.entries), written: new Map<string, Uint8Array>(), conflicts: [], consolidated: [] };
  const out = await solve({ ...input, detection }, { conflicts: targets.map((t) => t.conflict), policy: choose });
  if (out.discarded.length > 0 && !discardOtherEdits) throw new OtherEditsDiscardedError(out.discarded, "resolve");

  // write the settled files to the working copy and the index
  const w = new TreeWriter(repo.root);
  const written: string[] = [];
  const deleted: string[] = [];
  const patches = [...out.patched];
  const apply = async ([p, f]: [string, MergedFile]) => {
    if (f.kind === "delete") {
      if (index.entries.has(p)) deleted.push(p);
      await w.remove(p);
      index.entries.delete(p);
      return;
    }
    let bytes: Uint8Array;
    let stored: Pick<IndexEntry, "store" | "id">;
    if (f.kind === "entry") {
      bytes = await input.read(p, f.entry);
      stored = { store: f.entry.store, id: f.entry.id } as Pick<IndexEntry, "store" | "id">;
    } else if (f.store === "git") {
      bytes = f.bytes;
      stored = { store: "git", id: await repo.git.writeBlob(bytes) } as Pick<IndexEntry, "store" | "id">;
    } else {
      bytes = f.bytes;
      const id = sha256(bytes);
      await repo.chunks.put(id, bytes);
      stored = { store: "chunk", id } as Pick<IndexEntry, "store" | "id">;
    }
    const st = await w.write(p, bytes);
    index.entries.set(p, { ...stored, ...st, size: bytes.byteLength } as IndexEntry);
    written.push(p);
  };
  for (const patch of patches) await apply(patch);
  // consolidated metadata, rebuilt from the documents as now settled
  if (patches.length > 0) {
    const view = { paths: () => index.entries.keys(), read: async (q: string) => (index.entries.get(q) ? input.read(q, index.entries.get(q) as SnapEntry) : null) };
    for (const p of state.consolidated) {
      const bytes = await rebuildConsolidated(p, view);
      if (bytes && (await view.read(p).then((b) => !b || Buffer.compare(Buffer.from(b), Buffer.from(bytes)) !== 0))) {
        await apply([p, { kind: "bytes", bytes, store: "git" }]);
      }
    }
  }
  // arrays whose last conflict this settles: chunks now wholly outside their grid go (a shape settled for one side)
  const settledNow = new Set(out.solved.map(conflictKey).filter((k) => wanted.has(k)));
  const stillOpen = new Set(state.conflicts.filter((o) => !settledNow.has(conflictKey(o.conflict))).map((o) => conflictSubject(o.conflict)));
  const closing = new Set(targets.map((t) => conflictSubject(t.conflict)).filter((a) => !stillOpen.has(a)));
  const files = new Map<string, SnapEntry>(index.entries);
  const dropped = closing.size > 0 ? await dropOutsideGrid(files, new Map(), input, input.read, (a) => closing.has(a)) : [];
  for (const d of dropped) await apply([d.path, { kind: "delete" }]);
  await repo.writeIndex({ tree: null, entries: index.entries }); // flushes the objects written above first

  for (const t of targets) state.choices[conflictKey(t.conflict)] = side;
  const settled = new Set(out.solved.map(conflictKey));
  const still = new Map(out.unsolvable.map((u) => [conflictKey(u.conflict), u]));
  const remaining: OpenConflict[] = [];
  for (const o of state.conflicts) {
    const key = conflictKey(o.conflict);
    if (settled.has(key) && wanted.has(key)) continue;
    // still open (e.g. another key of a re-merged document): fingerprinted anew, so the rewrite does not count as resolving it
    const u = still.get(key) ?? o;
    if (isResolvedInIndex(o, before)) remaining.push(o);
    else remaining.push(openConflict({ conflict: u.conflict, reasons: u.reasons, ...(u.elements ? { elements: u.elements } : {}) }, index.entries));
  }
  state.conflicts = remaining;
  await writeMergeState(repo, state);
  return { resolved: targets.map((t) => t.conflict).filter((c) => settled.has(conflictKey(c))), written, deleted, notes: out.notes, discarded: out.discarded, dropped, remaining: remaining.length };
}
