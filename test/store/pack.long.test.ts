/**
 * Packfiles: what tdv writes is a pack stock git accepts (verify-pack, fsck,
 * cat-file), and tdv reads packs stock git writes, deltas included. A damaged
 * pack is refused, never read as other bytes.
 */
import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, isTdvError, Repository, status } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { tempDir } from "../helpers/fixture.js";
import { tdvOk } from "../helpers/cli.js";
import { looseCount, writeManyArrays } from "../helpers/many-arrays.js";

const git = (gitdir: string, ...args: string[]) => execFileSync("git", ["--git-dir", gitdir, ...args], { encoding: "utf8" });
const gitBytes = (gitdir: string, ...args: string[]) => execFileSync("git", ["--git-dir", gitdir, ...args]);

async function packFiles(gitdir: string): Promise<string[]> {
  return (await fsp.readdir(path.join(gitdir, "objects/pack")).catch(() => [] as string[])).sort();
}

/** A group of `n` small arrays, each with its own metadata and one chunk. */
const manyArrays = (dir: string, n: number) =>
  writeManyArrays(dir, n, { chunk: (i) => Buffer.from([i & 255, (i >> 8) & 255, 1, 2, 3, 4, 5, 6]), shape: (i) => 4 + (i % 3) });

/** A repository whose one commit holds a group of `n` small arrays, added and committed through the CLI; its Git folder. */
async function committedArrays(dir: string, n: number): Promise<string> {
  await manyArrays(dir, n);
  await tdvOk(dir, ["init"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-m", "many"]);
  return path.join(dir, ".tdv/git");
}

describe("packs", () => {
  it("a commit of many arrays writes its trees, manifests and metadata as packs stock git verifies and reads", async () => {
    const dir = await tempDir();
    const gitdir = await committedArrays(dir, 300);
    const packs = await packFiles(gitdir);
    // the first add packs the 300 metadata blobs with the snapshot's trees and manifests (it writes the tree the index
    // equals), the commit writes only the commit: one pack, a few loose objects
    expect(packs.filter((f) => f.endsWith(".idx")).length).toBe(1);
    expect(packs.filter((f) => f.endsWith(".pack")).length).toBe(1);
    expect(await looseCount(gitdir)).toBeLessThan(10);
    for (const f of packs.filter((p) => p.endsWith(".idx"))) git(gitdir, "verify-pack", path.join(gitdir, "objects/pack", f));
    expect(git(gitdir, "fsck", "--strict", "--no-dangling")).toBe("");
    expect(git(gitdir, "show", "HEAD:many.zarr/a7/zarr.json")).toContain('"i":7');
    // tdv reads it back in a new process: clean status, and a checkout elsewhere has every byte
    expect((await tdvOk(dir, ["status", "--json"])).stdout).toContain('"clean": true');
    await fsp.rm(path.join(dir, "many.zarr"), { recursive: true });
    await tdvOk(dir, ["checkout", "--force", "HEAD"]);
    expect(await fsp.readFile(path.join(dir, "many.zarr/a299/c/0"))).toEqual(Buffer.from([299 & 255, 1, 1, 2, 3, 4, 5, 6]));
    expect((await tdvOk(dir, ["fsck", "--full"])).stdout).toMatch(/^ok:/m);
  });

  it("reads packs that stock git wrote, offset and reference deltas included", async () => {
    const dir = await tempDir();
    await manyArrays(dir, 40);
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    const c1 = await commit(repo, { message: "one" });
    // near-identical metadata in a second commit: good delta candidates for git
    for (let i = 0; i < 40; i += 2) {
      const f = path.join(dir, `many.zarr/a${i}/zarr.json`);
      await fsp.writeFile(f, (await fsp.readFile(f, "utf8")).replace('"attributes":{', '"attributes":{"edited":true,'));
    }
    await add(repo, { all: true });
    const c2 = await commit(repo, { message: "two" });
    const gitdir = repo.refs.gitdir;
    const expected = new Map<string, string>();
    for (const line of git(gitdir, "rev-list", "--objects", "--all").trim().split("\n")) {
      const oid = line.slice(0, 40);
      expected.set(oid, git(gitdir, "cat-file", "-t", oid).trim());
    }
    for (const [offsets, label] of [["true", "offset deltas"], ["false", "reference deltas"]] as const) {
      git(gitdir, "-c", `repack.useDeltaBaseOffset=${offsets}`, "repack", "-adf", "--depth=10", "--window=50");
      const verbose = git(gitdir, "verify-pack", "-v", ...(await packFiles(gitdir)).filter((f) => f.endsWith(".idx")).map((f) => path.join(gitdir, "objects/pack", f)));
      expect(verbose, label).toMatch(/chain length = [1-9]/); // git did store deltas
      expect(await looseCount(gitdir), label).toBe(0);
      const fresh = await Repository.open({ dir });
      for (const [oid, type] of expected) {
        const o = await fresh.git.readObject(oid as GitOid, label);
        expect(o.type, `${label} ${oid}`).toBe(type);
        expect(o.content.equals(gitBytes(gitdir, "cat-file", type, oid)), `${label} ${oid}`).toBe(true);
      }
      expect((await fresh.git.readCommit(c2.oid)).parents).toEqual([c1.oid]);
      expect((await status(fresh)).clean, label).toBe(true);
      // an abbreviated id is found in a pack
      expect(await fresh.git.expand(c1.oid.slice(0, 8))).toEqual([c1.oid]);
    }
  });

  it("a pack whose bytes were changed is refused with the object named, never read as other bytes", async () => {
    const dir = await tempDir();
    const gitdir = await committedArrays(dir, 100);
    const packs = (await packFiles(gitdir)).filter((f) => f.endsWith(".pack"));
    // flip one byte in the middle of every pack (inside some object's compressed data)
    for (const f of packs) {
      const file = path.join(gitdir, "objects/pack", f);
      await fsp.chmod(file, 0o644);
      const bytes = await fsp.readFile(file);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0x5a;
      await fsp.writeFile(file, bytes);
    }
    const repo = await Repository.open({ dir });
    let refused = 0;
    const oids = new Set<string>();
    for (const f of (await packFiles(gitdir)).filter((p) => p.endsWith(".idx"))) {
      for (const line of execFileSync("git", ["show-index"], { input: await fsp.readFile(path.join(gitdir, "objects/pack", f)), encoding: "utf8" }).trim().split("\n")) {
        oids.add(line.split(" ")[1] as string);
      }
    }
    for (const oid of oids) {
      const err = await repo.git.readObject(oid as GitOid, "object").then(() => null, (e: unknown) => e);
      if (err) {
        expect(isTdvError(err, "CorruptObjectError"), String(err)).toBe(true);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    const fsck = await tdvOk(dir, ["fsck", "--full"]).catch((e: Error) => e);
    expect(fsck instanceof Error).toBe(true);
  });

  it("objects collected for a pack whose work failed are neither written nor readable", async () => {
    const { repo } = await Repository.init({ dir: await tempDir() });
    let oid = "" as GitOid;
    const err = await repo.git
      .withPack(async (pack) => {
        oid = await pack.writeBlob(Buffer.from("never lands"));
        expect((await repo.git.readBlob(oid)).toString()).toBe("never lands"); // readable while collected
        throw new Error("the command failed");
      })
      .catch((e: Error) => e);
    expect(String(err)).toContain("the command failed");
    expect(await repo.git.typeOf(oid)).toBeNull();
    expect(await packFiles(repo.refs.gitdir)).toEqual([]);
    expect(await looseCount(repo.refs.gitdir)).toBe(0);
  });
});
