/**
 * Read sessions over a remote (a folder, S3, http) without a clone:
 * `remoteSource("s3://bucket/era5")` is a RevisionSource whose sessions read
 * the remote's objects as they need them, one GET each, and keep them in the
 * local cache shared by every remote (object-cache.ts).
 *
 * The remote's stores, read-only:
 * - Git objects: GET git/objects/ab/cdef…, inflated and verified against the
 *   SHA-1 before they are parsed (as the local store parses them) or cached;
 *   a cached object is verified again each time it is read from the cache.
 * - refs: read from the remote each time (never cached): a ref object per
 *   name, or git/info/refs where the remote cannot be listed (http); HEAD
 *   from git/HEAD. A remote keeps no reflog: `main@{DATE}` is the newest
 *   first-parent ancestor of main committed at or before DATE (revision.ts).
 * - chunk objects: from the cache or GET chunks/ab/cdef…, verified against
 *   the SHA-256 before a byte is returned: a damaged remote object is
 *   refused (RemoteObjectCorruptError), a damaged cache file is dropped and
 *   fetched again.
 *
 * Concurrent reads of one object share one GET. When a session opens (its
 * revision resolved, its commit read), the revision's folder trees, with the
 * metadata documents, file lists and manifest trees beside them, are read in
 * the background, breadth-first, 16 folders at a time (warm). Once that is
 * done, the first chunk of any array costs two round trips: its manifest
 * shard, then the chunk; a second chunk of the same shard costs the chunk
 * alone. A read that comes before the walk reaches its folder fetches the
 * folders on its path itself (sharing the walk's GETs): one round trip per
 * folder level, as without the walk.
 */
import { MissingObjectError, UnknownRevisionError, UsageError } from "../errors.js";
import { checkGitObject, parseCommit, parseTag, parseTree, type CommitObject, type TagObject, type TreeEntry } from "../format/git-object.js";
import { isGitOid, sha256, type ChunkId, type GitOid } from "../format/hash.js";
import { FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import { Durability } from "../store/durability.js";
import { contentOfType } from "../store/git.js";
import type { ChunkStore, Head, ObjectStore, RefScan, RefStore, ReflogEntry } from "../store/types.js";
import { Repository, type RepoConfig, type Stores } from "../repo/repository.js";
import type { ReadSession } from "../session/read.js";
import { repositorySource, type RevisionSource } from "../session/source.js";
import { normalizeRemoteUrl, type BackendOptions, type ObjectBackend } from "./backend.js";
import { RemoteObjectCorruptError, RemoteObjectMissingError, UnknownRemoteError } from "./errors.js";
import { decodeLoose } from "./git-objects.js";
import { chunkKey, gitObjectKey, isSafeRef, RemoteRepo } from "./layout.js";
import { ObjectCache, type CacheOptions } from "./object-cache.js";

export interface RemoteSourceOptions extends CacheOptions {
  /**
   * Read each opened revision's folder trees in the background (default true;
   * see RemoteObjectStore.warm), so that a chunk's first byte waits only for
   * its manifest shard and the chunk. One-shot readers of one path (export)
   * turn it off: they would wait for the walk before exiting.
   */
  prefetch?: boolean;
  /** the repository whose config names remotes (a URL needs none) */
  repo?: { config: RepoConfig };
  /** the cache to use (default: one made from cacheDir, cacheBytes, env) */
  cache?: ObjectCache;
  /** the backend's options (retries, credentials' environment) */
  backend?: BackendOptions;
  /** wrap the remote's backend (tests count its requests) */
  wrapBackend?: (b: ObjectBackend) => ObjectBackend;
}

/** The remote's stores: what a Repository over a remote is made of. */
export interface RemoteStores extends Stores {
  git: RemoteObjectStore;
  refs: RemoteRefStore;
  chunks: RemoteChunkStore;
}

/**
 * The revisions of a remote, read in place: `urlOrName` is a URL (s3://,
 * file://, a path, http(s)://) or the name of one of `repo`'s remotes.
 * Reads the remote's tdv.json once (NotARemoteRepositoryError when there is
 * none, UnsupportedFormatError when newer than this tdv).
 */
export async function remoteSource(urlOrName: string, opts: RemoteSourceOptions = {}): Promise<RemoteRevisionSource> {
  const repo = await remoteRepository(urlOrName, opts);
  const base = repositorySource(repo, remoteUrl(urlOrName, opts.repo).url);
  if (opts.prefetch === false) return { ...base, warmed: () => Promise.resolve() };
  return {
    ...base,
    open: async (rev) => {
      const session = await base.open(rev);
      void repo.git.warm(session.info.tree);
      return session;
    },
    warmed: (session) => repo.git.warm(session.info.tree),
  };
}

/** A remote's revisions (remoteSource). */
export interface RemoteRevisionSource extends RevisionSource {
  /** Resolves when the background read of `session`'s folder trees (started when it opened) is done; never rejects. */
  warmed(session: ReadSession): Promise<void>;
}

/** A read-only Repository made of a remote's stores (remoteSource's repository; diff and log may take it). */
export async function remoteRepository(urlOrName: string, opts: RemoteSourceOptions = {}): Promise<Repository<RemoteStores>> {
  const { name, url } = remoteUrl(urlOrName, opts.repo);
  const opened = await RemoteRepo.open(url, { env: opts.env, ...opts.backend });
  const remote = opts.wrapBackend ? new RemoteRepo(opts.wrapBackend(opened.backend)) : opened;
  const config = await remote.requireConfig();
  const cache = opts.cache ?? ObjectCache.open(opts);
  const label = name ? `remote '${name}' (${remote.url})` : remote.url;
  const stores: RemoteStores = {
    git: new RemoteObjectStore(remote.backend, cache, label),
    refs: new RemoteRefStore(remote),
    chunks: new RemoteChunkStore(remote.backend, cache, label),
  };
  const repoConfig: RepoConfig = { formatVersion: config.formatVersion, createdBy: config.createdBy ?? "" };
  return new Repository(remote.url, cache.dir, repoConfig, stores, new Durability(cache.dir, "none"));
}

/** The URL `urlOrName` means: a remote of `repo` by name, else a URL or path. */
export function remoteUrl(urlOrName: string, repo: { config: RepoConfig } | undefined): { name: string | null; url: string } {
  const remotes = repo?.config.remotes ?? {};
  const known = Object.hasOwn(remotes, urlOrName) ? remotes[urlOrName] : undefined;
  if (known) return { name: urlOrName, url: known.url };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrName) || urlOrName.includes("/") || urlOrName.startsWith(".")) return { name: null, url: normalizeRemoteUrl(urlOrName) };
  throw new UnknownRemoteError(urlOrName, Object.keys(remotes));
}

