/**
 * A lazy clone (`tdv clone --lazy`) holds every commit, tree and manifest but
 * no chunk until one is read: the ChunkStore asks this source for an object
 * it lacks; the store verifies the bytes against the id and keeps them.
 * The lazy remote promises every chunk the fetched metadata names (git's
 * promisor remote): `fsck` counts an absent chunk as promised, not missing.
 */
import type { Repository } from "../repo/repository.js";
import type { ChunkSource } from "../store/objects.js";
import { openBackend, type ObjectBackend } from "./backend.js";
import { UnknownRemoteError } from "./errors.js";
import { chunkKey } from "./layout.js";

export function lazyChunkFetcher(repo: Repository, remote: string): ChunkSource {
  const url = repo.config.remotes?.[remote]?.url;
  let backend: Promise<ObjectBackend> | undefined;
  const open = (): Promise<ObjectBackend> =>
    (backend ??= (async () => {
      if (!url) throw new UnknownRemoteError(remote, Object.keys(repo.config.remotes ?? {}));
      return openBackend(url);
    })());
  return {
    remote,
    url: url ?? "(no URL)",
    fetch: async (id) => {
      const got = await (await open()).get(chunkKey(id));
      return got ? got.bytes : null;
    },
    has: async (id) => (await (await open()).head(chunkKey(id))) !== null,
  };
}
