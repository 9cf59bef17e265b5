/**
 * Push negotiation, git's way for a remote that cannot answer questions: the
 * remote "has" every object reachable from its refs (a remote ref only ever
 * names complete history), so push sends the objects reachable from what it
 * pushes and not from those refs.
 *
 * 1. Commits: a walk newest first over both sides at once, painting commits
 *    reached from the pushed tips "new" and from the remote's tips "had" (the
 *    had paint wins and flows down to parents). It stops once nothing new is
 *    left in its queue, so it reads the commits since the fork point, not the
 *    whole history. Commit times decide the order, and equal times (commits
 *    made in one second) or skewed clocks could end it too early, so it goes
 *    on through the had commits up to a day older than the oldest new one
 *    (git's "slop"). Any mistake left can only call a had commit new, which
 *    costs objects sent twice, never one missing.
 * 2. Objects: each new commit's snapshot is compared with its parents'
 *    snapshots, path by path: an entry equal to a parent's (same Git id) is
 *    skipped without being read, a changed manifest shard or file list is
 *    decoded and compared with the parents' at the same path, chunk by chunk.
 *    By induction over the new commits, everything skipped is either on the
 *    remote (a had parent) or sent for another new commit. The work follows
 *    the size of the change, not of the dataset.
 */
import type { ChunkId, GitOid } from "../format/hash.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import { CommitQueue } from "../repo/history.js";
import type { Repository } from "../repo/repository.js";
import type { CommitObject, TreeEntry } from "../format/git-object.js";
import type { GitType } from "./git-objects.js";

export interface SendSet {
  /** Git objects to send: tags and commits, trees and blobs of their snapshots */
  git: { oid: GitOid; type: GitType }[];
  /** chunk objects to send (id → size) */
  chunks: Map<ChunkId, number>;
  /** new commits (what the pushed refs have and the remote's do not) */
  commits: number;
  /** objects compared and found on the remote (or sent for another commit); bytes: chunks only */
  skipped: { objects: number; bytes: number };
}

const NEW = 1;
const HAD = 2;
/** how much older than the oldest new commit the had side is still walked (seconds) */
const SLOP = 24 * 3600;

/**
 * The objects reachable from `wants` and not from `haves` (commits or tag
 * objects; every one of them must be in this repository).
 */
