/**
 * A lazy clone (`tdv clone --lazy`) holds every commit, tree and manifest but
 * no chunk until one is read: the ChunkStore asks this source for an object
 * it lacks; the store verifies the bytes against the id and keeps them.
 * The lazy remote promises every chunk the fetched metadata names (git's
 * promisor remote): `fsck` counts an absent chunk as promised, not missing.
 */
import { Repository, type OpenOptions } from "../repo/repository.js";
import type { ChunkSource } from "../store/objects.js";
import { openBackend, type ObjectBackend } from "./backend.js";
import { UnknownRemoteError } from "./errors.js";
import { chunkKey } from "./keys.js";

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

/**
 * Open the repository holding `dir` (Repository.open) with the lazy remote's
 * chunk fetcher wired in: a lazy clone then downloads the chunks it lacks when
 * they are read. Whatever opens a repository for a user (the CLI, clone) opens it so.
 */
export function openRepository(opts: Parameters<typeof Repository.open>[0] = {}): Promise<Repository> {
  return Repository.open({ chunkFetcher: lazyChunkFetcher, ...opts } satisfies OpenOptions);
}
