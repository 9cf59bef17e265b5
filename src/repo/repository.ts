/**
 * A tdv repository: the working tree root and its `.tdv` folder.
 *
 *   .tdv/tdv.json   format version and settings
 *   .tdv/git/       a bare Git directory: commits, trees, metadata blobs, refs, reflogs
 *   .tdv/chunks/    chunk objects by SHA-256 (ab/cdef…)
 *   .tdv/index      the staging index and stat cache
 *
 * `.tdv` may instead be a file `tdvdir: /path/to/repo` (init --separate-repo).
 */
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import {
  AlreadyInitializedError,
  CorruptObjectError,
  NotARepositoryError,
  UnfinishedCloneError,
  UnsupportedFormatError,
  UsageError,
} from "../errors.js";
import { readFileOrNull, writeAtomic } from "../store/atomic.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { GitStore } from "../store/git.js";
import type { Person } from "../format/git-object.js";
import { readIndex, writeIndex, type IndexState } from "../store/index-file.js";
import { withLock } from "../store/lock.js";
import { Durability, type DurabilityMode } from "../store/durability.js";
import { FileChunkStore } from "../store/objects.js";
import type { ChunkSource, ChunkStore, ObjectStore, RefStore } from "../store/types.js";
import { checkRefName, Refs } from "../store/refs.js";
import { enterWriter, type Announcement } from "../store/writers.js";
import { acquireWorktreeLock, type WorktreeLock } from "../store/worktree-lock.js";
import { describeOwner } from "../store/owner.js";
import { findDetachedRepo, recordedWorktree } from "./store-root.js";
import { resolveIdentity, type Role } from "./settings.js";
import { REPO_FORMAT_VERSION, TDV_VERSION } from "../format/version.js";

/** infix of a commit's pending index: `index.tmp-commit-<oid>` */
const PENDING_INDEX = ".tmp-commit-";
/** folder of the markers of verified snapshot trees (`Repository.isVerifiedTree`) */
const VERIFIED_TREES = "verified-trees";

export interface RepoConfig {
  formatVersion: number;
  createdBy: string;
  user?: { name?: string; email?: string };
  /** remotes by name (tdv remote add) */
  remotes?: Record<string, { url: string }>;
  /** `tdv config pull.rebase true`: `tdv pull` rebases instead of merging */
  pull?: { rebase?: boolean };
  /** a lazy clone: chunks missing here are fetched from this remote when read */
  lazy?: { remote: string };
  /** present while `tdv clone` makes this working copy: every command but that clone refuses it */
  cloning?: CloneMarker;
  /** a separate repository's working copy (absolute): `init --separate-repo` re-attaches only that folder */
  worktree?: string;
}

/**
 * The mark of a clone in progress, in `tdv.json` from the moment the
 * repository exists (init writes it with the rest) until the clone is complete.
 * A clone killed before that leaves it, so that the next `tdv clone` of the
 * same URL into the folder resumes, and other commands say so.
 */
export interface CloneMarker {
  /** the remote's URL (normalized) */
  url: string;
  /** the cloning process, to tell a running clone from a killed one */
  pid: number;
  host: string;
  startedAt: string;
  /** the clone made the folder (it did not exist): removing the clone removes the folder */
  createdDir: boolean;
  /** an interrupted clone began to remove what it made: the next clone finishes that, then starts again */
  removing?: true;
}

/**
 * How a repository on disk behaves, as the caller says (the library reads no
 * environment: the CLI reads TDV_FSYNC, TDV_GC_WAIT_MS and TDV_WRITERS_WAIT_MS, cli/env.ts).
 */
export interface RepoOptions {
  /** when written objects reach the disk (store/durability.ts); default "deferred" */
  durability?: DurabilityMode;
  /** how long a command that writes waits for a running gc, in ms (default 10 minutes) */
  gcWaitMs?: number;
  /** how long gc waits for running writers before it refuses, in ms (default 1 minute) */
  writersWaitMs?: number;
}

/** How an open repository reaches what lies outside it. */
export interface OpenOptions extends RepoOptions {
  /**
   * A lazy clone's source of the chunks it lacks, made for its lazy remote
   * (`tdv.json` names it). The remote layer passes its fetcher
   * (remote/lazy.ts: openRepository); without one, a missing chunk is missing.
   */
  chunkFetcher?: (repo: Repository, remote: string) => ChunkSource;
}

