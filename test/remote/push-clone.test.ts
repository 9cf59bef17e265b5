/**
 * The user's path through the CLI: push a dataset to S3 (and to a folder),
 * clone it back byte for byte, push again (nothing moves), change 1% and push
 * (about 1% of the bytes move), pull the change into the clone.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk, committed } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { rewriteChunk, s3Setup, writeArray } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => s3?.stop());

interface PushJson {
  refs: { ref: string; status: string }[];
  uploaded: { objects: number; bytes: number; chunks: number; gitObjects: number };
  skipped: { objects: number; bytes: number };
}

const puts = () => s3.requests.filter((r) => r.method === "PUT" || r.method === "POST");

describe("push and clone", () => {
  it("round-trips a repository through S3 byte for byte, history included", async () => {
    const src = await committed("v3");
    await tdvOk(src, ["tag", "v1"], { env });
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/roundtrip`], { env });
    const pushed = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(pushed.refs).toEqual([expect.objectContaining({ ref: "refs/heads/main", status: "created" })]);
    await tdvOk(src, ["push", "--tags"], { env });

    const parent = await tempDir();
    const c = await tdvOk(parent, ["clone", `s3://${s3.bucket}/roundtrip`, "copy"], { env });
    expect(c.stdout).toMatch(/checked out 'main'/);
    const dst = path.join(parent, "copy");
    expect(await listFiles(dst)).toEqual(await listFiles(src));
    const logSrc = await tdvJson<{ oid: string }[]>(src, ["log", "--json"]);
    const logDst = await tdvJson<{ oid: string }[]>(dst, ["log", "--json"]);
    expect(logDst.map((e) => e.oid)).toEqual(logSrc.map((e) => e.oid));
    expect((await tdvOk(dst, ["tag", "--list"])).stdout).toMatch(/v1/);
    expect((await tdvOk(dst, ["remote", "-v"])).stdout).toBe(`origin\ts3://${s3.bucket}/roundtrip\n`);
    expect((await tdvOk(dst, ["status", "--short"])).stdout).toBe("");
  });

  it("pushes only what changed: nothing the second time, ~1% after a 1% change; pull brings it over", async () => {
    const src = await tempDir();
    const arr = await writeArray(src, "data.zarr", { chunks: 200, chunkBytes: 10_000 });
    await tdvOk(src, ["init"], { env });
    await tdvOk(src, ["add", "-A"], { env });
    await tdvOk(src, ["commit", "-m", "import"], { env });
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/incremental`], { env });
    const first = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(first.uploaded.chunks).toBe(200);
    expect(first.uploaded.bytes).toBeGreaterThanOrEqual(2_000_000);

    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", `s3://${s3.bucket}/incremental`, "copy"], { env });
    const dst = path.join(parent, "copy");

    s3.resetLog();
    const again = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(again.refs[0]!.status).toBe("up-to-date");
    expect(again.uploaded.objects).toBe(0);
    expect(puts()).toHaveLength(0);
    expect(s3.requests.some((r) => r.key === "" && !r.query.includes("prefix=incremental%2Fgit%2Frefs"))).toBe(false); // never lists the bucket

    await rewriteChunk(arr, 17);
    await rewriteChunk(arr, 150);
    await tdvOk(src, ["commit", "-a", "-m", "fix two tiles"], { env });
    s3.resetLog();
    const inc = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(inc.refs[0]!.status).toBe("fast-forward");
    expect(inc.uploaded.chunks).toBe(2);
    expect(inc.skipped.objects).toBeGreaterThanOrEqual(198);
    const chunkPuts = puts().filter((r) => r.key.includes("/chunks/"));
    expect(chunkPuts).toHaveLength(2);
    const sent = puts().reduce((s, r) => s + r.bytesIn, 0);
    expect(sent).toBeLessThan(0.02 * first.uploaded.bytes); // 1% of the chunks, plus a few small metadata objects
    expect(sent).toBeGreaterThanOrEqual(20_000);

    const pulled = await tdvOk(dst, ["pull"], { env });
    expect(pulled.stdout).toMatch(/Fast-forward/);
    expect(pulled.stdout).toMatch(/2 files written/);
    expect(await listFiles(dst)).toEqual(await listFiles(src));
    expect((await tdvOk(dst, ["pull"], { env })).stdout).toMatch(/Already up to date/);
  });

  it("round-trips through a folder remote, and clones read-only over http", async () => {
    const src = await committed("v2/weather.zarr");
    const remoteDir = path.join(await tempDir(), "shared.tdv");
    await tdvOk(src, ["remote", "add", "origin", remoteDir]);
    await tdvOk(src, ["push"]);
    const parent = await tempDir();
    await tdvOk(parent, ["clone", `file://${remoteDir}`]);
    expect(await listFiles(path.join(parent, "shared"))).toEqual(await listFiles(src));

    const { startStaticServer } = await import("../helpers/static-server.js");
    const web = await startStaticServer(path.dirname(remoteDir));
    try {
      const url = `${web.url}/shared.tdv`;
      await tdvOk(parent, ["clone", url, "web"]);
      expect(await listFiles(path.join(parent, "web"))).toEqual(await listFiles(src));
      const r = await tdv(path.join(parent, "web"), ["push"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/read-only/);
    } finally {
      await web.stop();
    }
  });
});
