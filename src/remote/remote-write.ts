/**
 * Write sessions straight into a remote (a folder, S3), with no clone:
 * `openRemoteWriteSession("s3://bucket/era5", "main")` is the write session
 * of session/write.ts over the remote's own stores, written as a push
 * writes them (docs/format.md, "Remote layout"):
 *
 * - a chunk object goes up as it is written (`set`): HEAD chunks/ab/cdef…,
 *   PUT it when absent (on S3, after a new one, PUT with If-None-Match: *
 *   at once: RemoteWriteChunkStore). Nothing is kept in memory, so a session writes any
 *   amount of data in bounded memory.
 * - Git objects (metadata documents as they are written; manifests, trees
 *   and the commit at commit time) go up loose under git/objects/, in
 *   parallel, before the branch moves; each is also kept in the local object
 *   cache, so the session reads its own objects without a GET.
 * - the branch moves by the conditional write push uses (If-Match on the ref
 *   object as read, If-None-Match: * to create it). A lost race throws
 *   BranchMovedError, as the local RefStore does, and the session rebases
 *   onto the new tip and tries again.
 *
 * Remote gc: a session announces itself on the remote as a writer, with the
 * lease of a push (remote-writers.ts), from when it opens until it commits
 * or closes; gc waits for it (or refuses, deleting nothing), so gc never
 * deletes an object the session uploaded, or found present and will name.
 * A session whose process dies leaves an announcement that lapses after the
 * lease (TDV_REMOTE_LEASE_MS, 10 minutes); its objects are then unreachable
 * and the next remote gc removes them once they are older than its grace
 * period (--prune). A session held up longer than half its lease (a
 * suspended process) refuses to move the branch (RemoteLeaseLostError).
 *
 * A fork's token names the remote's URL: a worker process or machine opens
 * its part from the token alone (`openRemoteWriteSession(token)`), with the
 * credentials of its own environment.
 */
import { BranchMovedError, CorruptObjectError, UsageError } from "../errors.js";
import { encodeCommit, encodeTag, encodeTree, type CommitObject, type TagObject, type TreeEntry } from "../format/git-object.js";
import { sha1, type ChunkId, type GitOid } from "../format/hash.js";
import type { Person } from "../format/git-object.js";
import { Durability } from "../store/durability.js";
import type { PackType } from "../store/pack.js";
import type { ObjectWriter } from "../store/types.js";
import { Repository, type RepoConfig } from "../repo/repository.js";
import { gate } from "../rules/gate.js";
import { checkToken, openWriteSession, type SessionHold, type SessionHost, type SessionToken, type WriteSession } from "../session/write.js";
import { parsePending, type PendingQueue } from "../session/group-commit.js";
import type { ObjectBackend } from "./backend.js";
import { PreconditionFailedError, ReadOnlyRemoteError, RemoteLeaseLostError } from "./errors.js";
import { encodeLoose } from "./git-objects.js";
import { chunkKey, gitObjectKey, isSafeRef, RemoteRepo, type RemoteRef } from "./layout.js";
import { ObjectCache } from "./object-cache.js";
import { enterRemoteWriter, leaseMs } from "./remote-writers.js";
import { RemoteChunkStore, RemoteObjectStore, RemoteRefStore, remoteUrl, type RemoteSourceOptions, type RemoteStores } from "./remote-source.js";
import { mapSettled } from "./transfer.js";

export interface RemoteWriteOptions extends RemoteSourceOptions {
  /** parallel uploads of a commit's Git objects (default 16) */
  concurrency?: number;
  /** how long to wait for a running remote gc before refusing (default TDV_GC_WAIT_MS or 10 minutes) */
  waitMs?: number;
  /** told when the session waits for a remote gc, or when git/info/refs could not be rewritten */
  onNotice?: (message: string) => void;
}

/** The remote's stores, writable: what a write session into a remote is made of. */
export interface RemoteWriteStores extends RemoteStores {
  git: RemoteWriteObjectStore;
  refs: RemoteWriteRefStore;
  chunks: RemoteWriteChunkStore;
}