/** What a write to a remote's read-only stores throws. */
function readOnly(url: string, what: string): UsageError {
  return new UsageError(`cannot ${what}: ${url} is open read-only here (a read session over a remote writes nothing)`, {
    hint: "clone the remote (`tdv clone URL`) to change it, then push",
  });
}

/** Map of at most `max` entries, least recently used first out. */
class Lru<K, V> {
  private readonly m = new Map<K, V>();
  private bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {}
  get(k: K): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    const old = this.m.get(k);
    if (old !== undefined) {
      this.bytes -= this.sizeOf(old);
      this.m.delete(k);
    }
    this.m.set(k, v);
    this.bytes += this.sizeOf(v);
    for (const [key, val] of this.m) {
      if (this.bytes <= this.maxBytes || key === k) break;
      this.m.delete(key);
      this.bytes -= this.sizeOf(val);
    }
  }
}

interface RawObject {
  type: string;
  content: Buffer;
}

/** Parsed objects kept in memory: trees and manifest shards are read again by every session. */
const MEMORY_BYTES = 64 << 20;
/** folders one warm walk reads at most (a tree of 10,000 arrays is read whole) */
const WARM_FOLDERS = 16_384;
/** folders a warm walk reads at once (each with up to 3 objects beside it) */
const WARM_JOBS = 16;
/** tree ids remembered as walked (about 100 bytes each), then forgotten all at once */
const WARMED_TREES = 65_536;

/** A remote's Git objects, read-only, through the cache. */
export class RemoteObjectStore implements ObjectStore {
  private readonly memory = new Lru<string, RawObject>(MEMORY_BYTES, (o) => o.content.byteLength + 64);
  private readonly inflight = new Map<string, Promise<RawObject | null>>();
  /** commits read (readCommitSync answers from these: a history walk reads each with readCommit first) */
  private readonly commits = new Map<string, CommitObject>();
  /** background walks of revisions' trees (warm), by root tree, the last 64 */
  private readonly walks = new Map<string, Promise<void>>();
  /** trees whose folder a walk has read (their subfolders queued), at most WARMED_TREES ids */
  private readonly warmedTrees = new Set<string>();
  /** GETs of Git objects sent to the remote */
  gets = 0;
  /** folders queued by warm walks */
  warmed = 0;

