/**
 * Reachability: every object a set of commits needs — commits, trees, blobs
 * (metadata, manifests, file lists), tag objects — and every chunk object
 * their manifests and file lists name. fsck, gc and push are built on it.
 */
import type { ChunkId, GitOid } from "../format/hash.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import type { Repository } from "./repository.js";

export interface WalkVisitor {
  /** a Git object; `path` says where it was met (for error messages) */
  git?(oid: GitOid, type: "commit" | "tree" | "blob" | "tag", path: string): void | Promise<void>;
  /** a chunk object named by a manifest or file list */
  chunk?(id: ChunkId, size: number, path: string): void | Promise<void>;
}

export interface WalkOptions {
  /** commits (or tag objects) to start from */
  roots: GitOid[];
  /** commits already known to be complete (e.g. on the remote): not entered */
  haveCommits?: ReadonlySet<string>;
  /** follow parents (default true); false walks only the roots' snapshots */
  history?: boolean;
}

/**
 * Visit every object reachable from `roots`, each once. Trees are entered
 * only the first time their id is met, so shared subtrees (unchanged arrays
 * between commits) cost nothing the second time.
 */
export async function walkReachable(repo: Repository, opts: WalkOptions, visit: WalkVisitor): Promise<{ commits: number; trees: number; blobs: number; chunks: number }> {
  const { roots, haveCommits = new Set<string>(), history = true } = opts;
  const seen = new Set<string>();
  const counts = { commits: 0, trees: 0, blobs: 0, chunks: 0 };
  const stack: GitOid[] = [...roots];

  // The same bytes can be a plain file (folder) in one place and a manifest shard (tree) or
  // file list in another: each object is visited once, but read once in each role it has.
  const walkTree = async (oid: GitOid, where: string, inManifest: boolean): Promise<void> => {
    const role = `${oid}:${inManifest ? "manifest" : "tree"}`;
    if (seen.has(role)) return;
    seen.add(role);
    if (!seen.has(oid)) {
      seen.add(oid);
      counts.trees++;
      await visit.git?.(oid, "tree", where);
    }
    for (const e of await repo.git.readTree(oid, where || "root tree")) {
      const rel = where ? `${where}/${e.name}` : e.name;
      if (e.mode === "040000") {
        await walkTree(e.oid, rel, e.name === MANIFEST_TREE);
        continue;
      }
      if (e.mode === "160000") continue;
      const decode = visit.chunk !== undefined && (inManifest || e.name === FILE_LIST);
      const blobRole = `${e.oid}:${inManifest ? "shard" : "files"}`;
      if (seen.has(e.oid) && (!decode || seen.has(blobRole))) continue;
      if (!seen.has(e.oid)) {
        seen.add(e.oid);
        counts.blobs++;
        await visit.git?.(e.oid, "blob", rel);
      }
      if (!decode) continue;
      seen.add(blobRole);
      if (inManifest) {
        for (const c of decodeShard(await repo.git.readBlob(e.oid, rel), rel).entries) await chunk(c.id, c.size, rel);
      } else if (e.name === FILE_LIST) {
        for (const f of decodeFileList(await repo.git.readBlob(e.oid, rel), rel)) await chunk(f.id, f.size, rel);
      }
    }
  };
  const chunk = async (id: ChunkId, size: number, where: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    counts.chunks++;
    await visit.chunk?.(id, size, where);
  };

  while (stack.length > 0) {
    const oid = stack.pop() as GitOid;
    if (seen.has(oid) || haveCommits.has(oid)) continue;
    const type = await repo.git.typeOf(oid);
    if (type === "tag") {
      seen.add(oid);
      await visit.git?.(oid, "tag", `tag ${oid}`);
      stack.push((await repo.git.readTag(oid)).object);
      continue;
    }
    seen.add(oid);
    counts.commits++;
    await visit.git?.(oid, "commit", `commit ${oid}`);
    const c = await repo.git.readCommit(oid);
    await walkTree(c.tree, "", false);
    if (history) for (const p of c.parents) if (!seen.has(p) && !haveCommits.has(p)) stack.push(p);
  }
  return counts;
}
