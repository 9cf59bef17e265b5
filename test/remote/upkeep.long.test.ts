/**
 * Remote upkeep through the library on folder remotes (one S3 case): ls-remote,
 * remote show (ahead/behind, new and stale branches), set-url and rename,
 * remote fsck (missing, damaged, re-hashed) and remote gc (orphans by age,
 * the store's clock, refusals), with the announcements that keep remote gc and
 * pushes apart. One CLI test covers the commands as a user types them.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clone,
  createBranch,
  fetch,
  isTdvError,
  type TdvErrorTag,
  lsRemote,
  push,
  remoteFsck,
  remoteGc,
  remoteShow,
  renameRemote,
  Repository,
  setRemoteUrl,
  addRemote,
} from "../../src/index.js";
import { enterRemoteGc, enterRemoteWriter } from "../../src/remote/remote-writers.js";
import { openBackend } from "../../src/remote/backend.js";
import { tdv, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { startStaticServer } from "../helpers/static-server.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, committedFixture, s3Setup, writeArray } from "./dataset.js";

async function expectTag(p: Promise<unknown>, tag: TdvErrorTag): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    expect(isTdvError(err, tag), `expected ${tag}, got ${String(err)}`).toBe(true);
    return err;
  }
  throw new Error(`expected ${tag}`);
}

/** Every file under `dir` (relative, "/"), for before/after comparisons of a remote. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk("");
  return out.sort();
}

/** Make every object file under `dir` look `days` old. */
async function age(dir: string, days: number): Promise<void> {
  const t = new Date(Date.now() - days * 86_400_000);
  for (const f of await filesUnder(dir)) await fs.utimes(path.join(dir, f), t, t);
}

/** A repository pushed to a new folder remote "origin"; returns both. */
async function pushed(): Promise<{ dir: string; repo: Repository; remote: string }> {
  const remote = path.join(await tempDir(), "remote");
  const dir = await committedFixture("v2/single.zarr");
  const repo = await Repository.open({ durability: "none", dir });
  await addRemote(repo, { name: "origin", url: remote });
  await push(repo, {});
  return { dir, repo, remote };
}

describe("ls-remote and remote show", () => {
  it("list the remote's refs live and set local branches against them", async () => {
    const { dir, repo, remote } = await pushed();
    await createBranch(repo, { name: "topic" });
    await push(repo, { refs: ["topic"] });
    const main1 = (await repo.refs.head()).oid!;

    const ls = await lsRemote(repo, {});
    expect(ls.head).toBe("main");
    expect(ls.refs).toEqual([
      { ref: "refs/heads/main", oid: main1 },
      { ref: "refs/heads/topic", oid: main1 },
    ]);
    expect((await lsRemote(null, { remote })).refs).toEqual(ls.refs); // by URL, no repository

    // a second clone moves main on; here main gains a commit of its own: diverged, 1 and 1
    const other = path.join(await tempDir(), "other");
    await clone({ durability: "none", url: remote, dir: other });
    await fs.writeFile(path.join(other, "THEIRS.md"), "theirs\n");
    const ro = await commitAll(other, "theirs");
    await push(ro, {});
    await fs.writeFile(path.join(dir, "OURS.md"), "ours\n");
    await commitAll(dir, "ours");
    // a branch made on the remote and one deleted there
    await fs.writeFile(path.join(remote, "git", "refs", "heads", "fresh"), `${main1}\n`);
    await fs.rm(path.join(remote, "git", "refs", "heads", "topic"));

    let show = await remoteShow(repo, { name: "origin" });
    expect(show.branches.map((b) => [b.name, b.state])).toEqual([
      ["fresh", "new"],
      ["main", "tracked"],
      ["topic", "stale"],
    ]);
    // their commit is not here yet: nothing to count against
    expect(show.local.find((l) => l.branch === "main")).toMatchObject({ standing: "unknown", ahead: null, behind: null });

    await fetch(repo, { prune: true });
    show = await remoteShow(repo, { name: "origin" });
    expect(show.branches.map((b) => [b.name, b.state])).toEqual([
      ["fresh", "tracked"],
      ["main", "tracked"],
    ]);
    expect(show.local.find((l) => l.branch === "main")).toMatchObject({ standing: "diverged", ahead: 1, behind: 1 });
    expect(show.lastFetched).not.toBeNull();
    // from the tracking refs only: what the last fetch saw
    const offline = await remoteShow(repo, { name: "origin", query: false });
    expect(offline.queried).toBe(false);
    expect(offline.branches.map((b) => b.name)).toEqual(["fresh", "main"]);
  });
});

