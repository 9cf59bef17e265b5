/**
 * A first checkout written as its chunks arrive: a clone's fetch hands over
 * each chunk it verified, and its working files are written then (from the
 * bytes in hand, or a kernel copy of the object just stored), on libuv's
 * threads while the next chunks download, instead of all copied from the
 * store once the fetch is done.
 *
 * The checkout that follows (materialize) stays the authority: it takes a
 * file placed here only where the file still is what was placed (same stat
 * data as recorded) and holds the target's chunk; it writes every other
 * file, and the index. A clone killed in between leaves files that a resumed
 * clone's checkout checks as any file in the way (hashed, kept when it holds
 * the target's bytes), or that a failed clone removes with the rest.
 */
import path from "node:path";
import type { ChunkId, GitOid } from "../format/hash.js";
import type { SnapEntry } from "../repo/snapshot.js";
import type { Repository } from "../repo/repository.js";
import { type FileStat, TreeWriter } from "./worktree.js";

/** Working files placed ahead of a checkout: path → the chunk it holds and its stat data as placed. */
export type PrePlaced = ReadonlyMap<string, { id: string; stat: FileStat }>;

export class ArrivingCheckout {
  private readonly paths = new Map<string, string[]>();
  private readonly writer: TreeWriter;
  readonly placed = new Map<string, { id: string; stat: FileStat }>();

  constructor(
    repo: Repository,
    /** the tree being checked out (the checkout that follows must be of the same one) */
    readonly tree: GitOid,
    /** its files (readSnapshot: every path checked) */
    files: ReadonlyMap<string, SnapEntry>,
  ) {
    this.writer = new TreeWriter(repo.root, path.join(repo.tdvDir, "tmp"));
    for (const [p, e] of files) {
      if (e.store !== "chunk") continue;
      const at = this.paths.get(e.id);
      if (at) at.push(p);
      else this.paths.set(e.id, [p]);
    }
  }

  /** Write the working files of chunk `id`, verified by the caller: its bytes, or a file holding them. */
  async arrived(id: ChunkId, got: { parts: readonly Uint8Array[] } | { file: string }): Promise<void> {
    const at = this.paths.get(id);
    if (!at) return;
    this.paths.delete(id); // each file once, should the chunk come twice
    const from = "parts" in got ? { parts: got.parts } : { src: got.file };
    for (const p of at) {
      const st = await this.writer.placeAsync(p, from);
      if (!st) return; // files are written in place here: the checkout writes them
      this.placed.set(p, { id, stat: st });
    }
  }

  /** Remove the files placed (a checkout of another tree follows). */
  async discard(): Promise<void> {
    for (const p of this.placed.keys()) await this.writer.remove(p);
    this.placed.clear();
  }
}
