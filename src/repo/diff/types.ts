/**
 * What `diff` returns. This is the `--json` document of `tdv diff`, a stable
 * schema documented in docs/diff-json.md: fields are only ever added.
 */
import type { Box } from "./ranges.js";

export interface DiffOptions {
  /** the old side: a revision (default HEAD; an unborn HEAD is the empty snapshot), or null for no base (the empty snapshot) */
  from?: string | null;
  /** the new side: a revision, or undefined for the working copy */
  to?: string;
  /** the new side is the index (what the next `tdv commit` records): `diff --cached`; `to` must be left out */
  staged?: boolean;
  /** limit the diff to these paths (relative to the repository root) and what is under them */
  paths?: readonly string[];
  /** decode changed chunks and summarize the change in the data */
  values?: boolean;
  /** chunks decoded at once (each side of each chunk is in memory while compared); default 4 */
  concurrency?: number;
  onProgress?: (p: { phase: string; done: number; total: number; bytes: number }) => void;
}

export interface DiffSideInfo {
  /** the revision as given, or null for the working copy (and for the old side of a diff with no base) */
  rev: string | null;
  /** the commit it resolved to (null: working copy, or an unborn branch) */
  commit: string | null;
  /** present (true) when this side is the index (`diff --cached`); rev and commit are null then */
  index?: true;
}

export interface DiffResult {
  from: DiffSideInfo;
  to: DiffSideInfo;
  /** the path filter, or null for everything */
  paths: string[] | null;
  /** whether `values` were computed */
  values: boolean;
  arrays: ArrayDiff[];
  groups: GroupDiff[];
  files: FileDiff[];
  summary: DiffSummary;
  /** false when both sides are the same (within the paths) */
  different: boolean;
  warnings: string[];
}

export type ArrayStatus = "added" | "removed" | "modified" | "renamed";

export interface ArrayDiff {
  /** folder of the array (on the new side; "" is the root) */
  path: string;
  status: ArrayStatus;
  /** where a renamed array was, else null */
  oldPath: string | null;
  before: ArraySummary | null;
  after: ArraySummary | null;
  /** changed fields of the array metadata, in a fixed order (empty when equal) */
  metadata: MetadataChange[];
  /** changed attributes, by key (empty when equal) */
  attributes: AttributeChange[];
  chunks: ChunkChanges;
  /** with `values`: how the data changed in the changed chunks; null when not computed */
  values: ValueDiff | null;
  /** why values are missing or partial (unknown codec, undecodable chunk, dimensions changed), else null */
  valuesNote: string | null;
}

export interface ArraySummary {
  zarrFormat: 2 | 3;
  shape: number[];
  dtype: string;
  chunkShape: number[];
  /** inner chunk shape of a sharded array, else null */
  innerChunkShape: number[] | null;
  fillValue: unknown;
  /** codec names in order, e.g. ["bytes", "gzip"] */
  codecs: string[];
  dimensionNames: (string | null)[] | null;
}

export type MetadataField =
  | "zarrFormat"
  | "shape"
  | "dtype"
  | "chunkShape"
  | "innerChunkShape"
  | "chunkKeyEncoding"
  | "order"
  | "fillValue"
  | "codecs"
  | "dimensionNames";

export interface MetadataChange {
  field: MetadataField;
  /** JSON values: the field as the metadata document writes it (NaN/Infinity as strings) */
  before: unknown;
  after: unknown;
  /** for shape: each dimension whose length changed */
  dims?: DimensionChange[];
}

export interface DimensionChange {
  dim: number;
  /** the dimension's name (dimension_names, or _ARRAY_DIMENSIONS for v2), else null */
  name: string | null;
  before: number;
  after: number;
  change: "grew" | "shrank";
  /** |after - before| */
  by: number;
}

export interface AttributeChange {
  key: string;
  change: "added" | "removed" | "changed";
  /** absent for "added" */
  before?: unknown;
  /** absent for "removed" */
  after?: unknown;
}

