/**
 * Fetch: bring the remote's branches and tags here, verified.
 *
 * 1. Read the remote's refs.
 * 2. Walk from them, downloading every Git object this repository lacks
 *    (commits, trees, metadata blobs, manifest shards): each is inflated and
 *    its SHA-1 checked against its name before it is parsed. A commit or tree
 *    that is already here is complete (this repository only ever stores an
 *    object after everything it names), so the walk stops there.
 * 3. Unless lazy: download the chunks the new manifests and file lists name
 *    that are not here, each checked against its SHA-256, and store them.
 * 4. Store the Git objects, children before parents, so that a crash leaves
 *    only unreferenced objects, never a commit or tree with a hole.
 * 5. Move the remote-tracking refs (refs/remotes/NAME/BRANCH) and create new
 *    tags.
 *
 * Any mismatch is an error naming the object; nothing is referenced until
 * all it needs is stored.
 */
import path from "node:path";
import { isTdvError, UsageError, CorruptObjectError } from "../errors.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { isAncestor } from "../repo/history.js";
import type { Repository } from "../repo/repository.js";
import { walkReachable } from "../repo/walk.js";
import { asAccessError, exists, tempName } from "../store/atomic.js";
import type { BackendOptions } from "./backend.js";
import { resolveRemote } from "./config.js";
import { RemoteObjectCorruptError, RemoteObjectMissingError } from "./errors.js";
import { lazyChunkFetcher } from "./lazy.js";
import { parseTree } from "../format/git-object.js";
import { decodeLoose, headerLinks, type GitType } from "./git-objects.js";
import { chunkKey, gitObjectKey, RemoteRepo, type IgnoredRemoteRef, type RemoteRef } from "./layout.js";
import { copyFile, storeBytes, storeParts, type StoreOutcome } from "./verify-pool.js";
import { addCount, checkJobs, drain, mapSettled, meter, zeroCounts, type OnTransferProgress, type TransferCounts } from "./transfer.js";
import type { ObjectStore, ObjectWriter } from "../store/types.js";
import { PendingObjects } from "./pending-objects.js";

export interface FetchOptions {
  /** a remote name or URL (default: origin, or the only remote) */
  remote?: string;
  /** metadata only; chunks come on demand (default: as the repository was cloned) */
  lazy?: boolean;
  /** also download every chunk that local refs reach and that is missing (completes a lazy clone) */
  allChunks?: boolean;
  /** remove remote-tracking refs whose branch is gone from the remote (git's --prune); default: keep them */
  prune?: boolean;
  concurrency?: number;
  onProgress?: OnTransferProgress;
  backend?: BackendOptions;
  /**
   * Stop early: once aborted, no new download or write starts, the ones in
   * flight finish, and fetch throws `signal.reason`. What was stored is
   * complete (objects before what names them); no ref has moved unless
   * everything it names is here.
   */
  signal?: AbortSignal;
  /**
   * Filled with the ids of the chunks this fetch stored after hashing their
   * bytes (not those already here): a clone's checkout copies these without
   * reading them again.
   */
  verifiedInto?: Set<ChunkId>;
  /**
   * The remote as the caller opened and read it moments before (a clone:
   * its tdv.json checked, its refs and HEAD read), used instead of reading
   * them again when `url` is the one this fetch resolves
   */
  opened?: OpenedRemote;
  /**
   * Called once the new metadata is downloaded and verified, before any
   * chunk: `git` reads the fetched Git objects (not stored yet) and this
   * repository's; `refs` are the remote's. May return where each chunk's
   * verified bytes go as well as the store, as they arrive (a clone writes
   * its working files from them).
   */
  onMetadata?: (view: { git: ObjectStore; refs: ReadonlyMap<string, GitOid> }) => Promise<ChunkArrival | undefined>;
}

/**
 * A chunk this fetch verified: its bytes as received (hashed to its id), or,
 * when they never passed through this process (a folder remote's copy), the
 * store's file, which this fetch wrote after hashing every byte of it.
 */
export type ChunkArrival = (id: ChunkId, got: { parts: readonly Uint8Array[] } | { file: string }) => Promise<void>;