export async function objectsToSend(
  repo: Repository,
  { wants, haves, onObject }: { wants: readonly GitOid[]; haves: readonly GitOid[]; /** called for each object added to the set (progress) */ onObject?: () => void },
): Promise<SendSet> {
  const out: SendSet = { git: [], chunks: new Map(), commits: 0, skipped: { objects: 0, bytes: 0 } };
  const sent = new Set<string>();
  const sendGit = (oid: GitOid, type: GitType) => {
    if (sent.has(oid)) return;
    sent.add(oid);
    out.git.push({ oid, type });
    onObject?.();
  };

  // tags: a had tag object is had with what it names; a wanted one is sent unless had
  const hadTags = new Set<string>();
  const peel = async (oid: GitOid, onTag: (oid: GitOid) => void): Promise<GitOid | null> => {
    for (let depth = 0; depth < 16; depth++) {
      const type = await repo.git.typeOf(oid);
      if (type === "commit") return oid;
      if (type !== "tag") return null; // a tag of a tree or blob: nothing of tdv's below it
      onTag(oid);
      oid = (await repo.git.readTag(oid)).object;
    }
    return null;
  };
  const hadCommits: GitOid[] = [];
  for (const h of haves) {
    const c = await peel(h, (t) => void hadTags.add(t));
    if (c) hadCommits.push(c);
  }
  const wantCommits: GitOid[] = [];
  for (const w of wants) {
    const c = await peel(w, (t) => {
      if (!hadTags.has(t)) sendGit(t, "tag");
    });
    if (c) wantCommits.push(c);
  }

  const newCommits = await paint(repo, wantCommits, hadCommits);
  out.commits = newCommits.length;
  const newOids = new Set<string>(newCommits.map((c) => c.oid));

  // objects, each new commit against its parents
  const done = new Set<string>(); // "<tree>:<role>" already compared
  const skip = (n: number, bytes = 0) => {
    out.skipped.objects += n;
    out.skipped.bytes += bytes;
  };
  // `known`: chunk ids of the parents' manifests (true where a had parent holds it: on the remote)
  const sendChunk = (id: ChunkId, size: number, known: ReadonlyMap<string, boolean>) => {
    const had = known.get(id);
    if (had !== undefined) {
      if (had) skip(1, size); // a new parent's chunk is sent (or counted) for that parent
    } else if (!out.chunks.has(id)) {
      out.chunks.set(id, size);
      onObject?.();
    }
  };
  /** `bases`: the parents' trees at this path, each with whether its commit is on the remote (had) */
  const compareTree = async (oid: GitOid, bases: readonly { oid: GitOid; had: boolean }[], manifest: boolean, where: string): Promise<void> => {
    const role = `${oid}:${manifest ? "m" : "t"}`;
    if (done.has(role)) return;
    done.add(role);
    sendGit(oid, "tree");
    const baseEntries = new Map<string, (TreeEntry & { had: boolean })[]>();
    for (const b of bases) {
      for (const e of await repo.git.readTree(b.oid, where || "root tree")) {
        const entry = { ...e, had: b.had };
        const list = baseEntries.get(e.name);
        if (list) list.push(entry);
        else baseEntries.set(e.name, [entry]);
      }
    }
    for (const e of await repo.git.readTree(oid, where || "root tree")) {
      if (e.mode === "160000") continue;
      const theirs = baseEntries.get(e.name) ?? [];
      const same = theirs.filter((t) => t.oid === e.oid && t.mode === e.mode);
      if (same.length > 0) {
        // on the remote already when a had parent holds it; else sent for the new parent
        if (same.some((t) => t.had)) skip(1);
        continue;
      }
      const rel = where ? `${where}/${e.name}` : e.name;
      if (e.mode === "040000") {
        await compareTree(
          e.oid,
          theirs.filter((t) => t.mode === "040000").map((t) => ({ oid: t.oid, had: t.had })),
          e.name === MANIFEST_TREE,
          rel,
        );
        continue;
      }
      sendGit(e.oid, "blob");
      const kind = manifest ? "shard" : e.name === FILE_LIST ? "files" : null;
      if (kind === null) continue;
      const blobRole = `${e.oid}:${kind}`;
      if (done.has(blobRole)) continue;
      done.add(blobRole);
      const ids = async (blob: GitOid): Promise<{ id: ChunkId; size: number }[]> => {
        const bytes = await repo.git.readBlob(blob, rel);
        return kind === "shard" ? decodeShard(bytes, rel).entries : decodeFileList(bytes, rel);
      };
      const known = new Map<string, boolean>();
      for (const t of theirs) if (t.mode !== "040000" && t.mode !== "160000") for (const c of await ids(t.oid)) known.set(c.id, t.had || known.get(c.id) === true);
      for (const c of await ids(e.oid)) sendChunk(c.id, c.size, known);
    }
  };
  for (const c of newCommits) {
    sendGit(c.oid, "commit");
    const parentTrees: { oid: GitOid; had: boolean }[] = [];
    for (const p of c.parents) parentTrees.push({ oid: (await repo.git.readCommit(p)).tree, had: !newOids.has(p) });
    await compareTree(c.tree, parentTrees, false, "");
  }
  return out;
}

/**
 * Commits reachable from `wants` and not from `haves`, newest first. Both
 * sides are walked together by committer time; the walk ends when every
 * commit still queued is had.
 */
async function paint(repo: Repository, wants: readonly GitOid[], haves: readonly GitOid[]): Promise<CommitObject[]> {
  const flags = new Map<string, number>();
  const commits = new Map<string, CommitObject>();
  const expanded = new Set<string>();
  const queue = new CommitQueue();
  let pendingNew = 0; // queued commits painted new only
  const inQueue = new Set<string>();

  const mark = async (oid: GitOid, flag: number): Promise<void> => {
    const before = flags.get(oid) ?? 0;
    if ((before | flag) === before) return;
    const after = before | flag;
    flags.set(oid, after);
    if (inQueue.has(oid)) {
      if (before === NEW && after !== NEW) pendingNew--;
      return;
    }
    if (expanded.has(oid)) {
      // met again with a new paint after it was walked (clock skew): carry it to the parents
      if (flag & HAD) for (const p of (commits.get(oid) as CommitObject).parents) await mark(p, HAD);
      return;
    }
    let c = commits.get(oid);
    if (!c) {
      c = await repo.git.readCommit(oid);
      commits.set(oid, c);
    }
    inQueue.add(oid);
    if (after === NEW) pendingNew++;
    queue.push(c);
  };
  for (const h of haves) await mark(h, HAD);
  for (const w of wants) await mark(w, NEW);
  let oldestNew = Number.POSITIVE_INFINITY;
  for (;;) {
    const top = queue.peek();
    if (!top) break;
    if (pendingNew === 0 && top.committer.timestamp < oldestNew - SLOP) break;
    const c = queue.pop() as CommitObject;
    inQueue.delete(c.oid);
    expanded.add(c.oid);
    const f = flags.get(c.oid) as number;
    if (f === NEW) {
      pendingNew--;
      oldestNew = Math.min(oldestNew, c.committer.timestamp);
    }
    for (const p of c.parents) await mark(p, f & HAD ? HAD : NEW);
  }
  const out: CommitObject[] = [];
  for (const [oid, f] of flags) if (f === NEW) out.push(commits.get(oid) as CommitObject);
  return out;
}