/**
 * Open a write session on `branch` of the remote `urlOrName` (a URL, or the
 * name of a remote of `opts.repo`), or the fork a token names. An empty
 * remote (a new folder, an empty bucket prefix) becomes a tdv repository,
 * as the first push makes it one. `openRemoteWriteSession(token, opts)`
 * opens a fork from its token alone.
 */
export async function openRemoteWriteSession(urlOrName: string, target: string | SessionToken, opts?: RemoteWriteOptions): Promise<WriteSession>;
export async function openRemoteWriteSession(token: SessionToken, opts?: RemoteWriteOptions): Promise<WriteSession>;
export async function openRemoteWriteSession(
  first: string | SessionToken,
  second?: string | SessionToken | RemoteWriteOptions,
  third: RemoteWriteOptions = {},
): Promise<WriteSession> {
  let url: string;
  let target: string | SessionToken;
  let opts: RemoteWriteOptions;
  if (typeof first === "string") {
    if (second === undefined || (typeof second !== "string" && !isToken(second))) {
      throw new UsageError("openRemoteWriteSession needs a branch or a session token after the remote", { hint: 'e.g. openRemoteWriteSession("s3://bucket/era5", "main")' });
    }
    url = first;
    target = second;
    opts = third;
  } else {
    checkToken(first);
    if (typeof first.remote !== "string" || first.remote === "") {
      throw new UsageError("the token names no remote: it is of a session on a local repository", { hint: "open it with openWriteSession(repo, token) in the repository it names" });
    }
    url = first.remote;
    target = first;
    opts = (second as RemoteWriteOptions | undefined) ?? {};
  }
  const repo = await remoteWriteRepository(url, opts);
  const backend = repo.git.backend;
  const host: SessionHost = {
    where: { remote: repo.root },
    workingCopy: false,
    hold: () => holdRemote(backend, opts),
    pending: (branch) => remotePendingQueue(backend, branch),
  };
  // a commit moves the remote's branch directly: the branch's rules check it first, as a local commit's
  return openWriteSession(repo, target, { host, verify: (oid, ref, noVerify) => gate(repo, oid, ref, "commit", noVerify) });
}

/** Where a remote keeps the commits waiting to be carried onto a branch (group commit): `pending/<branch, hex>/`. */
export const PENDING_PREFIX = "pending/";

/**
 * A branch's queue of waiting commits on a remote: `pending/<branch in
 * hex>/<id>.json` for each record (written once), `.../landed/<id>` holding
 * the commit a carrier landed it as, `.../carrying/<id>` a carrier's beat.
 */
function remotePendingQueue(backend: ObjectBackend, branch: string): PendingQueue {
  const dir = `${PENDING_PREFIX}${Buffer.from(branch).toString("hex")}/`;
  const recordKey = (id: string) => `${dir}${id}.json`;
  const markKey = (id: string) => `${dir}landed/${id}`;
  const beatKey = (id: string) => `${dir}carrying/${id}`;
  return {
    publish: async (rec) => {
      await backend.put(recordKey(rec.id), Buffer.from(JSON.stringify(rec)));
    },
    ids: async () => {
      const out: string[] = [];
      for await (const key of backend.list(dir)) {
        const m = /^([0-9a-f]{20})\.json$/.exec(key.slice(dir.length));
        if (m) out.push(m[1] as string);
      }
      return out;
    },
    read: async (id) => {
      const got = await backend.get(recordKey(id));
      return got ? parsePending(got.bytes, id, branch) : null;
    },
    markLanded: async (id, commit) => {
      await backend.put(markKey(id), Buffer.from(commit));
    },
    landed: async (id) => {
      const got = await backend.get(markKey(id));
      const text = got ? Buffer.from(got.bytes).toString("latin1").trim() : "";
      return /^[0-9a-f]{40}$/.test(text) ? (text as GitOid) : null;
    },
    remove: async (id) => {
      await backend.delete(recordKey(id));
    },
    forget: async (id) => {
      await Promise.all([backend.delete(recordKey(id)), backend.delete(markKey(id)), backend.delete(beatKey(id))]);
    },
    beat: async (id, n) => {
      await backend.put(beatKey(id), Buffer.from(String(n)));
    },
    lastBeat: async (id) => {
      const got = await backend.get(beatKey(id));
      const text = got ? Buffer.from(got.bytes).toString("latin1").trim() : "";
      return /^[0-9]{1,15}$/.test(text) ? Number(text) : null;
    },
  };
}