/** A remote opened and read (fetch's `opened`). */
export interface OpenedRemote {
  url: string;
  remote: RemoteRepo;
  refs: Awaited<ReturnType<RemoteRepo["scanRefs"]>>;
  head: Awaited<ReturnType<RemoteRepo["readHead"]>>;
}

/** Open the remote at `url` and read what a fetch starts from, at once: its tdv.json (NotARemoteRepositoryError when none), refs and HEAD. */
async function openRemote(url: string, backend?: BackendOptions): Promise<OpenedRemote> {
  const remote = await RemoteRepo.open(url, backend);
  const refs = remote.scanRefs();
  const head = remote.readHead();
  // all three in flight at once; a refusal of the first wins, and the others' failures are not left unhandled
  refs.catch(() => {});
  head.catch(() => {});
  await remote.requireConfig();
  return { url, remote, refs: await refs, head: await head };
}

export type FetchRefStatus = "new" | "updated" | "forced" | "up-to-date" | "deleted" | "rejected";

export interface FetchedRef {
  /** the ref on the remote ("refs/heads/main") */
  ref: string;
  /** where it is kept here ("refs/remotes/origin/main", "refs/tags/v1"); null when fetched by URL */
  localRef: string | null;
  old: GitOid | null;
  new: GitOid | null;
  status: FetchRefStatus;
}

export interface FetchResult {
  remote: string | null;
  url: string;
  refs: FetchedRef[];
  /** the remote's default branch ("main"), if it says */
  defaultBranch: string | null;
  /** refs the remote names that were not taken (a name that could lead outside refs/, a HEAD naming one), and why */
  ignored: IgnoredRemoteRef[];
  downloaded: TransferCounts;
  /** objects the new metadata names that were already here (bytes: chunks only) */
  skipped: { objects: number; bytes: number };
  lazy: boolean;
}

type Role = "any" | "tree" | "manifest" | "blob" | "shard" | "filelist";

interface Fetched {
  type: GitType;
  content: Buffer;
  links: GitOid[];
}

export function fetch(repo: Repository, opts?: Parameters<typeof _fetch>[1]): ReturnType<typeof _fetch> {
  return repo.writing("fetch", () => _fetch(repo, opts));
}

