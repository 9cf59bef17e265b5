/**
 * Changing a sparse set in a lazy clone of a file remote: `sparse add` widens
 * it (downloading only the new paths' chunks), a file with a local change that
 * would leave the set refuses the change, `sparse disable` checks out every file.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { addRemote, push } from "../../src/index.js";
import { commitAll, countChunkObjects, writeArray } from "./dataset.js";

let src: string;
let fileRemote: string;
let srcFiles: Map<string, Buffer>;

/** The source's files under `prefixes`, and those directly in the folders on the way (what the sparse set checks out). */
function expectedFiles(...prefixes: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [p, b] of srcFiles) {
    const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    if (prefixes.some((u) => p.startsWith(`${u}/`) || u === dir || u.startsWith(`${dir}/`) || dir === "")) out.set(p, b);
  }
  return out;
}

beforeAll(async () => {
  src = await tempDir();
  await fs.mkdir(path.join(src, "era5.zarr"));
  await fs.writeFile(path.join(src, "era5.zarr", "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group" }));
  await writeArray(src, "era5.zarr/t2m", { chunks: 6, chunkBytes: 500 });
  await writeArray(src, "era5.zarr/u10", { chunks: 6, chunkBytes: 500 });
  await writeArray(src, "masks.zarr", { chunks: 4, chunkBytes: 500 });
  await fs.writeFile(path.join(src, "README.md"), "reanalysis\n");
  const repo = await commitAll(src, "import");
  srcFiles = await listFiles(src);
  fileRemote = path.join(await tempDir(), "remote");
  await addRemote(repo, { name: "file", url: fileRemote });
  await push(repo, { remote: "file" });
});

describe("changing the sparse set of a lazy clone", () => {
  it("file remote: add widens, a local change refuses narrowing, disable checks out every file", async () => {
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", "--lazy", "--no-checkout", fileRemote, "era5"]);
    const dir = path.join(parent, "era5");
    await tdvOk(dir, ["sparse", "set", "masks.zarr"]);
    expect(await countChunkObjects(dir)).toBe(4);
    await tdvOk(dir, ["sparse", "add", "era5.zarr/u10"]);
    expect(await countChunkObjects(dir)).toBe(10);
    expect(await tdvJson(dir, ["sparse", "list", "--json"])).toEqual({ sparse: true, paths: ["era5.zarr/u10", "masks.zarr"] });
    expect(await listFiles(dir)).toEqual(expectedFiles("era5.zarr/u10", "masks.zarr"));
    // a changed file leaving the set: refused, nothing changed
    await fs.writeFile(path.join(dir, "masks.zarr", "c", "1"), "edited");
    const r = await tdv(dir, ["sparse", "set", "era5.zarr/u10"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("masks.zarr/c/1");
    expect(await tdvJson(dir, ["sparse", "list", "--json"])).toEqual({ sparse: true, paths: ["era5.zarr/u10", "masks.zarr"] });
    await fs.writeFile(path.join(dir, "masks.zarr", "c", "1"), srcFiles.get("masks.zarr/c/1")!);
    await tdvOk(dir, ["sparse", "set", "era5.zarr/u10"]);
    expect(await listFiles(dir)).toEqual(expectedFiles("era5.zarr/u10"));
    await tdvOk(dir, ["sparse", "disable"]);
    expect(await listFiles(dir)).toEqual(srcFiles);
    expect(await tdvJson(dir, ["sparse", "list", "--json"])).toEqual({ sparse: false, paths: [] });
  });
});
