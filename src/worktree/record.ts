/**
 * Recording a commit: the index (or, with `all`, the tracked files staged in
 * memory) becomes a snapshot, a commit and a branch move.
 */
import { NothingToCommitError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { Person } from "../format/git-object.js";
import { promises as fsp } from "node:fs";
import { writeIndex, peekEntry, type IndexEntry } from "../store/index-file.js";
import { stage, type Progress } from "./stage.js";
import { groupChanges, type Change, type GroupedChanges } from "../repo/changes.js";
import { checkConsolidated, disagreementWarning } from "../repo/consolidated-check.js";
import type { FileKind } from "../repo/hierarchy.js";
import type { Repository } from "../repo/repository.js";
import { TDV_VERSION } from "../format/version.js";
import { writeSnapshot, headTree, storedHierarchy } from "../repo/snapshot.js";
import { updateSnapshot } from "../repo/snapshot-update.js";
import { diffTrees } from "../repo/tree-diff.js";

export interface CommitOptions {
  message: string;
  /** stage changes of tracked arrays and files first (commit -a) */
  all?: boolean;
  allowEmpty?: boolean;
  /** extra provenance trailers, e.g. { "Tdv-Command": "tdv commit -m x" } */
  trailers?: Record<string, string>;
  /** extra parents (merge commits) */
  extraParents?: GitOid[];
  /** the author to record (a replayed commit keeps its own; default: who commits, now) */
  author?: Person;
  /** write `message` as it is, its trailers included (a replayed commit's), adding none */
  verbatim?: boolean;
  /** the reflog line (default: "commit: SUBJECT") */
  reflogMessage?: string;
  onProgress?: (p: Progress) => void;
  /** skip the validation rules the branch's tdv-rules.toml runs at commit (recorded as a Tdv-No-Verify trailer when they fail) */
  noVerify?: boolean;
  /**
   * Called with the commit written, before the index or the branch moves:
   * throws to refuse it (nothing moves, the index keeps the staged work), or
   * returns trailers to record, and the commit is written again with them.
   * The commands layer passes the rules' gate (src/rules/gate.ts).
   */
  verify?: (commit: GitOid, branch: string | null) => Promise<Record<string, string> | null>;
}

export interface CommitResult {
  oid: GitOid;
  tree: GitOid;
  branch: string | null;
  parents: GitOid[];
  changes: GroupedChanges;
  /** what `commit -a` staged with a warning (metadata tdv cannot read, chunks outside the grid), and consolidated metadata that disagrees with the commit */
  warnings: string[];
}

export function formatMessage(message: string, trailers: Record<string, string>): string {
  const body = message.trim();
  const lines = Object.entries(trailers).map(([k, v]) => `${k}: ${v.replace(/\n/g, " ")}`);
  return lines.length ? `${body}\n\n${lines.join("\n")}\n` : `${body}\n`;
}

/**
 * Snapshot the staged state of the whole hierarchy as one commit and move the
 * branch to it with compare-and-swap: if the branch moved meanwhile, nothing
 * is overwritten and BranchMovedError says so; the index keeps the staged
 * work. The callers hold the working-copy lock (`commit`, `merge`, `revert`).
 */
export async function recordCommit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  const { message, all = false, allowEmpty = false, trailers = {}, extraParents = [], onProgress, verbatim = false } = opts;
  const head = await repo.refs.head();
  // commit -a stages in memory: the index file changes only if the commit lands (git's index.lock)
  const before = await headTree(repo, head.oid);
  // the metadata blobs of commit -a and the snapshot's trees go into one pack when they are many
  // the first commit's summary: every file added, as the snapshot writer classified it, kept as one
  // number a file in path order (kind code + 4 × the array's place in `kindArrays`)
  const kindCodes: number[] = [];
  const kindArrays: string[] = [];
  const arrayAt = new Map<string | null, number>([[null, 0]]);
  kindArrays.push("");
  const onKind =
    before === null
      ? (_rel: string, kind: FileKind) => {
          let a = arrayAt.get(kind.array);
          if (a === undefined) {
            a = kindArrays.length;
            kindArrays.push(kind.array as string);
            arrayAt.set(kind.array, a);
          }
          kindCodes.push(KIND_CODES.indexOf(kind.kind) + 4 * a);
        }
      : undefined;
  const { index, tree, staged } = await repo.git.withPack(async (pack) => {
    const staged = all ? await stage(repo, { trackedOnly: true, onProgress }, pack) : null;
    const index = staged ? staged.index : await repo.readIndex();
    // staged from an index equal to a snapshot: only what staging changed is written (cache-tree)
    const tree =
      index.tree ??
      (staged?.baseTree ? await updateSnapshot(repo, staged.baseTree, index.entries, staged.changedPaths(), pack) : await writeSnapshot(repo, index.entries, onKind, pack));
    return { index, tree, staged };
  });
  if (tree === before && !allowEmpty && extraParents.length === 0) throw new NothingToCommitError();
  if (!head.oid && index.entries.size === 0 && !allowEmpty) throw new NothingToCommitError();

  const now = new Date();
  const who = opts.author ?? repo.identity(now, "author");
  const committer = repo.identity(now, "committer");
  const parents = [...(head.oid ? [head.oid] : []), ...extraParents];
  const write = (extra: Record<string, string>) =>
    repo.git.writeCommit({
      tree,
      parents,
      author: who,
      committer,
      message: verbatim ? message + Object.entries(extra).map(([k, v]) => `${k}: ${v}\n`).join("") : formatMessage(message, { "Tdv-Version": TDV_VERSION, ...trailers, ...extra }),
    });
  let oid = await write({});
  const extra = opts.verify ? await opts.verify(oid, head.branch) : null;
  if (extra && Object.keys(extra).length > 0) oid = await write(extra);
  const subject = message.trim().split("\n")[0] ?? "";
  const logMsg = opts.reflogMessage ?? `commit${head.oid ? (extraParents.length ? " (merge)" : "") : " (initial)"}: ${subject}`;
  // The next index is written beside the index before the branch moves and renamed over it
  // after: a failure before the move (a full disk) leaves the index as it was, and after the
  // move only a rename remains to be done. Killed between the two, the next command that
  // reads the index does that rename (Repository.readIndex), since the branch names the commit.
  const nextIndex = repo.pendingIndexFile(oid);
  try {
    await repo.durability.flush();
    await writeIndex(nextIndex, { tree, entries: index.entries }, repo.durability.mode !== "none");
    await repo.refs.update(head.branch ?? "HEAD", { expected: head.oid, next: oid, who: committer, message: logMsg });
    await fsp.rename(nextIndex, repo.indexFile).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err; // another tdv process read the index and put it in place
    });
  } finally {
    await fsp.rm(nextIndex, { force: true });
  }
  repo.markVerifiedTree(tree); // written here, from the index: a later switch to it reads only what differs
  await autoPack(repo);

  // commit -a on an index equal to HEAD: what staging did is the whole change (no need to compare the trees)
  // the first commit: every file is added, as the snapshot writer classified it (no need to read it back)
  // the first commit of a snapshot `add` wrote: every file is added, classified from the index's
  // metadata documents (reading the whole tree back would read every folder and manifest too), a
  // block of paths at a time, in path order
  if (onKind && kindCodes.length === 0 && index.entries.size > 0) {
    await storedHierarchy(repo, index.entries, true).classifyEach(index.entries.keys(), (_i, kind, _node, rel) => onKind(rel, kind));
  }
  // (made one at a time: a million Change objects at once were a large part of a first commit's memory)
  const firstCommit = onKind !== undefined && kindCodes.length === index.entries.size;
  const changeList: Iterable<Change> =
    staged && staged.baseTree === before && before !== null
      ? staged.changes()
      : firstCommit
        ? addedChanges(index.entries, kindCodes, kindArrays)
        : await diffTrees(repo, before, tree);
  const changedPaths = firstCommit ? [...index.entries.keys()] : (changeList as Change[]).map((c) => c.path);
  const warnings = [...(staged?.result.warnings ?? [])];
  if (repo.identityGuessed()) warnings.push(guessedIdentityWarning(who));
  // a .zmetadata that names an array the commit lacks (zarr-python consolidated one not added): readers would be misled
  const read = (rel: string) => repo.readStored(index.entries.get(rel)!, rel);
  for (const d of await checkConsolidated(index.entries, read, changedPaths)) warnings.push(disagreementWarning(d, "the commit"));
  return { oid, tree, branch: head.branch, parents, changes: groupChanges(changeList), warnings };
}

