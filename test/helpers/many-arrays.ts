/** A group of many small Zarr v3 arrays (what makes commands write packs), and a count of loose Git objects. */
import { promises as fsp } from "node:fs";
import path from "node:path";

/**
 * `dir/many.zarr`: a group of `n` uint8 arrays `a0…`, each with one chunk of
 * 8 bytes given by `chunk(i)` and `attributes` of its own (`attrs(i)`), so
 * every array has its own metadata blob.
 */
export async function writeManyArrays(
  dir: string,
  n: number,
  { chunk, attrs = (i) => ({ i }), shape = () => 8 }: { chunk: (i: number) => Buffer; attrs?: (i: number) => object; shape?: (i: number) => number },
): Promise<void> {
  const store = path.join(dir, "many.zarr");
  await fsp.mkdir(store, { recursive: true });
  await fsp.writeFile(path.join(store, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }));
  for (let i = 0; i < n; i++) {
    const a = path.join(store, `a${i}`);
    await fsp.mkdir(path.join(a, "c"), { recursive: true });
    const meta = {
      zarr_format: 3, node_type: "array", shape: [shape(i)], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [8] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, fill_value: 0, codecs: [{ name: "bytes" }], attributes: attrs(i),
    };
    await fsp.writeFile(path.join(a, "zarr.json"), JSON.stringify(meta));
    await fsp.writeFile(path.join(a, "c/0"), chunk(i));
  }
}

/** Loose Git objects in a Git directory. */
export async function looseCount(gitdir: string): Promise<number> {
  let n = 0;
  for (const fan of await fsp.readdir(path.join(gitdir, "objects"))) {
    if (/^[0-9a-f]{2}$/.test(fan)) n += (await fsp.readdir(path.join(gitdir, "objects", fan))).filter((f) => f.length === 38).length;
  }
  return n;
}
