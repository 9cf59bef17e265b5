import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, Repository } from "../../src/index.js";
import { walkReachable } from "../../src/repo/walk.js";
import { listFiles, makeFixture } from "../helpers/fixture.js";

describe("walkReachable", () => {
  it("visits every commit, tree, blob and chunk once, and stops at known commits", async () => {
    const src = await makeFixture("v2/weather.zarr");
    const dir = path.dirname(src);
    const files = await listFiles(dir);
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    const c1 = await commit(repo, { message: "one" });
    await fsp.writeFile(path.join(src, "precip/0/0/0"), "new bytes");
    const c2 = await commit(repo, { message: "two", all: true });

    const chunks = new Map<string, number>();
    const git = new Map<string, string>();
    const counts = await walkReachable(repo, { roots: [c2.oid] }, {
      git: (oid, type) => void git.set(oid, type),
      chunk: (id, size) => {
        expect(chunks.has(id)).toBe(false);
        chunks.set(id, size);
      },
    });
    expect(counts.commits).toBe(2);
    // every distinct non-metadata file of the first commit plus the one new chunk
    const meta = /(^|\/)(\.zarray|\.zattrs|\.zgroup|\.zmetadata|README\.txt)$/;
    const distinct = new Set([...files].filter(([p]) => !meta.test(p)).map(([, b]) => b.toString("base64")));
    expect(chunks.size).toBe(distinct.size + 1);
    for (const id of chunks.keys()) expect(await repo.chunks.has(id as never)).toBe(true);
    expect([...git.values()].filter((t) => t === "commit").length).toBe(2);

    // a remote that has c1 needs only c2's new objects
    const needed: string[] = [];
    const inc = await walkReachable(repo, { roots: [c2.oid], haveCommits: new Set([c1.oid]) }, { chunk: (id) => void needed.push(id) });
    expect(inc.commits).toBe(1);
    expect(needed.length).toBe(chunks.size - 1); // every chunk c2 names (the replaced one is only in c1)
  });
});
