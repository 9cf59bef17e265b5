/**
 * Sparse checkout: the working tree holds only chosen paths of the snapshot
 * (`tdv sparse set era5.zarr/t2m masks.zarr`), so that one array of a huge
 * dataset can be taken; in a lazy clone only its chunks are downloaded.
 *
 * The set lives in `.tdv/sparse`, one path per line (absent: no sparse
 * checkout). As git's cone mode, a file is in the set when it is under a
 * listed path, or when it lies directly in the root or in a folder on the way
 * to a listed path: `era5.zarr/t2m` brings `era5.zarr/zarr.json` (the group's
 * metadata, which a Zarr reader needs) but not `era5.zarr/u10/`.
 *
 * Files outside the set keep their index entries (HEAD's, or what was staged)
 * and are never written, compared or reported: status does not call them
 * deleted, add -A and commit keep them as the index has them (git's
 * skip-worktree).
 */
import fs from "node:fs";
import path from "node:path";
import { DirtyWorkingCopyError, PathNotFoundError, UsageError } from "../errors.js";
import type { IndexEntry } from "../store/index-file.js";
import { initialCheckout, writeEntries, type ProgressFn } from "../worktree/materialize.js";
import type { Repository } from "../repo/repository.js";
import { readSnapshot, headTree } from "../repo/snapshot.js";
import { hashWorkFile, isClean } from "../worktree/work-state.js";
import { TreeWriter } from "../worktree/worktree.js";
import { isUnder } from "../format/paths.js";
import { type SparseSet, sparseSet, readSparse, writeSparse } from "../worktree/sparse-set.js";

export type SparseChange = { mode: "set"; paths: readonly string[] } | { mode: "add"; paths: readonly string[] } | { mode: "disable" };

export interface SparseResult {
  /** the set now (null: sparse checkout disabled) */
  paths: string[] | null;
  /** files written into the working tree, and removed from it */
  written: number;
  removed: number;
  bytes: number;
}

/** What a path of the sparse set must match: the index, HEAD, or any file of them. */
function checkKnown(paths: readonly string[], entries: ReadonlyMap<string, unknown>): void {
  for (const p of paths) {
    let found = false;
    for (const f of entries.keys()) {
      if (isUnder(f, p)) {
        found = true;
        break;
      }
    }
    if (!found) throw new PathNotFoundError(p, "in the checked-out snapshot (nothing there to check out)");
  }
}

/**
 * Change the sparse set and the working tree with it: files entering the set
 * are written (a lazy clone downloads their chunks first), files leaving it
 * are removed once they are proved to hold what the index has (a local change
 * refuses the whole change, naming the files). The index keeps every entry.
 */
export function changeSparse(repo: Repository, change: SparseChange, onProgress?: ProgressFn): Promise<SparseResult> {
  return repo.exclusive("sparse", async () => {
    const old = readSparse(repo);
    const next = change.mode === "disable" ? null : sparseSet(change.mode === "add" ? [...(old?.paths ?? []), ...change.paths] : change.paths);
    if (change.mode === "add" && !old) throw new UsageError("no sparse checkout to add to: every file is checked out", { hint: "`tdv sparse set PATH...` starts one" });
    return applySparse(repo, old, next, onProgress);
  });
}

async function applySparse(repo: Repository, old: SparseSet | null, next: SparseSet | null, onProgress?: ProgressFn): Promise<SparseResult> {
  const result = (r: Omit<SparseResult, "paths">): SparseResult => ({ paths: next ? [...next.paths] : null, ...r });
  // a clone made with --no-checkout (no index yet): the first checkout, of the new set
  if (!fs.existsSync(repo.indexFile)) {
    if (next) checkKnown(next.paths, (await readSnapshot(repo, await headTree(repo, (await repo.refs.head()).oid))).files);
    await writeSparse(repo, next);
    const res = await initialCheckout(repo, onProgress);
    return result({ written: res.written, removed: 0, bytes: res.bytes });
  }
  const index = await repo.readIndex();
  if (next) checkKnown(next.paths, index.entries);
  const was = (p: string) => !old || old.includes(p);
  const will = (p: string) => !next || next.includes(p);
  const statOf = (p: string) => fs.lstatSync(path.join(repo.root, ...p.split("/")), { throwIfNoEntry: false });
  const writes: [string, IndexEntry][] = [];
  const removes: string[] = [];
  const dirty: string[] = [];
  // unchanged since the index recorded it (the stat cache, as status), else hashed
  const holds = async (p: string, e: IndexEntry, st: fs.Stats) =>
    isClean(index, e, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }) || (await hashWorkFile(repo, p, e.store, false)).id === e.id;
  for (const [p, e] of index.entries) {
    if (will(p) && was(p)) continue; // checked out before and after: the user's file, as it is
    const st = statOf(p);
    if (st && !st.isFile()) {
      dirty.push(p); // a folder, a symbolic link (or other) where the file is: the user's, never replaced
      continue;
    }
    const present = st !== undefined;
    if (will(p)) {
      if (!present) writes.push([p, e]);
      else if (!(await holds(p, e, st!))) dirty.push(p); // a file of the user's where one enters the set
    } else if (present) {
      // leaving the set (or left behind by a change that was interrupted): removed only when unchanged
      if (await holds(p, e, st!)) removes.push(p);
      else dirty.push(p);
    }
  }
  if (dirty.length > 0) throw new DirtyWorkingCopyError(dirty.sort(), "changing the sparse set");
  // new files first, then the set, then the removals: killed at any point, no file outside the
  // set on record holds a change, and running the command again finishes it
  const { stats, bytes } = await writeEntries(repo, writes, [], onProgress);
  await writeSparse(repo, next);
  const w = new TreeWriter(repo.root, path.join(repo.tdvDir, "tmp"));
  for (const p of removes) await w.remove(p);
  for (const [p, e] of stats) index.entries.set(p, e);
  for (const p of removes) {
    const e = index.entries.get(p)!;
    index.entries.set(p, { ...e, mtimeMs: 0, ctimeMs: 0, ino: 0 });
  }
  await repo.writeIndex(index);
  return result({ written: writes.length, removed: removes.length, bytes });
}
