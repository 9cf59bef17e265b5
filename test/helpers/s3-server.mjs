/**
 * An S3-compatible server on 127.0.0.1 for tests and the benchmark: s3rver in
 * a child process, behind a small proxy in this process that adds what S3
 * has and s3rver lacks, and what the tests need to see and break:
 *
 * - conditional writes as S3 does them: PUT with `If-None-Match: *` fails
 *   with 412 when the key exists, `If-Match: <etag>` with 412 when the ETag
 *   differs (check and write are atomic per key; reads of a key wait for a
 *   write in progress, as S3 never shows a half-written object);
 * - unsigned requests are refused (403 AccessDenied), as a private bucket does;
 * - `etagStyle: "unquoted"` serves ETags without quotes and compares If-Match
 *   exactly as served (a server that wants its ETag back verbatim);
 * - `maxKeys` caps ListObjectsV2 pages (to exercise continuation tokens);
 * - faults: answer N requests matching a method/key with a status (500, 503
 *   SlowDown) or drop the connection, then behave;
 * - a log of every request (method, key, status, bytes in and out).
 *
 *   const s3 = await startS3Server();
 *   process.env = { ...process.env, ...s3.env() };  // AWS_ENDPOINT_URL, keys, region
 *   ...
 *   await s3.stop();
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./s3rver-child.cjs", import.meta.url));

function xmlError(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

async function readAll(stream) {
  const parts = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

export async function startS3Server({ buckets = ["tdv-test"], etagStyle = "quoted", maxKeys, dir } = {}) {
  const dataDir = dir ?? mkdtempSync(path.join(os.tmpdir(), "tdv-s3rver-"));
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ""} --openssl-legacy-provider`.trim();
  const child = spawn(process.execPath, [CHILD, dataDir, JSON.stringify(buckets)], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const upstreamPort = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)).port);
    });
    child.on("exit", (code) => reject(new Error(`s3rver exited with ${code} before it was ready`)));
    child.on("error", reject);
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const state = {
    etagStyle,
    maxKeys,
    requireAuth: true,
    faults: [],
    requests: [],
  };
  const writeLocks = new Map(); // "bucket/key" -> promise of the write in progress

  function upstream(method, url, headers, body) {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: upstreamPort, method, path: url, headers, agent }, async (res) => {
        try {
          resolve({ status: res.statusCode, headers: res.headers, body: await readAll(res) });
        } catch (e) {
          reject(e);
        }
      });
      req.on("error", reject);
      req.end(body && body.length ? body : undefined);
    });
  }

  function send(res, status, headers, body) {
    res.writeHead(status, headers);
    res.end(body);
  }

  async function handle(req, res) {
    const u = new URL(req.url, "http://x");
    const [, bucket = "", ...rest] = u.pathname.split("/");
    const key = rest.length ? decodeURIComponent(rest.join("/")) : "";
    const method = req.method;
    const body = await readAll(req);
    const entry = { method, bucket, key, query: u.search, status: 0, bytesIn: body.length, bytesOut: 0, fault: false };
    state.requests.push(entry);

    const fault = state.faults.find(
      (f) => f.times > 0 && (!f.method || f.method === method) && (!f.match || f.match.test(key)),
    );
    if (fault) {
      fault.times--;
      entry.fault = true;
      if (fault.kind === "reset") {
        entry.status = -1;
        req.socket.destroy();
        return;
      }
      entry.status = fault.status ?? 500;
      const xml = xmlError(fault.code ?? "InternalError", "injected fault");
      return send(res, entry.status, { "content-type": "application/xml" }, method === "HEAD" ? undefined : xml);
    }
    if (state.requireAuth && !req.headers.authorization) {
      entry.status = 403;
      return send(res, 403, { "content-type": "application/xml" }, method === "HEAD" ? undefined : xmlError("AccessDenied", "Access Denied"));
    }

    const headers = { ...req.headers };
    const ifMatch = headers["if-match"];
    const ifNoneMatch = headers["if-none-match"];
    const lockKey = `${bucket}/${key}`;
    const isWrite = (method === "PUT" || method === "DELETE" || method === "POST") && key !== "";
    let path2 = u.pathname + u.search;
    if (method === "GET" && u.searchParams.get("list-type") === "2" && state.maxKeys) {
      const asked = Number(u.searchParams.get("max-keys") ?? 1000);
      u.searchParams.set("max-keys", String(Math.min(asked, state.maxKeys)));
      path2 = u.pathname + u.search;
    }

    let release = () => {};
    if (isWrite) {
      const prev = writeLocks.get(lockKey) ?? Promise.resolve();
      let done;
      const mine = new Promise((r) => (done = r));
      const chained = prev.then(() => mine);
      writeLocks.set(lockKey, chained);
      await prev;
      release = () => {
        done();
        if (writeLocks.get(lockKey) === chained) writeLocks.delete(lockKey);
      };
    } else if (key) {
      await writeLocks.get(lockKey);
    }
    try {
      if (method === "PUT" && (ifMatch !== undefined || ifNoneMatch !== undefined)) {
        delete headers["if-match"];
        delete headers["if-none-match"];
        const cur = await upstream("HEAD", u.pathname, { host: req.headers.host, authorization: req.headers.authorization, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": req.headers["x-amz-date"] }, null);
        const exists = cur.status === 200;
        const served = exists ? serveEtag(cur.headers.etag) : null;
        const fails = (ifNoneMatch === "*" && exists) || (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== served) || (ifMatch === "*" && !exists);
        if (fails) {
          entry.status = 412;
          return send(res, 412, { "content-type": "application/xml" }, xmlError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
        }
      }
      const r = await upstream(method, path2, headers, body);
      const out = { ...r.headers };
      if (out.etag) out.etag = serveEtag(out.etag);
      delete out["transfer-encoding"];
      delete out.connection;
      delete out["keep-alive"];
      let resBody = r.body;
      if (state.etagStyle === "unquoted" && resBody.length && /xml/.test(out["content-type"] ?? "")) {
        resBody = Buffer.from(resBody.toString("utf8").replace(/<ETag>(?:&quot;|")(.*?)(?:&quot;|")<\/ETag>/g, "<ETag>$1</ETag>"));
      }
      out["content-length"] = String(method === "HEAD" ? (r.headers["content-length"] ?? 0) : resBody.length);
      entry.status = r.status;
      entry.bytesOut = method === "HEAD" ? 0 : resBody.length;
      send(res, r.status, out, method === "HEAD" ? undefined : resBody);
    } finally {
      release();
    }
  }

  function serveEtag(raw) {
    if (!raw) return raw;
    const bare = String(raw).replace(/^W\//, "").replace(/^"|"$/g, "");
    return state.etagStyle === "unquoted" ? bare : `"${bare}"`;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      try {
        send(res, 500, { "content-type": "text/plain" }, String(err && err.stack));
      } catch {
        /* the connection is gone */
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    dataDir,
    bucket: buckets[0],
    state,
    get requests() {
      return state.requests;
    },
    /** forget the request log */
    resetLog() {
      state.requests.length = 0;
    },
    /** answer the next `times` requests matching with `status` (or drop them: kind "reset") */
    fault({ method, match, status = 500, code, times = 1, kind = "status" }) {
      const f = { method, match, status, code, times, kind };
      state.faults.push(f);
      return f;
    },
    clearFaults() {
      state.faults.length = 0;
    },
    /** where s3rver keeps the bytes of an object (to damage them) */
    objectPath(key, bucket = buckets[0]) {
      const parts = key.split("/");
      const last = parts.pop();
      return path.join(dataDir, bucket, ...parts, `${last}._S3rver_object`);
    },
    /** AWS_* variables that point a client at this server */
    env(extra = {}) {
      return {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_REGION: "us-east-1",
        ...extra,
      };
    },
    async stop() {
      await new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      });
      agent.destroy();
      child.stdin.end();
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      if (!dir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
