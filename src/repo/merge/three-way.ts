/**
 * A three-way merge of two snapshots against a base, element by element, with
 * no merge state and nothing written to the working copy: what `revert` and
 * `stash apply` build their result from. Either the merged tree, or the
 * conflicts that stop it (each described as `tdv merge` lists them).
 */
import { sha256, type GitOid } from "../../format/hash.js";
import { readEntry, writeSnapshot, type SnapEntry, type Snapshot } from "../snapshot.js";
import type { Repository } from "../repository.js";
import { assembleFiles } from "./assemble.js";
import type { MergeBase } from "./bases.js";
import { detectConflicts } from "./detect.js";
import { dropOutsideGrid } from "./grid.js";
import { describeOpen } from "./inputs.js";
import { solve } from "./solve.js";

export type ThreeWayResult = { tree: GitOid; conflicts?: undefined } | { tree?: undefined; conflicts: string[] };

/** How a merge stores the bytes it made: a document as a Git blob, a chunk as a chunk object. */
export function storeMerged(repo: Repository): (bytes: Uint8Array, store: "git" | "chunk") => Promise<SnapEntry> {
  return async (bytes, store) => {
    if (store === "git") return { store, id: await repo.git.writeBlob(bytes), size: bytes.byteLength };
    const id = sha256(bytes);
    await repo.chunks.put(id, bytes);
    return { store, id, size: bytes.byteLength };
  };
}

export async function mergeSnapshots(repo: Repository, mb: MergeBase, ours: Snapshot, theirs: Snapshot): Promise<ThreeWayResult> {
  const input = { base: mb.base, ours, theirs, read: mb.read };
  const detection = await detectConflicts(input);
  const solved = await solve({ ...input, detection }, { conflicts: detection.conflicts, policy: "elementwise" });
  if (solved.unsolvable.length > 0) return { conflicts: solved.unsolvable.map((u) => describeOpen({ ...u, scope: [], fingerprint: "" })) };
  const { files, written } = await assembleFiles(detection, solved, storeMerged(repo), (p, e) => readEntry(repo, p, e));
  await dropOutsideGrid(files, written, { ours, theirs }, mb.read);
  return { tree: await writeSnapshot(repo, files) };
}
