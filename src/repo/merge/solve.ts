/**
 * Settle conflicts with a policy (STYLE principle 8):
 *
 *   - "elementwise": chunks changed on both sides merge element by element;
 *     everything else stays open (the working copy gets ours, provisionally);
 *   - "ours" / "theirs": as elementwise, and what still conflicts (elements,
 *     keys, files, whole arrays) takes that side — Git's `-X ours|theirs`;
 *   - a Chooser: per conflict (what `tdv resolve` uses).
 *
 * Returns the files to write over the detection and, for what stays open,
 * the reasons (and for chunks the elements in conflict with examples).
 */
import { isTdvError } from "../../errors.js";
import { joinPath } from "../hierarchy.js";
import type { Snapshot, SnapEntry } from "../snapshot.js";
import { arrayPaths, mergeDocumentAt, type DetectInput } from "./detect.js";
import type { Chooser } from "./docs.js";
import { ElementwiseUnsupported, mergeChunk, type ChunkMergeResult, type ChunkSide } from "./elementwise.js";
import { parseDoc } from "./json.js";
import {
  conflictKey,
  type ChunkBothChanged,
  type Conflict,
  type Detection,
  type DiscardedEdits,
  type ElementConflict,
  type MergedFile,
  type Policy,
  type Side,
  type SolveResult,
  type Unsolved,
} from "./types.js";

export interface SolveInput extends DetectInput {
  /** what detection decided: the merged state the patches go over */
  detection: Detection;
}

export interface SolveOptions {
  conflicts: readonly Conflict[];
  policy: Policy | Chooser;
}

export interface SolveOutcome extends SolveResult {
  /** things worth telling the user */
  notes: string[];
  /** chunks taken whole from one side (they cannot merge element by element): the other side's edits of them are lost */
  discarded: DiscardedEdits[];
}

export function chooserOf(policy: Policy | Chooser): Chooser {
  if (typeof policy === "function") return policy;
  if (policy === "elementwise") return () => null;
  return () => policy;
}

export async function solve(input: SolveInput, { conflicts, policy }: SolveOptions): Promise<SolveOutcome> {
  const choose = chooserOf(policy);
  const patched = new Map<string, MergedFile>();
  const solved: Conflict[] = [];
  const unsolvable: Unsolved[] = [];
  const notes: string[] = [];
  const discarded: DiscardedEdits[] = [];
  const done = (c: Conflict) => solved.push(c);
  const open = (u: Unsolved) => unsolvable.push(u);

  // 1. metadata documents, key by key (before chunks: a chunk merge reads the merged shape)
  const byDoc = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    if (c._tag === "AttrBothChanged" || (c._tag === "MetaBothChanged" && c.scope === "key")) byDoc.set(c.path, [...(byDoc.get(c.path) ?? []), c]);
  }
  for (const [path, list] of byDoc) {
    const wanted = new Set(list.map(conflictKey));
    const { bytes, conflicts: found } = await mergeDocumentAt(input, path, choose);
    patched.set(path, { kind: "bytes", bytes, store: "git" });
    const foundKeys = new Set(found.map(conflictKey));
    for (const c of list) {
      if (!foundKeys.has(conflictKey(c))) done(c); // no longer a conflict (cannot happen on the same inputs)
    }
    for (const c of found) {
      if (!wanted.has(conflictKey(c))) continue;
      if (choose(c) === null) open({ conflict: c, reasons: [reasonOf(c)] });
      else done(c);
    }
  }

  // 2. whole arrays and files
  for (const c of conflicts) {
    if (c._tag === "ChunkBothChanged" || c._tag === "AttrBothChanged" || (c._tag === "MetaBothChanged" && c.scope === "key")) continue;
    const side = choose(c);
    if (side === null) {
      open({ conflict: c, reasons: [reasonOf(c)] });
      continue;
    }
    const paths = c._tag === "ArrayAddedBoth" || c._tag === "MetaBothChanged" || (c._tag === "DeleteOfChanged" && c.array) ? arrayPaths(input, arrayOf(c)) : [c.path];
    const snap = side === "ours" ? input.ours : input.theirs;
    for (const p of paths) {
      const e = snap.files.get(p);
      patched.set(p, e ? { kind: "entry", entry: e } : { kind: "delete" });
    }
    done(c);
  }

  // 3. chunks, element by element
  for (const c of conflicts) {
    if (c._tag !== "ChunkBothChanged") continue;
    const prefer = choose(c);
    try {
      if (c.basesDisagree && input.altBase) {
        const r = await solveDisputed(input, patched, c, prefer);
        if (r.file) patched.set(c.path, r.file);
        if (r.open) open({ conflict: c, reasons: [reasonOf(c)], ...(r.open.count > 0 ? { elements: r.open } : {}) });
        else done(c);
        continue;
      }
      const r = await mergeChunk(await chunkInput(input, patched, c, prefer));
      const side = r.result.kind === "side" ? r.result.side : null;
      if (side) {
        const e = c.entries[side];
        patched.set(c.path, e ? { kind: "entry", entry: e } : { kind: "delete" });
      } else if (r.result.kind === "bytes") patched.set(c.path, { kind: "bytes", bytes: r.result.bytes, store: "chunk" });
      if (r.conflicts.count > 0 && prefer === null) {
        const n = r.conflicts.count;
        open({
          conflict: c,
          reasons: [`${n} element${n === 1 ? "" : "s"} changed on both sides to different values${innerOf(r)}`],
          elements: r.conflicts,
          ...(r.innerChunks?.length ? { innerChunks: r.innerChunks } : {}),
        });
      } else done(c);
    } catch (err) {
      const why = unmergeable(err);
      if (why === null) throw err;
      if (prefer === null) {
        open({ conflict: c, reasons: [`cannot merge element by element: ${why}; settling it with a side takes that side's whole chunk (\`tdv resolve ... --discard-other-edits\`), or edit it with a Zarr tool and \`tdv add\` it`] });
        continue;
      }
      const e = c.entries[prefer];
      patched.set(c.path, e ? { kind: "entry", entry: e } : { kind: "delete" });
      const other: Side = prefer === "ours" ? "theirs" : "ours";
      discarded.push({ array: c.array, chunk: c.chunk, path: c.path, kept: prefer, discarded: other, reason: why });
      notes.push(`${c.path}: took ${prefer}' whole chunk, ${other}' edits of it discarded (cannot merge element by element: ${why})`);
      done(c);
    }
  }
  return { patched, solved, unsolvable, notes, discarded };
}

