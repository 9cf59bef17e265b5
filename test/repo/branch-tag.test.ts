import { execFileSync } from "node:child_process";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { isTdvError } from "../../src/errors.js";
import type { GitOid } from "../../src/format/hash.js";
import { createBranch, deleteBranch } from "../../src/commands/branch.js";
import { currentBranch, listBranches } from "../../src/repo/branches.js";
import type { Repository } from "../../src/repo/repository.js";
import { resolveRevision } from "../../src/repo/revision.js";
import { createTag, deleteTag, listTags } from "../../src/commands/tag.js";
import { newRepo, person, writeFiles } from "../helpers/git-objects.js";

process.env.TDV_AUTHOR_NAME = "Ada Tester";
process.env.TDV_AUTHOR_EMAIL = "ada@example.com";

// ---- helpers (build commits directly; the commit command lives elsewhere) ----

async function commit(repo: Repository, t: number, parents: GitOid[] = [], files: Record<string, string> = { "README.md": `at ${t}` }): Promise<GitOid> {
  const tree = await writeFiles(repo, files);
  return repo.git.writeCommit({ tree, parents, author: person(t), committer: person(t), message: `commit at ${t}` });
}

async function move(repo: Repository, ref: string, next: GitOid, t: number, message = "commit"): Promise<void> {
  const expected = await repo.refs.read(ref);
  await repo.refs.update(ref, { expected, next, who: person(t), message });
}

async function rejection(p: Promise<unknown>): Promise<{ _tag: string; message: string; hint?: string; [k: string]: unknown }> {
  try {
    await p;
  } catch (err) {
    if (isTdvError(err)) return err as unknown as { _tag: string; message: string };
    throw err;
  }
  throw new Error("expected a rejection");
}

// main: c1 - c2 (HEAD);  topic: c1 - t1 (not merged)
let repo: Repository;
let c1: GitOid;
let c2: GitOid;
let t1: GitOid;

beforeEach(async () => {
  repo = await newRepo();
  c1 = await commit(repo, 1_700_000_000);
  c2 = await commit(repo, 1_700_000_100, [c1]);
  t1 = await commit(repo, 1_700_000_200, [c1], { "README.md": "topic", "data.zarr/zarr.json": "{}" });
  await move(repo, "refs/heads/main", c1, 1_700_000_000);
  await move(repo, "refs/heads/main", c2, 1_700_000_100);
  await move(repo, "refs/heads/topic", t1, 1_700_000_200);
});

