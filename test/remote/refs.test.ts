/**
 * Remotes and refs through the library, on folder remotes (fast, no
 * spawning): remote configuration, fetch statuses (new, updated, forced,
 * pruned, a tag that would be clobbered), annotated tags, and a push that
 * must HEAD-check because the remote has a branch this repository never saw.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  addRemote,
  clone,
  createBranch,
  createTag,
  fetch,
  isSafeRef,
  isTdvError,
  type TdvErrorTag,
  listRemotes,
  push,
  removeRemote,
  Repository,
  resolveRemote,
  resolveRevision,
} from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";
import { commitAll, committedFixture } from "./dataset.js";

async function expectTag(p: Promise<unknown> | (() => unknown), tag: TdvErrorTag): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(isTdvError(err, tag), `expected ${tag}, got ${String(err)}`).toBe(true);
    return;
  }
  throw new Error(`expected ${tag}`);
}

describe("remote configuration", () => {
  it("adds, lists, resolves and removes remotes, with their tracking branches", async () => {
    const dir = await committedFixture("v2/single.zarr");
    const repo = await Repository.open({ durability: "none", dir });
    const remoteDir = path.join(await tempDir(), "r");
    const cwd = path.dirname(remoteDir);
    expect(await addRemote(repo, { name: "origin", url: "./r", cwd })).toEqual({ name: "origin", url: remoteDir });
    await addRemote(repo, { name: "backup", url: "s3://bucket/prefix/" });
    expect(listRemotes(repo)).toEqual([
      { name: "backup", url: "s3://bucket/prefix" },
      { name: "origin", url: remoteDir },
    ]);
    expect(JSON.parse(await fs.readFile(path.join(dir, ".tdv", "tdv.json"), "utf8")).remotes.origin).toEqual({ url: remoteDir });
    await expectTag(addRemote(repo, { name: "origin", url: "/x" }), "RemoteExistsError");
    await expectTag(addRemote(repo, { name: "bad name", url: "/x" }), "UsageError");
    await expectTag(addRemote(repo, { name: "ftp", url: "ftp://host/x" }), "UnsupportedUrlError");
    expect(resolveRemote(repo)).toEqual({ name: "origin", url: remoteDir });
    expect(resolveRemote(repo, "https://example.org/data")).toEqual({ name: null, url: "https://example.org/data" });
    await expectTag(() => resolveRemote(repo, "upstream"), "UnknownRemoteError");

    await push(repo, {});
    expect(await repo.refs.read("refs/remotes/origin/main")).toBe((await repo.refs.head()).oid);
    expect(await resolveRevision(repo, "origin/main")).toBe((await repo.refs.head()).oid);
    await removeRemote(repo, { name: "origin" });
    expect(await repo.refs.read("refs/remotes/origin/main")).toBeNull();
    expect(listRemotes(repo).map((r) => r.name)).toEqual(["backup"]);
    expect(resolveRemote(repo).name).toBe("backup"); // no origin: the only remote
  });
});

describe("fetch", () => {
  it("reports new, updated, forced and pruned branches, new tags, and keeps a local tag it would clobber", async () => {
    const remote = path.join(await tempDir(), "remote");
    const a = await committedFixture("v2/single.zarr");
    const ra = await Repository.open({ durability: "none", dir: a });
    await createTag(ra, { name: "v1", message: "first release" }); // annotated
    await push(ra, { remote, tags: true });
    await push(ra, { remote, refs: ["main"] });

    const bDir = path.join(await tempDir(), "b");
    await clone({ durability: "none", url: remote, dir: bDir });
    const rb = await Repository.open({ durability: "none", dir: bDir });
    expect(await rb.refs.read("refs/tags/v1")).toBe(await ra.refs.read("refs/tags/v1"));
    expect(await rb.git.typeOf((await rb.refs.read("refs/tags/v1"))!)).toBe("tag");

    // upstream: a new branch, main moves on, a tag is re-pointed (forced)
    await fs.writeFile(path.join(a, "NEW.md"), "new\n");
    await commitAll(a, "second");
    await push(ra, { remote });
    await fs.mkdir(path.join(remote, "git", "refs", "heads"), { recursive: true });
    await fs.writeFile(path.join(remote, "git", "refs", "heads", "topic"), `${(await ra.refs.head()).oid}\n`);
    const res = await fetch(rb, {});
    const st = Object.fromEntries(res.refs.map((r) => [r.ref, r.status]));
    expect(st["refs/heads/main"]).toBe("updated");
    expect(st["refs/heads/topic"]).toBe("new");
    expect(res.downloaded.gitObjects).toBeGreaterThan(0);

    // the remote's topic is deleted; a tag there is changed under our feet
    const v1 = await rb.refs.read("refs/tags/v1");
    await fs.rm(path.join(remote, "git", "refs", "heads", "topic"));
    await fs.writeFile(path.join(remote, "git", "refs", "tags", "v1"), `${(await ra.refs.head()).oid}\n`);
    const kept = await fetch(rb, {});
    expect(kept.refs.find((r) => r.ref === "refs/heads/topic")).toBeUndefined(); // as git: no pruning unless asked
    expect(await rb.refs.read("refs/remotes/origin/topic")).not.toBeNull();
    const again = await fetch(rb, { prune: true });
    const st2 = Object.fromEntries(again.refs.map((r) => [r.ref, r.status]));
    expect(st2["refs/heads/topic"]).toBe("deleted");
    expect(st2["refs/tags/v1"]).toBe("rejected");
    expect(await rb.refs.read("refs/remotes/origin/topic")).toBeNull();
    expect(await rb.refs.read("refs/tags/v1")).toBe(v1);
  });
});

describe("a hostile remote", () => {
  it("cannot name refs that would escape refs/ or are invalid", async () => {
    for (const bad of ["refs/heads/../../config", "refs/heads/a/../../b", "refs/heads/x~1", "refs/heads/.hidden", "refs/heads/", "refs/notes/x", "refs/heads/x.lock"]) {
      expect(isSafeRef(bad), bad).toBe(false);
    }
    expect(isSafeRef("refs/heads/team-a/v2.1")).toBe(true);

    const remote = path.join(await tempDir(), "remote");
    const a = await committedFixture("v2/single.zarr");
    await push(await Repository.open({ durability: "none", dir: a }), { remote });
    const head = await fs.readFile(path.join(remote, "git", "refs", "heads", "main"), "utf8");
    await fs.writeFile(path.join(remote, "git", "refs", "heads", "x~1"), head);
    await fs.writeFile(path.join(remote, "git", "HEAD"), "ref: refs/heads/../../../x\n");
    const dir = path.join(await tempDir(), "b");
    const res = await clone({ durability: "none", url: remote, dir });
    expect(res.branch).toBe("main");
    expect(res.fetch.refs.map((r) => r.ref)).toEqual(["refs/heads/main"]);
    // refused, and reported: never taken silently
    expect(res.fetch.ignored.map((i) => [i.ref, i.where.replace(/^.*\/git\//, "git/"), i.problem])).toEqual([
      ["HEAD", "git/HEAD", "it is a symbolic ref to 'refs/heads/../../../x': git refuses it as a ref name (contains '..')"],
      ["refs/heads/x~1", "git/refs/heads/x~1", "git refuses it as a ref name (contains a space, control character or one of ~ ^ : ? * [ \\)"],
    ]);
  });
});

describe("push when the remote has a branch never seen here", () => {
  it("HEAD-checks what it would upload and skips what is there", async () => {
    const remote = path.join(await tempDir(), "remote");
    const a = await committedFixture("v2/weather.zarr");
    const ra = await Repository.open({ durability: "none", dir: a });
    await push(ra, { remote });
    const bDir = path.join(await tempDir(), "b");
    await clone({ durability: "none", url: remote, dir: bDir });
    await fs.writeFile(path.join(bDir, "B.md"), "b\n");
    const rb = await commitAll(bDir, "on b");
    // b's commit lands on a branch that a has never fetched
    await createBranch(rb, { name: "other" });
    expect((await push(rb, { refs: ["other"] })).uploaded.gitObjects).toBeGreaterThan(0);
    await fs.writeFile(path.join(a, "A.md"), "a\n");
    await commitAll(a, "on a");
    const res = await push(ra, { refs: ["main"], remote });
    expect(res.refs[0]!.status).toBe("fast-forward");
    expect(res.checked).toBeGreaterThan(0); // unsure: a remote tip is unknown here
    expect(res.uploaded.chunks).toBe(0); // no new chunks
    expect(res.uploaded.gitObjects).toBeLessThanOrEqual(3); // commit, root tree, the new blob
  });
});
