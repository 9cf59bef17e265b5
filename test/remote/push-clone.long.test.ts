/**
 * The user's path through the CLI: push a dataset to S3 (and to a folder),
 * clone it back byte for byte, push again (nothing moves), change 1% and push
 * (about 1% of the bytes move), pull the change into the clone.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTag, log, Repository } from "../../src/index.js";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, committedFixture, rewriteChunk, s3Setup, writeArray } from "./dataset.js";

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

/** writes of data and refs (not the announcement every push makes under locks/, see remote-writers.ts) */
const puts = () => s3.requests.filter((r) => (r.method === "PUT" || r.method === "POST") && !r.key.includes("/locks/"));
const oids = async (dir: string) => (await log(await Repository.open({ durability: "none", dir }), {})).map((e) => e.oid);

describe("push and clone", () => {
  it("round-trips a repository through S3 byte for byte, history and tags included", async () => {
    const src = await committedFixture("v3");
    await createTag(await Repository.open({ durability: "none", dir: src }), { name: "v1" });
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/roundtrip`], { env });
    const pushed = await tdvJson<PushJson>(src, ["push", "--json", "origin", "main", "v1"], { env });
    expect(pushed.refs.map((r) => `${r.ref} ${r.status}`)).toEqual(["refs/heads/main created", "refs/tags/v1 created"]);

    const parent = await tempDir();
    const c = await tdvOk(parent, ["clone", `s3://${s3.bucket}/roundtrip`, "copy"], { env });
    expect(c.stdout).toMatch(/checked out 'main'/);
    const dst = path.join(parent, "copy");
    expect(await listFiles(dst)).toEqual(await listFiles(src));
    expect(await oids(dst)).toEqual(await oids(src));
    const repo = await Repository.open({ durability: "none", dir: dst });
    expect(await repo.refs.read("refs/tags/v1")).toBe(await (await Repository.open({ durability: "none", dir: src })).refs.read("refs/tags/v1"));
    expect((await tdvOk(dst, ["remote", "-v"])).stdout).toBe(`origin\ts3://${s3.bucket}/roundtrip\n`);
  });

  it("pushes only what changed: nothing the second time, ~1% of the bytes after a 1% change; pull brings it over", async () => {
    const src = await tempDir();
    const arr = await writeArray(src, "data.zarr", { chunks: 100, chunkBytes: 20_000 });
    await commitAll(src);
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/incremental`], { env });
    const first = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(first.uploaded.chunks).toBe(100);
    expect(first.uploaded.bytes).toBeGreaterThanOrEqual(2_000_000);

    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", `s3://${s3.bucket}/incremental`, "copy"], { env });
    const dst = path.join(parent, "copy");

    s3.resetLog();
    const again = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(again.refs[0]!.status).toBe("up-to-date");
    expect(again.uploaded.objects).toBe(0);
    expect(puts()).toHaveLength(0);
    // what push reads: the remote's config and refs (and git/info/refs, to see it is current), never a listing of the bucket's objects (and its announcement, locks/push-*.json)
    expect(s3.requests.every((r) => r.key.endsWith("tdv.json") || r.key.includes("/git/refs/") || r.key.endsWith("/git/info/refs") || r.query.includes("prefix=incremental%2Fgit%2Frefs%2F") || r.key.includes("/locks/push-") || r.query.includes("prefix=incremental%2Flocks%2F"))).toBe(true);

    await rewriteChunk(arr, 42); // 1% of the chunks
    await commitAll(src, "fix one tile");
    s3.resetLog();
    const inc = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    expect(inc.refs[0]!.status).toBe("fast-forward");
    expect(inc.uploaded.chunks).toBe(1);
    expect(inc.skipped.objects).toBeGreaterThanOrEqual(99);
    expect(puts().filter((r) => r.key.includes("/chunks/"))).toHaveLength(1);
    const sent = puts().reduce((s, r) => s + r.bytesIn, 0);
    expect(sent).toBeGreaterThanOrEqual(20_000);
    expect(sent).toBeLessThan(0.015 * first.uploaded.bytes); // 1% of the bytes, plus a few small metadata objects

    const pulled = await tdvOk(dst, ["pull"], { env });
    expect(pulled.stdout).toMatch(/Fast-forward\n\(1 file written/);
    expect(await listFiles(dst)).toEqual(await listFiles(src));
    expect((await tdvOk(dst, ["pull"], { env })).stdout).toMatch(/Already up to date/);
  });

  it("round-trips through a folder remote, and clones read-only over http", async () => {
    const src = await committedFixture("v2/weather.zarr");
    const remoteDir = path.join(await tempDir(), "shared.tdv");
    await tdvOk(src, ["push", remoteDir, "main"]);
    const parent = await tempDir();
    await tdvOk(parent, ["clone", `file://${remoteDir}`]);
    expect(await listFiles(path.join(parent, "shared"))).toEqual(await listFiles(src));

    const { startStaticServer } = await import("../helpers/static-server.js");
    const web = await startStaticServer(path.dirname(remoteDir));
    try {
      await tdvOk(parent, ["clone", `${web.url}/shared.tdv`, "web"]);
      expect(await listFiles(path.join(parent, "web"))).toEqual(await listFiles(src));
      const r = await tdv(path.join(parent, "web"), ["push"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: .* is read-only/);
    } finally {
      await web.stop();
    }
  });
});