function arrayOf(c: Conflict): string {
  if (c._tag === "ArrayAddedBoth" || c._tag === "MetaBothChanged" || c._tag === "ChunkBothChanged") return c.array;
  return c.path;
}

/** For a shard: which of its inner chunks hold the conflicting elements. */
function innerOf(r: ChunkMergeResult): string {
  const list = r.innerChunks ?? [];
  if (list.length === 0) return "";
  return ` (shard's inner chunk${list.length === 1 ? "" : "s"} ${list.map((i) => `[${i.join(", ")}]`).join(", ")})`;
}

/** Why a chunk could not be merged element-wise, or null when `err` is some other failure. */
function unmergeable(err: unknown): string | null {
  if (err instanceof ElementwiseUnsupported) return err.message;
  if (isTdvError(err, "ChunkEncodeError") || isTdvError(err, "CodecUnavailableError") || isTdvError(err, "ChunkDecodeError")) return err.message;
  return null;
}

export function reasonOf(c: Conflict): string {
  switch (c._tag) {
    case "ChunkBothChanged":
      return c.basesDisagree
        ? "the merge bases disagree on this chunk (criss-cross history) and the sides differ where they disagree: which side changed those elements is unknown"
        : "both sides changed the chunk";
    case "MetaBothChanged":
      return c.message;
    case "AttrBothChanged":
      return `attribute '${c.key}' changed differently on both sides`;
    case "DeleteOfChanged":
      return `${c.deletedBy} deleted ${c.array ? "the array" : "the file"}, ${c.deletedBy === "ours" ? "theirs" : "ours"} changed it (${c.changed.join(", ")})`;
    case "FileBothChanged":
      return c.basesDisagree ? "the merge bases disagree on the file (criss-cross history) and the sides' versions differ" : "both sides changed the file differently";
    case "ArrayAddedBoth":
      return `both sides added the array, with different content (${c.differing.join(", ")})`;
  }
}

async function readMerged(input: SolveInput, patched: ReadonlyMap<string, MergedFile>, p: string): Promise<Uint8Array | null> {
  const pf = patched.get(p);
  if (pf?.kind === "bytes") return pf.bytes;
  if (pf?.kind === "entry") return input.read(p, pf.entry);
  if (pf?.kind === "delete") return null;
  const w = input.detection.written.get(p);
  if (w) return w;
  const e = input.detection.files.get(p);
  return e ? input.read(p, e) : null;
}