/** The repository folder a `.tdv` pointer file names (`tdvdir: PATH`), or null when it holds something else. */
function readPointer(marker: string): string | null {
  const m = /^tdvdir: (.+)$/.exec(fs.readFileSync(marker, "utf8").trim());
  return m ? (m[1] as string) : null;
}

/** The stores a repository is made of (store/types.ts). */
export interface Stores {
  git: ObjectStore;
  refs: RefStore;
  chunks: ChunkStore;
}

/**
 * The stores of a repository on disk, under its `.tdv` folder: what open and
 * init build. Code that needs files (gc, fsck, checkout's copies, workers)
 * takes a Repository of these; code that needs only the interfaces may take a
 * `Repository<Stores>`.
 */
export interface FileStores extends Stores {
  git: GitStore;
  refs: Refs;
  chunks: FileChunkStore;
}

/** The file-system stores of the repository folder `tdvDir`, written with `durability`. */
export function fileStores(tdvDir: string, durability: Durability): FileStores {
  const gitdir = path.join(tdvDir, "git");
  return {
    git: new GitStore(gitdir, durability),
    refs: new Refs(gitdir, () => durability.flush()),
    chunks: new FileChunkStore(path.join(tdvDir, "chunks"), durability),
  };
}

export class Repository<S extends Stores = FileStores> {
  /** Git objects: commits, trees, metadata blobs */
  readonly git: S["git"];
  readonly refs: S["refs"];
  /** chunk objects */
  readonly chunks: S["chunks"];
  /** whether the file system clones files (reflink); learnt on first checkout */
  reflink: boolean | undefined = undefined;
  /**
   * Where the repository tells of a wait or a recovery (waiting for gc, a dead
   * command's lock replaced); the CLI prints these on stderr. The library never prints.
   */
  onNotice: ((message: string) => void) | undefined = undefined;
  /** how long this repository's writers wait for gc and gc for writers, in ms (undefined: the defaults of store/writers.ts) */
  waits: { gcMs?: number | undefined; writersMs?: number | undefined } = {};
  /** this instance's writer announcement, shared by nested and concurrent calls */
  private writer: { count: number; ready: Promise<Announcement> } | null = null;
  private worktreeLock: { count: number; lock: WorktreeLock } | null = null;

  /** A repository made of `stores` (Repository.open and init make the file-system ones: fileStores). */
  constructor(
    /** the working tree root (absolute) */
    readonly root: string,
    /** the repository folder (absolute): `root/.tdv` or a separate folder */
    readonly tdvDir: string,
    readonly config: RepoConfig,
    stores: S,
    /** when written objects reach the disk (flushed before refs or the index name them) */
    readonly durability: Durability,
  ) {
    this.git = stores.git;
    this.refs = stores.refs;
    this.chunks = stores.chunks;
  }

  /** A repository on disk with its file-system stores. */
  private static onDisk(root: string, tdvDir: string, config: RepoConfig, { durability: mode = "deferred", gcWaitMs, writersWaitMs }: RepoOptions): Repository {
    const durability = new Durability(tdvDir, mode);
    const repo = new Repository(root, tdvDir, config, fileStores(tdvDir, durability), durability);
    repo.waits = { gcMs: gcWaitMs, writersMs: writersWaitMs };
    return repo;
  }

  /**
   * Snapshot trees known to pass every check a checkout makes of a tree from a
   * possibly hostile source (paths, modes, collisions, manifests): the trees
   * this repository's commits wrote and the trees a full read has checked.
   * A move between two of them reads only the parts that differ. A marker is
   * an empty file named by the tree's id; tree ids name their content, so a
   * marker stays true whatever gc does.
   */
  isVerifiedTree(tree: GitOid): boolean {
    return fs.existsSync(path.join(this.tdvDir, VERIFIED_TREES, tree));
  }

