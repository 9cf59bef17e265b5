import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createBranch, deleteBranch, isTdvError, Repository } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { tempDir } from "../helpers/fixture.js";

async function repoWithCommit(): Promise<{ repo: Repository; oid: GitOid }> {
  const { repo } = await Repository.init({ dir: await tempDir() });
  const who = { name: "t", email: "t@x", timestamp: 1_700_000_000, tzOffset: 0 };
  const tree = await repo.git.writeTree([]);
  const oid = await repo.git.writeCommit({ tree, parents: [], author: who, committer: who, message: "root\n" });
  await repo.refs.update("refs/heads/main", { expected: null, next: oid, who, message: "commit (initial): root" });
  return { repo, oid };
}

describe("refs", () => {
  it("compare-and-swap refuses a stale expected value and leaves the ref alone", async () => {
    const { repo, oid } = await repoWithCommit();
    const who = repo.identity();
    const err = await repo.refs.update("refs/heads/main", { expected: null, next: oid, who, message: "x" }).catch((e) => e);
    expect(isTdvError(err, "BranchMovedError")).toBe(true);
    expect(await repo.refs.read("refs/heads/main")).toBe(oid);
    expect((await repo.refs.reflog("refs/heads/main")).length).toBe(1);
  });

  it("a stale lock is reported with its file and a way out", async () => {
    const { repo, oid } = await repoWithCommit();
    const lock = path.join(repo.tdvDir, "git/refs/heads/main.lock");
    await fsp.writeFile(lock, "");
    const err = await repo.refs
      .update("refs/heads/main", { expected: oid, next: oid, who: repo.identity(), message: "x" })
      .catch((e) => e);
    expect(isTdvError(err, "RefLockedError")).toBe(true);
    expect(err.message).toContain(lock);
    expect(err.hint).toMatch(/delete the lock file|remove the stale lock/);
    await fsp.rm(lock);
    await repo.refs.update("refs/heads/main", { expected: oid, next: oid, who: repo.identity(), message: "x" });
  });

  it("deleting a/b leaves no folder behind, so a branch 'a' can be made", async () => {
    const { repo } = await repoWithCommit();
    await createBranch(repo, { name: "a/b" });
    expect(await repo.refs.read("refs/heads/a")).toBeNull();
    await deleteBranch(repo, { name: "a/b", force: true });
    await createBranch(repo, { name: "a" });
    expect(await repo.refs.read("refs/heads/a")).not.toBeNull();
  });

  it("a ref file that does not hold a commit id is reported as corrupt", async () => {
    const { repo } = await repoWithCommit();
    await fsp.writeFile(path.join(repo.tdvDir, "git/refs/heads/main"), "garbage\n");
    const err = await repo.refs.read("refs/heads/main").catch((e) => e);
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
  });
});