function isToken(x: unknown): x is SessionToken {
  return typeof x === "object" && x !== null && (x as { format?: unknown }).format === "tdv-session/1";
}

/**
 * A Repository over a remote's stores that writes into them (uploads chunk
 * and Git objects, moves refs by compare-and-swap). The remote is made a tdv
 * repository when it is empty; a read-only transport (http) is refused.
 */
export async function remoteWriteRepository(urlOrName: string, opts: RemoteWriteOptions = {}): Promise<Repository<RemoteWriteStores>> {
  const { name, url } = remoteUrl(urlOrName, opts.repo);
  const opened = await RemoteRepo.open(url, { env: opts.env, ...opts.backend });
  const remote = opts.wrapBackend ? new RemoteRepo(opts.wrapBackend(opened.backend)) : opened;
  if (!remote.backend.writable) throw new ReadOnlyRemoteError(remote.url);
  // before anything is uploaded: a server that ignores conditional writes would let committers overwrite each other.
  // The check and the config's one read go out at once.
  const [found] = await Promise.all([remote.readConfig(), remote.checkConditionalWrites()]);
  await remote.ensureConfig(found);
  const config = found ?? (await remote.requireConfig());
  const cache = opts.cache ?? ObjectCache.open(opts);
  const label = name ? `remote '${name}' (${remote.url})` : remote.url;
  const notice = opts.onNotice ?? (() => {});
  const stores: RemoteWriteStores = {
    git: new RemoteWriteObjectStore(remote.backend, cache, label, opts.concurrency ?? 16),
    refs: new RemoteWriteRefStore(remote, notice),
    chunks: new RemoteWriteChunkStore(remote.backend, cache, label),
  };
  const repoConfig: RepoConfig = { formatVersion: config.formatVersion, createdBy: config.createdBy ?? "" };
  return new Repository(remote.url, cache.dir, repoConfig, stores, new Durability(cache.dir, "none"));
}

/**
 * Announce a session on the remote as a push does (remote gc waits for it),
 * and watch the lease: once it went unrenewed for half its length, a gc may
 * have run, and the session must never move the branch afterwards, even if
 * the lease is renewed again.
 */
async function holdRemote(backend: ObjectBackend, opts: RemoteWriteOptions): Promise<SessionHold> {
  const ann = await enterRemoteWriter(backend, {
    command: "write session",
    ...(opts.waitMs === undefined ? {} : { waitMs: opts.waitMs }),
    ...(opts.onNotice ? { onWait: opts.onNotice } : {}),
  });
  let lapsed: number | null = null;
  const look = () => {
    if (lapsed !== null) return;
    try {
      ann.check();
    } catch (err) {
      if (!(err instanceof RemoteLeaseLostError)) throw err;
      lapsed = err.silentMs;
    }
  };
  const watch = setInterval(look, Math.max(5, Math.floor(leaseMs() / 8)));
  watch.unref();
  return {
    check: () => {
      look();
      if (lapsed !== null) throw new RemoteLeaseLostError(backend.url, "write session", lapsed);
    },
    release: async () => {
      clearInterval(watch);
      await ann.release();
    },
  };
}

/** The loose-object bytes and id of a Git object. */
function loose(type: PackType, content: Uint8Array): { oid: GitOid; full: Buffer; bytes: Buffer } {
  const full = Buffer.concat([Buffer.from(`${type} ${content.byteLength}\0`), content]);
  return { oid: sha1(full), full, bytes: encodeLoose(type, content) };
}

