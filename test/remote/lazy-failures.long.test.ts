/**
 * A lazy clone whose remote cannot give a chunk (corrupt, or gone): the
 * command fails with the real error (the chunk, its file and the remote), and
 * nothing is half done: a clone removes what it made, a checkout leaves the
 * working tree, the index and HEAD as they were.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { addRemote, push } from "../../src/index.js";
import { commitAll, rewriteChunk, writeArray } from "./dataset.js";

let remote: string;
let src: string;
let arr: string;
/** the first commit's chunk objects of chunks 3, 7 and 11 (the second commit rewrote them) */
let firstIds: string[];

const idOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const remoteChunk = (id: string) => path.join(remote, "chunks", id.slice(0, 2), id.slice(2));

/** Replace the remote's copy of a chunk object with other bytes. */
async function corrupt(id: string): Promise<void> {
  await fs.rm(remoteChunk(id), { force: true });
  await fs.writeFile(remoteChunk(id), "not the chunk's bytes");
}

beforeAll(async () => {
  src = await tempDir();
  arr = await writeArray(src, "data.zarr", { chunks: 120, chunkBytes: 2_000 });
  await commitAll(src, "first");
  firstIds = await Promise.all([3, 7, 11].map(async (i) => idOf(await fs.readFile(path.join(arr, "c", String(i))))));
  for (const i of [3, 7, 11]) await rewriteChunk(arr, i);
  const repo = await commitAll(src, "second");
  remote = path.join(await tempDir(), "remote");
  await addRemote(repo, { name: "origin", url: remote });
  await push(repo, { remote: "origin" });
});

describe("a lazy clone meeting a chunk its remote cannot give", () => {
  it("clone: the hash mismatch is reported (chunk, file, remote) and the folder is gone", async () => {
    // the first chunk of HEAD corrupt: the other downloads are in flight when it fails
    const id = idOf(await fs.readFile(path.join(arr, "c", "0")));
    const saved = await fs.readFile(remoteChunk(id));
    await corrupt(id);
    try {
      const parent = await tempDir();
      const r = await tdv(parent, ["clone", "--lazy", remote, "copy"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the chunk object of 'data.zarr/c/0' (${id}) is corrupt on the remote 'origin' (${remote})`);
      expect(r.stderr).not.toContain("ENOTEMPTY");
      expect(await fs.readdir(parent)).toEqual([]);
    } finally {
      await fs.rm(remoteChunk(id), { force: true });
      await fs.writeFile(remoteChunk(id), saved);
    }
  });

  it("checkout: fails before touching the working tree; HEAD, index and files as before", async () => {
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", "--lazy", remote, "copy"]);
    const dir = path.join(parent, "copy");
    const before = await listFiles(dir);
    const head = await fs.readFile(path.join(dir, ".tdv", "git", "HEAD"), "utf8");
    const index = await fs.readFile(path.join(dir, ".tdv", "index"));
    // HEAD~1 needs its own versions of chunks 3, 7 and 11; the remote's copy of 11 is damaged
    await corrupt(firstIds[2]!);
    const r = await tdv(dir, ["checkout", "HEAD~1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the chunk object of 'data.zarr/c/11' (${firstIds[2]}) is corrupt on the remote 'origin'`);
    expect(await listFiles(dir)).toEqual(before);
    expect(await fs.readFile(path.join(dir, ".tdv", "git", "HEAD"), "utf8")).toBe(head);
    expect(await fs.readFile(path.join(dir, ".tdv", "index"))).toEqual(index);
    expect((await tdvJson<{ clean: boolean }>(dir, ["status", "--json"])).clean).toBe(true);
  });
});

describe("fsck in a lazy clone", () => {
  it("counts chunks not downloaded as promised by the remote (exit 0); --check-promised reports one the remote lacks", async () => {
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", "--lazy", remote, "copy"]);
    const dir = path.join(parent, "copy");
    type Fsck = { ok: boolean; promised: { chunks: number; bytes: number; checked: boolean }; problems: { kind: string; id: string; path: string }[] };
    // HEAD's chunks came with the checkout; HEAD~1's own versions of chunks 3, 7, 11 did not
    const fresh = await tdvJson<Fsck>(dir, ["fsck", "--json"]);
    expect(fresh).toMatchObject({ ok: true, promised: { chunks: 3, bytes: 6_000, checked: false }, problems: [] });
    const saved = await fs.readFile(remoteChunk(firstIds[1]!));
    await fs.rm(remoteChunk(firstIds[1]!));
    try {
      expect((await tdv(dir, ["fsck"])).code).toBe(0); // not asked: the promise stands
      const r = await tdv(dir, ["fsck", "--check-promised", "--json"]);
      expect(r.code).toBe(1);
      const res = JSON.parse(r.stdout) as Fsck;
      expect(res.promised).toMatchObject({ chunks: 2, checked: true });
      expect(res.problems).toEqual([expect.objectContaining({ kind: "missing", id: firstIds[1], path: "data.zarr/c/7" })]);
    } finally {
      await fs.writeFile(remoteChunk(firstIds[1]!), saved);
    }
  });
});