describe("remote set-url and rename", () => {
  it("moves the tracking refs and the lazy remote with the name, and refuses unknown and taken names", async () => {
    const { repo, remote } = await pushed();
    const main = await repo.refs.read("refs/remotes/origin/main");
    await repo.updateConfig((c) => {
      c.lazy = { remote: "origin" };
    });
    await addRemote(repo, { name: "backup", url: "s3://bucket/b" });

    await expectTag(renameRemote(repo, { from: "nope", to: "x" }), "UnknownRemoteError");
    await expectTag(renameRemote(repo, { from: "origin", to: "backup" }), "RemoteExistsError");
    await expectTag(renameRemote(repo, { from: "origin", to: "bad name" }), "UsageError");
    await expectTag(setRemoteUrl(repo, { name: "nope", url: "/x" }), "UnknownRemoteError");
    expect(await repo.refs.read("refs/remotes/origin/main")).toBe(main); // refusals change nothing

    const r = await renameRemote(repo, { from: "origin", to: "upstream" });
    expect(r.movedRefs).toEqual(["refs/remotes/upstream/main"]);
    expect(await repo.refs.read("refs/remotes/origin/main")).toBeNull();
    expect(await repo.refs.read("refs/remotes/upstream/main")).toBe(main);
    const onDisk = JSON.parse(await fs.readFile(path.join(repo.tdvDir, "tdv.json"), "utf8"));
    expect(onDisk.remotes).toEqual({ upstream: { url: remote }, backup: { url: "s3://bucket/b" } });
    expect(onDisk.lazy).toEqual({ remote: "upstream" });

    const moved = path.join(await tempDir(), "moved");
    await fs.rename(remote, moved);
    expect(await setRemoteUrl(repo, { name: "upstream", url: moved })).toEqual({ name: "upstream", url: moved, old: remote });
    expect((await fetch(repo, { remote: "upstream" })).refs.map((x) => x.status)).toEqual(["up-to-date"]);
  });
});