/** git's advice when no setting names the committer: the commit is made, and says how to fix it. */
export function guessedIdentityWarning(who: { name: string; email: string }): string {
  return `no user.name or user.email is set: the commit records ${who.name} <${who.email}>, guessed from the user and host names; set them with \`tdv config --global user.name "Your Name"\` and \`tdv config --global user.email you@example.org\` (git's user.name and user.email are read too)`;
}

/** About this many loose Git objects make a commit pack them all (git's gc.auto default is 6,700). */
export const AUTO_PACK_LOOSE = 6_700;

/**
 * Like git's `gc --auto`: once loose objects are many (each costs an open and
 * a zlib set-up to read, and an inode), the commit that finds them so moves
 * them all into one pack. Nothing is deleted that a pack does not hold;
 * unreachable objects go into the pack too, and `tdv gc` drops them from
 * packs older than its grace period. The commit has landed already: a failure
 * here (a full disk) leaves the loose objects as they were and is not the
 * commit's.
 */
async function autoPack(repo: Repository): Promise<void> {
  if (repo.git.looseEstimate() < AUTO_PACK_LOOSE) return;
  await repo.git.packAllLoose().catch(() => {});
}

const KIND_CODES = ["meta", "chunk", "plain"] as const;

/** Every file of `entries` added, in path order, its kind the `codes` the snapshot writer recorded in the same order. */
function* addedChanges(entries: ReadonlyMap<string, IndexEntry>, codes: readonly number[], arrays: readonly string[]): Generator<Change> {
  let i = 0;
  for (const path of entries.keys()) {
    const code = codes[i++] as number;
    const a = Math.floor(code / 4);
    const e = peekEntry(entries, path) as IndexEntry;
    // as a tree comparison reports it: Git trees do not record blob sizes
    yield { path, change: "added", kind: KIND_CODES[code % 4]!, array: a === 0 ? null : (arrays[a] as string), bytes: e.store === "git" ? -1 : e.size, oldBytes: 0 };
  }
}
