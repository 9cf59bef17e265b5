/**
 * A static web server on 127.0.0.1 over a folder (GET and HEAD, 404 for
 * anything missing): the stand-in for a remote published over https.
 * `delayMs` holds each response that long (a slow link: a clone that takes a
 * moment, to interrupt).
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import path from "node:path";

export interface StaticServer {
  url: string;
  requests: { method: string; path: string; status: number }[];
  stop(): Promise<void>;
}

export async function startStaticServer(root: string, { delayMs = 0 }: { delayMs?: number } = {}): Promise<StaticServer> {
  const requests: StaticServer["requests"] = [];
  const server = http.createServer(async (req, res) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const p = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const entry = { method: req.method ?? "", path: p, status: 0 };
    requests.push(entry);
    const file = path.join(root, ...p.split("/").filter((s) => s && s !== ".."));
    if (req.method !== "GET" && req.method !== "HEAD") {
      entry.status = 405;
      res.writeHead(405).end();
      return;
    }
    try {
      const bytes = await fs.readFile(file);
      entry.status = 200;
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": bytes.length,
        etag: `"${createHash("md5").update(bytes).digest("hex")}"`,
      });
      res.end(req.method === "HEAD" ? undefined : bytes);
    } catch {
      entry.status = 404;
      res.writeHead(404, { "content-type": "text/plain" }).end(req.method === "HEAD" ? undefined : "not found");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