describe("branches", () => {
  it("lists branches sorted, marking the current one", async () => {
    expect(await listBranches(repo)).toEqual([
      { name: "main", oid: c2, current: true },
      { name: "topic", oid: t1, current: false },
    ]);
    expect(await currentBranch(repo)).toBe("main");
  });

  it("creates a branch at HEAD with a git-style reflog message", async () => {
    const made = await createBranch(repo, { name: "feature/a" });
    expect(made).toEqual({ name: "feature/a", ref: "refs/heads/feature/a", oid: c2, previous: null });
    expect(await repo.refs.read("refs/heads/feature/a")).toBe(c2);
    const log = await repo.refs.reflog("refs/heads/feature/a");
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ old: null, next: c2, message: "branch: Created from HEAD" });
    expect(log[0]?.who).toBe("Ada Tester <ada@example.com>");
  });

  it("creates a branch at any revision", async () => {
    expect((await createBranch(repo, { name: "old", start: "main~1" })).oid).toBe(c1);
    expect((await repo.refs.reflog("refs/heads/old"))[0]?.message).toBe("branch: Created from main~1");
    const err = await rejection(createBranch(repo, { name: "bad", start: "main~9" }));
    expect(err._tag).toBe("UnknownRevisionError");
    expect(await repo.refs.read("refs/heads/bad")).toBeNull();
  });

  it("refuses an existing name unless forced, and never force-moves the current branch", async () => {
    const err = await rejection(createBranch(repo, { name: "topic", start: "main" }));
    expect(err._tag).toBe("RefExistsError");
    expect(err.ref).toBe("refs/heads/topic");
    expect(await repo.refs.read("refs/heads/topic")).toBe(t1);

    const moved = await createBranch(repo, { name: "topic", start: "main", force: true });
    expect(moved.previous).toBe(t1);
    expect(await repo.refs.read("refs/heads/topic")).toBe(c2);
    expect((await repo.refs.reflog("refs/heads/topic")).at(-1)?.message).toBe("branch: Reset to main");

    const current = await rejection(createBranch(repo, { name: "main", start: "topic~1", force: true }));
    expect(current._tag).toBe("CurrentBranchError");
    expect(current.message).toContain("current branch 'main'");
    expect(await repo.refs.read("refs/heads/main")).toBe(c2);
  });

  it("refuses invalid names and names that clash with folders of branches", async () => {
    for (const name of ["", "HEAD", "a..b", "-x", "x.lock", "a b", "x~1", "y^", "z@{1}", "../evil", c1]) {
      expect((await rejection(createBranch(repo, { name })))._tag, name).toBe("InvalidRefNameError");
    }
    await createBranch(repo, { name: "feature/a" });
    const parent = await rejection(createBranch(repo, { name: "feature" }));
    expect(parent._tag).toBe("UsageError");
    expect(parent.message).toContain("branch 'feature/a' exists");
    expect((await rejection(createBranch(repo, { name: "topic/sub" }))).message).toContain("branch 'topic' exists");
  });

  it("deletes a merged branch, and an unmerged one only with force", async () => {
    await createBranch(repo, { name: "merged", start: "main~1" });
    expect(await deleteBranch(repo, { name: "merged" })).toEqual({ name: "merged", oid: c1 });
    expect(await repo.refs.read("refs/heads/merged")).toBeNull();
    expect(await repo.refs.reflog("refs/heads/merged")).toEqual([]);

    const err = await rejection(deleteBranch(repo, { name: "topic" }));
    expect(err._tag).toBe("NotMergedError");
    expect(err.message).toBe("branch 'topic' is not fully merged into HEAD");
    expect(err.hint).toContain("tdv branch -D topic");
    expect(err.hint).toContain(t1);
    expect(await repo.refs.read("refs/heads/topic")).toBe(t1);

    expect(await deleteBranch(repo, { name: "topic", force: true })).toEqual({ name: "topic", oid: t1 });
    expect((await listBranches(repo)).map((b) => b.name)).toEqual(["main"]);
  });

  it("refuses to delete the current branch or a missing one", async () => {
    const current = await rejection(deleteBranch(repo, { name: "main", force: true }));
    expect(current._tag).toBe("CurrentBranchError");
    expect(current.message).toContain("it is the current branch");
    const missing = await rejection(deleteBranch(repo, { name: "nope" }));
    expect(missing._tag).toBe("RefNotFoundError");
    expect(missing.ref).toBe("refs/heads/nope");
    await createBranch(repo, { name: "feature/a" });
    expect((await rejection(deleteBranch(repo, { name: "feature" })))._tag).toBe("RefNotFoundError");
    expect((await rejection(deleteBranch(repo, { name: "../../HEAD" })))._tag).toBe("InvalidRefNameError");
    expect(await repo.refs.head()).toEqual({ branch: "refs/heads/main", oid: c2 });
  });

  it("on a detached HEAD: no current branch, and merged means reachable from HEAD's commit", async () => {
    await repo.refs.setHead({ oid: t1 }, person(1_700_000_300), "checkout: moving from main to topic");
    expect(await currentBranch(repo)).toBeNull();
    expect((await listBranches(repo)).some((b) => b.current)).toBe(false);
    await createBranch(repo, { name: "base", start: "main~1" });
    expect(await deleteBranch(repo, { name: "base" })).toEqual({ name: "base", oid: c1 });
    expect(await deleteBranch(repo, { name: "topic" })).toEqual({ name: "topic", oid: t1 });
    expect((await rejection(deleteBranch(repo, { name: "main" })))._tag).toBe("NotMergedError");
  });

  it("currentBranch names an unborn branch", async () => {
    const fresh = await newRepo();
    expect(await currentBranch(fresh)).toBe("main");
    expect(await listBranches(fresh)).toEqual([]);
    expect((await rejection(createBranch(fresh, { name: "x" })))._tag).toBe("UnknownRevisionError");
  });
});