/**
 * A remote's Git objects, readable (RemoteObjectStore) and writable: an
 * object goes up loose under git/objects/ (or, inside `withPack`, together
 * with the others once the function returns) and into the local cache, from
 * which the session reads it back.
 */
export class RemoteWriteObjectStore extends RemoteObjectStore implements ObjectWriter {
  /** Git objects uploaded */
  puts = 0;

  constructor(
    backend: ObjectBackend,
    cache: ObjectCache,
    label: string,
    private readonly concurrency: number,
  ) {
    super(backend, cache, label);
  }

  /** The object in the cache (readable at once) and its loose bytes to upload. */
  private async stage(type: PackType, content: Uint8Array): Promise<{ oid: GitOid; bytes: Buffer }> {
    const { oid, full, bytes } = loose(type, content);
    await this.cache.put("git", oid, full);
    return { oid, bytes };
  }

  private async upload(oid: GitOid, bytes: Buffer): Promise<void> {
    await this.backend.put(gitObjectKey(oid), bytes);
    this.puts++;
  }

  override async writeRaw(type: PackType, content: Uint8Array): Promise<GitOid> {
    const { oid, bytes } = await this.stage(type, content);
    await this.upload(oid, bytes);
    return oid;
  }
  override writeBlob(content: Uint8Array): Promise<GitOid> {
    return this.writeRaw("blob", content);
  }
  override writeTree(entries: readonly TreeEntry[], where?: string): Promise<GitOid> {
    return this.writeRaw("tree", encodeTree(entries, where));
  }
  override writeCommit(c: Omit<CommitObject, "oid">): Promise<GitOid> {
    return this.writeRaw("commit", encodeCommit(c));
  }
  override writeTag(t: Omit<TagObject, "oid">): Promise<GitOid> {
    return this.writeRaw("tag", encodeTag(t));
  }

  /** The objects `fn` writes go up together (in parallel) once it returns; none if it throws. */
  override async withPack<T>(fn: (pack: ObjectWriter) => Promise<T>): Promise<T> {
    const pending = new Map<GitOid, Buffer>();
    const raw = async (type: PackType, content: Uint8Array): Promise<GitOid> => {
      const { oid, bytes } = await this.stage(type, content);
      pending.set(oid, bytes);
      return oid;
    };
    const pack: ObjectWriter = {
      writeRaw: raw,
      writeBlob: (content) => raw("blob", content),
      writeTree: (entries, where) => raw("tree", encodeTree(entries, where)),
      writeCommit: (c) => raw("commit", encodeCommit(c)),
      writeTag: (t) => raw("tag", encodeTag(t)),
    };
    const out = await fn(pack);
    await mapSettled([...pending], this.concurrency, ([oid, bytes]) => this.upload(oid, bytes));
    return out;
  }
}

/** Up to this size a chunk may be sent with If-None-Match: * without asking first (one PUT, not a multipart upload). */
const SEND_AT_ONCE_MAX = 16 << 20;

/**
 * A remote's chunk objects, writable: `put` uploads an object unless the
 * remote has it. It asks first (HEAD); on a server with conditional writes
 * (S3), once a chunk turned out new, the next ones are sent at once with
 * If-None-Match: * (a 412 says the remote had it, and asking resumes): a
 * session writing new data saves a round trip a chunk, one rewriting data
 * the remote has sends at most one chunk's bytes in vain.
 */
export class RemoteWriteChunkStore extends RemoteChunkStore {
  /** chunk objects uploaded, and found present (not sent again) */
  puts = 0;
  present = 0;
  /** the last chunk asked for was new: send the next one at once */
  private sendAtOnce = false;

  /** Whether the remote itself has the object (never the local cache: a fork's objects must be on the remote). */
  override async has(id: ChunkId): Promise<boolean> {
    return (await this.backend.head(chunkKey(id))) !== null;
  }