async function _fetch(repo: Repository, opts: FetchOptions = {}): Promise<FetchResult> {
  const { concurrency = 16, onProgress, signal } = opts;
  checkJobs(concurrency);
  const { name, url } = resolveRemote(repo, opts.remote);
  const remoteLabel = name ? `remote ${name} (${url})` : url;
  const lazy = opts.lazy ?? (repo.config.lazy !== undefined && repo.config.lazy.remote === name);
  if (lazy && !name) throw new UsageError("a lazy fetch needs a named remote (its chunks are fetched from it later)", { hint: "`tdv remote add NAME URL` first" });
  const pre = opts.opened?.url === url ? opts.opened : null;
  const { remote, refs: scanned, head } = pre ?? (await openRemote(url, opts.backend));
  const { refs: remoteRefs } = scanned;
  const ignored = [...scanned.ignored];
  if (head.ignored) ignored.unshift(head.ignored);
  const defaultBranch = head.branch?.slice("refs/heads/".length) ?? null;

  const downloaded = zeroCounts();
  const skipped = { objects: 0, bytes: 0 };

  // 2. missing Git objects, verified, kept in memory until step 4
  const fetched = new Map<string, Fetched>();
  const chunkRefs = new Map<ChunkId, number>();
  const roots = [...new Set([...remoteRefs.values()].map((r) => r.oid))];
  const seen = new Set<string>(roots);
  const refsAt = (oid: string) => [...remoteRefs].filter(([, r]) => r.oid === oid).map(([ref]) => ref);
  const meta = meter(onProgress, "receiving metadata", roots.length);
  await drain<{ oid: GitOid; role: Role; path: string }>(
    roots.map((oid) => ({ oid, role: "any", path: "" })),
    concurrency,
    async ({ oid, role, path: at }, enqueue) => {
      signal?.throwIfAborted();
      const where = role === "any" ? `commit or tag ${oid}` : role === "tree" || role === "manifest" ? `tree ${at || "(root)"}` : at;
      if (await hasGitObject(repo, oid)) {
        skipped.objects++;
        meta.add(0);
        return;
      }
      const got = await remote.backend.get(gitObjectKey(oid));
      if (!got) {
        // a ref naming a missing commit is named; deeper objects by their place in the snapshot
        const refs = role === "any" ? refsAt(oid) : [];
        throw new RemoteObjectMissingError(oid, role === "any" ? "commit" : `Git object (${where})`, remoteLabel, refs);
      }
      const obj = decodeLoose(oid, got.bytes, `${where}, downloaded from ${url}`);
      checkRole(oid, obj.type, role, where);
      const links: GitOid[] = [];
      const follow = (child: GitOid, childRole: Role, childPath: string) => {
        links.push(child);
        if (seen.has(child)) return;
        seen.add(child);
        meta.grow(1);
        enqueue({ oid: child, role: childRole, path: childPath });
      };
      if (obj.type === "commit" || obj.type === "tag") {
        const l = headerLinks(oid, obj.type, obj.content);
        if (l.tree) follow(l.tree, "tree", "");
        for (const p of l.parents) follow(p, "any", "");
        if (l.object) follow(l.object, "any", "");
      } else if (obj.type === "tree") {
        for (const e of parseTree(obj.content, oid)) {
          if (e.mode === "160000") continue;
          const rel = at ? `${at}/${e.name}` : e.name;
          if (e.mode === "040000") follow(e.oid, e.name === MANIFEST_TREE ? "manifest" : "tree", rel);
          else follow(e.oid, role === "manifest" ? "shard" : e.name === FILE_LIST ? "filelist" : "blob", rel);
        }
      } else if (role === "shard") {
        for (const c of decodeShard(obj.content, where).entries) chunkRefs.set(c.id, c.size);
      } else if (role === "filelist") {
        for (const f of decodeFileList(obj.content, where)) chunkRefs.set(f.id, f.size);
      }
      fetched.set(oid, { type: obj.type, content: obj.content, links });
      addCount(downloaded, "git", got.bytes.byteLength);
      meta.add(got.bytes.byteLength);
    },
  );

  // 3. chunks
  if (!lazy && chunkRefs.size > 0) {
    const ids = [...chunkRefs.keys()];
    const here = await mapSettled(ids, 64, (id) => repo.chunks.has(id));
    const missing = ids.filter((_, i) => !here[i]);
    for (const id of ids.filter((_, i) => here[i])) {
      skipped.objects++;
      skipped.bytes += chunkRefs.get(id) ?? 0;
    }
    const arrived =
      opts.onMetadata && missing.length > 0
        ? await opts.onMetadata({ git: new PendingObjects(fetched, repo.git), refs: new Map([...remoteRefs].map(([ref, r]) => [ref, r.oid])) })
        : undefined;
    signal?.throwIfAborted();
    await downloadChunks(repo, remote, missing, chunkRefs, { concurrency, onProgress, counts: downloaded, signal, label: remoteLabel, verifiedInto: opts.verifiedInto, arrived });
  }

  // 4. store the Git objects, children first
  signal?.throwIfAborted();
  await repo.git.withPack((pack) => storeInOrder(fetched, concurrency, pack)); // one pack for many objects, written whole
  signal?.throwIfAborted();

  // 5. refs
  const refs = await updateLocalRefs(repo, name, remoteRefs, opts.prune === true);
  if (lazy && name && repo.config.lazy?.remote !== name) {
    await repo.updateConfig((c) => {
      c.lazy = { remote: name };
    });
    repo.chunks.fallback = lazyChunkFetcher(repo, name);
  }

  if (opts.allChunks) {
    await completeChunks(repo, remote, { concurrency, onProgress, counts: downloaded, skipped, signal, label: remoteLabel, verifiedInto: opts.verifiedInto });
    if (repo.config.lazy) {
      await repo.updateConfig((c) => void delete c.lazy);
      repo.chunks.fallback = undefined;
    }
  }
  return { remote: name, url, refs, defaultBranch, ignored, downloaded, skipped, lazy: lazy && !opts.allChunks };
}

async function hasGitObject(repo: Repository, oid: GitOid): Promise<boolean> {
  if (await exists(path.join(repo.git.gitdir, "objects", oid.slice(0, 2), oid.slice(2)))) return true;
  return (await repo.git.typeOf(oid)) !== null;
}

