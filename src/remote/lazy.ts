/**
 * A lazy clone (`tdv clone --lazy`) holds every commit, tree and manifest but
 * no chunk until one is read: the ChunkStore asks this fetcher for an object
 * it lacks; the store verifies the bytes against the id and keeps them.
 */
import type { ChunkId } from "../format/hash.js";
import type { Repository } from "../repo/repository.js";
import { openBackend, type ObjectBackend } from "./backend.js";
import { UnknownRemoteError } from "./errors.js";
import { chunkKey } from "./layout.js";

export function lazyChunkFetcher(repo: Repository, remote: string): (id: ChunkId) => Promise<Uint8Array | null> {
  let backend: Promise<ObjectBackend> | undefined;
  return async (id) => {
    backend ??= (async () => {
      const url = repo.config.remotes?.[remote]?.url;
      if (!url) throw new UnknownRemoteError(remote, Object.keys(repo.config.remotes ?? {}));
      return openBackend(url);
    })();
    const got = await (await backend).get(chunkKey(id));
    return got ? got.bytes : null;
  };
}
