import { describe, expect, it } from "vitest";
import { Hierarchy, type FileKind } from "../../src/repo/hierarchy.js";

const array = (shape: number[], chunks: number[], sep: "/" | ".") =>
  Buffer.from(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
      chunk_key_encoding: { name: "default", configuration: { separator: sep } },
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      fill_value: 0,
    }),
  );

describe("Hierarchy.classifyEach", () => {
  it("gives every path the kind and array classify gives it, in order, whatever the paths", async () => {
    // arrays nested in groups and in each other, a plain folder, metadata that is no array
    const docs = new Map<string, Uint8Array>([
      ["zarr.json", Buffer.from(JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }))],
      ["a/zarr.json", array([8, 8], [2, 2], "/")],
      ["a/b/zarr.json", array([4], [1], ".")],
      ["g/zarr.json", Buffer.from(JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }))],
      ["g/x/zarr.json", array([6, 6, 6], [3, 3, 3], "/")],
    ]);
    const names = [
      "zarr.json", "a/zarr.json", "a/c/0/0", "a/c/3/3", "a/c/4/0", "a/c/0", "a/notes.txt", "a/b/zarr.json", "a/b/c.1", "a/b/c.9",
      "a/b/c/1", "g/zarr.json", "g/x/zarr.json", "g/x/c/1/1/1", "g/x/c/1/1", "g/x/.zattrs", "plain/f", "plain/deep/er/f", "top",
    ];
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 30; round++) {
      const h = new Hierarchy(async (rel) => docs.get(rel) ?? null, true);
      const model = new Hierarchy(async (rel) => docs.get(rel) ?? null, true);
      // any mix: repeats, sorted runs or not, more than a block (1,024) of paths at times
      const n = rand(2) === 0 ? rand(40) : 1500 + rand(1000);
      const paths = Array.from({ length: n }, () => names[rand(names.length)] as string);
      if (rand(2) === 0) paths.sort();
      const got: [number, FileKind, string | null][] = [];
      // an array, or any iterable (an index's keys: taken a block at a time), each path given with its kind
      const given = rand(2) === 0 ? paths : (function* () {
        yield* paths;
      })();
      await h.classifyEach(given, (i, kind, node, rel) => {
        expect(rel).toBe(paths[i]);
        got.push([i, kind, node?.dir ?? null]);
        return rand(4) === 0 ? Promise.resolve() : undefined; // a callback that waits now and then
      });
      const want = await Promise.all(paths.map(async (p, i) => [i, await model.classify(p), (await model.arrayOf(p))?.dir ?? null]));
      expect(got).toEqual(want);
    }
  });

  it("fails as classify fails on metadata it must refuse", async () => {
    const h = new Hierarchy(async (rel) => (rel === "bad/zarr.json" ? Buffer.from(JSON.stringify({ zarr_format: 3, node_type: "array" })) : null), true);
    await expect(h.classifyEach(["ok/f", "bad/c/0"], () => {})).rejects.toThrow(/bad\/zarr.json/);
    await expect(new Hierarchy(async (rel) => (rel === "bad/zarr.json" ? Buffer.from(JSON.stringify({ zarr_format: 3, node_type: "array" })) : null), true).classify("bad/c/0")).rejects.toThrow(/bad\/zarr.json/);
  });
});
