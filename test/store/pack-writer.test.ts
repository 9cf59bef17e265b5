/**
 * GitStore.withPack hands the function it runs an explicit pack: writes given
 * to it are written together when the function returns; writes not given to
 * it are written at once, loose, as outside (nothing is collected implicitly).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Repository } from "../../src/repo/repository.js";
import { PACK_MIN, SPOOL_BYTES } from "../../src/store/git.js";
import { looseCount } from "../helpers/many-arrays.js";
import { tempDir } from "../helpers/fixture.js";

describe("GitStore.withPack", () => {
  it("writes what goes through the pack as one pack, and what does not at once", async () => {
    const { repo } = await Repository.init({ dir: await tempDir(), durability: "none" });
    const packDir = path.join(repo.refs.gitdir, "objects", "pack");
    const outside = await repo.git.withPack(async (pack) => {
      for (let i = 0; i < PACK_MIN; i++) await pack.writeBlob(Buffer.from(`packed ${i}\n`));
      const tree = await pack.writeTree([{ mode: "100644", name: "a", oid: await pack.writeBlob(Buffer.from("packed 0\n")) }]);
      expect((await repo.git.readTree(tree)).map((e) => e.name)).toEqual(["a"]); // readable while collected
      expect((await fs.readdir(packDir)).filter((n) => n.endsWith(".pack"))).toEqual([]);
      const loose = await repo.git.writeBlob(Buffer.from("not given the pack\n"));
      expect(await looseCount(repo.refs.gitdir)).toBe(1); // written at once
      return loose;
    });
    expect((await fs.readdir(packDir)).filter((n) => n.endsWith(".pack"))).toHaveLength(1);
    expect(await looseCount(repo.refs.gitdir)).toBe(1);
    expect(repo.git.hasPacked(outside)).toBe(false);
    expect(Buffer.from(await repo.git.readBlob(outside)).toString()).toBe("not given the pack\n");
  });

  it("a pack whose function throws writes nothing, and its objects are not readable after", async () => {
    const { repo } = await Repository.init({ dir: await tempDir(), durability: "none" });
    let oid = "";
    const err = await repo.git
      .withPack(async (pack) => {
        oid = await pack.writeBlob(Buffer.from("never lands\n"));
        throw new Error("failed");
      })
      .catch((e: Error) => e);
    expect(String(err)).toContain("failed");
    expect(await repo.git.typeOf(oid as never)).toBeNull();
    expect(await looseCount(repo.refs.gitdir)).toBe(0);
  });

  // past SPOOL_BYTES the objects go to a temp file in the pack folder as they come (a million chunks' manifests
  // are tens of MB): readable all along, one pack at the end that stock git accepts, nothing left beside it
  it("a pack of many bytes is spooled to its file as it grows, readable all along, and written as one pack", async () => {
    const { repo } = await Repository.init({ dir: await tempDir(), durability: "none" });
    const packDir = path.join(repo.refs.gitdir, "objects", "pack");
    const blobs = Array.from({ length: Math.ceil((SPOOL_BYTES * 1.5) / 65_536) }, (_, i) => Buffer.concat([Buffer.from(`blob ${i}\n`), randomBytes(65_536)]));
    const oids: string[] = [];
    let spooled: string[] = [];
    await repo.git.withPack(async (pack) => {
      for (const b of blobs) oids.push(await pack.writeBlob(b));
      spooled = (await fs.readdir(packDir)).filter((n) => n.includes(".tmp-"));
      repo.git.dropCache(); // the reads below come from the spool file and the memory, not the cache
      for (const i of [0, 1, Math.floor(blobs.length / 2), blobs.length - 1]) expect(Buffer.from(await repo.git.readBlob(oids[i] as never)).equals(blobs[i] as Buffer)).toBe(true);
      // a tree naming a spooled blob, written into the same pack
      await pack.writeTree([{ mode: "100644", name: "first", oid: oids[0] as never }]);
    });
    expect(spooled).toHaveLength(1);
    const names = await fs.readdir(packDir);
    expect(names.filter((n) => n.includes(".tmp-"))).toEqual([]);
    expect(names.filter((n) => n.endsWith(".pack"))).toHaveLength(1);
    const idx = names.find((n) => n.endsWith(".idx")) as string;
    const verbose = execFileSync("git", ["--git-dir", repo.refs.gitdir, "verify-pack", "-v", path.join(packDir, idx)], { encoding: "utf8" });
    expect(verbose).toContain(`${oids[0]} blob`);
    expect(verbose).toMatch(/non delta: 1[0-9]{2} objects/);
    const fresh = await Repository.open({ dir: repo.root });
    for (const [i, oid] of oids.entries()) expect(Buffer.from(await fresh.git.readBlob(oid as never)).equals(blobs[i] as Buffer)).toBe(true);
    expect(await looseCount(repo.refs.gitdir)).toBe(0);
  });

  it("a spooled pack whose function throws leaves no file, and its objects are not readable", async () => {
    const { repo } = await Repository.init({ dir: await tempDir(), durability: "none" });
    const packDir = path.join(repo.refs.gitdir, "objects", "pack");
    const oids: string[] = [];
    const err = await repo.git
      .withPack(async (pack) => {
        for (let i = 0; i < (SPOOL_BYTES * 1.5) / 65_536; i++) oids.push(await pack.writeBlob(randomBytes(65_536)));
        expect((await fs.readdir(packDir)).filter((n) => n.includes(".tmp-"))).toHaveLength(1);
        throw new Error("failed");
      })
      .catch((e: Error) => e);
    expect(String(err)).toContain("failed");
    expect(await fs.readdir(packDir)).toEqual([]);
    for (const oid of [oids[0], oids.at(-1)]) expect(await repo.git.typeOf(oid as never)).toBeNull();
  });
});
