/**
 * An S3-compatible server on 127.0.0.1 for tests and the benchmark: s3rver in
 * a child process, behind a small proxy in this process that adds what S3
 * has and s3rver lacks, and what the tests need to see and break:
 *
 * - conditional writes as S3 does them: PUT with `If-None-Match: *` fails
 *   with 412 when the key exists, PUT or DELETE with `If-Match: <etag>` with
 *   412 when the ETag differs (a DELETE of a missing key: 404), compared as
 *   the mode says (check and write are atomic per key; reads of a key wait
 *   for a write in progress, as S3 never shows a half-written object);
 * - unsigned requests are refused (403 AccessDenied), as a private bucket does;
 * - the ways real servers differ, chosen per server or per test with
 *   `mode(name)` (MODES; or the fields of `state` one by one):
 *   - `etagStyle`: ETags served quoted (as S3) or "unquoted";
 *   - `ifMatch`: how If-Match is compared: "exact" (verbatim, as served),
 *     "lenient" (quotes ignored on both sides: AWS, MinIO, moto), or
 *     "bare-only" (a quoted If-Match always fails with 412; a bare one is
 *     compared with the bare ETag: servers that refuse the quoted form), or
 *     "never" (every If-Match fails: broken conditional writes);
 *   - `raceStatus`: the answer to a condition that does not hold: 412 (S3),
 *     409 ConditionalRequestConflict, or 500 InternalError;
 *   - `ignoreConditions`: If-Match and If-None-Match are dropped (a server
 *     without conditional writes);
 *   - `beforeConditionalPut(key)`: awaited before a conditional PUT is
 *     checked, so a test can make another writer win a race there;
 * - `maxKeys` caps ListObjectsV2 pages (to exercise continuation tokens);
 * - faults: answer N requests matching a method/key with a status (500, 503
 *   SlowDown) or drop the connection, then behave;
 * - a log of every request (method, key, status, bytes in and out, If-Match).
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

/** Server behaviours, each as real S3 implementations show it (see the header). "verbatim-quoted" is the default. */
export const MODES = {
  "verbatim-quoted": { etagStyle: "quoted", ifMatch: "exact", raceStatus: 412, ignoreConditions: false },
  lenient: { etagStyle: "quoted", ifMatch: "lenient", raceStatus: 412, ignoreConditions: false },
  "quoted-refused": { etagStyle: "quoted", ifMatch: "bare-only", raceStatus: 412, ignoreConditions: false },
  "verbatim-unquoted": { etagStyle: "unquoted", ifMatch: "exact", raceStatus: 412, ignoreConditions: false },
  "race-409": { etagStyle: "quoted", ifMatch: "lenient", raceStatus: 409, ignoreConditions: false },
  "race-500": { etagStyle: "quoted", ifMatch: "lenient", raceStatus: 500, ignoreConditions: false },
  "ignores-conditions": { etagStyle: "quoted", ifMatch: "exact", raceStatus: 412, ignoreConditions: true },
};

export async function startS3Server({ buckets = ["tdv-test"], etagStyle = "quoted", maxKeys, dir, mode } = {}) {
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
    ifMatch: "exact",
    raceStatus: 412,
    ignoreConditions: false,
    ...(mode ? MODES[mode] : {}),
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
      req.end(body?.length ? body : undefined);
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
    const entry = { method, bucket, key, query: u.search, status: 0, bytesIn: body.length, bytesOut: 0, fault: false, ifMatch: req.headers["if-match"], ifNoneMatch: req.headers["if-none-match"] };
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
    // a test's hook: another writer acts just before this conditional write is checked
    if (method === "PUT" && (ifMatch !== undefined || ifNoneMatch !== undefined) && state.beforeConditionalPut) await state.beforeConditionalPut(key);
    // writes are serialized per folder, not per key: s3rver's file store removes a folder a DELETE left
    // empty, and a PUT into that folder at the same moment then fails on its own (ENOENT, which crashes
    // s3rver); S3 itself has no folders to race on
    const lockKey = `${bucket}/${key.includes("/") ? key.slice(0, key.lastIndexOf("/")) : ""}`;
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
      if ((method === "PUT" || (method === "DELETE" && key !== "" && !u.searchParams.has("uploadId"))) && (ifMatch !== undefined || ifNoneMatch !== undefined)) {
        delete headers["if-match"];
        delete headers["if-none-match"];
        const cur = await upstream("HEAD", u.pathname, { host: req.headers.host, authorization: req.headers.authorization, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": req.headers["x-amz-date"] }, null);
        const exists = cur.status === 200;
        const served = exists ? serveEtag(cur.headers.etag) : null;
        if (method === "DELETE" && !exists && ifMatch !== undefined && !state.ignoreConditions) {
          // S3: a conditional delete of a key that does not exist is 404 NoSuchKey
          entry.status = 404;
          return send(res, 404, { "content-type": "application/xml" }, xmlError("NoSuchKey", "The specified key does not exist."));
        }
        const fails = !state.ignoreConditions && ((ifNoneMatch === "*" && exists) || (ifMatch !== undefined && ifMatch !== "*" && !ifMatchHolds(ifMatch, served)) || (ifMatch === "*" && !exists));
        if (fails) {
          entry.status = state.raceStatus;
          const [code, message] =
            state.raceStatus === 409
              ? ["ConditionalRequestConflict", "A conflicting operation occurred. If using PutObject you can retry the request."]
              : state.raceStatus === 412
                ? ["PreconditionFailed", "At least one of the pre-conditions you specified did not hold"]
                : ["InternalError", "We encountered an internal error. Please try again."];
          return send(res, state.raceStatus, { "content-type": "application/xml" }, xmlError(code, message));
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

  /** whether an If-Match value names the ETag the server serves, compared as `state.ifMatch` says */
  function ifMatchHolds(sent, served) {
    if (served === null) return false;
    const bare = (e) => String(e).trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
    if (state.ifMatch === "lenient") return bare(sent) === bare(served);
    if (state.ifMatch === "never") return false;
    if (state.ifMatch === "bare-only") return !/^\s*"/.test(sent) && bare(sent) === bare(served);
    return sent === served;
  }

  function serveEtag(raw) {
    if (!raw) return raw;
    const bare = String(raw).replace(/^W\//, "").replace(/^"|"$/g, "");
    return state.etagStyle === "unquoted" ? bare : `"${bare}"`;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      try {
        send(res, 500, { "content-type": "text/plain" }, String(err?.stack));
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
    /** behave as MODES[name] from now on */
    mode(name) {
      if (!MODES[name]) throw new Error(`no such S3 server mode: ${name}`);
      Object.assign(state, MODES[name]);
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
