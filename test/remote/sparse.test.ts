/**
 * Sparse checkout and clone --no-checkout: one array of a large dataset is
 * taken without the rest. In a lazy clone only its chunks are downloaded (the
 * S3 server's request log, and the objects a file remote's clone stores);
 * status and commit keep the arrays outside the set as HEAD has them.
 * (Widening, narrowing and disabling on a file remote: sparse.long.test.ts.)
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { push } from "../../src/index.js";
import { commitAll, s3Setup, writeArray } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;
let src: string;
let srcFiles: Map<string, Buffer>;
const s3url = () => `s3://${s3.bucket}/sparse`;

/** The source's files under `prefixes`, and those directly in the folders on the way (what the sparse set checks out). */
function expectedFiles(...prefixes: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [p, b] of srcFiles) {
    const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    if (prefixes.some((u) => p.startsWith(`${u}/`) || u === dir || u.startsWith(`${dir}/`) || dir === "")) out.set(p, b);
  }
  return out;
}

const chunkIdsUnder = (prefix: string) =>
  [...srcFiles].filter(([p]) => p.startsWith(`${prefix}/c/`)).map(([, b]) => createHash("sha256").update(b).digest("hex"));

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
  src = await tempDir();
  await fs.mkdir(path.join(src, "era5.zarr"));
  await fs.writeFile(path.join(src, "era5.zarr", "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group" }));
  await writeArray(src, "era5.zarr/t2m", { chunks: 6, chunkBytes: 500 });
  await writeArray(src, "era5.zarr/u10", { chunks: 6, chunkBytes: 500 });
  await writeArray(src, "masks.zarr", { chunks: 4, chunkBytes: 500 });
  await fs.writeFile(path.join(src, "README.md"), "reanalysis\n");
  const repo = await commitAll(src, "import");
  srcFiles = await listFiles(src);
  await push(repo, { remote: s3url(), backend: { env } });
});
afterAll(async () => s3?.stop());

describe("lazy clone --no-checkout, then a sparse set", () => {
  it("S3: only the chosen array's chunks are downloaded; status is clean and a commit keeps the other arrays", async () => {
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", "--lazy", "--no-checkout", s3url(), "era5"], { env });
    const dir = path.join(parent, "era5");
    expect(await listFiles(dir)).toEqual(new Map()); // nothing written
    s3.resetLog();
    await tdvOk(dir, ["sparse", "set", "era5.zarr/t2m"], { env });
    const gets = s3.requests.filter((r) => r.method === "GET" && r.key.includes("/chunks/")).map((r) => r.key.replace(/^.*\/chunks\//, "").replace("/", ""));
    expect(gets.sort()).toEqual(chunkIdsUnder("era5.zarr/t2m").sort());
    expect(await listFiles(dir)).toEqual(expectedFiles("era5.zarr/t2m"));
    // the arrays outside the set are neither deleted nor changed for status and commit
    expect(await tdvJson<{ clean: boolean }>(dir, ["status", "--json"], { env })).toMatchObject({ clean: true });
    await fs.writeFile(path.join(dir, "era5.zarr", "t2m", "c", "0"), Buffer.alloc(500, 7));
    await tdvOk(dir, ["commit", "-q", "-a", "-m", "fix t2m"], { env });
    const arrays = await tdvJson<{ path: string; chunks: number }[]>(dir, ["ls", "HEAD", "--json"], { env });
    expect(arrays.map((a) => [a.path, a.chunks])).toEqual([
      ["era5.zarr/t2m", 6],
      ["era5.zarr/u10", 6],
      ["masks.zarr", 4],
    ]);
    expect(s3.requests.filter((r) => r.method === "GET" && r.key.includes("/chunks/"))).toHaveLength(6); // still only t2m's
  });
});
