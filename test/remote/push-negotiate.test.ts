/**
 * Push negotiation, repair, deletion and the remote's messages, through the
 * library on folder remotes (fast, no spawning): after a merge only what is
 * new is sent; a branch at a commit the remote has sends nothing and asks
 * nothing; `verify` re-uploads a damaged or missing remote object; `delete`
 * removes a remote branch by a conditional delete; temp files of dead
 * pushers are swept.
 */
import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  addRemote,
  clone,
  createBranch,
  fetch,
  isTdvError,
  merge,
  objectsToSend,
  push,
  RemoteUnreachableError,
  type Repository,
  switchBranch,
  type GitOid,
} from "../../src/index.js";
import { RemoteRepo } from "../../src/remote/layout.js";
import { tempDir } from "../helpers/fixture.js";
import { commitAll, rewriteChunk, writeArray } from "./dataset.js";

async function flipByte(file: string): Promise<void> {
  await fs.chmod(file, 0o644);
  const b = await fs.readFile(file);
  b[0] = (b[0] as number) ^ 0xff;
  await fs.writeFile(file, b);
}

/** A repository with one 40-chunk array committed, and a folder remote "origin" (not pushed yet). */
async function setup(): Promise<{ dir: string; arr: string; repo: Repository; remoteDir: string }> {
  const dir = await tempDir();
  const arr = await writeArray(dir, "data.zarr", { chunks: 40, chunkBytes: 500 });
  const repo = await commitAll(dir, "base");
  const remoteDir = path.join(await tempDir(), "remote.tdv");
  await addRemote(repo, { name: "origin", url: remoteDir });
  return { dir, arr, repo, remoteDir };
}

async function expectTag(p: Promise<unknown>, tag: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isTdvError(err, tag as never), `expected ${tag}, got ${String(err)}`).toBe(true);
    return err as Error;
  }
  throw new Error(`expected ${tag}`);
}

describe("push negotiation", () => {
  it("after a merge sends only the new chunk: the remote has everything its branch reaches, ancestors included", async () => {
    const { arr, repo, remoteDir } = await setup();
    const base = (await repo.refs.read("refs/heads/main")) as GitOid;
    // upstream: base → R1 → R2 (two other chunks rewritten), pushed; main itself never was
    await switchBranch(repo, { name: "up", create: true });
    await rewriteChunk(arr, 3);
    await commitAll(path.dirname(arr), "R1");
    await rewriteChunk(arr, 4);
    await commitAll(path.dirname(arr), "R2");
    await push(repo, { refs: ["up"] });
    // main: base → L (chunk 7), then merge up
    await switchBranch(repo, { name: "main" });
    await rewriteChunk(arr, 7);
    await commitAll(path.dirname(arr), "L");
    const m = await merge(repo, { rev: "up" });
    expect(m.kind).toBe("merged");

    const r2 = (await repo.refs.read("refs/heads/up")) as GitOid;
    const head = (await repo.refs.read("refs/heads/main")) as GitOid;
    const send = await objectsToSend(repo, { wants: [head], haves: [r2] });
    expect(send.commits).toBe(2); // L and the merge
    expect(send.chunks.size).toBe(1); // chunk 7 of L; base's chunks 3 and 4 are on the remote through R2's history
    const nothing = await objectsToSend(repo, { wants: [base], haves: [r2] });
    expect(nothing).toMatchObject({ commits: 0, git: [], chunks: new Map() });

    const res = await push(repo, { refs: ["main"] });
    expect(res.refs[0]).toMatchObject({ ref: "refs/heads/main", status: "created" });
    expect(res.uploaded.chunks).toBe(1);
    expect(res.found.objects).toBe(0);
    expect(res.skipped.objects).toBeGreaterThan(35);

    // everything the remote needs is there: a clone is complete and verified
    const parent = await tempDir();
    const c = await clone({ durability: "none", url: remoteDir, dir: path.join(parent, "copy"), branch: "main" });
    expect(c.branch).toBe("main");
  });

  it("a first push of several commits counts nothing as already on the remote", async () => {
    const { arr, repo } = await setup();
    await rewriteChunk(arr, 5);
    await commitAll(path.dirname(arr), "second"); // shares 39 chunks and most trees with base
    const res = await push(repo, {});
    expect(res.commits).toBe(2);
    expect(res.uploaded.chunks).toBe(41);
    expect(res.skipped).toEqual({ objects: 0, bytes: 0 });
    expect(res.found.objects).toBe(0);
    expect(res.checked).toBe(0); // a remote without tdv.json holds nothing of tdv's: not asked
  });

  it("a new branch at a commit the remote has, while its main moved on: nothing sent, nothing asked", async () => {
    const { arr, repo } = await setup();
    await push(repo, {});
    const old = (await repo.refs.read("refs/heads/main")) as GitOid;
    for (const i of [1, 2, 3]) {
      await rewriteChunk(arr, i);
      await commitAll(path.dirname(arr), `step ${i}`);
    }
    await push(repo, {});
    await createBranch(repo, { name: "at-old", start: old });
    const res = await push(repo, { refs: ["at-old"] });
    expect(res.refs[0]).toMatchObject({ status: "created", new: old });
    expect(res.uploaded.objects).toBe(0);
    expect(res.checked).toBe(0); // no HEAD or listing: the commit graph said it all
    expect(res.commits).toBe(0);
  });
});