  override async put(id: ChunkId, bytes: Uint8Array): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new UsageError(`'${id}' is no chunk id`, { hint: "a chunk object is named by the SHA-256 of its bytes, in hex" });
    const key = chunkKey(id);
    if (this.sendAtOnce && bytes.byteLength <= SEND_AT_ONCE_MAX) {
      try {
        await this.backend.put(key, bytes, { contentSha256: id, ifNoneMatch: "*" });
        this.puts++;
        return true;
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        this.present++;
        this.sendAtOnce = false;
        return false;
      }
    }
    if ((await this.backend.head(key)) !== null) {
      this.present++;
      return false;
    }
    await this.backend.put(key, bytes, { contentSha256: id });
    this.puts++;
    this.sendAtOnce = this.backend.checkConditions === true;
    return true;
  }
}

/** A remote's refs, movable by compare-and-swap (a conditional write of the ref object). */
export class RemoteWriteRefStore extends RemoteRefStore {
  /** each ref's value and ETag as last read here */
  private readonly known = new Map<string, RemoteRef>();

  constructor(
    remote: RemoteRepo,
    private readonly notice: (message: string) => void,
  ) {
    super(remote);
  }

  override async read(ref: string): Promise<GitOid | null> {
    if (!isSafeRef(ref)) return super.read(ref);
    const r = await this.readRef(ref);
    if (r) this.known.set(ref, r);
    else this.known.delete(ref);
    return r?.oid ?? null;
  }

  /**
   * Move `ref` from `expected` to `next`: read the ref object (and its ETag),
   * refuse when it holds another commit, then write it on the condition that
   * it is still the version read. A write refused by that condition is
   * another committer's: BranchMovedError with what the ref holds now.
   * Then the remote's HEAD (set once) and git/info/refs follow.
   */
  /**
   * The ref object, read again (a few times, briefly) when it holds no commit
   * id: a server that is not atomic per object (the S3 test server's s3rver)
   * can serve a read racing another committer's write torn. A ref that stays
   * damaged is refused (CorruptObjectError).
   */
  private async readRef(ref: string): Promise<RemoteRef | null> {
    for (let n = 0; ; n++) {
      try {
        return await this.remote.readRef(ref);
      } catch (err) {
        if (!(err instanceof CorruptObjectError) || n >= 3) throw err;
        await new Promise((r) => setTimeout(r, 10 * 2 ** n));
      }
    }
  }

  override async update(ref: string, move: { expected: GitOid | null | undefined; next: GitOid | null; who: Person; message: string }): Promise<void> {
    if (!isSafeRef(ref)) throw new UsageError(`cannot move ${ref} on ${this.remote.url}: a remote holds branches and tags only`, { hint: "name a branch, e.g. refs/heads/main" });
    if (move.next === null) throw new UsageError(`a write session does not delete ${ref}`, { hint: "delete a remote branch with `tdv push REMOTE --delete BRANCH`" });
    // the version read last (the session reads the branch just before it writes its commit): its ETag is the condition
    const known = this.known.get(ref);
    const now = move.expected === null ? null : known && known.oid === move.expected ? known : await this.readRef(ref);
    if (move.expected !== undefined && (now?.oid ?? null) !== move.expected) throw new BranchMovedError(ref, move.expected, now?.oid ?? null);
    try {
      await this.remote.updateRef(ref, move.next, now);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      const again = await this.readRef(ref);
      // our own write that landed though its answer was lost (and retried) is a move
      if (again?.oid !== move.next) throw new BranchMovedError(ref, move.expected ?? now?.oid ?? null, again?.oid ?? null);
    }
    if (now === null && ref.startsWith("refs/heads/")) await this.remote.ensureHead(ref); // a new branch: the remote's default if it has none
    await this.remote.updateInfoRefs().catch((err: unknown) => {
      // the branch moved: readers over http see it once the next push or commit rewrites the list
      this.notice(`${ref} moved, but ${this.remote.url}/git/info/refs could not be rewritten (${err instanceof Error ? err.message : String(err)}); http readers see the move after the next push`);
    });
  }
}
