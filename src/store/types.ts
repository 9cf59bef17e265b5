/**
 * The stores a Repository is made of, as interfaces: Git objects (commits,
 * trees, metadata blobs), refs, and chunk objects. The file-system stores
 * (git.ts GitStore, refs.ts Refs, objects.ts FileChunkStore) implement them;
 * a store kept elsewhere (a remote's, for a session) implements the same.
 *
 * File-system only, and so not here but on the classes: where things are on
 * disk (`gitdir`, `pathOf`, `dir`: checkout copies and reflinks chunk files,
 * workers write them, fsck and gc walk the folders), packs and loose objects
 * (gc's `packLoose`, `listPacks`, `dropPack`, ...), the object cache fsck and
 * gc drop, and durability (when written files are fsynced).
 */
import type { ChunkId, GitOid } from "../format/hash.js";
import type { CommitObject, Person, TagObject, TreeEntry } from "../format/git-object.js";
import type { BufferPool } from "./buffer-pool.js";
import type { PackType } from "./pack.js";

/** Where Git objects are written: the store itself (each at once) or an open pack (together, when it ends). */
export interface ObjectWriter {
  writeRaw(type: PackType, content: Uint8Array): Promise<GitOid>;
  writeBlob(content: Uint8Array): Promise<GitOid>;
  /** `where` names the tree in errors (its entry names are checked) */
  writeTree(entries: readonly TreeEntry[], where?: string): Promise<GitOid>;
  writeCommit(c: Omit<CommitObject, "oid">): Promise<GitOid>;
  writeTag(t: Omit<TagObject, "oid">): Promise<GitOid>;
}

/** Git objects: written by content, read verified against their id. */
export interface ObjectStore extends ObjectWriter {
  /**
   * Run `fn` with a new pack: the objects written into it are written
   * together once `fn` returns (none if it throws), and are readable at once.
   */
  withPack<T>(fn: (pack: ObjectWriter) => Promise<T>): Promise<T>;
  /** Type and content of an object, verified against its id; `what` names it in errors. */
  readObject(oid: GitOid, what: string): Promise<{ type: string; content: Buffer }>;
  readBlob(oid: GitOid, what?: string): Promise<Uint8Array>;
  readTree(oid: GitOid, what?: string): Promise<TreeEntry[]>;
  readCommit(oid: GitOid): Promise<CommitObject>;
  /** readCommit without a promise (history walks read thousands of commits) */
  readCommitSync(oid: GitOid): CommitObject;
  readTag(oid: GitOid): Promise<TagObject>;
  /** The type of an object, or null when the store lacks it. */
  typeOf(oid: GitOid): Promise<string | null>;
  /** All object ids starting with `prefix`. */
  expand(prefix: string): Promise<GitOid[]>;
  mergeBase(a: GitOid, b: GitOid): Promise<GitOid[]>;
}

export interface Head {
  /** "refs/heads/main" when on a branch; null when detached */
  branch: string | null;
  /** commit HEAD points to; null on an unborn branch */
  oid: GitOid | null;
}

export interface ReflogEntry {
  old: GitOid | null;
  next: GitOid | null;
  who: string;
  timestamp: number;
  /** the mover's time zone, minutes east of UTC (+0100 is 60) */
  tzOffset: number;
  message: string;
}

/** Refs under a prefix as they are stored, with the ones that cannot be used. */
export interface RefScan {
  /** refs holding a commit id (loose or packed), sorted by name */
  refs: Map<string, GitOid>;
  /** symbolic refs that resolve (git's refs/remotes/origin/HEAD): name → target ref and its value */
  symbolic: Map<string, { target: string; oid: GitOid | null }>;
  /** refs that cannot be followed: a name git refuses, a bad symbolic ref, a file holding no commit id */
  broken: { ref: string; file: string; problem: string }[];
}

/** Refs and HEAD; every move is a compare-and-swap, recorded in the reflog. */
export interface RefStore {
  /** The commit a ref ("HEAD", refs/heads/x, refs/tags/x) points to, or null. */
  read(ref: string): Promise<GitOid | null>;
  /** Full ref names under `prefix`, sorted, with their commits. */
  list(prefix: string): Promise<Map<string, GitOid>>;
  /** The refs under `prefix`, with the symbolic and the broken ones. */
  scan(prefix: string): Promise<RefScan>;
  head(): Promise<Head>;
  /** Move `ref` from `expected` (null: must not exist; undefined: anything) to `next` (null: delete); BranchMovedError otherwise. */
  update(ref: string, move: { expected: GitOid | null | undefined; next: GitOid | null; who: Person; message: string }): Promise<void>;
  /** Drop reflog entry `n` (0 newest) of `ref` and point the ref at the newest left (or delete it). */
  dropReflogEntry(ref: string, n: number, expected: GitOid): Promise<GitOid | null>;
  /** Point HEAD at a branch (symbolic) or a commit (detached). */
  setHead(target: { branch: string } | { oid: GitOid }, who: Person, message: string): Promise<void>;
  /** Reflog entries of a ref, oldest first. */
  reflog(ref: string): Promise<ReflogEntry[]>;
}

/** Where a lazy clone gets the chunk objects it lacks: its remote. */
export interface ChunkSource {
  /** the remote's name and URL, for messages */
  remote: string;
  url: string;
  /** the object's bytes as the remote has them (unverified), or null when it has none */
  fetch(id: ChunkId): Promise<Uint8Array | null>;
  /** whether the remote has the object (fsck --promised); never downloads it */
  has(id: ChunkId): Promise<boolean>;
}

/** How a chunk object is read: its size when known (one read, no stat), a pool to read it into (the caller gives the buffer back). */
export interface ChunkReadOptions {
  size?: number;
  /** stores that keep or share the bytes they return (a remote's cache) ignore it */
  pool?: BufferPool;
}

/** Chunk objects: exact bytes by SHA-256, verified when read. */
export interface ChunkStore {
  /** a lazy clone's source of missing objects; its bytes are verified and stored */
  fallback: ChunkSource | undefined;
  has(id: ChunkId): Promise<boolean>;
  /** Store bytes whose id the caller computed; true when newly written. */
  put(id: ChunkId, bytes: Uint8Array): Promise<boolean>;
  /** Read an object and verify it; `what` names the file that needs it in errors. */
  get(id: ChunkId, what?: string, opts?: ChunkReadOptions): Promise<Buffer>;
}