  markVerifiedTree(tree: GitOid): void {
    const dir = path.join(this.tdvDir, VERIFIED_TREES);
    const file = path.join(dir, tree);
    try {
      fs.writeFileSync(file, "");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") return; // a read-only repository: only slower next time
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(file, "");
      } catch {
        // as above
      }
    }
  }

  /**
   * Delete the markers of trees not in `keep` (gc keeps those of the branch and
   * tag tips, HEAD and the index: what people switch between). Returns how many
   * went; a tree whose marker went is read whole once more when checked out.
   */
  async pruneVerifiedTrees(keep: ReadonlySet<string>): Promise<number> {
    const dir = path.join(this.tdvDir, VERIFIED_TREES);
    let removed = 0;
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (keep.has(name)) continue;
      await fsp.rm(path.join(dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Run `fn` as a writer of objects: gc does not run meanwhile (it waits for
   * `fn`, or `fn` waits for a running gc first; store/writers.ts). Every
   * command that writes objects, or names objects from a new ref or index
   * entry, runs inside this, so gc can never delete what it is about to name.
   */
  async writing<T>(command: string, fn: () => Promise<T>): Promise<T> {
    this.writer ??= { count: 0, ready: enterWriter(this.tdvDir, command, { onWait: this.onNotice, waitMs: this.waits.gcMs }) };
    const w = this.writer;
    w.count++;
    try {
      await w.ready;
      return await fn();
    } finally {
      if (--w.count === 0) {
        if (this.writer === w) this.writer = null;
        (await w.ready.catch(() => null))?.release();
      }
    }
  }

  /**
   * Run `fn` under the working-copy lock (git's index.lock: one command at a
   * time writes the index or the working tree; another is refused with
   * WorktreeLockedError) and as a writer (`writing`). Nested calls share the lock.
   */
  async exclusive<T>(command: string, fn: () => Promise<T>): Promise<T> {
    if (!this.worktreeLock) {
      const lock = acquireWorktreeLock(this.tdvDir, command);
      if (lock.replaced) this.onNotice?.(`${describeOwner(lock.replaced)} was killed before it finished and left its lock; replaced it. Run \`tdv status\` to see the working copy as it left it`);
      this.worktreeLock = { count: 0, lock };
    }
    const held = this.worktreeLock;
    held.count++;
    try {
      return await this.writing(command, fn);
    } finally {
      if (--held.count === 0) {
        if (this.worktreeLock === held) this.worktreeLock = null;
        held.lock.release();
      }
    }
  }

  /** The bytes of a stored file, a Git blob or a chunk object (verified either way); `what` names it in errors. */
  readStored(e: { store: "git" | "chunk"; id: string }, what: string): Promise<Uint8Array> {
    return e.store === "git" ? this.git.readBlob(e.id as GitOid, what) : this.chunks.get(e.id as ChunkId);
  }

  get indexFile(): string {
    return path.join(this.tdvDir, "index");
  }

  /**
   * Where a commit writes its next index before its branch moves; renamed over
   * the index once the branch has moved. A temp name (`.tmp-`): gc sweeps the
   * leftovers of commits that were killed before their branch moved.
   */
  pendingIndexFile(commit: GitOid): string {
    return `${this.indexFile}${PENDING_INDEX}${commit}`;
  }

  /**
   * Read the index. A commit killed after its branch moved but before its index
   * was renamed into place left the index of the commit beside the old one:
   * that one is put in place first (the commit is rolled forward), so that the
   * repository is exactly as if the commit had finished.
   */
  async readIndex(): Promise<IndexState> {
    const prefix = path.basename(this.indexFile) + PENDING_INDEX;
    const pending = (await fsp.readdir(this.tdvDir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
    if (pending.length > 0) {
      const head = (await this.refs.head()).oid;
      if (head && pending.includes(prefix + head)) {
        // the committing process may rename it at the same moment: then it is already in place
        await fsp.rename(this.pendingIndexFile(head), this.indexFile).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err;
        });
      }
    }
    return readIndex(this.indexFile);
  }

  /** Write the index, after making the objects it names durable. */
  async writeIndex(state: Pick<IndexState, "tree" | "entries">): Promise<void> {
    await this.durability.flush();
    await writeIndex(this.indexFile, state, this.durability.mode !== "none");
  }

  /**
   * Create a repository in `dir`. Returns it with the paths it created.
   *
   * With `separateRepo`, the repository folder may already be the repository
   * of `dir` (its tdv.json records `dir` as its working copy) whose pointer
   * file `dir/.tdv` is gone, deleted by a tool that rewrote the folder: the
   * pointer is written again and the repository returned as it was
   * (`reattached`), as git's `init --separate-git-dir` re-initializes.
   */
  static async init({
    dir,
    separateRepo,
    initialBranch = "main",
    config: extra = {},
    ...opts
  }: {
    dir: string;
    separateRepo?: string;
    initialBranch?: string;
    /** settings written with the repository's first tdv.json (clone: its remote and its marker) */
    config?: Pick<RepoConfig, "remotes" | "cloning">;
  } & RepoOptions): Promise<{ repo: Repository; created: string[]; reattached?: true }> {
    checkRefName(initialBranch);
    const root = path.resolve(dir);
    const stat = await fsp.stat(root).catch(() => null);
    if (stat && !stat.isDirectory()) throw new UsageError(`${root} is not a folder`, { hint: "give a folder to init" });
    await fsp.mkdir(root, { recursive: true });
    const marker = path.join(root, ".tdv");
    const tdvDir = separateRepo ? path.resolve(separateRepo) : marker;
    // the working copy as the repository records it: symbolic links resolved, as a shell's cwd has them
    const realRoot = await fsp.realpath(root);
    const markerStat = await fsp.lstat(marker).catch(() => null);
    if (markerStat) {
      // the same pointer again: nothing to do (git says "Reinitialized")
      const points = markerStat.isFile() && separateRepo ? readPointer(marker) : null;
      if (points === null || path.resolve(root, points) !== tdvDir) throw new AlreadyInitializedError(root);
    }
    if (separateRepo) {
      const existing = await fsp.readdir(tdvDir).catch(() => [] as string[]);
      if (existing.length > 0) {
        const owner = await recordedWorktree(tdvDir);
        // an older tdv recorded no working copy: a pointer already naming it is proof enough
        if (owner === realRoot || (owner === null && markerStat)) {
          if (!markerStat) await writeAtomic(marker, `tdvdir: ${tdvDir}\n`);
          const repo = await Repository.load(root, tdvDir, false, opts);
          if (owner === null) {
            await repo.updateConfig((c) => {
              c.worktree = realRoot;
            });
          }
          return { repo, created: markerStat ? [] : [marker], reattached: true };
        }
        if (owner === undefined) throw new UsageError(`--separate-repo folder ${tdvDir} is not empty`, { hint: "name a new or empty folder" });
        if (owner === null) {
          throw new UsageError(`${tdvDir} is a tdv repository that does not record its working copy`, {
            hint: `if ${root} is its working copy, write the pointer file: printf 'tdvdir: ${tdvDir}\\n' > ${marker}; otherwise name a new or empty folder`,
          });
        }
        throw new UsageError(`${tdvDir} is the repository of another working copy, ${owner}`, {
          hint: `run tdv in ${owner}, or name a new or empty folder for this one`,
        });
      }
    }
    const gitdir = path.join(tdvDir, "git");
    for (const d of ["objects/info", "objects/pack", "refs/heads", "refs/tags", "chunks"]) {
      await fsp.mkdir(d === "chunks" ? path.join(tdvDir, d) : path.join(gitdir, d), { recursive: true });
    }
    await writeAtomic(path.join(gitdir, "HEAD"), `ref: refs/heads/${initialBranch}\n`);
    await writeAtomic(
      path.join(gitdir, "config"),
      "[core]\n\trepositoryformatversion = 0\n\tfilemode = false\n\tbare = true\n",
    );
    await writeAtomic(path.join(gitdir, "description"), "tdv dataset repository (chunk bytes live in ../chunks)\n");
    // tdv.json last: until it exists the folder is no repository (clone counts on it)
    const config: RepoConfig = {
      formatVersion: REPO_FORMAT_VERSION,
      createdBy: `tdv ${TDV_VERSION}`,
      ...extra,
      ...(separateRepo ? { worktree: realRoot } : {}),
    };
    await writeAtomic(path.join(tdvDir, "tdv.json"), `${JSON.stringify(config, null, 2)}\n`);
    if (separateRepo) await writeAtomic(marker, `tdvdir: ${tdvDir}\n`);
    const created = separateRepo ? [marker, tdvDir] : [marker];
    return { repo: Repository.onDisk(root, tdvDir, config, opts), created };
  }

  /**
   * Find the repository whose working tree holds `dir` (searching upward).
   * A clone that did not finish is refused (UnfinishedCloneError) unless
   * `unfinishedClone` (the clone that resumes it).
   */
  static async open({ dir = process.cwd(), unfinishedClone = false, ...opts }: { dir?: string; unfinishedClone?: boolean } & OpenOptions = {}): Promise<Repository> {
    const start = path.resolve(dir);
    for (let cur = start; ; ) {
      const marker = path.join(cur, ".tdv");
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(marker, { throwIfNoEntry: false });
      } catch {
        st = undefined; // not readable or not a folder on the way: look further up, as for a missing marker
      }
      if (st?.isDirectory()) return Repository.load(cur, marker, unfinishedClone, opts);
      if (st?.isFile()) {
        const target = readPointer(marker);
        if (target === null) throw new CorruptObjectError(marker, "a .tdv file must hold `tdvdir: PATH`");
        return Repository.load(cur, path.resolve(cur, target), unfinishedClone, opts);
      }
      const up = path.dirname(cur);
      if (up === cur) throw new NotARepositoryError(start, (await findDetachedRepo(start)) ?? undefined);
      cur = up;
    }
  }

  private static async load(root: string, tdvDir: string, unfinishedClone: boolean, opts: OpenOptions = {}): Promise<Repository> {
    const raw = await readFileOrNull(path.join(tdvDir, "tdv.json"));
    if (!raw) throw new NotARepositoryError(root);
    let config: RepoConfig;
    try {
      config = JSON.parse(raw.toString("utf8")) as RepoConfig;
    } catch {
      throw new CorruptObjectError(path.join(tdvDir, "tdv.json"), "not valid JSON");
    }
    if (typeof config.formatVersion !== "number") throw new CorruptObjectError(path.join(tdvDir, "tdv.json"), "no formatVersion");
    if (config.formatVersion > REPO_FORMAT_VERSION) throw new UnsupportedFormatError(`repository ${tdvDir}`, config.formatVersion, REPO_FORMAT_VERSION);
    if (config.cloning && !unfinishedClone) throw new UnfinishedCloneError(root, config.cloning.url);
    const repo = Repository.onDisk(root, tdvDir, config, opts);
    // a lazy clone reads missing chunks from its remote, through the fetcher the remote layer passes
    if (config.lazy?.remote && opts.chunkFetcher) repo.chunks.fallback = opts.chunkFetcher(repo, config.lazy.remote);
    return repo;
  }

  /** Edit `.tdv/tdv.json` under its lock: re-read, apply `edit`, write atomically. */
  async updateConfig(edit: (config: RepoConfig) => void): Promise<RepoConfig> {
    const file = path.join(this.tdvDir, "tdv.json");
    const next = await withLock(
      file,
      "tdv.json",
      async (lock) => {
        const fresh = JSON.parse(((await readFileOrNull(file)) ?? Buffer.from("{}")).toString("utf8")) as RepoConfig;
        edit(fresh);
        await lock.commit(`${JSON.stringify(fresh, null, 2)}\n`);
        return fresh;
      },
      2000,
    );
    for (const k of Object.keys(this.config)) delete (this.config as unknown as Record<string, unknown>)[k];
    Object.assign(this.config, next);
    return next;
  }

  /** Who commits or moves a ref (settings.ts: environment, repository config, tdv's and git's global config, else the OS user). */
  identity(now = new Date(), role: Role = "author"): Person {
    return resolveIdentity(this.config, role, now).person;
  }

  /** True when no setting names the author (commit warns: the identity was guessed from the OS user and host). */
  identityGuessed(): boolean {
    return resolveIdentity(this.config).guessed;
  }

  /** Path relative to the working tree root, posix separators; throws for paths outside it. */
  relPath(p: string, cwd = process.cwd()): string {
    const abs = path.resolve(cwd, p);
    const rel = path.relative(this.root, abs);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new UsageError(`'${p}' is outside the working tree ${this.root}`, { hint: "give paths inside the repository's folder" });
    }
    return rel.split(path.sep).join("/");
  }
}

/** Whether the working copy has an index: a clone made with --no-checkout has none until its first checkout. */
export function hasIndex(repo: Repository): boolean {
  return fs.existsSync(repo.indexFile);
}