async function chunkInput(input: SolveInput, patched: ReadonlyMap<string, MergedFile>, c: ChunkBothChanged, prefer: Side | null, baseSnap?: Snapshot) {
  const v3 = joinPath(c.array, "zarr.json");
  const metaName = input.ours.files.has(v3) ? "zarr.json" : ".zarray";
  const metaPath = joinPath(c.array, metaName);
  const attrsPath = joinPath(c.array, ".zattrs");
  const side = async (s: "base" | "ours" | "theirs"): Promise<ChunkSide> => {
    const snap = s === "base" && baseSnap ? baseSnap : input[s];
    // a base without the array (criss-cross: one merge base had not made it yet): the fill value, read with the first base's metadata
    const meta = (snap.files.get(metaPath) ?? input.base.files.get(metaPath)) as SnapEntry;
    const attrs = metaName === ".zarray" ? snap.files.get(attrsPath) : undefined;
    const e = s === "base" && baseSnap ? (baseSnap.files.get(c.path) ?? null) : c.entries[s];
    return {
      metaDoc: await input.read(metaPath, meta),
      zattrs: attrs ? await input.read(attrsPath, attrs) : null,
      shape: snap.arrays.get(c.array)?.shape ?? [],
      bytes: e ? await input.read(c.path, e) : null,
    };
  };
  const mergedDoc = (await readMerged(input, patched, metaPath)) as Uint8Array;
  const shape = parseDoc(mergedDoc, metaPath).shape as number[];
  return {
    chunk: c.chunk,
    sides: { base: await side("base"), ours: await side("ours"), theirs: await side("theirs") },
    merged: { metaDoc: mergedDoc, shape },
    prefer,
  };
}

/** The merged chunk's bytes (null: no file, the fill value). */
async function resultBytes(input: SolveInput, c: ChunkBothChanged, r: ChunkMergeResult): Promise<Uint8Array | null> {
  if (r.result.kind === "bytes") return r.result.bytes;
  const e = c.entries[r.result.side];
  return e ? input.read(c.path, e) : null;
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null) => (a === null ? b === null : b !== null && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0);

/**
 * A chunk the merge bases disagree on (criss-cross history). The virtual base
 * has two versions of it (the bases' merge with their conflicts settled for
 * one, then the other); where they differ the base value is unknown. The
 * chunk is merged against each; when both merges agree and neither conflicts,
 * no element depends on the unknown values and the result stands. Otherwise
 * some element both sides hold differently has no known base: a conflict.
 * With a side preferred, the two results are combined: where they differ, one
 * of them is the preferred side's value (the other took the other side's),
 * which a merge of the two results against the other side's chunk picks.
 */
async function solveDisputed(
  input: SolveInput,
  patched: ReadonlyMap<string, MergedFile>,
  c: ChunkBothChanged,
  prefer: Side | null,
): Promise<{ file: MergedFile | null; open: { count: number; examples: ElementConflict[] } | null }> {
  const alt = input.altBase as Snapshot;
  const one = await mergeChunk(await chunkInput(input, patched, c, prefer));
  const two = await mergeChunk(await chunkInput(input, patched, c, prefer, alt));
  const [b1, b2] = [await resultBytes(input, c, one), await resultBytes(input, c, two)];
  const asFile = (bytes: Uint8Array | null): MergedFile => (bytes ? { kind: "bytes", bytes, store: "chunk" } : { kind: "delete" });
  const agree = sameBytes(b1, b2);
  if (prefer === null) {
    if (agree && one.conflicts.count === 0 && two.conflicts.count === 0) return { file: asFile(b1), open: null };
    // ours stays, provisionally; elements known to conflict (against either base) as examples
    const known = one.conflicts.count >= two.conflicts.count ? one.conflicts : two.conflicts;
    return { file: null, open: known };
  }
  if (agree) return { file: asFile(b1), open: null };
  const other: Side = prefer === "ours" ? "theirs" : "ours";
  const ci = await chunkInput(input, patched, c, null);
  const merged = { ...ci.sides.ours, metaDoc: ci.merged.metaDoc, shape: ci.merged.shape };
  const f = await mergeChunk({ ...ci, sides: { base: ci.sides[other], ours: { ...merged, bytes: b1 }, theirs: { ...merged, bytes: b2 } }, prefer: null });
  const bytes = f.result.kind === "bytes" ? f.result.bytes : f.result.side === "ours" ? b1 : b2;
  return { file: asFile(bytes), open: null };
}
