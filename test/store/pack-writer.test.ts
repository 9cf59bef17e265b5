/**
 * GitStore.withPack hands the function it runs an explicit pack: writes given
 * to it are written together when the function returns; writes not given to
 * it are written at once, loose, as outside (nothing is collected implicitly).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Repository } from "../../src/repo/repository.js";
import { PACK_MIN } from "../../src/store/git.js";
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
});
