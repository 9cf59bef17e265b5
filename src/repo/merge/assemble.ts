/**
 * The merged snapshot's files: what detection decided, the documents it
 * rebuilt, what solve patched, and consolidated metadata rebuilt from the
 * settled documents. Storing new bytes is the caller's `put` (the repository's
 * stores for a merge, memory for a virtual merge base).
 */
import type { SnapEntry } from "../snapshot.js";
import { rebuildConsolidated } from "./consolidated.js";
import type { Detection, MergedFile, SolveResult } from "./types.js";

export type PutFn = (bytes: Uint8Array, store: "git" | "chunk") => Promise<SnapEntry>;
export type ReadFn = (path: string, entry: SnapEntry) => Promise<Uint8Array>;

export interface Assembled {
  files: Map<string, SnapEntry>;
  /** the metadata documents the merge wrote (rebuilt or patched), by path */
  written: Map<string, Uint8Array>;
}

export async function assembleFiles(detection: Detection, solved: Pick<SolveResult, "patched">, put: PutFn, read: ReadFn): Promise<Assembled> {
  const files = new Map(detection.files);
  const written = new Map(detection.written);
  for (const [p, bytes] of written) if (!solved.patched.has(p)) files.set(p, await put(bytes, "git"));
  for (const [p, f] of solved.patched) {
    await applyPatch(files, p, f, put);
    if (f.kind === "bytes") written.set(p, f.bytes);
    else written.delete(p);
  }
  // consolidated metadata, rebuilt from the documents as settled
  const view = { paths: () => files.keys(), read: async (p: string) => written.get(p) ?? (files.get(p) ? read(p, files.get(p) as SnapEntry) : null) };
  for (const p of detection.consolidated) {
    const bytes = await rebuildConsolidated(p, view);
    if (bytes) {
      files.set(p, await put(bytes, "git"));
      written.set(p, bytes);
    }
  }
  return { files, written };
}

export async function applyPatch(files: Map<string, SnapEntry>, p: string, f: MergedFile, put: PutFn): Promise<void> {
  if (f.kind === "delete") files.delete(p);
  else if (f.kind === "entry") files.set(p, f.entry);
  else files.set(p, await put(f.bytes, f.store));
}
