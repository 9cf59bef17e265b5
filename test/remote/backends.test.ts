/**
 * The ObjectBackend contract on each transport, against real servers on
 * 127.0.0.1: a folder, s3rver behind a proxy with S3's conditional writes
 * (quoted and unquoted ETags), and a static web server.
 */
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTdvError, openBackend, type ObjectBackend, type TdvErrorTag } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";
import { startS3Server, type S3TestServer } from "../helpers/s3-server.mjs";
import { startStaticServer, type StaticServer } from "../helpers/static-server.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

let s3: S3TestServer;
let s3u: S3TestServer;
let home: string;

beforeAll(async () => {
  [s3, s3u] = await Promise.all([startS3Server(), startS3Server({ etagStyle: "unquoted" })]);
  home = await tempDir();
});
afterAll(async () => {
  await Promise.all([s3?.stop(), s3u?.stop()]);
});

async function expectTag(p: Promise<unknown>, tag: TdvErrorTag): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isTdvError(err, tag), `expected ${tag}, got ${String(err)}`).toBe(true);
    return err as Error;
  }
  throw new Error(`expected ${tag}, but it succeeded`);
}

const kinds: [string, () => Promise<ObjectBackend>][] = [
  ["file", async () => openBackend(await tempDir())],
  ["s3 (quoted ETags)", async () => openBackend(`s3://${s3.bucket}/contract-${Math.random().toString(36).slice(2)}`, { env: { ...s3.env(), HOME: home } })],
  ["s3 (unquoted ETags, If-Match compared verbatim)", async () => openBackend(`s3://${s3u.bucket}/contract-${Math.random().toString(36).slice(2)}`, { env: { ...s3u.env(), HOME: home } })],
];

describe.each(kinds)("%s backend", (_name, open) => {
  it("writes, reads, heads and lists whole objects", async () => {
    const b = await open();
    expect(await b.get("chunks/ab/missing")).toBeNull();
    expect(await b.head("chunks/ab/missing")).toBeNull();
    const { etag } = await b.put("chunks/ab/cdef", enc("hello"));
    const got = await b.get("chunks/ab/cdef");
    expect(dec(got!.bytes)).toBe("hello");
    expect(got!.etag).toBe(etag);
    expect(await b.head("chunks/ab/cdef")).toEqual({ etag, size: 5 });
    await b.put("chunks/cd/0123", enc("x"));
    await b.put("git/refs/heads/main", enc("y"));
    const keys: string[] = [];
    for await (const k of b.list("chunks/")) keys.push(k);
    expect(keys.sort()).toEqual(["chunks/ab/cdef", "chunks/cd/0123"]);
  });

  it("lists with sizes and the store's times, and deletes (gone is no error)", async () => {
    const b = await open();
    const before = Date.now();
    await b.put("chunks/ab/cdef", enc("hello"));
    await b.put("chunks/cd/0123", enc("x"));
    const listed = [];
    for await (const o of b.listObjects("chunks/")) listed.push(o);
    listed.sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(listed.map((o) => [o.key, o.size])).toEqual([
      ["chunks/ab/cdef", 5],
      ["chunks/cd/0123", 1],
    ]);
    // the store's clock: this machine's, give or take a server's second resolution
    for (const o of listed) expect(Math.abs(o.lastModified.getTime() - before)).toBeLessThan(60_000);
    await b.delete("chunks/ab/cdef");
    await b.delete("chunks/ab/cdef");
    expect(await b.get("chunks/ab/cdef")).toBeNull();
    const keys: string[] = [];
    for await (const k of b.list("chunks/")) keys.push(k);
    expect(keys).toEqual(["chunks/cd/0123"]);
  });

  it("creates with If-None-Match: * and moves with If-Match, refusing stale versions", async () => {
    const b = await open();
    const first = await b.put("git/refs/heads/main", enc("one"), { ifNoneMatch: "*" });
    await expectTag(b.put("git/refs/heads/main", enc("two"), { ifNoneMatch: "*" }), "PreconditionFailedError");
    const second = await b.put("git/refs/heads/main", enc("two"), { ifMatch: first.etag });
    await expectTag(b.put("git/refs/heads/main", enc("three"), { ifMatch: first.etag }), "PreconditionFailedError");
    expect(dec((await b.get("git/refs/heads/main"))!.bytes)).toBe("two");
    const read = await b.get("git/refs/heads/main");
    await b.put("git/refs/heads/main", enc("three"), { ifMatch: read!.etag });
    expect(second.etag).not.toBe(first.etag);
    expect(dec((await b.get("git/refs/heads/main"))!.bytes)).toBe("three");
  });
});

