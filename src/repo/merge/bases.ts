/**
 * The base of a merge with several merge bases (criss-cross history: each
 * side merged the other's earlier work). As Git's recursive and ort
 * strategies do, the bases are merged into a virtual base first. Where the
 * bases conflict, Git leaves conflict markers in the virtual base so that any
 * side's change there conflicts; for arrays, the virtual base comes in two
 * versions, its conflicts settled once for one base and once for the other.
 * Where the two agree the base is known; where they differ it is unknown,
 * and the merge proper (detect, solve) lets nothing there settle silently.
 *
 * Nothing is stored: the virtual base's new bytes live in memory, served by
 * the `read` this returns.
 */
import { GitStore } from "../../store/git.js";
import type { GitOid } from "../../format/hash.js";
import { sha256 } from "../../format/hash.js";
import { readEntry, readCommitSnapshot, type Snapshot, type SnapEntry } from "../snapshot.js";
import type { Repository, Stores } from "../repository.js";
import { assembleFiles, type ReadFn } from "./assemble.js";
import { detectConflicts } from "./detect.js";
import { arraysOf } from "./grid.js";
import { solve } from "./solve.js";
import type { Side } from "./types.js";

export interface MergeBase {
  /** the base (the virtual base's first version when there are several bases) */
  base: Snapshot;
  /** with several bases: the virtual base's second version; where it differs from `base`, the bases disagree */
  altBase?: Snapshot;
  /** reads files of the repository and of the virtual base */
  read: ReadFn;
}

/** How deep merges of merge bases recurse before taking the first base of a pair as it is. */
const MAX_DEPTH = 4;

/** The base for merging commits whose merge bases are `bases` (none: an empty base). */
export async function mergeBaseOf(repo: Repository<Stores>, bases: readonly GitOid[]): Promise<MergeBase> {
  const mem = new Map<string, Uint8Array>();
  const read: ReadFn = async (p, e) => mem.get(e.id) ?? readEntry(repo, p, e);
  if (bases.length <= 1) return { base: await readCommitSnapshot(repo, bases[0] ?? null), read };
  const v = await virtual(repo, bases, read, mem, 0);
  return { base: v.lo, altBase: v.hi, read };
}

interface Virtual {
  lo: Snapshot;
  hi: Snapshot;
}

async function virtual(repo: Repository<Stores>, bases: readonly GitOid[], read: ReadFn, mem: Map<string, Uint8Array>, depth: number): Promise<Virtual> {
  const first = await readCommitSnapshot(repo, bases[0] as GitOid);
  let acc: Virtual = { lo: first, hi: first };
  for (const next of bases.slice(1)) {
    const inner = await repo.git.mergeBase(bases[0] as GitOid, next);
    const B: Virtual =
      inner.length > 1 && depth < MAX_DEPTH
        ? await virtual(repo, inner, read, mem, depth + 1)
        : await readCommitSnapshot(repo, inner[0] ?? null).then((s) => ({ lo: s, hi: s }));
    const N = await readCommitSnapshot(repo, next);
    acc = {
      lo: await mergeSnapshots(B.lo, B.hi, acc.lo, N, "ours", read, mem),
      hi: await mergeSnapshots(B.hi, B.lo, acc.hi, N, "theirs", read, mem),
    };
  }
  return acc;
}

/** Merge two snapshots, every conflict settled for `side`; new bytes kept in `mem`. */
async function mergeSnapshots(base: Snapshot, alt: Snapshot, ours: Snapshot, theirs: Snapshot, side: Side, read: ReadFn, mem: Map<string, Uint8Array>): Promise<Snapshot> {
  const input = { base, ...(alt !== base ? { altBase: alt } : {}), ours, theirs, read };
  const detection = await detectConflicts(input);
  const solved = await solve({ ...input, detection }, { conflicts: detection.conflicts, policy: side });
  const put = async (bytes: Uint8Array, store: "git" | "chunk"): Promise<SnapEntry> => {
    const id = store === "git" ? GitStore.blobOid(bytes) : sha256(bytes);
    mem.set(id, bytes);
    return { store, id, size: bytes.byteLength } as SnapEntry;
  };
  const { files, written } = await assembleFiles(detection, solved, put, read);
  return { tree: null, files, arrays: await arraysOf(files, written, read) };
}