describe("tags", () => {
  it("creates lightweight and annotated tags and lists them peeled", async () => {
    const light = await createTag(repo, { name: "v1", rev: "main~1" });
    expect(light).toEqual({ name: "v1", oid: c1, annotated: false, previous: null });
    expect(await repo.refs.read("refs/tags/v1")).toBe(c1);

    const annotated = await createTag(repo, { name: "v2", message: "release 2\n\nwith notes" });
    expect(annotated.oid).toBe(c2);
    expect(annotated.annotated).toBe(true);
    const tagOid = annotated.tagOid as GitOid;
    expect(await repo.refs.read("refs/tags/v2")).toBe(tagOid);
    expect(await repo.git.typeOf(tagOid)).toBe("tag");
    const obj = await repo.git.readTag(tagOid);
    expect(obj).toMatchObject({ object: c2, type: "commit", tag: "v2" });
    expect(obj.tagger).toMatchObject({ name: "Ada Tester", email: "ada@example.com" });

    await createTag(repo, { name: "empty-note", rev: "topic", message: "" });
    expect(await listTags(repo)).toEqual([
      { name: "empty-note", oid: t1, annotated: true, tagOid: expect.any(String), message: "", tagger: expect.any(Object) },
      { name: "v1", oid: c1, annotated: false },
      { name: "v2", oid: c2, annotated: true, tagOid, message: "release 2\n\nwith notes", tagger: obj.tagger },
    ]);
    expect(await resolveRevision(repo, "v2")).toBe(c2);
  });

  it("refuses an existing tag unless forced", async () => {
    await createTag(repo, { name: "v1" });
    const err = await rejection(createTag(repo, { name: "v1", rev: "topic" }));
    expect(err._tag).toBe("RefExistsError");
    expect(err.ref).toBe("refs/tags/v1");
    const replaced = await createTag(repo, { name: "v1", rev: "topic", message: "moved", force: true });
    expect(replaced.previous).toBe(c2);
    expect((await listTags(repo))[0]).toMatchObject({ name: "v1", oid: t1, annotated: true, message: "moved" });
  });

  it("refuses invalid names and unknown revisions", async () => {
    expect((await rejection(createTag(repo, { name: "bad name" })))._tag).toBe("InvalidRefNameError");
    expect((await rejection(createTag(repo, { name: "v9", rev: "nope" })))._tag).toBe("UnknownRevisionError");
    expect(await listTags(repo)).toEqual([]);
  });

  it("deletes tags; a missing one is RefNotFoundError", async () => {
    await createTag(repo, { name: "v1" });
    const { tagOid } = await createTag(repo, { name: "v2", message: "two" });
    expect(await deleteTag(repo, { name: "v1" })).toEqual({ name: "v1", oid: c2, release: false });
    expect(await deleteTag(repo, { name: "v2" })).toEqual({ name: "v2", oid: tagOid, release: false });
    expect(await listTags(repo)).toEqual([]);
    const err = await rejection(deleteTag(repo, { name: "v1" }));
    expect(err._tag).toBe("RefNotFoundError");
    expect(err.ref).toBe("refs/tags/v1");
  });
});

describe("stock git", () => {
  it("finds the objects, refs and tag objects valid (git fsck --strict) and agrees on them", async () => {
    const merge = await commit(repo, 1_700_000_300, [c2, t1], { "README.md": "merged", "data.zarr/zarr.json": "{}" });
    await move(repo, "refs/heads/main", merge, 1_700_000_300, "merge topic");
    await createBranch(repo, { name: "feature/a", start: "main~1" });
    await createTag(repo, { name: "v1", rev: "main^2" });
    const { tagOid } = await createTag(repo, { name: "v2", message: "release 2\n\nnotes" });
    await deleteBranch(repo, { name: "topic" });

    const gitdir = path.join(repo.tdvDir, "git");
    const git = (...args: string[]) => execFileSync("git", ["--git-dir", gitdir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(() => git("fsck", "--strict", "--no-dangling")).not.toThrow();
    expect(git("cat-file", "-t", tagOid as string).trim()).toBe("tag");
    expect(git("rev-parse", "v2^{commit}").trim()).toBe(merge);
    expect(git("rev-parse", "v1").trim()).toBe(t1);
    expect(git("for-each-ref", "--format=%(refname) %(objectname)").trim().split("\n")).toEqual([
      `refs/heads/feature/a ${c2}`,
      `refs/heads/main ${merge}`,
      `refs/tags/v1 ${t1}`,
      `refs/tags/v2 ${tagOid}`,
    ]);
    expect(git("tag", "-l", "-n9", "v2")).toMatch(/^v2\s+release 2\n\s+notes/);
    expect(git("reflog", "show", "feature/a").trim()).toMatch(/feature\/a@\{0\}: branch: Created from main~1$/);
  });
});
