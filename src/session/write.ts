/**
 * A write session: a writable zarrita store over a branch. A pipeline writes
 * metadata documents, chunks and plain files with `set` (and `delete`);
 * each value becomes an object as it is written (a chunk object by its
 * SHA-256, a metadata document a Git blob), so the session holds only the
 * list of what changed, never the bytes. `get` sees the session's own
 * writes over the branch as it was when the session opened.
 *
 * Nothing is visible on the branch until `commit`: it writes the changed
 * manifest shards, trees and the commit from the base's snapshot (only the
 * folders on the way to a change are read), then moves the branch by
 * compare-and-swap. When the branch moved meanwhile, the session rebases
 * onto its new tip: changes to files the other commits did not touch are
 * applied as they are; a chunk both changed is merged element by element as
 * `merge` does; anything else (a metadata document or plain file both
 * changed differently, an element both changed) is a conflict, reported with
 * its paths, and the session stays as it was for the caller to decide.
 *
 * A session forks into a token (plain JSON) that another process opens to
 * write its part; its change set (plain JSON: paths and object ids, no bytes)
 * comes back and `absorb` gathers it before one commit.
 */
import { randomInt } from "node:crypto";
import { BranchMovedError, isTdvError, SessionConflictError, SessionStateError, UsageError } from "../errors.js";
import { indentedList } from "../format/display.js";
import { checkEntryName, type Person } from "../format/git-object.js";
import { sha256, type ChunkId, type GitOid } from "../format/hash.js";
import { FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import { parseZarray, parseZarrJson, type ArrayMeta } from "../format/zarr-meta.js";
import { baseName, joinPath, META_NAMES, parentDir, SMALL_FILE, storeFor } from "../repo/hierarchy.js";
import { mergeChunk } from "../repo/merge/elementwise.js";
import type { Repository, Stores } from "../repo/repository.js";
import { storedHierarchy, writeSnapshot, type SnapEntry } from "../repo/snapshot.js";
import { updateSnapshot } from "../repo/snapshot-update.js";
import { diffTrees } from "../repo/tree-diff.js";
import { TDV_VERSION } from "../format/version.js";
import { formatMessage } from "../worktree/record.js";
import { mapLimit } from "../store/atomic.js";
import type { ObjectWriter } from "../store/types.js";
import { beating, History, newSessionId, SESSION_TRAILER, sessionOf, STALL_MS, Waiter, type PendingCommit, type PendingQueue } from "./group-commit.js";
import { openSession, sliceRange, type RangeQuery, type ReadSession } from "./read.js";
import { pathParts } from "../format/paths.js";

/** One file the session wrote (its object) or deleted. */
export type SessionChange = { path: string; store: "git" | "chunk"; id: string; size: number } | { path: string; deleted: true };

/** What a session (or a fork of it) changed: paths and object ids, no bytes; plain JSON. */
export interface ChangeSet {
  format: "tdv-change-set/1";
  branch: string;
  base: GitOid | null;
  changes: SessionChange[];
}

/** What another process needs to open a fork of a session (plain JSON). */
export interface SessionToken {
  format: "tdv-session/1";
  /** the repository folder (.tdv) of a session on a local repository */
  tdvDir?: string;
  /** the URL of the remote a session writes into (no clone) */
  remote?: string;
  branch: string;
  base: GitOid | null;
}

/** A session's announcement as a writer: gc keeps what it writes until it is released. */
export interface SessionHold {
  /** throws when the announcement may have lapsed (a gc may have run meanwhile): the branch must not move */
  check(): void;
  release(): Promise<void> | void;
}

/**
 * Where a session's repository lives, beyond its stores: a local repository
 * (the default) or a remote written in place (remote/remote-write.ts).
 */
export interface SessionHost {
  /** what a token names the repository by: {tdvDir} or {remote} */
  readonly where: { tdvDir: string } | { remote: string };
  /** announce the session as a writer of objects until it ends */
  hold(): Promise<SessionHold>;
  /** whether a working copy may have the branch checked out (a local repository) */
  readonly workingCopy: boolean;
  /** where losers of a race for `branch` leave their commits for the next winner to carry (group commit); none: each commits alone */
  pending?(branch: string): PendingQueue;
}

export interface WriteSessionOptions {
  /** where the repository lives (default: the local repository `repo` is) */
  host?: SessionHost;
  /**
   * Called with each commit the session is about to move its branch to (the
   * full ref name, and the commit's `noVerify`): throws to refuse it (the
   * branch does not move; the session stays open), or returns trailers to
   * record, and the commit is written again with them. The library's
   * `openWriteSession` passes the branch's validation rules (src/rules).
   */
  verify?: (commit: GitOid, branch: string, noVerify: boolean) => Promise<Record<string, string> | null>;
}

export interface SessionCommitOptions {
  /** extra trailers recorded in the message (the tool version and the session's command are added) */
  trailers?: Record<string, string>;
  /** how many times to try to move the branch (rebasing when it moved meanwhile) before giving up with BranchMovedError (default 64: with the backoff, minutes of contention) */
  attempts?: number;
  /** skip the validation rules the branch's tdv-rules.toml runs at commit (recorded as a Tdv-No-Verify trailer when they fail) */
  noVerify?: boolean;
}

export interface SessionCommitResult {
  commit: GitOid;
  /** the commit the session's changes were applied onto (its base, or the branch's tip it rebased onto) */
  parent: GitOid | null;
  branch: string;
  /** files changed by the commit */
  changed: number;
  /** how many times the branch had moved and the session rebased */
  rebased: number;
  /** chunks both this session and the commits it rebased over changed, merged element by element */
  merged: string[];
  /** other sessions' commits this one carried onto the branch after its own (group commit) */
  carried: number;
}

export interface WriteSession {
  readonly branch: string;
  /** the branch's commit when the session opened (null: the branch has no commit yet) */
  readonly base: GitOid | null;
  /** zarrita's store: the bytes at `key` as the session sees them (its writes over its base) */
  get(key: string, opts?: unknown): Promise<Uint8Array | undefined>;
  getRange(key: string, range: RangeQuery, opts?: unknown): Promise<Uint8Array | undefined>;
  /** zarrita's writable store: `value` becomes the file at `key` */
  set(key: string, value: Uint8Array): Promise<void>;
  /** the file at `key` is removed (a chunk: the fill value) */
  delete(key: string): Promise<boolean>;
  /** what the session changed so far */
  changeSet(): ChangeSet;
  /** a token another process opens with `openWriteSession(repo, token)` to write its part */
  fork(): SessionToken;
  /**
   * gather the change sets of forks (checking that their objects are stored, reading no bytes); a path two of them
   * wrote differently is refused. May be called for each fork as it finishes, also while other calls still run:
   * its checks then overlap the other forks' writing
   */
  absorb(sets: readonly ChangeSet[]): Promise<void>;
  /** write the commit and move the branch (rebasing when it moved); ends the session */
  commit(message: string, opts?: SessionCommitOptions): Promise<SessionCommitResult>;
  /** end the session without committing (its objects become garbage gc collects); resolves once its writer announcement is withdrawn */
  close(): Promise<void>;
}

const RESERVED = new Set([MANIFEST_TREE, FILE_LIST]);
/** backoff after a lost race for the branch: up to BASE·2^attempt ms (random), at most CAP */
const BACKOFF_BASE_MS = 25;
const BACKOFF_CAP_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Open a write session on `branch` (created by the first commit when it does
 * not exist), or the fork a token names (on the token's base).
 */
export async function openWriteSession<S extends Stores>(repo: Repository<S>, target: string | SessionToken, opts: WriteSessionOptions = {}): Promise<WriteSession> {
  const host = opts.host ?? localHost(repo as unknown as Repository);
  let branch: string;
  let base: GitOid | null;
  if (typeof target === "string") {
    branch = target.startsWith("refs/heads/") ? target.slice(11) : target;
    checkBranch(branch);
    base = await repo.refs.read(`refs/heads/${branch}`);
  } else {
    checkToken(target, host);
    branch = target.branch;
    base = target.base;
  }
  const hold = await host.hold();
  try {
    const read = base ? await openSession(repo as unknown as Repository, base) : null;
    return new Session(repo as unknown as Repository, branch, base, read, hold, host, opts.verify ?? null);
  } catch (err) {
    await hold.release();
    throw err;
  }
}

/** A local repository: its token names its folder; gc there waits for the session (store/writers.ts). */
function localHost(repo: Repository): SessionHost {
  return { where: { tdvDir: repo.tdvDir }, workingCopy: true, hold: async () => ({ check: () => {}, release: await holdWriter(repo) }) };
}

function checkBranch(branch: string): void {
  if (branch === "" || branch.split("/").some((p) => p === "" || p === "." || p === ".." || p.endsWith(".lock")) || /[\s~^:?*[\\]/.test(branch)) {
    throw new UsageError(`'${branch}' is not a valid branch name`, { hint: "name a branch as git does, e.g. main or pipelines/era5" });
  }
}

/** Whether `t` is a token (the shape fork() returns), checked before anything is opened from it. */
export function checkToken(t: SessionToken, host?: SessionHost): void {
  if (t?.format !== "tdv-session/1" || typeof t.branch !== "string" || (t.base !== null && typeof t.base !== "string")) {
    throw new UsageError("not a write-session token", { hint: "pass the object session.fork() returned, as JSON" });
  }
  if (t.base !== null && !/^[0-9a-f]{40}$/.test(t.base)) throw new UsageError("the token's base is not a commit id", { hint: "pass the object session.fork() returned, as JSON" });
  if (host) {
    const where = "tdvDir" in host.where ? host.where.tdvDir : host.where.remote;
    const theirs = t.tdvDir ?? t.remote ?? "(nowhere)";
    if (("tdvDir" in host.where ? t.tdvDir : t.remote) !== where) {
      throw new UsageError(`the token is of the repository ${theirs}, not ${where}`, { hint: "open the fork in the repository its session belongs to" });
    }
  }
  checkBranch(t.branch);
}

/** Announce the session as a writer of objects until it ends: gc never deletes what it wrote meanwhile. */
async function holdWriter(repo: Repository): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  await new Promise<void>((entered, fail) => {
    repo.writing("write session", async () => {
      entered();
      await held;
    }).catch(fail);
  });
  return release;
}

type Entry = SnapEntry | null;
/** The bytes at a path as a set of changes sees them (its own writes over the commit it applies onto). */
type View = (path: string) => Promise<Uint8Array | undefined>;

class Session implements WriteSession {
  /** path → the session's entry (null: deleted) */
  private readonly changes = new Map<string, Entry>();
  private closed = false;
  /** read sessions on the commits the session's commit met (its base, tips it rebased onto) */
  private readonly reads = new Map<string, Promise<ReadSession>>();
  /** tree diffs read (treeChanges) */
  private readonly diffs = new Map<string, Promise<{ touched: { path: string }[]; theirs: Map<string, SnapEntry> }>>();
  /** objects of carried commits found in the repository */
  private readonly present = new Set<string>();

  constructor(
    private readonly repo: Repository,
    readonly branch: string,
    readonly base: GitOid | null,
    private readonly read: ReadSession | null,
    private readonly hold: SessionHold,
    private readonly host: SessionHost,
    private readonly verify: WriteSessionOptions["verify"] | null = null,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = canonical(key);
    const e = this.changes.get(path);
    if (e === null) return undefined;
    if (e) return e.store === "chunk" ? this.repo.chunks.get(e.id as ChunkId, path) : this.repo.git.readBlob(e.id as GitOid, path);
    return this.read?.get(path);
  }

  async getRange(key: string, range: RangeQuery): Promise<Uint8Array | undefined> {
    const bytes = await this.get(key);
    return bytes && sliceRange(bytes, range);
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    this.open();
    const path = canonical(key);
    checkWritable(path);
    const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
    // metadata documents are Git blobs; everything else a chunk object (a small plain file becomes a blob at commit)
    if (META_NAMES.has(baseName(path))) {
      const id = await this.repo.git.writeBlob(bytes);
      this.changes.set(path, { store: "git", id, size: bytes.length });
    } else {
      const id = sha256(bytes);
      await this.repo.chunks.put(id, bytes);
      this.changes.set(path, { store: "chunk", id, size: bytes.length });
    }
  }

  async delete(key: string): Promise<boolean> {
    this.open();
    const path = canonical(key);
    checkWritable(path);
    const had = this.changes.get(path) ? true : this.changes.has(path) ? false : (await this.read?.file(path)) != null;
    this.changes.set(path, null);
    return had;
  }

  changeSet(): ChangeSet {
    const changes: SessionChange[] = [];
    for (const [path, e] of [...this.changes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) changes.push(e ? { path, ...e } : { path, deleted: true });
    return { format: "tdv-change-set/1", branch: this.branch, base: this.base, changes };
  }

  fork(): SessionToken {
    this.open();
    return { format: "tdv-session/1", ...this.host.where, branch: this.branch, base: this.base };
  }

  async absorb(sets: readonly ChangeSet[]): Promise<void> {
    this.open();
    const incoming = new Map<string, { entry: Entry; from: number }>();
    sets.forEach((set, i) => {
      if (set?.format !== "tdv-change-set/1" || !Array.isArray(set.changes)) throw new UsageError(`change set ${i + 1} is not a tdv change set`, { hint: "pass what a fork's changeSet() returned" });
      if (set.branch !== this.branch || set.base !== this.base) {
        throw new UsageError(`change set ${i + 1} was written on ${set.branch} at ${set.base?.slice(0, 10) ?? "(no commit)"}, this session is on ${this.branch} at ${this.base?.slice(0, 10) ?? "(no commit)"}`, {
          hint: "gather only the change sets of this session's forks",
        });
      }
      for (const c of set.changes) {
        const path = canonical(c.path);
        checkWritable(path);
        const entry = checkEntry(c, i);
        const seen = incoming.get(path);
        if (seen && !sameEntry(seen.entry, entry)) throw new SessionConflictError(this.branch, [path], `change set ${seen.from + 1} and change set ${i + 1} both wrote ${path}, differently`);
        incoming.set(path, { entry, from: i });
      }
    });
    // against what the session holds: before the checks below, and again after them (an absorb of
    // other change sets, called meanwhile as other forks finished, may have taken a path since)
    const clash = () => {
      for (const [path, { entry, from }] of incoming) {
        if (this.changes.has(path) && !sameEntry(this.changes.get(path) as Entry, entry)) {
          throw new SessionConflictError(this.branch, [path], `this session (or a change set gathered before) and change set ${from + 1} both wrote ${path}, differently`);
        }
      }
    };
    clash();
    const missing: string[] = [];
    // at most 32 checks at once (on a remote, each is a request)
    await mapLimit([...incoming], 32, async ([path, { entry }]) => {
      if (!entry) return;
      const stored = entry.store === "chunk" ? await this.repo.chunks.has(entry.id) : (await this.repo.git.typeOf(entry.id)) === "blob";
      if (!stored) missing.push(`${path} (${entry.store === "chunk" ? "chunk object" : "blob"} ${entry.id.slice(0, 12)})`);
    });
    if (missing.length > 0) {
      throw new UsageError(`the change sets name objects this repository lacks:\n${indentedList(missing.sort())}`, {
        hint: "a fork must write into the same repository (open it with the token in the repository it names)",
      });
    }
    clash();
    for (const [path, { entry }] of incoming) this.changes.set(path, entry);
  }

  async commit(message: string, opts: SessionCommitOptions = {}): Promise<SessionCommitResult> {
    this.open();
    if (message.trim() === "") throw new UsageError("empty commit message", { hint: "say what the pipeline wrote, e.g. commit('era5: 2026-03 appended')" });
    const attempts = opts.attempts ?? 64;
    const ref = `refs/heads/${this.branch}`;
    await this.refuseCheckedOut(ref);
    const id = newSessionId();
    // the session's id is the last trailer (sessionOf reads it there)
    const messageWith = (extra: Record<string, string>) => formatMessage(message, { "Tdv-Version": TDV_VERSION, "Tdv-Command": "write session", ...(opts.trailers ?? {}), ...extra, [SESSION_TRAILER]: id });
    let text = messageWith({});
    const author = this.repo.identity(new Date(), "author");
    const queue = this.host.pending?.(this.branch) ?? null;
    const history = new History((oid) => this.repo.git.readCommit(oid));
    let waiter: Waiter | null = null;
    let onto = this.base;
    let changes = new Map(this.changes);
    const merged: string[] = [];
    let rebased = 0;
    let lost = 0;
    const result = (commit: GitOid, parent: GitOid | null, changed: number, carried: number): SessionCommitResult => ({
      commit,
      parent,
      branch: this.branch,
      changed,
      rebased,
      merged: [...new Set(merged)],
      carried,
    });
    try {
      for (;;) {
        // the branch as it is now: when it moved, rebase before writing anything (a commit on a stale tip would only lose the race)
        const tip = await this.repo.refs.read(ref);
        let carry: PendingCommit[] = [];
        if (waiter) {
          // queued: wait for the carrier (polling the branch), or carry when it is this session's turn
          if (!waiter.due(tip)) {
            await sleep(waiter.pause());
            continue;
          }
          const turn = await waiter.turn(tip);
          if (turn.kind === "landed") return await this.landedBy(waiter, turn.commit, changes.size, result);
          if (turn.kind === "wait") {
            await sleep(waiter.pause());
            continue;
          }
          carry = turn.records;
        }
        // a queued session at work on its turn beats, so that the waiters see it working however slow it is
        const stopBeat = waiter && queue ? beating(queue, waiter.id) : null;
        try {
          if (tip !== onto) {
            ({ changes } = await this.rebase(onto, tip, changes, merged));
            onto = tip;
            rebased++;
          }
          const now = new Date();
          const committer = this.repo.identity(now, "committer");
          const parentTree = onto ? (await this.repo.git.readCommit(onto)).tree : null;
          const commitObject = (tree: GitOid, extra: Record<string, string>) => ({
            tree,
            parents: onto ? [onto] : [],
            author: { ...author, timestamp: Math.floor(now.getTime() / 1000) },
            committer,
            message: messageWith(extra),
          });
          // the trees and the commit written together (on a remote: uploaded in one parallel round)
          let { tree, own } = await this.repo.git.withPack(async (pack) => {
            const tree = await this.treeWith(onto, changes, pack);
            return { tree, own: await pack.writeCommit(commitObject(tree, {})) };
          });
          // the branch's rules, on the commit it is about to move to (refused: thrown, nothing moved)
          const extra = this.verify ? await this.verify(own, ref, opts.noVerify === true) : null;
          if (extra && Object.keys(extra).length > 0) {
            own = await this.repo.git.writeCommit(commitObject(tree, extra));
            text = messageWith(extra);
          }
          // other sessions' queued commits after it, each under the same rules (one more parallel round of uploads)
          const links = carry.length > 0 ? await this.repo.git.withPack((pack) => this.carryOnto(onto, own, changes.keys(), carry, committer, pack, ref)) : [];
          const chain = { tree, own, links, top: links.at(-1)?.commit ?? own };
          try {
            await this.repo.durability.flush();
            this.hold.check(); // a lapsed announcement: gc may have removed objects this commit names
            await this.repo.refs.update(ref, { expected: onto, next: chain.top, who: committer, message: `commit (session): ${message.trim().split("\n")[0]}${chain.links.length ? ` (and ${chain.links.length} carried)` : ""}` });
          } catch (err) {
            if (!(err instanceof BranchMovedError) || ++lost >= attempts) throw err;
            if (queue && !waiter) {
              // lost a race: leave the commit for whoever lands next to carry, and wait for it
              await queue.publish({ format: "tdv-pending-commit/1", id, branch: this.branch, base: onto, changes: [...changes], message: text, author });
              waiter = new Waiter(queue, id, onto, history);
            }
            // back off (exponentially, with full jitter, so that many committers spread out), then look again; a
            // carrier whose chain lost to a single commit tries again at once
            await sleep(randomInt(0, (waiter && carry.length > 0 ? 50 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(lost - 1, 12))) + 1));
            continue;
          }
          if (queue) {
            await stopBeat?.(); // before this session's beat is removed with its record
            await mapLimit(chain.links, 16, (l) => queue.markLanded(l.id, l.commit));
            // the carried sessions' records go (their markers stay until their owners read them), and this one's own
            await mapLimit(chain.links, 16, (l) => queue.remove(l.id).catch(() => undefined));
            if (waiter) await queue.forget(id).catch(() => undefined);
          }
          await this.close();
          return result(chain.own, onto, chain.tree === parentTree ? 0 : changes.size, chain.links.length);
        } finally {
          await stopBeat?.();
        }
      }
    } catch (err) {
      if (!waiter || !queue) throw err;
      // this session's record may have been read by a carrier just before: withdraw it, give any such carrier time to finish, and look
      await queue.remove(id).catch(() => undefined);
      await sleep(STALL_MS);
      const tip = await this.repo.refs.read(ref).catch(() => null);
      const landed = (await queue.landed(id).catch(() => null)) ?? (tip ? (await history.sessionsBetween(tip, waiter.base).catch(() => null))?.get(id) : undefined);
      if (landed) return await this.landedBy(waiter, landed, changes.size, result);
      throw err;
    }
  }

  /** The result of a commit another session carried: its marker removed, the session closed. */
  private async landedBy(
    waiter: Waiter,
    commit: GitOid,
    changed: number,
    result: (commit: GitOid, parent: GitOid | null, changed: number, carried: number) => SessionCommitResult,
  ): Promise<SessionCommitResult> {
    const c = await this.repo.git.readCommit(commit);
    if (sessionOf(c.message) !== waiter.id) throw new SessionStateError(this.branch); // a marker naming another session's commit: never trusted
    await waiter.done();
    await this.close();
    return result(commit, c.parents[0] ?? null, changed, 0);
  }

  /**
   * The queued commits `records`, each rebased onto the one before (from
   * `own`), as commits with their own message and author; a record whose
   * objects are not all on the remote, or whose changes conflict, is left
   * for its owner.
   */
  private async carryOnto(onto: GitOid | null, own: GitOid, ownPaths: Iterable<string>, records: readonly PendingCommit[], committer: Person, pack: ObjectWriter, ref: string): Promise<{ id: string; commit: GitOid }[]> {
    const links: { id: string; commit: GitOid }[] = [];
    const taken = new Set(ownPaths);
    let prev = own;
    const stored = await this.stored(records);
    for (const rec of records) {
      if (!stored.has(rec.id)) continue;
      let applied = new Map<string, Entry>(rec.changes);
      const view: View = async (k) => {
        const e = applied.get(k);
        if (e === null) return undefined;
        if (e) return e.store === "chunk" ? this.repo.chunks.get(e.id as ChunkId, k) : this.repo.git.readBlob(e.id as GitOid, k);
        return rec.base ? (await this.at(rec.base)).get(k) : undefined;
      };
      try {
        // onto the branch's tip (one diff from each base, shared by the records on it); a record touching what an
        // earlier link of the chain touched waits for the next chain, which sees that link as part of the branch
        ({ changes: applied } = await this.rebase(rec.base, onto, applied, [], view));
      } catch (err) {
        if (err instanceof SessionConflictError) continue;
        throw err;
      }
      if ([...applied.keys()].some((p) => taken.has(p))) continue;
      for (const p of applied.keys()) taken.add(p);
      const tree = await this.treeWith(prev, applied, pack, view);
      const link = await pack.writeCommit({ tree, parents: [prev], author: rec.author, committer, message: rec.message });
      if (this.verify) {
        // the branch's rules hold for every commit it moves through: one that breaks them is left for its owner, who hears why
        try {
          if (await this.verify(link, ref, false)) continue;
        } catch (err) {
          if (isTdvError(err, "RulesFailedError")) continue;
          throw err;
        }
      }
      prev = link;
      links.push({ id: rec.id, commit: prev });
    }
    return links;
  }

  /** The queued commits whose objects are all in the repository (checked while this session's announcement holds gc off). */
  private async stored(records: readonly PendingCommit[]): Promise<Set<string>> {
    const missing = new Set<string>();
    const wanted = new Map<string, { store: "git" | "chunk"; of: string[] }>();
    for (const rec of records) {
      for (const [, e] of rec.changes) {
        if (!e || this.present.has(e.id)) continue;
        const w = wanted.get(e.id) ?? { store: e.store, of: [] };
        w.of.push(rec.id);
        wanted.set(e.id, w);
      }
    }
    await mapLimit([...wanted], 32, async ([id, w]) => {
      const there = w.store === "chunk" ? await this.repo.chunks.has(id as ChunkId) : (await this.repo.git.typeOf(id as GitOid).catch(() => null)) === "blob";
      if (there) this.present.add(id);
      else for (const r of w.of) missing.add(r);
    });
    return new Set(records.filter((r) => !missing.has(r.id)).map((r) => r.id));
  }

  /**
   * As git refuses a push to the branch a working copy has checked out: the
   * working copy and its index would stay on the old commit, and its next
   * commit would undo the session's. A working copy with nothing checked out
   * (an empty index) is not in the way.
   */
  private async refuseCheckedOut(ref: string): Promise<void> {
    if (!this.host.workingCopy) return;
    const head = await this.repo.refs.head();
    if (head.branch !== ref) return;
    const index = await this.repo.readIndex();
    if (index.entries.size === 0) return;
    throw new UsageError(`${this.branch} is checked out in the working copy ${this.repo.root}: a session commit would leave it behind`, {
      hint: `commit the session on another branch and merge it (\`tdv merge\`), or switch the working copy to another branch first (\`tdv switch -c review\`)`,
    });
  }

  /** A read session on commit `oid`, opened once (a remote's: no ref read again for it). */
  private at(oid: GitOid): Promise<ReadSession> {
    let p = this.reads.get(oid);
    if (!p) {
      p = oid === this.base && this.read ? Promise.resolve(this.read) : openSession(this.repo, oid);
      this.reads.set(oid, p);
    }
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hold.release();
  }

  private open(): void {
    if (this.closed) throw new SessionStateError(this.branch);
  }

  /**
   * The changes re-based from `from` onto `to`: a file only this session
   * changed keeps its change; one both changed to the same bytes needs none;
   * a chunk both changed is merged element by element; anything else is a
   * SessionConflictError naming every such path.
   */
  private async rebase(from: GitOid | null, to: GitOid | null, changes: Map<string, Entry>, merged: string[], view: View = (k) => this.get(k)): Promise<{ changes: Map<string, Entry> }> {
    const treeOf = async (c: GitOid | null) => (c ? (await this.repo.git.readCommit(c)).tree : null);
    const [baseTree, tipTree] = await Promise.all([treeOf(from), treeOf(to)]);
    const { touched, theirs } = await this.treeChanges(baseTree, tipTree);
    const theirPaths = new Set(touched.map((c) => c.path));
    const out = new Map(changes);
    const conflicts: string[] = [];
    const baseRead = from ? await this.at(from) : null;
    const tipRead = to ? await this.at(to) : null;
    for (const [path, ours] of changes) {
      if (!theirPaths.has(path)) continue;
      const their = theirs.get(path) ?? null;
      if (sameEntry(ours, their)) {
        out.delete(path); // both made the same change
        continue;
      }
      const bytes = ours && their ? await this.mergeChunkAt(path, baseRead, tipRead, ours, view) : null;
      if (bytes === null) {
        conflicts.push(path);
        continue;
      }
      if (bytes === "theirs") out.delete(path);
      else {
        const id = sha256(bytes);
        await this.repo.chunks.put(id, bytes);
        out.set(path, { store: "chunk", id, size: bytes.length });
      }
      merged.push(path);
    }
    if (conflicts.length > 0) throw new SessionConflictError(this.branch, conflicts, `the branch moved to ${to?.slice(0, 10) ?? "(none)"} and changed ${conflicts.length === 1 ? "a file" : "files"} this session changed too`);
    return { changes: out };
  }

  /** What changed from tree `a` to tree `b` (read once for each pair: carried commits share their bases). */
  private treeChanges(a: GitOid | null, b: GitOid | null): Promise<{ touched: { path: string }[]; theirs: Map<string, SnapEntry> }> {
    const key = `${a}:${b}`;
    let p = this.diffs.get(key);
    if (!p) {
      const theirs = new Map<string, SnapEntry>();
      p = diffTrees(this.repo, a, b, theirs, new Map<string, SnapEntry>()).then((touched) => ({ touched, theirs }));
      this.diffs.set(key, p);
    }
    return p;
  }

  /** A chunk both sides changed, merged element by element: its bytes, "theirs" when the merge is their file, null when it cannot merge (a conflict). */
  private async mergeChunkAt(path: string, baseRead: ReadSession | null, tipRead: ReadSession | null, ours: NonNullable<Entry>, view: View): Promise<Uint8Array | "theirs" | null> {
    if (!tipRead) return null;
    const tipFile = await tipRead.file(path);
    if (tipFile?.kind !== "chunk") return null;
    const arrayPath = await arrayOfChunk(tipRead, path);
    if (arrayPath === null) return null;
    const [baseArray, tipArray] = await Promise.all([baseRead?.array(arrayPath), tipRead.array(arrayPath)]);
    // the session's view of the array's metadata: its own document if it wrote one
    const oursMeta = await view(joinPath(arrayPath, tipArray?.meta.zarrFormat === 3 ? "zarr.json" : ".zarray"));
    if (!tipArray || !baseArray || !oursMeta) return null;
    const docOf = async (s: ReadSession, a: string) => (await s.get(joinPath(a, tipArray.meta.zarrFormat === 3 ? "zarr.json" : ".zarray"))) as Uint8Array;
    const attrsOf = async (s: { get(k: string): Promise<Uint8Array | undefined> }) => (tipArray.meta.zarrFormat === 2 ? ((await s.get(joinPath(arrayPath, ".zattrs"))) ?? null) : null);
    const baseDoc = await docOf(baseRead as ReadSession, arrayPath);
    const tipDoc = await docOf(tipRead, arrayPath);
    if (!Buffer.from(baseDoc).equals(Buffer.from(tipDoc)) || !Buffer.from(baseDoc).equals(Buffer.from(oursMeta))) return null; // metadata changed: no element-wise merge
    const key = path.slice(arrayPath ? arrayPath.length + 1 : 0);
    const index = parseIndex(tipArray.meta, key);
    if (!index) return null;
    const baseFile = await baseRead?.file(path);
    const side = async (bytes: Uint8Array | null, attrs: Uint8Array | null) => ({ metaDoc: tipDoc, zattrs: attrs, shape: tipArray.meta.shape, bytes });
    try {
      const result = await mergeChunk({
        chunk: index,
        sides: {
          base: await side(baseFile ? await (baseRead as ReadSession).read(baseFile) : null, await attrsOf(baseRead as ReadSession)),
          ours: await side(ours.store === "chunk" ? await this.repo.chunks.get(ours.id as ChunkId, path) : null, await attrsOf(this)),
          theirs: await side(await tipRead.read(tipFile), await attrsOf(tipRead)),
        },
        merged: { metaDoc: tipDoc, shape: tipArray.meta.shape },
        prefer: null,
        examples: 0,
      });
      if (result.conflicts.count > 0) return null;
      if (result.result.kind === "side") return result.result.side === "theirs" ? "theirs" : await this.repo.chunks.get(ours.id as ChunkId, path);
      return result.result.bytes;
    } catch {
      return null; // an array the element-wise merge cannot decode: a conflict
    }
  }

  /**
   * The snapshot tree of commit `onto` with `changes` applied. Only the files
   * on the way to a change are looked up: the metadata documents of every
   * folder above a changed path (they say which files are chunks), and, when
   * a folder becomes or stops being an array, the files under it.
   */
  private async treeWith(onto: GitOid | null, changes: Map<string, Entry>, pack: ObjectWriter, view: View = (k) => this.get(k)): Promise<GitOid> {
    const read = onto ? await this.at(onto) : null;
    const files = new Map<string, SnapEntry>();
    for (const [p, e] of changes) if (e) files.set(p, e);
    const dirs = new Set<string>();
    for (const p of changes.keys()) for (let d = parentDir(p); ; d = parentDir(d)) {
      if (dirs.has(d)) break;
      dirs.add(d);
      if (d === "") break;
    }
    if (read) {
      for (const d of dirs) {
        for (const name of ["zarr.json", ".zarray", ".zattrs", ".zgroup"]) {
          const p = joinPath(d, name);
          if (changes.has(p)) continue;
          const f = await read.file(p);
          if (f) files.set(p, snapEntry(f));
        }
      }
      // a folder whose array identity changes is written anew from every file under it
      for (const p of changes.keys()) {
        const name = baseName(p);
        if (name !== "zarr.json" && name !== ".zarray") continue;
        const dir = parentDir(p);
        const before = (await read.array(dir))?.meta ?? null;
        const after = await metaOf(view, p);
        if (sameIdentity(before, after)) continue;
        const hasAbove = [...dirs].some((d) => d !== dir && (d === "" || dir.startsWith(`${d}/`)) && (files.has(joinPath(d, "zarr.json")) || files.has(joinPath(d, ".zarray"))));
        for await (const f of read.walk(hasAbove ? "" : dir)) if (!changes.has(f.path)) files.set(f.path, snapEntry(f));
      }
    }
    // small plain files are blobs in a snapshot: a chunk object the session wrote for one becomes a blob
    const h = storedHierarchy(this.repo, files, true);
    for (const [p, e] of changes) {
      if (e?.store !== "chunk" || e.size >= SMALL_FILE) continue;
      const kind = await h.classify(p);
      if (storeFor(kind, e.size) === "git") {
        const id = await pack.writeBlob(await this.repo.chunks.get(e.id as ChunkId, p));
        files.set(p, { store: "git", id, size: e.size });
      }
    }
    if (!onto) return writeSnapshot(this.repo, files, undefined, pack);
    const tree = (await this.repo.git.readCommit(onto)).tree;
    return updateSnapshot(this.repo, tree, files, changes.keys(), pack);
  }
}

/** The metadata of the array document at `path` as the session has it, or null (not an array, or unreadable). */
async function metaOf(view: View, path: string): Promise<ArrayMeta | null> {
  const doc = await view(path);
  if (!doc) return null;
  try {
    if (baseName(path) === ".zarray") return parseZarray(doc, path);
    const node = parseZarrJson(doc, path);
    return node.kind === "array" ? node.meta : null;
  } catch {
    return null;
  }
}

function sameIdentity(a: ArrayMeta | null, b: ArrayMeta | null): boolean {
  if (!a || !b) return a === b;
  return a.shape.length === b.shape.length && a.keyEncoding.kind === b.keyEncoding.kind && a.keyEncoding.separator === b.keyEncoding.separator;
}

/** The array (path) whose chunk `path` is in session `s`, or null. */
async function arrayOfChunk(s: ReadSession, path: string): Promise<string | null> {
  for (let d = parentDir(path); ; d = parentDir(d)) {
    if (await s.array(d)) return d;
    if (d === "") return null;
  }
}

function parseIndex(meta: ArrayMeta, key: string): number[] | null {
  const parts = meta.keyEncoding.kind === "default" ? key.replace(/^c[./]?/, "").split(meta.keyEncoding.separator) : key.split(meta.keyEncoding.separator);
  if (meta.shape.length === 0) return [];
  if (parts.length !== meta.shape.length || !parts.every((p) => /^(0|[1-9][0-9]*)$/.test(p))) return null;
  return parts.map(Number);
}

function canonical(key: string): string {
  return pathParts(key, "key").join("/");
}

function checkWritable(path: string): void {
  if (path === "") throw new UsageError("a key names a file, not the root", { hint: "write e.g. era5.zarr/zarr.json" });
  const parts = path.split("/");
  for (const p of parts) {
    checkEntryName(p, parentDir(path));
    if (RESERVED.has(p)) throw new UsageError(`'${p}' is reserved for tdv's manifests and file lists`, { hint: `choose another name than ${p} for ${path}` });
  }
  const top = (parts[0] as string).toLowerCase();
  if (top === ".tdv" || top === ".git") throw new UsageError(`cannot write ${path}: ${parts[0]} is the repository's own folder`, { hint: "write the stores' files, e.g. era5.zarr/t2m/c/0/0" });
}

function checkEntry(c: SessionChange, i: number): Entry {
  if ("deleted" in c && c.deleted === true) return null;
  const e = c as { store?: unknown; id?: unknown; size?: unknown };
  const ok =
    (e.store === "chunk" && typeof e.id === "string" && /^[0-9a-f]{64}$/.test(e.id)) || (e.store === "git" && typeof e.id === "string" && /^[0-9a-f]{40}$/.test(e.id));
  if (!ok || typeof e.size !== "number" || !Number.isSafeInteger(e.size) || e.size < 0) {
    throw new UsageError(`change set ${i + 1}: the entry for ${c.path} names no valid object`, { hint: "pass change sets as changeSet() returned them" });
  }
  return { store: e.store, id: e.id, size: e.size } as SnapEntry;
}

function snapEntry(f: { store: "git" | "chunk"; id: string; size: number }): SnapEntry {
  return { store: f.store, id: f.id, size: f.size } as SnapEntry;
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === null || b === null) return a === b;
  return a.store === b.store && a.id === b.id;
}
