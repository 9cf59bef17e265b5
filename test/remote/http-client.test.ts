/**
 * The HTTP client S3 and HTTP remotes send their requests with (Node's
 * http.request): bodies sent as they are with their length, answers read
 * whole or in pieces, the deadline of a request that hangs before or while
 * its answer arrives, refused connections named, and kept-alive connections
 * used again.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTdvError, openBackend } from "../../src/index.js";
import { readAll, readPieces, sendRequest } from "../../src/remote/http-client.js";
import { describeFetchError } from "../../src/remote/retry.js";
import { tempDir } from "../helpers/fixture.js";

let server: http.Server;
let base: string;
/** per request: method, url, the headers that matter, body length, the client's port (its connection) */
const seen: { method: string; url: string; length: string | undefined; chunked: boolean; bytes: number; port: number }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method ?? "", url: req.url ?? "", length: req.headers["content-length"], chunked: req.headers["transfer-encoding"] === "chunked", bytes: body.byteLength, port: req.socket.remotePort ?? 0 });
      if (req.url?.startsWith("/hang")) return; // never answers
      if (req.url === "/slow") {
        setTimeout(() => {
          res.writeHead(200, { "content-length": "4" });
          res.end("late");
        }, 4_500);
        return;
      }
      if (req.url === "/stall") {
        res.writeHead(200, { "content-length": "1000" });
        res.write(Buffer.alloc(10)); // the rest never comes
        return;
      }
      if (req.url === "/big") {
        res.writeHead(200, { "x-two": ["a", "b"], ETag: '"e"' });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(16 * 1024, i));
        return res.end();
      }
      // with its length, as S3 answers (a HEAD's too: without one, Node's server closes the connection after it)
      res.writeHead(200, { etag: `"${body.byteLength}"`, "content-length": String(body.byteLength) });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("the HTTP client", () => {
  it("sends a body as it is with its length, never chunked, and an empty PUT with length 0", async () => {
    seen.length = 0;
    const body = new Uint8Array(300_000).map((_, i) => i % 251);
    const res = await sendRequest(new URL(`${base}/put`), { method: "PUT", body }, 10_000);
    expect(res.ok).toBe(true);
    expect(Buffer.from(await readAll(res)).equals(Buffer.from(body))).toBe(true);
    await readAll(await sendRequest(new URL(`${base}/empty`), { method: "PUT" }, 10_000));
    expect(seen.map((s) => [s.method, s.length, s.chunked, s.bytes])).toEqual([
      ["PUT", "300000", false, 300_000],
      ["PUT", "0", false, 0],
    ]);
  });

  it("reads an answer in the pieces it arrived in, headers by any case, repeated ones joined", async () => {
    const res = await sendRequest(new URL(`${base}/big`), { method: "GET" }, 10_000);
    expect(res.headers.get("X-Two")).toBe("a, b");
    expect(res.headers.get("etag")).toBe('"e"');
    expect(res.headers.get("absent")).toBeNull();
    const pieces = await readPieces(res);
    expect(pieces.reduce((n, p) => n + p.byteLength, 0)).toBe(64 * 16 * 1024);
    expect(Buffer.concat(pieces).subarray(16 * 1024 * 5, 16 * 1024 * 5 + 3)).toEqual(Buffer.from([5, 5, 5]));
  });

  it("uses a kept-alive connection again once an answer was read (a HEAD's before it is given)", async () => {
    seen.length = 0;
    for (let i = 0; i < 3; i++) await sendRequest(new URL(`${base}/h${i}`), { method: "HEAD" }, 10_000);
    await readAll(await sendRequest(new URL(`${base}/g`), { method: "GET" }, 10_000));
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((s) => s.port)).size).toBe(1);
  });

  it("closes a connection idle for 4 s (before a server's usual 5), and keeps one waiting on a slow answer past that", async () => {
    seen.length = 0;
    const idle = async () => {
      await readAll(await sendRequest(new URL(`${base}/a`), { method: "GET" }, 10_000));
      await new Promise((r) => setTimeout(r, 4_500));
      await readAll(await sendRequest(new URL(`${base}/b`), { method: "GET" }, 10_000));
    };
    const slow = async () => {
      const t = Date.now();
      const res = await sendRequest(new URL(`${base}/slow`), { method: "GET" }, 10_000);
      expect(Buffer.from(await readAll(res)).toString()).toBe("late");
      expect(Date.now() - t).toBeGreaterThanOrEqual(4_400);
    };
    await Promise.all([idle(), slow()]);
    const port = (url: string) => seen.find((q) => q.url === url)?.port;
    expect(port("/a")).not.toBe(port("/b")); // /a's connection was closed while idle: /b opened another
  });

  it("gives up on a request past its deadline, before the answer and while its body arrives", async () => {
    const t = Date.now();
    const err = await sendRequest(new URL(`${base}/hang`), { method: "GET" }, 300).catch((e: unknown) => e);
    expect((err as Error).name).toBe("TimeoutError");
    expect(describeFetchError(err)).toBe("the request timed out");
    const res = await sendRequest(new URL(`${base}/stall`), { method: "GET" }, 300);
    const mid = await readAll(res).catch((e: unknown) => e);
    expect((mid as Error).name).toBe("TimeoutError");
    expect(Date.now() - t).toBeLessThan(5_000);
  });

  it("names a refused connection by its code", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await sendRequest(new URL(`http://127.0.0.1:${port}/x`), { method: "GET" }, 5_000).catch((e: unknown) => e);
    expect(describeFetchError(err)).toMatch(/^ECONNREFUSED \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
  });

  it("an S3 remote whose server hangs: the deadline, retried, then unreachable, naming the timeout", async () => {
    // bucket "hang": every request goes to /hang/…, which this server never answers
    const env = { AWS_ENDPOINT_URL: base, AWS_ACCESS_KEY_ID: "K", AWS_SECRET_ACCESS_KEY: "S", AWS_REGION: "us-east-1", HOME: await tempDir(), TDV_REMOTE_TIMEOUT_MS: "200" };
    const b = await openBackend("s3://hang", { env, retryBaseMs: 1, maxAttempts: 2 });
    seen.length = 0;
    const err = await b.get("obj").catch((e: unknown) => e);
    expect(isTdvError(err, "RemoteUnreachableError"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/after 2 attempts: the request timed out/);
    expect(seen.map((s) => s.url)).toEqual(["/hang/obj", "/hang/obj"]);
  });
});