export interface ChunkSet {
  count: number;
  /** bytes of the stored files: the new ones for added and modified, the old ones for removed */
  bytes: number;
  /** chunk coordinates as boxes that cover the set exactly: per dimension [first, last] */
  boxes: Box[];
}

export interface ChunkChanges {
  added: ChunkSet;
  removed: ChunkSet;
  modified: ChunkSet & { bytesBefore: number };
}

export interface ValueRange {
  min: number;
  max: number;
}

export interface ValueDiff {
  /** numeric: deltas and ranges; equality: bool, string and other data types, counts only */
  kind: "numeric" | "equality";
  /** chunks decoded on both sides and compared */
  chunks: number;
  /** chunks that could not be compared (see valuesNote) */
  chunksSkipped: number;
  /** elements compared: inside both the old and the new shape, in the changed chunks */
  compared: number;
  /** elements whose value differs (NaN equals NaN) */
  changed: number;
  /** largest |new - old| over changed elements where both are numbers (not NaN) */
  maxAbsDelta: number | null;
  /** mean of new - old over the same elements */
  meanDelta: number | null;
  /** elements that were numbers and are NaN now */
  nanIntroduced: number;
  /** elements that were NaN and are numbers now */
  nanRemoved: number;
  /** range of the old values of the changed elements (NaN ignored) */
  before: ValueRange | null;
  /** range of the new values of the changed elements (NaN ignored) */
  after: ValueRange | null;
  /** smallest box of array coordinates holding every changed element: per dimension [first, last] */
  bbox: Box | null;
  /** elements of the changed chunks inside the new shape only (the array grew): count and range */
  appended: { count: number; nan: number; range: ValueRange | null };
  /** elements of the changed chunks inside the old shape only (the array shrank) */
  truncated: number;
  /**
   * sharded arrays (same shard and inner chunk shapes on both sides): the inner
   * chunks whose values differ, as boxes of inner chunk coordinates (inner chunk
   * index = element index / inner chunk shape). `chunks`, `chunksSkipped` then
   * count inner chunks compared (stored bytes differ on the two sides) and shards
   * skipped. Absent for unsharded arrays.
   */
  innerChunks?: { shape: number[]; count: number; boxes: Box[] };
  /**
   * `bbox` in coordinate values, per named dimension that has a 1-D
   * coordinate array of its length in the array's group (CF time units read
   * as ISO dates). Absent when no dimension has one.
   */
  coords?: CoordRange[];
}

/** The coordinate values at the two ends of a changed region along one dimension. */
export interface CoordRange {
  /** the dimension's name */
  dim: string;
  /** the coordinate array's path */
  array: string;
  /** the region's first and last index along the dimension */
  indices: [number, number];
  /** the coordinate's values there: an ISO date for CF time, else the value */
  first: string | number;
  last: string | number;
  /** read as CF time */
  time: boolean;
}

export interface GroupDiff {
  path: string;
  status: "added" | "removed" | "modified";
  zarrFormat: 2 | 3;
  attributes: AttributeChange[];
  /** consolidated metadata (.zmetadata, or consolidated_metadata in zarr.json) changed */
  consolidatedChanged: boolean;
}

export interface FileDiff {
  path: string;
  status: "added" | "removed" | "modified";
  /** null when the file is added */
  bytesBefore: number | null;
  /** null when the file is removed */
  bytesAfter: number | null;
}

export interface DiffSummary {
  arrays: { added: number; removed: number; modified: number; renamed: number };
  groups: { added: number; removed: number; modified: number };
  files: { added: number; removed: number; modified: number };
  chunks: { added: number; removed: number; modified: number };
  /** bytes of chunk files written (added and modified, new sizes) */
  bytesAdded: number;
  /** bytes of chunk files replaced or removed (modified and removed, old sizes) */
  bytesRemoved: number;
}