describe("remote fsck", () => {
  it("names each missing or damaged object with the ref that needs it; --rehash finds same-size damage", async () => {
    const { repo, remote } = await pushed();
    expect((await remoteFsck(repo, {})).ok).toBe(true);
    const chunkFiles = (await filesUnder(remote)).filter((f) => f.startsWith("chunks/"));
    const [gone, flipped, cut] = chunkFiles as [string, string, string];
    await fs.rm(path.join(remote, gone));
    const bytes = await fs.readFile(path.join(remote, flipped));
    bytes[0] = (bytes[0] as number) ^ 0xff;
    await fs.writeFile(path.join(remote, flipped), bytes);
    await fs.writeFile(path.join(remote, cut), "short");
    const commit = (await repo.refs.head()).oid!;
    await fs.writeFile(path.join(remote, "git", "objects", commit.slice(0, 2), commit.slice(2)), "not zlib");

    const id = (f: string) => f.replace(/^chunks\/(..)\//, "$1");
    const res = await remoteFsck(repo, { rehash: true });
    expect(res.ok).toBe(false);
    expect(res.problems.map((p) => [p.kind, p.type, p.id, p.ref])).toEqual([
      ["corrupt", "commit", commit, "refs/heads/main"],
    ]);
    // with the commit readable again, the chunks are reached
    const git = await repo.git.readObject(commit, "commit");
    const { encodeLoose } = await import("../../src/remote/git-objects.js");
    await fs.writeFile(path.join(remote, "git", "objects", commit.slice(0, 2), commit.slice(2)), encodeLoose("commit", git.content));
    const quick = await remoteFsck(repo, {});
    expect(quick.problems.map((p) => [p.kind, p.id])).toEqual([
      ["missing", id(gone)],
      ["corrupt", id(cut)],
    ]);
    expect(quick.problems.every((p) => p.ref === "refs/heads/main" && p.path.startsWith("single.zarr/"))).toBe(true);
    const full = await remoteFsck(repo, { rehash: true });
    expect(full.problems.map((p) => [p.kind, p.id]).sort()).toEqual(
      [
        ["corrupt", id(cut)],
        ["corrupt", id(flipped)],
        ["missing", id(gone)],
      ].sort(),
    );
    expect(full.problems.find((p) => p.id === id(flipped))?.detail).toMatch(/hash to [0-9a-f]{64}/);
    expect(full.rehashed.chunks).toBe(chunkFiles.length - 2);
  });
});

describe("remote fsck over https (read-only: refs from git/info/refs, a HEAD per chunk)", () => {
  it("finds a missing chunk, and remote gc refuses the remote", async () => {
    const { remote } = await pushed();
    const server = await startStaticServer(remote);
    try {
      expect((await remoteFsck(null, { remote: server.url })).ok).toBe(true);
      const chunk = (await filesUnder(remote)).find((f) => f.startsWith("chunks/"))!;
      await fs.rm(path.join(remote, chunk));
      const res = await remoteFsck(null, { remote: server.url });
      expect(res.problems.map((p) => [p.kind, p.type, p.id, p.ref])).toEqual([["missing", "chunk", chunk.replace(/^chunks\/(..)\//, "$1"), "refs/heads/main"]]);
      await expectTag(remoteGc(null, { remote: server.url }), "ReadOnlyRemoteError");
    } finally {
      await server.stop();
    }
  });
});

describe("remote gc", () => {
  it("deletes old orphans of a rejected push, keeps young ones and everything a ref needs", async () => {
    const { dir, repo, remote } = await pushed();
    // a push that uploaded and then lost its ref (as a rejected or killed push leaves it)
    await writeArray(dir, "extra.zarr", { chunks: 3, chunkBytes: 100 });
    await commitAll(dir, "extra");
    const before = await filesUnder(remote);
    await push(repo, {});
    const orphans = (await filesUnder(remote)).filter((f) => !before.includes(f) && !f.startsWith("git/refs/") && !f.startsWith("git/info/"));
    expect(orphans.filter((f) => f.startsWith("chunks/"))).toHaveLength(3);
    const main = await fs.readFile(path.join(remote, "git", "refs", "heads", "main"), "utf8");
    const parent = (await repo.git.readCommit(main.trim() as never)).parents[0]!;
    await fs.writeFile(path.join(remote, "git", "refs", "heads", "main"), `${parent}\n`);

    // young: kept by the default grace period (two weeks)
    const young = await remoteGc(repo, {});
    expect(young.removed).toEqual({ gitObjects: 0, chunks: 0, bytes: 0 });
    expect(young.recent.chunks).toBe(3);
    expect(await filesUnder(remote)).toEqual(expect.arrayContaining(orphans));

    await age(path.join(remote, "chunks"), 30);
    await age(path.join(remote, "git", "objects"), 30);
    const dry = await remoteGc(repo, { dryRun: true });
    expect(dry.removedKeys.sort()).toEqual(orphans.sort());
    expect(await filesUnder(remote)).toEqual(expect.arrayContaining(orphans)); // a dry run deletes nothing

    const res = await remoteGc(repo, {});
    expect(res.removedKeys.sort()).toEqual(orphans.sort());
    expect(res.removed.chunks).toBe(3);
    expect(res.removed.bytes).toBeGreaterThanOrEqual(300);
    expect((await filesUnder(remote)).filter((f) => orphans.includes(f))).toEqual([]);
    expect((await filesUnder(remote)).filter((f) => f.startsWith("locks/"))).toEqual([]); // its announcement withdrawn
    expect((await remoteFsck(repo, { rehash: true })).ok).toBe(true);
    // and a push brings them back
    await push(repo, {});
    expect((await remoteFsck(repo, {})).ok).toBe(true);
  });

  it("refuses when a ref's object is missing, on read-only remotes, and while a push is announced", async () => {
    const { repo, remote } = await pushed();
    const chunk = (await filesUnder(remote)).find((f) => f.startsWith("chunks/"))!;
    await fs.rename(path.join(remote, chunk), path.join(remote, "aside"));
    await expectTag(remoteGc(repo, { prune: "now" }), "RemoteGcRefusedError");
    await fs.rename(path.join(remote, "aside"), path.join(remote, chunk));
    await expectTag(remoteGc(null, { remote: "https://127.0.0.1:9/r" }), "ReadOnlyRemoteError");

    // a push's announcement: gc waits, then refuses and deletes nothing
    const backend = await openBackend(remote);
    const pushing = await enterRemoteWriter(backend);
    await fs.writeFile(path.join(remote, "chunks", "ee", "e".repeat(62)), "orphan").catch(async () => {
      await fs.mkdir(path.join(remote, "chunks", "ee"), { recursive: true });
      await fs.writeFile(path.join(remote, "chunks", "ee", "e".repeat(62)), "orphan");
    });
    await expectTag(remoteGc(repo, { prune: "now", waitMs: 300 }), "RemoteWritersRunningError");
    expect(await fs.readFile(path.join(remote, "chunks", "ee", "e".repeat(62)), "utf8")).toBe("orphan");
    await pushing.release();

    // a gc's announcement: a push waits for it, then gives way having moved nothing
    const gc = await enterRemoteGc(backend);
    const saved = process.env.TDV_GC_WAIT_MS;
    process.env.TDV_GC_WAIT_MS = "300";
    try {
      await fs.writeFile(path.join(path.dirname(repo.tdvDir), "NEW.md"), "new\n");
      await commitAll(path.dirname(repo.tdvDir), "new");
      const err = await expectTag(push(repo, {}), "RemoteGcRunningError");
      expect(String((err as Error).message)).toMatch(/tdv gc \(pid \d+ on .*locks\/gc-/);
      expect((await lsRemote(repo, {})).refs[0]!.oid).not.toBe((await repo.refs.head()).oid);
    } finally {
      if (saved === undefined) delete process.env.TDV_GC_WAIT_MS;
      else process.env.TDV_GC_WAIT_MS = saved;
      await gc.release();
    }
    // gc gone: the push goes through, and gc takes the orphan with --prune=now
    await push(repo, {});
    const res = await remoteGc(repo, { prune: "now" });
    expect(res.removedKeys).toEqual([`chunks/ee/${"e".repeat(62)}`]);
  });

  it("ignores an announcement whose lease ran out, and an owner held up past half its lease stops", async () => {
    const { repo, remote } = await pushed();
    const backend = await openBackend(remote);
    const saved = process.env.TDV_REMOTE_LEASE_MS;
    process.env.TDV_REMOTE_LEASE_MS = "400";
    try {
      const dead = await enterRemoteWriter(backend);
      // the owner is held up (a suspended process): no renewal, and its own check fails
      const until = Date.now() + 450;
      while (Date.now() < until) {
        /* busy: timers cannot run */
      }
      expect(() => dead.check()).toThrow(/not renewed/);
      // and a gc that comes later does not wait for it. The owner is made dead for good: its
      // announcement is left as a killed process leaves it (a live one's timer would renew it
      // between the backdating and the gc's listing, whenever the machine is slow)
      const file = path.join(remote, ...dead.key.split("/"));
      const left = await fs.readFile(file);
      await dead.release();
      await fs.writeFile(file, left);
      const t = new Date(Date.now() - 60_000);
      await fs.utimes(file, t, t);
      const res = await remoteGc(repo, { prune: "now", waitMs: 0 });
      expect(res.removed.chunks).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.TDV_REMOTE_LEASE_MS;
      else process.env.TDV_REMOTE_LEASE_MS = saved;
    }
  });
});

describe("on the S3 test server", () => {
  let s3: S3TestServer;
  let env: Record<string, string>;
  const saved = { ...process.env };
  beforeAll(async () => {
    ({ s3, env } = await s3Setup());
    Object.assign(process.env, env);
  });
  afterAll(async () => {
    process.env = saved;
    await s3?.stop();
  });

  it("fsck and gc by the store's LastModified: orphans kept by the grace period, gone with --prune=now", async () => {
    const dir = await committedFixture("v2/single.zarr");
    const repo = await Repository.open({ durability: "none", dir });
    const url = `s3://${s3.bucket}/upkeep`;
    await addRemote(repo, { name: "origin", url });
    await push(repo, {});
    const backend = await openBackend(url);
    const listed = [];
    for await (const o of backend.listObjects("chunks/")) listed.push(o);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((o) => o.size > 0 && Math.abs(o.lastModified.getTime() - Date.now()) < 10 * 60_000)).toBe(true);

    await backend.put(`chunks/ee/${"e".repeat(62)}`, new TextEncoder().encode("orphan"));
    expect((await remoteGc(repo, {})).recent.chunks).toBe(1);
    const res = await remoteGc(repo, { prune: "now" });
    expect(res.removedKeys).toEqual([`chunks/ee/${"e".repeat(62)}`]);
    expect(await backend.head(`chunks/ee/${"e".repeat(62)}`)).toBeNull();
    await backend.delete(listed[0]!.key);
    const fsck = await remoteFsck(repo, {});
    expect(fsck.problems.map((p) => [p.kind, p.type, p.ref])).toEqual([["missing", "chunk", "refs/heads/main"]]);
    const locks = [];
    for await (const o of backend.listObjects("locks/")) locks.push(o.key);
    expect(locks).toEqual([]); // every announcement withdrawn
  });
});

describe("the commands", () => {
  it("ls-remote, remote show, rename, fetch --prune, remote fsck and gc as typed", async () => {
    const { dir, repo, remote } = await pushed();
    const ls = await tdvOk(dir, ["ls-remote"]);
    expect(ls.stdout).toMatch(/^[0-9a-f]{40}\tHEAD\n[0-9a-f]{40}\trefs\/heads\/main\n$/);
    await fs.writeFile(path.join(remote, "git", "refs", "heads", "gone"), ls.stdout.slice(0, 40));
    await fetch(repo, {});
    await fs.rm(path.join(remote, "git", "refs", "heads", "gone"));
    expect((await tdvOk(dir, ["remote", "show", "origin"])).stdout).toMatch(/gone +stale \(use 'tdv fetch --prune' to remove\)\n[\s\S]*main +up to date/);
    expect((await tdvOk(dir, ["fetch", "-p"])).stdout).toMatch(/ - \[deleted\] +\(none\) +-> origin\/gone/);
    const bad = await tdv(dir, ["remote", "rename", "origin", "bad name"]);
    expect(bad.code).toBe(2);
    await tdvOk(dir, ["remote", "rename", "origin", "up"]);
    const chunk = (await filesUnder(remote)).find((f) => f.startsWith("chunks/"))!;
    await fs.rm(path.join(remote, chunk));
    const fsck = await tdv(dir, ["remote", "fsck", "up", "--json"]);
    expect(fsck.code).toBe(1);
    expect(JSON.parse(fsck.stdout).problems[0]).toMatchObject({ kind: "missing", type: "chunk", ref: "refs/heads/main" });
    const gc = await tdv(dir, ["remote", "gc", "up", "--prune=now"]);
    expect(gc.code).toBe(1);
    expect(gc.stderr).toMatch(/remote gc deleted nothing .* is missing\nhint: `tdv remote fsck NAME`/);
  });
});