function checkRole(oid: GitOid, type: GitType, role: Role, where: string): void {
  const want = role === "any" ? ["commit", "tag"] : role === "tree" || role === "manifest" ? ["tree"] : ["blob"];
  if (!want.includes(type)) throw new CorruptObjectError(oid, `${where}: expected a ${want.join(" or ")}, the remote holds a ${type}`);
}

async function downloadChunks(
  repo: Repository,
  remote: RemoteRepo,
  ids: ChunkId[],
  sizes: Map<ChunkId, number>,
  {
    concurrency,
    onProgress,
    counts,
    signal,
    label = remote.url,
    verifiedInto,
    arrived,
  }: {
    concurrency: number;
    onProgress: OnTransferProgress | undefined;
    counts: TransferCounts;
    signal?: AbortSignal | undefined;
    label?: string;
    verifiedInto?: Set<ChunkId> | undefined;
    arrived?: ChunkArrival | undefined;
  },
): Promise<void> {
  if (ids.length === 0) return;
  const m = meter(onProgress, "receiving chunks", ids.length, ids.reduce((s, id) => s + (sizes.get(id) ?? 0), 0));
  const store = repo.chunks;
  await mapSettled(ids, concurrency, async (id) => {
    signal?.throwIfAborted();
    // verified and written on a worker thread (verify-pool.ts): under its name only once its bytes hash to it
    const file = store.pathOf(id);
    const task = { id, file, tmp: tempName(file), durable: store.durability.syncEachWrite, check: true, mode: 0o444 };
    const src = remote.backend.localFile?.(chunkKey(id));
    let out: StoreOutcome;
    let received = sizes.get(id) ?? 0;
    /** the verified bytes in hand, for `arrived` */
    let parts: readonly Uint8Array[] | null = null;
    try {
      if (src) out = await copyFile(src, task, sizes.get(id));
      else if (remote.backend.getParts) {
        // the body as it arrived, hashed and written piece by piece (S3): no copy into one buffer
        const got = await remote.backend.getParts(chunkKey(id));
        if (!got) throw new RemoteObjectMissingError(id, "chunk", label);
        received = got.bytes;
        out = await storeParts(got.parts, task);
        parts = got.parts;
      } else {
        const got = await remote.backend.get(chunkKey(id));
        if (!got) throw new RemoteObjectMissingError(id, "chunk", label);
        received = got.bytes.byteLength;
        out = await storeBytes(got.bytes, task);
        parts = [got.bytes];
      }
    } catch (err) {
      if (isTdvError(err)) throw err;
      throw asAccessError(err, (err as NodeJS.ErrnoException).path ?? file);
    }
    if ("missing" in out) throw new RemoteObjectMissingError(id, "chunk", label);
    if ("corrupt" in out) throw new RemoteObjectCorruptError(id, "chunk", label, `its bytes hash to ${out.corrupt}`);
    if (out.wrote) {
      store.durability.written(file, out.bytes);
      verifiedInto?.add(id); // hashed on the way in, and stored by this process
    }
    if (src && out.wrote) received = out.bytes;
    // hashed to its id on the way in (bytes in hand), or copied by this fetch with every byte hashed (the store's file)
    if (arrived) {
      if (parts) await arrived(id, { parts });
      else if (out.wrote) await arrived(id, { file });
    }
    addCount(counts, "chunk", received);
    m.add(received);
  });
}

/** Write fetched objects so that every object is stored after all the fetched objects it names. */
async function storeInOrder(fetched: Map<string, Fetched>, concurrency: number, pack: ObjectWriter): Promise<void> {
  const level = new Map<string, number>();
  for (const root of fetched.keys()) {
    const stack: [string, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [oid, expanded] = stack.pop() as [string, boolean];
      if (level.has(oid)) continue;
      const rec = fetched.get(oid) as Fetched;
      const kids = rec.links.filter((c) => fetched.has(c));
      if (!expanded) {
        stack.push([oid, true]);
        for (const c of kids) if (!level.has(c)) stack.push([c, false]);
      } else {
        level.set(oid, kids.reduce((mx, c) => Math.max(mx, (level.get(c) ?? 0) + 1), 0));
      }
    }
  }
  const byLevel: string[][] = [];
  for (const [oid, l] of level) {
    byLevel[l] ??= [];
    byLevel[l].push(oid);
  }
  for (const oids of byLevel) {
    if (!oids) continue;
    await mapSettled(oids, concurrency, async (oid) => {
      const rec = fetched.get(oid) as Fetched;
      const written = await pack.writeRaw(rec.type, rec.content);
      if (written !== oid) throw new CorruptObjectError(oid, `stored as ${written}`);
    });
  }
}

