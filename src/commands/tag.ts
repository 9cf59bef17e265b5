/**
 * Tags: refs under refs/tags/, lightweight (the ref holds a commit id) or
 * annotated (the ref holds a Git tag object with tagger and message).
 */
import { BranchMovedError, RefExistsError, RefNotFoundError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { Person, TagObject } from "../format/git-object.js";
import { isReleaseMessage, ReleaseProtectedError } from "../format/release.js";
import { checkRefName } from "../store/refs.js";
import type { Repository } from "../repo/repository.js";
import { peelObject, readRef, resolveRevision } from "../repo/revision.js";
import { deleteRefAt } from "../repo/branches.js";

const TAGS = "refs/tags/";

export interface TagInfo {
  name: string;
  /** the commit the tag names (annotated tags peeled) */
  oid: GitOid;
  annotated: boolean;
  /** annotated only: the tag object's id, message (without its final newline) and tagger */
  tagOid?: GitOid;
  message?: string;
  tagger?: Person;
}

/** All tags, sorted by name. */
export async function listTags(repo: Repository): Promise<TagInfo[]> {
  const out: TagInfo[] = [];
  for (const [ref, oid] of await repo.refs.list(TAGS)) out.push(await describeTag(repo, ref.slice(TAGS.length), oid));
  return out;
}

async function describeTag(repo: Repository, name: string, oid: GitOid): Promise<TagInfo> {
  if ((await repo.git.typeOf(oid)) !== "tag") return { name, oid, annotated: false };
  const tag = await repo.git.readTag(oid);
  const target = await peelObject(repo, tag.object);
  const info: TagInfo = { name, oid: target.oid, annotated: true, tagOid: oid, message: tagMessage(tag) };
  if (tag.tagger) info.tagger = tag.tagger;
  return info;
}

/**
 * The message without its final newline. isomorphic-git strips a tag's trailing
 * newlines before it looks for the blank line that ends the headers, so for an
 * empty message it finds none and returns the headers minus their first letter.
 */
function tagMessage(tag: TagObject): string {
  if (tag.message.startsWith(`bject ${tag.object}\n`)) return "";
  return tag.message.replace(/\n$/, "");
}

export interface CreateTagOptions {
  name: string;
  /** the revision to tag */
  rev?: string;
  /** given (even ""): an annotated tag with this message; omitted: a lightweight tag */
  message?: string;
  /** replace an existing tag of that name */
  force?: boolean;
}

export function createTag(repo: Repository, opts: Parameters<typeof _createTag>[1]): ReturnType<typeof _createTag> {
  return repo.writing("tag", () => _createTag(repo, opts));
}

async function _createTag(
  repo: Repository,
  { name, rev = "HEAD", message, force = false }: CreateTagOptions,
): Promise<TagInfo & { previous: GitOid | null }> {
  checkRefName(name);
  const ref = TAGS + name;
  const oid = await resolveRevision(repo, rev);
  const previous = await readRef(repo, ref);
  if (previous !== null && !force) throw new RefExistsError(ref);
  const who = repo.identity();
  const tagOid =
    message === undefined ? undefined : await repo.git.writeTag({ object: oid, type: "commit", tag: name, tagger: who, message });
  try {
    await repo.refs.update(ref, { expected: previous, next: tagOid ?? oid, who, message: `tag: ${name} at ${rev}` });
  } catch (err) {
    if (previous === null && err instanceof BranchMovedError) throw new RefExistsError(ref);
    throw err;
  }
  if (tagOid === undefined || message === undefined) return { name, oid, annotated: false, previous };
  return { name, oid, annotated: true, tagOid, message: message.replace(/\n$/, ""), tagger: who, previous };
}

/** Delete tag `name`; a release only with `force`. */
export async function deleteTag(repo: Repository, { name, force = false }: { name: string; force?: boolean }): Promise<{ name: string; oid: GitOid; release: boolean }> {
  checkRefName(name);
  const ref = TAGS + name;
  const oid = await readRef(repo, ref);
  if (oid === null) throw new RefNotFoundError(ref, "`tdv tag --list` shows the tags");
  const release = (await repo.git.typeOf(oid)) === "tag" && isReleaseMessage((await repo.git.readTag(oid)).message);
  if (release && !force) throw new ReleaseProtectedError(name, "delete");
  await deleteRefAt(repo, ref, oid, "tag: deleted");
  return { name, oid, release };
}
