/**
 * gc and packs: a pack older than the grace period that holds unreachable
 * objects is rewritten without them (its reachable objects into a new pack,
 * written before the old one goes); a young pack is kept whole, as is one a
 * writer reused since; stock git and tdv fsck find the result clean.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, gc, Repository } from "../../src/index.js";
import { AUTO_PACK_LOOSE } from "../../src/worktree/record.js";
import { looseCount } from "../helpers/many-arrays.js";
import type { GitOid } from "../../src/format/hash.js";
import { tempDir } from "../helpers/fixture.js";
import { backdate, gitFsck, tdvFsckClean } from "./helpers.js";

const DAY = 86_400_000;

/** A repository whose one pack holds README.txt's blob (committed) beside 80 blobs nothing names. */
async function mixedPack() {
  const dir = await tempDir();
  const { repo } = await Repository.init({ durability: "none", dir });
  const readme = "a dataset's notes\n";
  const garbage: GitOid[] = [];
  const blob = await repo.git.withPack(async (pack) => {
    for (let i = 0; i < 80; i++) garbage.push(await pack.writeBlob(Buffer.from(`garbage ${i}\n`)));
    return pack.writeBlob(Buffer.from(readme));
  });
  expect(repo.git.listPacks()).toHaveLength(1);
  await fsp.writeFile(path.join(dir, "README.txt"), readme);
  await add(repo, { all: true });
  await commit(repo, { message: "notes" });
  return { dir, repo, blob, garbage };
}

const packFiles = async (dir: string) => (await fsp.readdir(path.join(dir, ".tdv/git/objects/pack"))).filter((n) => /\.(pack|idx)$/.test(n)).sort();

describe("gc and packs", () => {
  it("rewrites an old pack without its unreachable objects; the reachable ones stay readable", async () => {
    const { dir, blob, garbage } = await mixedPack();
    const before = await packFiles(dir);
    await backdate(path.join(dir, ".tdv/git/objects/pack"), new Date(Date.now() - 30 * DAY));

    const dry = await gc(await Repository.open({ durability: "none", dir }), { dryRun: true });
    expect(dry.removed.gitObjects).toBe(80);
    expect(await packFiles(dir)).toEqual(before); // nothing deleted

    const r = await gc(await Repository.open({ durability: "none", dir }));
    expect(r.removed.gitObjects).toBe(80);
    expect(new Set(r.removedIds.git)).toEqual(new Set(garbage));
    const after = await packFiles(dir);
    expect(after).toHaveLength(2);
    expect(after).not.toEqual(before);

    const fresh = await Repository.open({ durability: "none", dir }); // a new process: nothing in memory
    expect((await fresh.git.readBlob(blob)).toString()).toBe("a dataset's notes\n");
    await expect(fresh.git.readBlob(garbage[0]!)).rejects.toThrow(/missing/);
    await tdvFsckClean(dir);
    await gitFsck(path.join(dir, ".tdv/git"));
  });

  it("keeps a young pack whole, and an old one a writer reused since gc looked", async () => {
    const { dir, garbage } = await mixedPack();
    const young = await gc(await Repository.open({ durability: "none", dir }));
    expect(young.removed.gitObjects).toBe(0);
    expect((await (await Repository.open({ durability: "none", dir })).git.readBlob(garbage[0]!)).toString()).toBe("garbage 0\n");

    // old, but a commit reuses one of its unreachable blobs: the writer freshens the pack, which gc then keeps
    await backdate(path.join(dir, ".tdv/git/objects/pack"), new Date(Date.now() - 30 * DAY));
    await fsp.writeFile(path.join(dir, "reused.txt"), "garbage 3\n");
    const repo = await Repository.open({ durability: "none", dir });
    await add(repo, { all: true });
    await commit(repo, { message: "reuse" });
    const r = await gc(await Repository.open({ durability: "none", dir }));
    expect(r.removed.gitObjects).toBe(0);
    expect((await (await Repository.open({ durability: "none", dir })).git.readBlob(garbage[5]!)).toString()).toBe("garbage 5\n");
    await tdvFsckClean(dir);
  });

  it("a commit that finds thousands of loose objects packs them all, as git's gc --auto does", async () => {
    const dir = await tempDir();
    const { repo } = await Repository.init({ durability: "none", dir });
    const gitdir = path.join(dir, ".tdv/git");
    // loose objects (written one by one, outside any pack), reachable or not
    const blobs: GitOid[] = [];
    for (let i = 0; blobs.length < AUTO_PACK_LOOSE * 1.2; i++) blobs.push(await repo.git.writeBlob(Buffer.from(`object ${i}\n`)));
    expect(await looseCount(gitdir)).toBeGreaterThan(AUTO_PACK_LOOSE);
    await fsp.writeFile(path.join(dir, "README.txt"), "object 7\n"); // one of them, now committed
    await add(repo, { all: true });
    const c = await commit(repo, { message: "notes" });
    expect(await looseCount(gitdir)).toBe(0);
    const fresh = await Repository.open({ durability: "none", dir });
    expect((await fresh.git.readBlob(blobs[123]!)).toString()).toBe("object 123\n");
    expect((await fresh.git.readCommit(c.oid)).tree).toBe(c.tree);
    await tdvFsckClean(dir);
    await gitFsck(gitdir);
    // a commit among few loose objects leaves them loose
    await fsp.writeFile(path.join(dir, "README.txt"), "changed\n");
    await commit(repo, { message: "edit", all: true });
    expect(await looseCount(gitdir)).toBeGreaterThan(0);
  }, 120_000);
});
