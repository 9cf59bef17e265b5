/**
 * Changes between two lists of files, said the way a data engineer thinks of
 * them: per array (metadata documents, chunks added/modified/deleted, bytes)
 * and per plain file.
 */
import type { Stored } from "../store/index-file.js";
import type { FileKind } from "./hierarchy.js";

export type ChangeKind = "added" | "modified" | "deleted";

export interface Change {
  path: string;
  change: ChangeKind;
  kind: FileKind["kind"];
  /** the array folder the file belongs to, when it does */
  array: string | null;
  /** bytes of the new version (0 for deletions; -1 when unknown) */
  bytes: number;
  /** bytes of the old version (0 for additions; -1 when unknown) */
  oldBytes: number;
}

export interface ArrayChanges {
  path: string;
  /** added: its metadata appeared; deleted: its metadata went away; else modified */
  change: ChangeKind;
  metadata: { path: string; change: ChangeKind }[];
  chunks: { added: number; modified: number; deleted: number };
  /** bytes of chunks written (added + modified, new sizes) */
  bytesAdded: number;
  /** bytes of chunks removed or replaced (old sizes) */
  bytesRemoved: number;
}

export interface GroupedChanges {
  arrays: ArrayChanges[];
  files: Change[];
}

type Sized = Stored & { size: number };

/** Compare two flat file maps by content id; classify each changed path on the side that has it. */
export async function diffFileMaps(
  before: ReadonlyMap<string, Sized>,
  after: ReadonlyMap<string, Sized>,
  classify: (rel: string, side: "before" | "after") => FileKind | Promise<FileKind>,
): Promise<Change[]> {
  const raw: [string, ChangeKind, number, number][] = [];
  for (const [path, b] of before) {
    const a = after.get(path);
    if (!a) raw.push([path, "deleted", 0, b.size]);
    else if (a.id !== b.id) raw.push([path, "modified", a.size, b.size]);
  }
  for (const [path, a] of after) if (!before.has(path)) raw.push([path, "added", a.size, 0]);
  raw.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: Change[] = [];
  for (const [path, change, bytes, oldBytes] of raw) {
    const k = await classify(path, change === "deleted" ? "before" : "after");
    out.push({ path, change, kind: k.kind, array: k.array, bytes, oldBytes });
  }
  return out;
}

export function groupChanges(changes: Iterable<Change>): GroupedChanges {
  const arrays = new Map<string, ArrayChanges>();
  const files: Change[] = [];
  for (const c of changes) {
    if (c.array === null || c.kind === "plain") {
      files.push(c);
      if (c.array === null) continue;
    }
    let g = arrays.get(c.array);
    if (!g) {
      g = { path: c.array, change: "modified", metadata: [], chunks: { added: 0, modified: 0, deleted: 0 }, bytesAdded: 0, bytesRemoved: 0 };
      arrays.set(c.array, g);
    }
    if (c.kind === "meta") {
      g.metadata.push({ path: c.path, change: c.change });
      if (/(^|\/)(zarr\.json|\.zarray)$/.test(c.path) && c.change !== "modified") g.change = c.change;
    } else if (c.kind === "chunk") {
      g.chunks[c.change]++;
      if (c.bytes > 0) g.bytesAdded += c.bytes;
      if (c.oldBytes > 0) g.bytesRemoved += c.oldBytes;
    }
  }
  return { arrays: [...arrays.values()].sort((a, b) => (a.path < b.path ? -1 : 1)), files };
}
