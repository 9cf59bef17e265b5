/**
 * What a stopped merge works from: the snapshots of its base(s), ours and
 * theirs, read again from its state; and how an open conflict is described.
 */
import type { GitOid } from "../../format/hash.js";
import type { Repository } from "../repository.js";
import { readCommitSnapshot } from "../snapshot.js";
import { mergeBaseOf } from "./bases.js";
import type { DetectInput } from "./detect.js";
import { conflictSubject, type OpenConflict } from "./types.js";

/** One open conflict in a line: where it is and why it is open. */
export function describeOpen(o: OpenConflict): string {
  const c = o.conflict;
  const where = c._tag === "ChunkBothChanged" ? `${c.array || "."} chunk [${c.chunk.join(",")}]` : conflictSubject(c) || ".";
  return `${where}: ${o.reasons.join("; ")}`;
}

/** The snapshots of a stopped merge (its virtual base, when there were several merge bases), and a reader of their files. */
export async function mergeInputs(repo: Repository, state: { base: GitOid | null; bases?: GitOid[]; origHead: GitOid; theirs: GitOid }): Promise<DetectInput> {
  const [mb, ours, theirs] = await Promise.all([
    mergeBaseOf(repo, state.bases && state.bases.length > 1 ? state.bases : state.base ? [state.base] : []),
    readCommitSnapshot(repo, state.origHead),
    readCommitSnapshot(repo, state.theirs),
  ]);
  return { base: mb.base, ...(mb.altBase ? { altBase: mb.altBase } : {}), ours, theirs, read: mb.read };
}