  constructor(
    readonly backend: ObjectBackend,
    readonly cache: ObjectCache,
    /** the remote, for messages: "remote 'origin' (s3://…)" or the URL */
    readonly label: string,
  ) {}

  /** The object, or null when the remote lacks it; verified wherever it comes from. */
  private fetch(oid: GitOid, what: string): Promise<RawObject | null> {
    const hit = this.memory.get(oid);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(oid);
    if (!p) {
      p = this.load(oid, what).finally(() => this.inflight.delete(oid));
      this.inflight.set(oid, p);
    }
    return p;
  }

  private async load(oid: GitOid, what: string): Promise<RawObject | null> {
    const cached = await this.cache.get("git", oid);
    if (cached) {
      const o = checkGitObject(cached, oid);
      if (typeof o !== "string") {
        this.memory.set(oid, o);
        return o;
      }
      await this.cache.drop("git", oid);
    }
    this.gets++;
    const got = await this.backend.get(gitObjectKey(oid));
    if (!got) return null;
    const o = decodeLoose(oid, got.bytes, `${what}, on ${this.label}`);
    this.memory.set(oid, o);
    await this.cache.put("git", oid, Buffer.concat([Buffer.from(`${o.type} ${o.content.byteLength}\0`), o.content]));
    return o;
  }

  async readObject(oid: GitOid, what: string): Promise<{ type: string; content: Buffer }> {
    if (!isGitOid(oid)) throw new MissingObjectError(oid, what);
    const o = await this.fetch(oid, what);
    if (!o) throw new RemoteObjectMissingError(oid, `Git object (${what})`, this.label);
    return o;
  }

  private async readTyped(oid: GitOid, type: string, what: string): Promise<Buffer> {
    return contentOfType(await this.readObject(oid, what), oid, type, what);
  }

  async readBlob(oid: GitOid, what = "blob"): Promise<Uint8Array> {
    return this.readTyped(oid, "blob", what);
  }

  async readTree(oid: GitOid, what = "tree"): Promise<TreeEntry[]> {
    const entries = parseTree(await this.readTyped(oid, "tree", what), oid, what);
    void this.prefetch(entries, what);
    return entries;
  }

  /**
   * Read the folder trees under `tree` breadth-first, WARM_JOBS folders at a
   * time, each with what a session reads beside it (prefetch: its metadata
   * document, file list, manifest tree), into the memory LRU and the disk
   * cache; never a manifest shard or a chunk. A session then finds any
   * array's folder without a round trip: a chunk's first byte waits for its
   * shard and the chunk (two round trips) instead of one per folder level.
   * Once per tree (a walk met again is shared; subtrees walked before are
   * skipped). Bounded: at most WARM_FOLDERS folders per walk, so a tree of
   * 10,000 arrays holds at most that many queued tree ids (about 100 bytes
   * each) and WARM_JOBS folders' objects in flight; the objects themselves
   * stay within the 64 MB memory LRU and the disk cache's limit. Failures are
   * ignored here (a read that needs the object fetches it and reports them).
   */
  warm(tree: GitOid): Promise<void> {
    let walk = this.walks.get(tree);
    if (!walk) {
      walk = this.walkTrees(tree).catch(() => undefined);
      if (this.walks.size >= 64) this.walks.delete(this.walks.keys().next().value as string);
      this.walks.set(tree, walk);
    }
    return walk;
  }

