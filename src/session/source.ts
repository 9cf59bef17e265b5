/**
 * Where read sessions come from: a repository's revisions, local or a
 * remote's (src/remote builds that one over the remote's objects and a local
 * cache). `tdv serve` and `tdv export` take one and never ask which it is.
 */
import type { GitOid } from "../format/hash.js";
import type { Repository, Stores } from "../repo/repository.js";
import { resolveRevision } from "../repo/revision.js";
import type { ReadSession } from "./read.js";

export interface RevisionRefs {
  /** branch name → commit */
  branches: Map<string, GitOid>;
  /** tag name → commit (annotated tags peeled) */
  tags: Map<string, GitOid>;
  /** the branch HEAD names (a remote's default branch), or null when detached or unknown */
  head: string | null;
}

export interface RevisionSource {
  /** where the revisions come from, for messages and listings: the working copy's root, or the remote's URL */
  readonly name: string;
  /** A session pinned to the commit `rev` names now (a branch, tag, commit id, `REV~N`, `main@{DATE}`). */
  open(rev: string): Promise<ReadSession>;
  /** The branches and tags, read now. */
  refs(): Promise<RevisionRefs>;
  /** The commit `rev` names now, without opening a session. */
  resolve(rev: string): Promise<GitOid>;
}

/** The revisions of a repository (local, or one made of a remote's stores). */
export function repositorySource(repo: Repository<Stores>, name: string): RevisionSource {
  return {
    name,
    // the reader loads with the first session opened: a source is made by commands that may open none
    open: async (rev) => (await import("./read.js")).openSession(repo, rev),
    resolve: (rev) => resolveRevision(repo, rev),
    refs: async () => {
      const [heads, tagRefs, head] = await Promise.all([repo.refs.list("refs/heads/"), repo.refs.list("refs/tags/"), repo.refs.head()]);
      const branches = new Map([...heads].map(([ref, oid]) => [ref.slice("refs/heads/".length), oid]));
      const tags = new Map<string, GitOid>();
      for (const [ref, oid] of tagRefs) {
        const name = ref.slice("refs/tags/".length);
        tags.set(name, await resolveRevision(repo, ref).catch(() => oid));
      }
      return { branches, tags, head: head.branch?.startsWith("refs/heads/") ? head.branch.slice("refs/heads/".length) : null };
    },
  };
}
