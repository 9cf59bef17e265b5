/**
 * A lazy clone holds all history but only the chunks it has read: a clone
 * checks out HEAD (fetching its chunks), an old revision fetches its own on
 * checkout, and `fetch --all-chunks` completes the clone.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { push } from "../../src/index.js";
import { commitAll, countChunkObjects, rewriteChunk, s3Setup, writeArray } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;
let src: string;
let firstFiles: Map<string, Buffer>;
const url = () => `s3://${s3.bucket}/lazy`;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
  src = await tempDir();
  const arr = await writeArray(src, "data.zarr", { chunks: 20, chunkBytes: 5_000 });
  await commitAll(src, "first");
  firstFiles = await listFiles(src);
  for (const i of [1, 5, 9, 13, 17]) await rewriteChunk(arr, i);
  const repo = await commitAll(src, "second");
  await push(repo, { remote: url(), backend: { env } });
});
afterAll(async () => s3?.stop());

describe("lazy clone", () => {
  it("fetches metadata only, then each chunk when a checkout needs it", async () => {
    const parent = await tempDir();
    const res = await tdvJson<{ fetch: { downloaded: { chunks: number }; lazy: boolean }; written: number }>(parent, ["clone", "--lazy", "--json", url(), "lazy"], { env });
    expect(res.fetch.downloaded.chunks).toBe(0);
    expect(res.fetch.lazy).toBe(true);
    const dir = path.join(parent, "lazy");
    expect(await countChunkObjects(dir)).toBe(20); // HEAD's chunks, read by the checkout; not the 5 older ones
    expect(await listFiles(dir)).toEqual(await listFiles(src));
    expect(JSON.parse(await fs.readFile(path.join(dir, ".tdv", "tdv.json"), "utf8")).lazy).toEqual({ remote: "origin" });

    s3.resetLog();
    await tdvOk(dir, ["checkout", "HEAD~1"], { env });
    expect(await listFiles(dir)).toEqual(firstFiles);
    expect(s3.requests.filter((r) => r.method === "GET" && r.key.includes("/chunks/"))).toHaveLength(5);
    expect(await countChunkObjects(dir)).toBe(25);
    // read again: nothing more comes from the remote
    s3.resetLog();
    await tdvOk(dir, ["switch", "main"], { env });
    expect(s3.requests).toHaveLength(0);
  });

  it("completes with fetch --all-chunks, and is then an ordinary clone", async () => {
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", "--lazy", url(), "lazy"], { env });
    const dir = path.join(parent, "lazy");
    const res = await tdvJson<{ downloaded: { chunks: number }; lazy: boolean }>(dir, ["fetch", "--all-chunks", "--json"], { env });
    expect(res.downloaded.chunks).toBe(5);
    expect(res.lazy).toBe(false);
    expect(await countChunkObjects(dir)).toBe(25);
    expect(JSON.parse(await fs.readFile(path.join(dir, ".tdv", "tdv.json"), "utf8")).lazy).toBeUndefined();
    // no remote needed any more
    await tdvOk(dir, ["checkout", "HEAD~1"], { env: { AWS_ENDPOINT_URL: "http://127.0.0.1:1", TDV_REMOTE_MAX_ATTEMPTS: "1" } });
    expect(await listFiles(dir)).toEqual(firstFiles);
  });
});
