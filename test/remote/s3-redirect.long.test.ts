/**
 * The S3 backend never follows a redirect. A server that does redirect is
 * named for what it said, at once, with the one request that was sent, not
 * mistaken for a dropped connection and retried: a 307 with its Location, a
 * 301 PermanentRedirect (a bucket in another region) with the server's own
 * words.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTdvError, openBackend } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";

let server: http.Server;
let endpoint: string;
let home: string;
/** every request seen: method, path, body length */
const seen: { method: string; path: string; bytes: number }[] = [];
/** objects stored by PUT, by path */
const stored = new Map<string, Buffer>();

beforeAll(async () => {
  home = await tempDir();
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const p = req.url ?? "";
      seen.push({ method: req.method ?? "", path: p, bytes: body.byteLength });
      if (p.startsWith("/b/moved/")) {
        res.writeHead(307, { location: `/b/real/${p.slice("/b/moved/".length)}` });
        return res.end();
      }
      if (p.startsWith("/b/elsewhere/")) {
        res.writeHead(301, { "content-type": "application/xml" });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`,
        );
      }
      if (req.method === "PUT") {
        stored.set(p, body);
        res.writeHead(200, { etag: '"e1"' });
        return res.end();
      }
      const got = stored.get(p);
      if (!got) {
        res.writeHead(404, { "content-type": "application/xml" });
        return res.end("<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>");
      }
      res.writeHead(200, { etag: '"e1"', "content-length": String(got.byteLength) });
      res.end(got);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

const env = () => ({ AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: "K", AWS_SECRET_ACCESS_KEY: "S", AWS_REGION: "us-east-1", HOME: home });

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure, but it succeeded");
}

describe("s3 backend and redirects", () => {
  it("names a 307 and where it points, from the one request sent", async () => {
    const b = await openBackend("s3://b/moved", { env: env(), retryBaseMs: 1, maxAttempts: 4 });
    const err = await failure(b.put("x/obj", new Uint8Array(200_000)));
    expect(isTdvError(err, "RemoteRequestError"), String(err)).toBe(true);
    expect(err.message).toMatch(/answered 307 Redirect: the server redirected the request to \/b\/real\/x\/obj \(S3 requests are not redirected: set AWS_REGION/);
    // sent once, as is; never to the Location, never again
    expect(seen.map((s) => `${s.method} ${s.path} ${s.bytes}`)).toEqual(["PUT /b/moved/x/obj 200000"]);
    expect(stored.size).toBe(0);
    seen.length = 0;
    expect((await failure(b.get("x/obj"))).message).toMatch(/answered 307/);
    expect(seen.length).toBe(1);
  });

  it("names a 301 PermanentRedirect as the server's answer, at once", async () => {
    seen.length = 0;
    const b = await openBackend("s3://b/elsewhere", { env: env(), retryBaseMs: 1, maxAttempts: 4 });
    const err = await failure(b.put("y", new Uint8Array([1, 2, 3])));
    expect(isTdvError(err, "RemoteRequestError"), String(err)).toBe(true);
    expect(err.message).toMatch(/301 PermanentRedirect: The bucket you are attempting to access/);
    expect(seen.length).toBe(1); // not retried as a lost connection
  });
});
