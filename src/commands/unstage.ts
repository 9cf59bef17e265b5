/**
 * Unstage: put the index entries under some paths back to a revision's
 * (default HEAD), leaving the working copy untouched. `git reset PATH`,
 * `git reset REV -- PATH` and `git restore --staged PATH` all do this.
 */
import { PathNotFoundError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { IndexEntry } from "../store/index-file.js";
import type { Repository } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import { readSnapshot } from "../repo/snapshot.js";
import { isUnder } from "../format/paths.js";

export interface UnstageOptions {
  /** posix paths relative to the repository root ("" is everything) */
  paths: readonly string[];
  /** the revision whose entries the index takes (default HEAD; an unborn HEAD is the empty snapshot) */
  source?: string;
}

export interface UnstageResult {
  /** paths whose index entry changed (taken from the source, or removed because the source lacks them), sorted */
  unstaged: string[];
}

export function unstage(repo: Repository, opts: UnstageOptions): Promise<UnstageResult> {
  return repo.exclusive("reset", () => _unstage(repo, opts));
}

async function _unstage(repo: Repository, { paths, source = "HEAD" }: UnstageOptions): Promise<UnstageResult> {
  const head = await repo.refs.head();
  const unborn = (source === "HEAD" || source === "@") && head.oid === null;
  const commit: GitOid | null = unborn ? null : await resolveRevision(repo, source);
  const tree = commit === null ? null : (await repo.git.readCommit(commit)).tree;
  const src = (await readSnapshot(repo, tree)).files;
  const index = await repo.readIndex();
  const inScope = (p: string) => paths.some((u) => isUnder(p, u));
  for (const u of paths) {
    const known = [...src.keys(), ...index.entries.keys()].some((p) => isUnder(p, u));
    if (!known) throw new PathNotFoundError(u, `in ${source} or the index`);
  }
  const unstaged: string[] = [];
  for (const [p, i] of index.entries) {
    if (inScope(p) && !src.has(p)) {
      index.entries.delete(p);
      unstaged.push(p);
    } else if (inScope(p) && src.get(p)!.id !== i.id) {
      unstaged.push(p);
    }
  }
  for (const [p, e] of src) {
    if (!inScope(p)) continue;
    const i = index.entries.get(p);
    if (i && i.id === e.id) continue;
    if (!i) unstaged.push(p);
    // no stat data: status hashes the working file once to see whether it differs
    const entry: IndexEntry = { ...e, mtimeMs: 0, ctimeMs: 0, ino: 0 };
    index.entries.set(p, entry);
  }
  if (unstaged.length === 0) return { unstaged };
  // the index equals the source's snapshot only if every entry is the source's
  const whole = index.entries.size === src.size && [...index.entries].every(([p, e]) => src.get(p)?.id === e.id);
  await repo.writeIndex({ tree: whole ? tree : null, entries: index.entries });
  return { unstaged: unstaged.sort() };
}