  private async walkTrees(root: GitOid): Promise<void> {
    const queue: { oid: GitOid; where: string }[] = [{ oid: root, where: "root tree" }];
    let queued = 1;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const { oid, where } = queue[next] as { oid: GitOid; where: string };
        queue[next++] = undefined as never; // drop what was taken: the queue holds only folders not read yet
        if (this.warmedTrees.has(oid)) continue;
        const entries = await this.readTree(oid, where).catch(() => null);
        if (!entries) continue;
        await Promise.all(this.prefetch(entries, where));
        for (const e of entries) {
          if (e.mode !== "040000" || e.name === MANIFEST_TREE || !isGitOid(e.oid) || queued >= WARM_FOLDERS) continue;
          queue.push({ oid: e.oid, where: where === "root tree" ? e.name : `${where}/${e.name}` });
          queued++;
        }
        if (this.warmedTrees.size >= WARMED_TREES) this.warmedTrees.clear();
        this.warmedTrees.add(oid);
      }
    };
    // a worker that finds the queue empty ends; the others may still add to it, so run rounds until none is left
    while (next < queue.length) await Promise.all(Array.from({ length: WARM_JOBS }, worker));
    this.warmed += queued;
  }

  /**
   * Start the GETs a reader of a folder makes next, together: the metadata
   * document a session reads in every folder it passes (zarr.json, else
   * .zarray), the folder's file list, and beside a document the array's
   * manifest tree. A read session reads each of them right after the tree;
   * fetched together they cost one round trip instead of one each. Nothing
   * else is fetched ahead (no shard, no chunk, no subfolder).
   */
  private prefetch(entries: readonly TreeEntry[], where: string): Promise<unknown>[] {
    const named = (name: string, dir: boolean) => entries.find((e) => e.name === name && (e.mode === "040000") === dir);
    const doc = named("zarr.json", false) ?? named(".zarray", false);
    const ahead = [doc, named(FILE_LIST, false), doc ? named(MANIFEST_TREE, true) : undefined];
    const started: Promise<unknown>[] = [];
    for (const e of ahead) {
      if (e && !this.memory.get(e.oid) && isGitOid(e.oid)) started.push(this.fetch(e.oid, where === "root tree" ? e.name : `${where}/${e.name}`).catch(() => undefined)); // a failure shows when it is read
    }
    return started;
  }

  async readCommit(oid: GitOid): Promise<CommitObject> {
    const known = this.commits.get(oid);
    if (known) return known;
    const c = parseCommit(await this.readTyped(oid, "commit", "commit"), oid);
    this.commits.set(oid, c);
    return c;
  }

  /** A commit read before with readCommit (a remote cannot be read without a promise). */
  readCommitSync(oid: GitOid): CommitObject {
    const known = this.commits.get(oid);
    if (known) return known;
    throw new UsageError(`commit ${oid} of ${this.label} was not read yet: a remote's objects are read asynchronously (readCommit)`, {
      hint: "read the commit with readCommit first; commands that walk history synchronously need a clone (`tdv clone URL`)",
    });
  }

  async readTag(oid: GitOid): Promise<TagObject> {
    return parseTag(await this.readTyped(oid, "tag", "tag"), oid);
  }

  async typeOf(oid: GitOid): Promise<string | null> {
    if (!isGitOid(oid)) return null;
    return (await this.fetch(oid, "object"))?.type ?? null;
  }

  /** Object ids starting with `prefix`: listed where the remote can list (file, S3); over http only a full id. */
  async expand(prefix: string): Promise<GitOid[]> {
    if (isGitOid(prefix)) return (await this.typeOf(prefix)) === null ? [] : [prefix];
    if (!this.backend.writable) {
      throw new UnknownRevisionError(prefix, `${this.label} cannot be listed, so an abbreviated commit id cannot be looked up there: give all 40 hex digits, a branch or a tag`);
    }
    const dir = `git/objects/${prefix.slice(0, 2)}/`;
    const out: GitOid[] = [];
    for await (const key of this.backend.list(dir)) {
      const oid = `${prefix.slice(0, 2)}${key.slice(dir.length)}`;
      if (oid.startsWith(prefix) && isGitOid(oid)) out.push(oid);
    }
    return out;
  }

  /** The best common ancestors of two commits (those no other common ancestor descends from). */
  async mergeBase(a: GitOid, b: GitOid): Promise<GitOid[]> {
    const ofA = await this.ancestors([a]);
    const common: GitOid[] = [];
    const seen = new Set<string>();
    const queue = [b];
    while (queue.length > 0) {
      const c = queue.shift() as GitOid;
      if (seen.has(c)) continue;
      seen.add(c);
      if (ofA.has(c)) common.push(c);
      else queue.push(...(await this.readCommit(c)).parents);
    }
    const best: GitOid[] = [];
    for (const c of common) {
      const others = common.filter((x) => x !== c);
      const below = others.length ? await this.ancestors((await Promise.all(others.map((x) => this.readCommit(x)))).flatMap((x) => x.parents)) : new Set<string>();
      if (!below.has(c)) best.push(c);
    }
    return best;
  }

  private async ancestors(from: GitOid[]): Promise<Set<string>> {
    const out = new Set<string>();
    const queue = [...from];
    while (queue.length > 0) {
      const c = queue.pop() as GitOid;
      if (out.has(c)) continue;
      out.add(c);
      queue.push(...(await this.readCommit(c)).parents);
    }
    return out;
  }

  withPack<T>(_fn?: unknown): Promise<T> {
    return Promise.reject(readOnly(this.label, "write Git objects"));
  }
  writeRaw(_type?: unknown, _content?: Uint8Array): Promise<GitOid> {
    return Promise.reject(readOnly(this.label, "write Git objects"));
  }
  writeBlob(_content?: Uint8Array): Promise<GitOid> {
    return Promise.reject(readOnly(this.label, "write Git objects"));
  }
  writeTree(_entries?: readonly TreeEntry[], _where?: string): Promise<GitOid> {
    return Promise.reject(readOnly(this.label, "write Git objects"));
  }
  writeCommit(_c?: unknown): Promise<GitOid> {
    return Promise.reject(readOnly(this.label, "write a commit"));
  }
  writeTag(_t?: unknown): Promise<GitOid> {
    return Promise.reject(readOnly(this.label, "write a tag"));
  }
}

