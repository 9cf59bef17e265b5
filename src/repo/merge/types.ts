/**
 * Merge conflicts as values (STYLE principle 8). `detectConflicts` finds
 * them, `solve` settles what a policy can settle; the CLI (`tdv merge`,
 * `tdv status`, `tdv resolve`) and a terminal UI both build on these types.
 * Each conflict carries what a side-by-side view needs: the path, the three
 * versions (base, ours, theirs) and a sentence saying what each side did.
 * Every value here is plain JSON (MERGE_STATE.json holds them).
 */
import type { GitOid } from "../../format/hash.js";
import type { SnapEntry } from "../snapshot.js";

/** `ours` is the branch merged into (HEAD), `theirs` the one merged in. */
export type Side = "ours" | "theirs";

/** The three versions of one thing in a three-way merge. */
export interface Sides<T> {
  base: T;
  ours: T;
  theirs: T;
}

/**
 * A JSON value of a metadata document, or `null` when the key (or file) is
 * absent on that side. Non-finite numbers are the strings "NaN", "Infinity",
 * "-Infinity" (as the Zarr specs write fill values).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * Both sides changed the same chunk differently. Settled element by element
 * (policy "elementwise"): it stays a conflict only where one element was
 * changed on both sides to different values.
 */
export interface ChunkBothChanged {
  _tag: "ChunkBothChanged";
  /** the array folder ("" for a root array) */
  array: string;
  /** grid position of the chunk (of the shard, for sharded arrays) */
  chunk: number[];
  /** the chunk file's path */
  path: string;
  /** the chunk file on each side; null: missing (the fill value everywhere) */
  entries: Sides<SnapEntry | null>;
  /**
   * criss-cross history: the merge bases disagree on this chunk (`entries.base`
   * is one of the virtual base's two versions), so an element where they
   * disagree has no known base value and conflicts unless both sides agree on it
   */
  basesDisagree?: boolean;
}

/**
 * An array's metadata changed incompatibly: one key of `zarr.json` / `.zarray`
 * (dtype, chunk grid, codecs, fill value, shape...) changed differently on
 * both sides, or one side re-encoded the array (codecs, dtype, grid) while the
 * other changed its chunks.
 */
export interface MetaBothChanged {
  _tag: "MetaBothChanged";
  array: string;
  /** the metadata document */
  path: string;
  /** the document key (`data_type`, `codecs`, `shape`...) */
  key: string;
  /**
   * "key": settled by taking one side's value of this key (chunks still merge);
   * "array": the chunks of one side cannot be combined with the other's
   * metadata, so settling takes the whole array from one side.
   */
  scope: "key" | "array";
  values: Sides<JsonValue>;
  /** what each side did, in words */
  ours: string;
  theirs: string;
  message: string;
}

/** One attribute key changed differently on both sides. */
export interface AttrBothChanged {
  _tag: "AttrBothChanged";
  /** the array or group folder the attributes belong to */
  node: string;
  /** the document holding them (`zarr.json` or `.zattrs`) */
  path: string;
  key: string;
  /** null: the key is absent on that side */
  values: Sides<JsonValue>;
}

/** One side deleted a file or a whole array that the other side changed. */
export interface DeleteOfChanged {
  _tag: "DeleteOfChanged";
  /** the file, or the array folder when `array` is true */
  path: string;
  array: boolean;
  /** the side that deleted it */
  deletedBy: Side;
  /** what the other side changed (file paths, at most a few) */
  changed: string[];
}

/** A plain file (or a metadata document tdv cannot merge by key) changed differently on both sides. */
export interface FileBothChanged {
  _tag: "FileBothChanged";
  path: string;
  entries: Sides<SnapEntry | null>;
  /** criss-cross history: the merge bases disagree on the file and the sides' versions differ */
  basesDisagree?: boolean;
}

/** Both sides added an array at the same path with different content. */
export interface ArrayAddedBoth {
  _tag: "ArrayAddedBoth";
  array: string;
  /** files that differ between the two versions (at most a few) */
  differing: string[];
}

export type Conflict = ChunkBothChanged | MetaBothChanged | AttrBothChanged | DeleteOfChanged | FileBothChanged | ArrayAddedBoth;
export type ConflictTag = Conflict["_tag"];

/** How `solve` settles conflicts: take one side for each, or merge chunks element by element. */
export type Policy = "ours" | "theirs" | "elementwise";

/** What a file becomes in the merge: an existing entry, new bytes, or deleted. */
export type MergedFile =
  | { kind: "entry"; entry: SnapEntry }
  | { kind: "bytes"; bytes: Uint8Array; store: "git" | "chunk" }
  | { kind: "delete" };