describe("s3 backend", () => {
  const env = () => ({ ...s3.env(), HOME: home });

  it("serves ETags quoted or not, as the server does", async () => {
    const q = await openBackend(`s3://${s3.bucket}/etag`, { env: env() });
    const u = await openBackend(`s3://${s3u.bucket}/etag`, { env: { ...s3u.env(), HOME: home } });
    expect((await q.put("k", enc("a"))).etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await u.put("k", enc("a"))).etag).toMatch(/^[0-9a-f]{32}$/);
  });

  it("moves an object on a server that refuses quoted If-Match: one 412, then the bare form, kept for the server", async () => {
    const b = await openBackend(`s3://${s3.bucket}/etag-form`, { env: env() });
    const { etag } = await b.put("git/refs/heads/main", enc("one"), { ifNoneMatch: "*" });
    expect(etag).toMatch(/^"/);
    s3.mode("quoted-refused");
    try {
      s3.resetLog();
      const second = await b.put("git/refs/heads/main", enc("two"), { ifMatch: etag });
      await b.put("git/refs/heads/main", enc("three"), { ifMatch: second.etag });
      await expectTag(b.put("git/refs/heads/main", enc("four"), { ifMatch: second.etag }), "PreconditionFailedError");
      expect(s3.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PUT 412", "HEAD 200", "PUT 200", "PUT 200", "PUT 412", "HEAD 200"]);
      expect(dec((await b.get("git/refs/heads/main"))!.bytes)).toBe("three");
    } finally {
      s3.mode("verbatim-quoted");
    }
  });

  it("follows ListObjectsV2 continuation tokens", async () => {
    const b = await openBackend(`s3://${s3.bucket}/paged`, { env: env(), pageSize: 4 });
    for (let i = 0; i < 11; i++) await b.put(`chunks/0${i % 3}/${String(i).padStart(4, "0")}`, enc(String(i)));
    s3.resetLog();
    const keys: string[] = [];
    for await (const k of b.list("chunks/")) keys.push(k);
    expect(keys).toHaveLength(11);
    expect(new Set(keys).size).toBe(11);
    expect(s3.requests.filter((r) => r.query.includes("list-type=2")).length).toBe(3);
  });

  it("uploads a large object in parts", async () => {
    const b = await openBackend(`s3://${s3.bucket}/multipart`, { env: env(), partSize: 64 * 1024 });
    const bytes = new Uint8Array(200 * 1024).map((_, i) => (i * 7) % 251);
    s3.resetLog();
    await b.put("chunks/aa/big", bytes);
    const parts = s3.requests.filter((r) => r.method === "PUT" && r.query.includes("partNumber"));
    expect(parts).toHaveLength(4);
    expect(s3.requests.some((r) => r.method === "POST" && r.query.includes("uploads"))).toBe(true);
    expect(Buffer.compare(Buffer.from((await b.get("chunks/aa/big"))!.bytes), Buffer.from(bytes))).toBe(0);
  });

  it("retries 500, 503 SlowDown and dropped connections, then succeeds", async () => {
    const b = await openBackend(`s3://${s3.bucket}/retry`, { env: env(), retryBaseMs: 2 });
    s3.resetLog();
    s3.fault({ method: "PUT", match: /retry\/a$/, status: 500, times: 2 });
    await b.put("a", enc("a"));
    s3.fault({ method: "GET", match: /retry\/a$/, status: 503, code: "SlowDown", times: 1 });
    s3.fault({ method: "GET", match: /retry\/a$/, kind: "reset", times: 1 });
    expect(dec((await b.get("a"))!.bytes)).toBe("a");
    const forA = s3.requests.filter((r) => r.key.endsWith("retry/a"));
    expect(forA.map((r) => `${r.method} ${r.status}`)).toEqual(["PUT 500", "PUT 500", "PUT 200", "GET 503", "GET -1", "GET 200"]);
  });

  it("reads a body in the pieces it arrived in (getParts): the same bytes, null when absent, retried as get is", async () => {
    const b = await openBackend(`s3://${s3.bucket}/parts`, { env: env(), retryBaseMs: 2 });
    const bytes = new Uint8Array(1_000_000).map((_, i) => (i * 13) % 253);
    await b.put("chunks/ab/one", bytes);
    const whole = await b.get("chunks/ab/one");
    s3.fault({ method: "GET", match: /parts\/chunks\/ab\/one$/, kind: "reset", times: 1 });
    const got = await b.getParts!("chunks/ab/one");
    expect(got!.parts.length).toBeGreaterThan(1); // a megabyte arrives in several pieces
    expect(got!.bytes).toBe(bytes.byteLength);
    expect(Buffer.compare(Buffer.concat(got!.parts), Buffer.from(bytes))).toBe(0);
    expect(got!.etag).toBe(whole!.etag);
    expect(await b.getParts!("chunks/ab/none")).toBeNull();
  });

  it("names the cause: keeps failing, network down, no credentials, access denied, no bucket", async () => {
    s3.fault({ method: "GET", match: /down\/x$/, status: 500, times: 100 });
    const failing = await openBackend(`s3://${s3.bucket}/down`, { env: env(), retryBaseMs: 1, maxAttempts: 3 });
    const e1 = await expectTag(failing.get("x"), "RemoteUnreachableError");
    expect(e1.message).toMatch(/after 3 attempts: 500 InternalError/);
    s3.clearFaults();

    const port = await closedPort();
    const down = await openBackend(`s3://${s3.bucket}/x`, { env: { ...env(), AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` }, retryBaseMs: 1, maxAttempts: 2 });
    expect((await expectTag(down.get("tdv.json"), "RemoteUnreachableError")).message).toMatch(/ECONNREFUSED/);

    const anon = await openBackend(`s3://${s3.bucket}/x`, { env: { AWS_ENDPOINT_URL: s3.endpoint, HOME: home } });
    expect((await expectTag(anon.get("tdv.json"), "NoCredentialsError")).message).toMatch(/no credentials/);

    const wrong = await openBackend(`s3://${s3.bucket}/x`, { env: { ...env(), AWS_ACCESS_KEY_ID: "WRONG" } });
    expect((await expectTag(wrong.get("tdv.json"), "AccessDeniedError")).message).toMatch(/InvalidAccessKeyId/);

    const nobucket = await openBackend("s3://no-such-bucket/x", { env: env() });
    expect((await expectTag(nobucket.get("tdv.json"), "BucketNotFoundError")).message).toMatch(/no-such-bucket/);
  });

  it("reads credentials from a profile in ~/.aws/credentials", async () => {
    const h = await tempDir();
    await fs.mkdir(path.join(h, ".aws"));
    await fs.writeFile(path.join(h, ".aws", "credentials"), "[default]\naws_access_key_id = WRONG\naws_secret_access_key = x\n\n[team]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
    await fs.writeFile(path.join(h, ".aws", "config"), "[profile team]\nregion = eu-west-1\n");
    const b = await openBackend(`s3://${s3.bucket}/profile`, { env: { AWS_ENDPOINT_URL: s3.endpoint, HOME: h, AWS_PROFILE: "team" } });
    await b.put("k", enc("v"));
    expect(dec((await b.get("k"))!.bytes)).toBe("v");
  });
});

describe("http backend", () => {
  let web: StaticServer;
  let root: string;
  beforeAll(async () => {
    root = await tempDir();
    await fs.mkdir(path.join(root, "repo", "chunks", "ab"), { recursive: true });
    await fs.writeFile(path.join(root, "repo", "chunks", "ab", "cd"), "bytes");
    web = await startStaticServer(root);
  });
  afterAll(async () => web?.stop());

  it("reads objects, says null for 404, and refuses writes and listing", async () => {
    const b = await openBackend(`${web.url}/repo`);
    expect(b.writable).toBe(false);
    expect(dec((await b.get("chunks/ab/cd"))!.bytes)).toBe("bytes");
    expect((await b.head("chunks/ab/cd"))!.size).toBe(5);
    expect(await b.get("chunks/ab/none")).toBeNull();
    await expectTag(b.put("x", enc("y")), "ReadOnlyRemoteError");
    await expectTag((async () => {
      for await (const _ of b.list("chunks/")) void _;
    })(), "ReadOnlyRemoteError");
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