async function updateLocalRefs(repo: Repository, name: string | null, remoteRefs: Map<string, RemoteRef>, prune: boolean): Promise<FetchedRef[]> {
  const out: FetchedRef[] = [];
  const who = repo.identity();
  for (const [ref, r] of remoteRefs) {
    if (ref.startsWith("refs/heads/")) {
      if (!name) {
        out.push({ ref, localRef: null, old: null, new: r.oid, status: "new" });
        continue;
      }
      const localRef = `refs/remotes/${name}/${ref.slice("refs/heads/".length)}`;
      const old = await repo.refs.read(localRef).catch(() => null);
      if (old === r.oid) {
        out.push({ ref, localRef, old, new: r.oid, status: "up-to-date" });
        continue;
      }
      const status: FetchRefStatus = old === null ? "new" : (await isAncestor(repo, old, r.oid).catch(() => false)) ? "updated" : "forced";
      await repo.refs.update(localRef, { expected: old, next: r.oid, who, message: `fetch: ${status === "forced" ? "forced-update" : status === "new" ? "storing head" : "fast-forward"}` });
      out.push({ ref, localRef, old, new: r.oid, status });
    } else if (ref.startsWith("refs/tags/") && name) {
      const old = await repo.refs.read(ref).catch(() => null);
      if (old === r.oid) out.push({ ref, localRef: ref, old, new: r.oid, status: "up-to-date" });
      else if (old !== null) out.push({ ref, localRef: ref, old, new: r.oid, status: "rejected" });
      else {
        await repo.refs.update(ref, { expected: null, next: r.oid, who, message: "fetch: storing tag" });
        out.push({ ref, localRef: ref, old, new: r.oid, status: "new" });
      }
    }
  }
  // branches deleted on the remote: drop their tracking refs (fetch --prune)
  if (name && prune) {
    for (const [localRef, oid] of await repo.refs.list(`refs/remotes/${name}/`)) {
      const ref = `refs/heads/${localRef.slice(`refs/remotes/${name}/`.length)}`;
      if (remoteRefs.has(ref)) continue;
      await repo.refs.update(localRef, { expected: oid, next: null, who, message: "fetch: pruned" });
      out.push({ ref, localRef, old: oid, new: null, status: "deleted" });
    }
  }
  return out;
}

/** Download every chunk that any local ref reaches and that is not here. */
async function completeChunks(
  repo: Repository,
  remote: RemoteRepo,
  {
    concurrency,
    onProgress,
    counts,
    skipped,
    signal,
    label,
    verifiedInto,
  }: {
    concurrency: number;
    onProgress: OnTransferProgress | undefined;
    counts: TransferCounts;
    skipped: { objects: number; bytes: number };
    signal?: AbortSignal | undefined;
    label: string;
    verifiedInto?: Set<ChunkId> | undefined;
  },
): Promise<void> {
  const roots = new Set<GitOid>();
  for (const prefix of ["refs/heads/", "refs/tags/", "refs/remotes/"]) for (const oid of (await repo.refs.list(prefix)).values()) roots.add(oid);
  const head = await repo.refs.head();
  if (head.oid) roots.add(head.oid);
  const sizes = new Map<ChunkId, number>();
  await walkReachable(repo, { roots: [...roots] }, { chunk: (id, size) => void sizes.set(id, size) });
  const ids = [...sizes.keys()];
  const here = await mapSettled(ids, 64, (id) => repo.chunks.has(id));
  const missing = ids.filter((_, i) => !here[i]);
  skipped.objects += ids.length - missing.length;
  await downloadChunks(repo, remote, missing, sizes, { concurrency, onProgress, counts, signal, label, verifiedInto });
}