describe("push --verify repairs a damaged remote", () => {
  it("re-uploads a damaged chunk and a missing one; a plain push does not see them, a clone then works", async () => {
    const { repo, remoteDir } = await setup();
    await push(repo, {});
    const remote = await RemoteRepo.open(remoteDir);
    const chunks: string[] = [];
    for await (const k of remote.backend.list("chunks/")) chunks.push(k);
    const [damaged, missing] = chunks.sort() as [string, string];
    await flipByte(path.join(remoteDir, damaged));
    const parent = await tempDir();
    const err = await expectTag(clone({ durability: "none", url: remoteDir, dir: path.join(parent, "broken") }), "RemoteObjectCorruptError");
    expect(err.message).toMatch(/^chunk [0-9a-f]{64} on remote origin \(.*remote\.tdv\) is damaged: its bytes hash to/);
    expect((err as { hint?: string }).hint).toMatch(/tdv push --verify/);
    await fs.rm(path.join(remoteDir, missing), { force: true });

    const plain = await push(repo, {});
    expect(plain.refs[0]!.status).toBe("up-to-date");
    expect(plain.uploaded.objects).toBe(0);

    const fixed = await push(repo, { verify: true });
    const id = (key: string) => key.replace(/^chunks\/(..)\//, "$1");
    expect(fixed.repaired.damaged).toEqual([id(damaged)]);
    expect(fixed.repaired.missing).toEqual([id(missing)]);
    expect(fixed.uploaded.chunks).toBe(2);
    expect(fixed.verified).toBeGreaterThanOrEqual(40);
    const again = await push(repo, { verify: true });
    expect(again.repaired.objects).toBe(0);

    const c = await clone({ durability: "none", url: remoteDir, dir: path.join(parent, "ok") });
    expect(c.branch).toBe("main");
  });
});

describe("push --delete", () => {
  it("deletes a remote branch and its tracking branch; the default branch only with force", async () => {
    const { repo, remoteDir } = await setup();
    await createBranch(repo, { name: "feature" });
    await push(repo, { refs: ["main", "feature"] });
    expect(await repo.refs.read("refs/remotes/origin/feature")).not.toBeNull();

    const res = await push(repo, { refs: ["feature"], delete: true });
    expect(res.refs).toEqual([expect.objectContaining({ ref: "refs/heads/feature", status: "deleted", new: null })]);
    const remote = await RemoteRepo.open(remoteDir);
    expect([...(await remote.listRefs()).keys()]).toEqual(["refs/heads/main"]);
    expect(await fs.readFile(path.join(remoteDir, "git/info/refs"), "utf8")).not.toMatch(/feature/);
    expect(await repo.refs.read("refs/remotes/origin/feature")).toBeNull();
    expect(await repo.refs.read("refs/heads/feature")).not.toBeNull(); // the local branch stays

    const refused = await expectTag(push(repo, { refs: ["main"], delete: true }), "UsageError");
    expect(refused.message).toMatch(/default branch/);
    await expectTag(push(repo, { refs: ["nope"], delete: true }), "RefNotFoundError");
    expect((await remote.listRefs()).has("refs/heads/main")).toBe(true);
    await push(repo, { refs: ["main"], delete: true, force: true });
    expect((await remote.listRefs()).size).toBe(0);
  });

  it("a conditional delete: a branch that moved since it was read is not deleted", async () => {
    const { repo, remoteDir } = await setup();
    await push(repo, {});
    const remote = await RemoteRepo.open(remoteDir);
    const read = (await remote.readRef("refs/heads/main"))!;
    await remote.updateRef("refs/heads/main", read.oid, read); // moved (same value, new version)
    await expectTag(remote.deleteRef("refs/heads/main", read), "PreconditionFailedError");
    expect(await remote.readRef("refs/heads/main")).not.toBeNull();
  });
});

describe("remote messages", () => {
  it("names the remote and the ref when a ref points to a commit the remote lacks, and a missing chunk plainly", async () => {
    const { repo, remoteDir } = await setup();
    await push(repo, {});
    const ghost = "0123456789abcdef0123456789abcdef01234567";
    await fs.writeFile(path.join(remoteDir, "git/refs/heads/ghost"), `${ghost}\n`);
    const err = await expectTag(fetch(repo, {}), "RemoteObjectMissingError");
    expect(err.message).toBe(`commit ${ghost} is missing on remote origin (${remoteDir}) (needed by ghost)`);
    await fs.rm(path.join(remoteDir, "git/refs/heads/ghost"));

    const chunks: string[] = [];
    for await (const k of (await RemoteRepo.open(remoteDir)).backend.list("chunks/")) chunks.push(k);
    await fs.rm(path.join(remoteDir, chunks[0] as string));
    const parent = await tempDir();
    const e2 = await expectTag(clone({ durability: "none", url: remoteDir, dir: path.join(parent, "c") }), "RemoteObjectMissingError");
    expect(e2.message).toMatch(/^chunk [0-9a-f]{64} is missing on /);
  });

  it("the hint for an unreachable server names AWS_ENDPOINT_URL only for s3://", () => {
    expect(new RemoteUnreachableError("s3://b/p", 3, "ECONNREFUSED").hint).toMatch(/AWS_ENDPOINT_URL/);
    expect(new RemoteUnreachableError("https://example.org/x", 3, "ECONNREFUSED").hint).not.toMatch(/AWS/);
  });

  it("refuses --jobs outside 1..256", async () => {
    const { repo } = await setup();
    for (const jobs of [0, 257, 1.5, Number.NaN]) await expectTag(push(repo, { concurrency: jobs }), "UsageError");
    await expectTag(fetch(repo, { concurrency: 0 }), "UsageError");
  });
});

describe("file remote temp files", () => {
  it("push sweeps the temp files of pushers that are gone, and old ones, but not a live one's", async () => {
    const { repo, remoteDir } = await setup();
    await push(repo, {});
    const tmp = path.join(remoteDir, ".tdv-tmp");
    // a pid that has exited (a finished child), one that runs (this process), and an old file of another host
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    const host = encodeURIComponent(os.hostname());
    const names = [`${host}~${dead}~x~0badf00d-0`, `${host}~${process.pid}~x~0badf00d-1`, `elsewhere~1~x~0badf00d-2`, `elsewhere~2~x~0badf00d-3`];
    for (const n of names) await fs.writeFile(path.join(tmp, n), "partial");
    const old = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(path.join(tmp, names[2] as string), old, old);
    await rewriteChunk(path.join(repo.root, "data.zarr"), 5);
    await commitAll(repo.root, "change");
    const res = await push(repo, {});
    expect(res.temporariesRemoved).toBe(2);
    expect((await fs.readdir(tmp)).sort()).toEqual([names[1], names[3]].sort());
  });
});