/** The clean part of a three-way merge and the conflicts left to settle. */
export interface Detection {
  /** every path of the merged snapshot whose content is decided (conflicted paths hold ours' version) */
  files: Map<string, SnapEntry>;
  /** metadata documents rebuilt from both sides (attributes merged key by key), to be written */
  written: Map<string, Uint8Array>;
  conflicts: Conflict[];
  /** consolidated metadata documents to rebuild from the merged documents once conflicts are settled */
  consolidated: string[];
}

/** One element both sides changed to different values. Values are plain (bigints and NaN as strings). */
export interface ElementConflict {
  /** array coordinates */
  coords: number[];
  values: Sides<ElementValue>;
}

export type ElementValue = number | string | boolean | null;

/**
 * A chunk settled by taking one side's whole file because it cannot merge
 * element by element (strings, complex numbers, a codec without decoder or
 * encoder; or bases that disagree): the other side's edits in it are lost.
 */
export interface DiscardedEdits {
  array: string;
  chunk: number[];
  path: string;
  /** the side whose whole chunk was taken */
  kept: Side;
  /** the side whose edits of the chunk were discarded */
  discarded: Side;
  /** why the chunk could not be merged element by element */
  reason: string;
}

/** A chunk file left out of the merge: wholly outside the merged array's chunk grid (a shrunk shape). */
export interface DroppedChunk {
  array: string;
  chunk: number[];
  path: string;
  /** which side's file it was ("merged": a file the merge made) */
  from: Side | "both" | "merged";
}

/** A conflict `solve` could not settle, with why and (for chunks) the elements in conflict. */
export interface Unsolved {
  conflict: Conflict;
  reasons: string[];
  /** for ChunkBothChanged: how many elements conflict, with a few examples */
  elements?: { count: number; examples: ElementConflict[] };
  /** for a shard's ChunkBothChanged: the inner chunks (array-wide inner chunk indices) holding the conflicting elements */
  innerChunks?: number[][];
}

export interface SolveResult {
  /**
   * Files to write over the detection's result. For an unsolved conflict this
   * holds the provisional version left in the working copy (ours for the
   * elements or keys in conflict), so the working copy is always valid Zarr.
   */
  patched: Map<string, MergedFile>;
  /** solved conflicts, in the order given */
  solved: Conflict[];
  unsolvable: Unsolved[];
}

/** `.tdv/MERGE_STATE.json`: a merge stopped on conflicts. MERGE_HEAD (in the Git dir) holds `theirs`. */
export interface MergeState {
  version: 1;
  /** what was merged, as the user named it (`feature`, `main~2`) */
  name: string;
  /** HEAD before the merge (Git's ORIG_HEAD) */
  origHead: GitOid;
  /** the branch HEAD was on, or null when detached */
  branch: string | null;
  base: GitOid | null;
  /** every merge base when there are several (criss-cross history): the merge was made against a virtual base of them */
  bases?: GitOid[];
  theirs: GitOid;
  message: string;
  strategy: Policy;
  /** the conflicts still open */
  conflicts: OpenConflict[];
  /** sides chosen for conflicts settled so far (by conflict key), so re-merging a document keeps them */
  choices: Record<string, Side>;
  /** consolidated metadata documents rebuilt after each `tdv resolve` */
  consolidated: string[];
  /** set while the merge moves the working copy, and kept when that failed: why the merge cannot be concluded */
  interrupted?: string;
}

export interface OpenConflict extends Unsolved {
  /** the files the conflict covers: exact paths, or array folders (every file under them) */
  scope: string[];
  /**
   * SHA-256 of the index entries (path and id) under `scope` as the merge (or
   * the last `tdv resolve`) left them: when the index differs (`tdv add` of an
   * edited file), the conflict counts as resolved.
   */
  fingerprint: string;
}

/** Stable key of a conflict: its tag and what it is about. */
export function conflictKey(c: Conflict): string {
  switch (c._tag) {
    case "ChunkBothChanged":
      return `${c._tag}:${c.path}`;
    case "MetaBothChanged":
      return `${c._tag}:${c.path}#${c.key}`;
    case "AttrBothChanged":
      return `${c._tag}:${c.path}#${c.key}`;
    case "DeleteOfChanged":
      return `${c._tag}:${c.path}`;
    case "FileBothChanged":
      return `${c._tag}:${c.path}`;
    case "ArrayAddedBoth":
      return `${c._tag}:${c.array}`;
  }
}

/** The array (or node, or file) a conflict is about, for grouping and `tdv resolve PATH`. */
export function conflictSubject(c: Conflict): string {
  switch (c._tag) {
    case "ChunkBothChanged":
    case "MetaBothChanged":
    case "ArrayAddedBoth":
      return c.array;
    case "AttrBothChanged":
      return c.node;
    case "DeleteOfChanged":
    case "FileBothChanged":
      return c.path;
  }
}
