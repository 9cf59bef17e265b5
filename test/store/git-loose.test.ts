/**
 * Loose Git objects read back byte for byte whatever their size (a small one
 * is read through a scratch buffer, a larger one in full), written by tdv or
 * by stock git, and refused when their bytes do not match their id.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CorruptObjectError } from "../../src/errors.js";
import type { GitOid } from "../../src/format/hash.js";
import { zlibObject } from "../../src/format/zlib-stored.js";
import { Repository } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";

// incompressible, so that a loose file's size follows its object's size
const noise = randomBytes(400_000);
const bytes = (n: number, seed: number) => Buffer.concat([Buffer.from([seed & 255]), noise]).subarray(0, n);

describe("loose objects", () => {
  it("read back exactly around the 64 kB scratch buffer and beyond it, from tdv and from stock git", async () => {
    const dir = await tempDir();
    const { repo } = await Repository.init({ dir });
    const gitdir = path.join(dir, ".tdv/git");
    // contents whose loose files are one byte below, at and above the scratch buffer's 65,536 bytes
    const fileSize = (n: number) => zlibObject(Buffer.concat([Buffer.from(`blob ${n}\0`), bytes(n, 0)])).length;
    const around = [65_535, 65_536, 65_537].map((f) => {
      let n = f - 200;
      while (fileSize(n) < f && n < f + 200) n++;
      return n;
    });
    const sizes = [0, 1, 1000, ...around, 131_072, 300_000];
    const written = new Map<GitOid, Buffer>();
    for (const [k, n] of sizes.entries()) written.set(await repo.git.writeBlob(bytes(n, k)), bytes(n, k));
    const fileSizes = [...written.keys()].map((oid) => readFileSync(path.join(gitdir, "objects", oid.slice(0, 2), oid.slice(2))).length);
    expect(fileSizes).toContain(65_536);
    expect(fileSizes).toContain(65_535);
    expect(fileSizes).toContain(65_537);
    // compressed by git itself
    const big = Buffer.concat([noise, Buffer.alloc(100_000)]);
    const src = path.join(dir, "big.bin");
    writeFileSync(src, big);
    const gitOid = execFileSync("git", ["--git-dir", gitdir, "hash-object", "-w", src], { encoding: "utf8" }).trim() as GitOid;
    written.set(gitOid, big);

    const fresh = await Repository.open({ dir });
    for (const [oid, want] of written) {
      expect(Buffer.from(await fresh.git.readBlob(oid)).equals(want), `blob of ${want.length} bytes`).toBe(true);
    }
  });

  it("refuses a loose object whose bytes do not match its id, small or large", async () => {
    const dir = await tempDir();
    const { repo } = await Repository.init({ dir });
    for (const n of [10, 200_000]) {
      const oid = await repo.git.writeBlob(bytes(n, 1));
      const file = path.join(dir, ".tdv/git/objects", oid.slice(0, 2), oid.slice(2));
      const forged = bytes(n, 2);
      chmodSync(file, 0o644);
      writeFileSync(file, zlibObject(Buffer.concat([Buffer.from(`blob ${n}\0`), forged])));
      const fresh = await Repository.open({ dir });
      await expect(fresh.git.readBlob(oid)).rejects.toThrow(CorruptObjectError);
    }
  });
});