/** The remote's refs, read from it each time (refs move: never cached). */
export class RemoteRefStore implements RefStore {
  constructor(readonly remote: RemoteRepo) {}

  async read(ref: string): Promise<GitOid | null> {
    if (ref === "HEAD") return (await this.head()).oid;
    if (!isSafeRef(ref)) return null; // a remote holds branches and tags only
    if (!this.remote.backend.writable) return (await this.remote.listRefs()).get(ref)?.oid ?? null;
    return (await this.remote.readRef(ref))?.oid ?? null;
  }

  async list(prefix: string): Promise<Map<string, GitOid>> {
    const out = new Map<string, GitOid>();
    for (const [ref, r] of await this.remote.listRefs()) if (ref.startsWith(prefix)) out.set(ref, r.oid);
    return out;
  }

  async scan(prefix: string): Promise<RefScan> {
    const { refs, ignored } = await this.remote.scanRefs();
    const out = new Map<string, GitOid>();
    for (const [ref, r] of refs) if (ref.startsWith(prefix)) out.set(ref, r.oid);
    return { refs: out, symbolic: new Map(), broken: ignored.filter((i) => i.ref.startsWith(prefix)).map((i) => ({ ref: i.ref, file: i.where, problem: i.problem })) };
  }

  async head(): Promise<Head> {
    const branch = await this.remote.defaultBranch();
    return { branch, oid: branch ? await this.read(branch) : null };
  }

  /** A remote keeps no reflog. */
  async reflog(): Promise<ReflogEntry[]> {
    return [];
  }

  update(_ref?: string, _move?: unknown): Promise<void> {
    return Promise.reject(readOnly(this.remote.url, "move a ref"));
  }
  dropReflogEntry(_ref?: string, _n?: number, _expected?: GitOid): Promise<GitOid | null> {
    return Promise.reject(readOnly(this.remote.url, "drop a reflog entry"));
  }
  setHead(_target?: unknown, _who?: unknown, _message?: string): Promise<void> {
    return Promise.reject(readOnly(this.remote.url, "move HEAD"));
  }
}

/** A remote's chunk objects, read-only, through the cache, verified before a byte is returned. */
export class RemoteChunkStore implements ChunkStore {
  readonly fallback = undefined;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  /** GETs of chunk objects sent to the remote */
  gets = 0;

  constructor(
    readonly backend: ObjectBackend,
    readonly cache: ObjectCache,
    readonly label: string,
  ) {}

  async has(id: ChunkId): Promise<boolean> {
    const cached = await this.cache.get("chunks", id);
    if (cached && sha256(cached) === id) return true;
    return (await this.backend.head(chunkKey(id))) !== null;
  }

  put(_id?: ChunkId, _bytes?: Uint8Array): Promise<boolean> {
    return Promise.reject(readOnly(this.label, "write chunk objects"));
  }

  get(id: ChunkId, what?: string): Promise<Buffer> {
    let p = this.inflight.get(id);
    if (!p) {
      p = this.load(id, what).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async load(id: ChunkId, what: string | undefined): Promise<Buffer> {
    const whose = what ? `chunk object of '${what}'` : "chunk object";
    if (!/^[0-9a-f]{64}$/.test(id)) throw new MissingObjectError(id, whose);
    const cached = await this.cache.get("chunks", id);
    if (cached) {
      if (sha256(cached) === id) return cached;
      await this.cache.drop("chunks", id); // damaged or tampered: never returned, fetched again
    }
    this.gets++;
    const got = await this.backend.get(chunkKey(id));
    if (!got) throw new RemoteObjectMissingError(id, whose, this.label);
    const bytes = Buffer.from(got.bytes.buffer, got.bytes.byteOffset, got.bytes.byteLength);
    const actual = sha256(bytes);
    if (actual !== id) throw new RemoteObjectCorruptError(id, whose, this.label, `its bytes hash to ${actual}`);
    await this.cache.put("chunks", id, bytes);
    return bytes;
  }
}

