/**
 * Remote fsck (`tdv remote fsck NAME`): does the remote hold everything its
 * refs need, intact?
 *
 * 1. Every ref object under git/refs/ is read (http: git/info/refs).
 * 2. The graph is walked from them, each Git object downloaded from the
 *    remote and checked against its SHA-1 (commits, tags, trees, metadata,
 *    manifest shards, file lists).
 * 3. Every chunk the manifests and file lists name is looked up in one
 *    listing of chunks/ (http: a HEAD each); a size that differs from the
 *    manifest's is damage. With `rehash`, every chunk is downloaded and
 *    checked against its SHA-256.
 *
 * Each problem names the object, its kind and the ref that needs it. Nothing
 * is written to the remote or here.
 */
import { sha256, type ChunkId } from "../format/hash.js";
import type { Repository } from "../repo/repository.js";
import type { BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { chunkKey, RemoteRepo } from "./layout.js";
import { readRemoteRoots, walkRemote, type WalkProblem } from "./remote-walk.js";
import { mapSettled, meter, type OnTransferProgress } from "./transfer.js";

export interface RemoteFsckProblem {
  kind: "missing" | "corrupt" | "bad-ref";
  /** "commit", "tree", "blob", "tag", "chunk", "ref" */
  type: string;
  /** the object's id (the ref's name for bad-ref) */
  id: string;
  /** the ref that needs it */
  ref: string;
  /** where in that ref's history or snapshot */
  path: string;
  detail: string;
}

export interface RemoteFsckOptions {
  /** a remote name (needs `repo`) or URL; default: origin, or the only remote */
  remote?: string;
  /** download every chunk and check it against its SHA-256 */
  rehash?: boolean;
  concurrency?: number;
  onProgress?: OnTransferProgress;
  backend?: BackendOptions;
}

export interface RemoteFsckResult {
  remote: string | null;
  url: string;
  refs: string[];
  checked: { gitObjects: number; chunks: number; chunkBytes: number };
  /** chunks downloaded and re-hashed (rehash) */
  rehashed: { chunks: number; bytes: number };
  problems: RemoteFsckProblem[];
  ok: boolean;
}

export async function remoteFsck(repo: Repository | null, opts: RemoteFsckOptions = {}): Promise<RemoteFsckResult> {
  const { concurrency = 16, onProgress, rehash = false } = opts;
  const { name, url } = repo ? resolveRemote(repo, opts.remote) : { name: null, url: opts.remote ?? "" };
  const remote = await RemoteRepo.open(url, opts.backend);
  await remote.requireConfig();
  const problems: RemoteFsckProblem[] = [];

  const { roots, problems: refProblems } = await readRemoteRoots(remote);
  for (const p of refProblems) problems.push({ kind: "bad-ref", type: "ref", id: p.ref, ref: p.ref, path: p.key, detail: p.detail });

  const graph = await walkRemote(remote, {
    roots,
    concurrency,
    ...(onProgress ? { onProgress } : {}),
    onProblem: (p: WalkProblem) => problems.push({ ...p }),
  });

  // chunks: presence and size from one listing (http: HEAD each)
  const ids = [...graph.chunks.keys()];
  const listed = new Map<string, number>();
  if (remote.backend.writable) {
    for await (const o of remote.backend.listObjects("chunks/")) listed.set(o.key, o.size);
  } else {
    const m = meter(onProgress, "checking chunks", ids.length);
    const heads = await mapSettled(ids, concurrency, async (id) => {
      const h = await remote.backend.head(chunkKey(id));
      m.add(0);
      return h;
    });
    ids.forEach((id, i) => {
      const h = heads[i];
      if (h) listed.set(chunkKey(id), h.size);
    });
  }
  const present: ChunkId[] = [];
  let chunkBytes = 0;
  for (const id of ids) {
    const need = graph.chunks.get(id) as { ref: string; path: string; size: number };
    const size = listed.get(chunkKey(id));
    if (size === undefined) {
      problems.push({ kind: "missing", type: "chunk", id, ref: need.ref, path: need.path, detail: "not on the remote" });
    } else if (size !== need.size) {
      problems.push({ kind: "corrupt", type: "chunk", id, ref: need.ref, path: need.path, detail: `${size} bytes on the remote, the manifest records ${need.size}` });
    } else {
      present.push(id);
      chunkBytes += size;
    }
  }

  const rehashed = { chunks: 0, bytes: 0 };
  if (rehash && present.length > 0) {
    const m = meter(onProgress, "re-hashing chunks", present.length, chunkBytes);
    await mapSettled(present, concurrency, async (id) => {
      const need = graph.chunks.get(id) as { ref: string; path: string; size: number };
      const got = await remote.backend.get(chunkKey(id));
      if (!got) {
        problems.push({ kind: "missing", type: "chunk", id, ref: need.ref, path: need.path, detail: "gone from the remote while it was checked" });
      } else {
        const actual = sha256(got.bytes);
        if (actual !== id) problems.push({ kind: "corrupt", type: "chunk", id, ref: need.ref, path: need.path, detail: `its bytes on the remote hash to ${actual}` });
        rehashed.chunks++;
        rehashed.bytes += got.bytes.byteLength;
      }
      m.add(got?.bytes.byteLength ?? 0);
    });
  }

  const order = { "bad-ref": 0, missing: 1, corrupt: 2 } as const;
  problems.sort((a, b) => order[a.kind] - order[b.kind] || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    remote: name,
    url,
    refs: [...roots.keys()],
    checked: { gitObjects: graph.git.size, chunks: ids.length, chunkBytes },
    rehashed,
    problems,
    ok: problems.length === 0,
  };
}
