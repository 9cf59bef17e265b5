/**
 * `s3://bucket/prefix` on AWS S3 or any S3-compatible server (MinIO, Ceph,
 * R2, ...): requests signed with SigV4 (sigv4.ts), settings from the usual
 * AWS environment (aws-config.ts). A custom endpoint is addressed path-style
 * (`endpoint/bucket/key`), AWS itself virtual-hosted.
 *
 * - Conditional writes: `If-None-Match: *` and `If-Match: <etag>`; 412 is
 *   PreconditionFailedError. If-Match carries the ETag as the server served
 *   it, or in the other form (quoted ↔ bare) once the server showed it wants
 *   that (putConditional); a weak `W/` prefix is dropped.
 * - Retries with backoff on connection errors, 5xx, 429 and SlowDown.
 * - Objects above `partSize` (default 16 MiB) go up as a multipart upload.
 * - Listing is ListObjectsV2, following continuation tokens.
 * - Every upload carries the SHA-256 of its body (x-amz-content-sha256), so
 *   the server refuses bytes damaged on the way.
 * - Signing: SigV4 with aws4fetch's canonical request, by node:crypto
 *   (sigv4.ts). Requests go out on Node's HTTP client (http-client.ts);
 *   redirects are never followed: one is named with the server's answer.
 * - `getParts` leaves a body in the pieces it arrived in, for a download
 *   that hashes and writes them without joining them first.
 */
import { createHash } from "node:crypto";
import { awsSettings, type AwsSettings } from "./aws-config.js";
import type { BackendOptions, DeleteOptions, ListedObject, ObjectBackend, ObjectInfo, PutOptions } from "./backend.js";
import {
  AccessDeniedError,
  BucketNotFoundError,
  ConditionalWritesRefusedError,
  NoCredentialsError,
  PreconditionFailedError,
  RemoteRequestError,
  RemoteUnreachableError,
  UnsupportedUrlError,
} from "./errors.js";
import type { HttpAnswer, HttpInit } from "./http-client.js";
import { signS3 } from "./sigv4.js";
import { mapSettled } from "./transfer.js";
import {
  backoff,
  cleanEtag,
  etagForm,
  fetchOnce,
  isRetryableStatus,
  readBody,
  readParts,
  Retryable,
  retryPolicy,
  sameEtag,
  withRetry,
  writeEtag,
  type EtagForm,
  type RetryPolicy,
} from "./retry.js";

/** The If-Match form each server (endpoint and bucket) accepted, for this process. */
const IF_MATCH_FORMS = new Map<string, EtagForm>();

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

interface Req {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** object key below the prefix; null for the bucket itself (listing) */
  key: string | null;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** sha256 hex of the body, when the caller knows it */
  bodySha256?: string;
  /** keep a 2xx answer's body in the pieces it arrived in (`parts`), not copied into one buffer */
  parts?: boolean;
}

interface Answer {
  res: HttpAnswer;
  /** the body (empty when `parts` holds it) */
  body: Uint8Array;
  parts?: Uint8Array[];
}

interface S3ErrorInfo {
  code: string;
  message: string;
}

export class S3Backend implements ObjectBackend {
  readonly writable = true;
  readonly checkConditions = true;
  readonly bucket: string;
  /** key prefix inside the bucket: "" or "a/b/" */
  readonly prefix: string;
  private readonly settings: AwsSettings;
  private readonly policy: RetryPolicy;
  private readonly partSize: number;
  private readonly pageSize: number;
  private readonly base: string;
  private readonly pathStyle: boolean;
  /** the server and bucket, for what is learned about them (the If-Match form) */
  private readonly serverKey: string;
  /** SigV4 signing keys, derived once a day per region */
  private readonly signCache = new Map<string, Buffer>();

  constructor(
    readonly url: string,
    opts: BackendOptions = {},
  ) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
    if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$|^[a-zA-Z0-9._-]{1,255}$/.test(m[1] as string)) {
      throw new UnsupportedUrlError(url, "an S3 URL is s3://bucket or s3://bucket/prefix");
    }
    this.bucket = m[1] as string;
    const p = (m[2] as string).replace(/^\/+|\/+$/g, "");
    this.prefix = p ? `${p}/` : "";
    this.settings = awsSettings(opts.env);
    this.policy = retryPolicy(opts);
    this.partSize = opts.partSize ?? 16 * 1024 * 1024;
    this.pageSize = opts.pageSize ?? 1000;
    if (this.settings.endpoint) {
      this.base = this.settings.endpoint.replace(/\/+$/, "");
      this.pathStyle = true;
    } else if (this.bucket.includes(".")) {
      this.base = `https://s3.${this.settings.region}.amazonaws.com`;
      this.pathStyle = true;
    } else {
      this.base = `https://${this.bucket}.s3.${this.settings.region}.amazonaws.com`;
      this.pathStyle = false;
    }
    this.serverKey = `${this.base} ${this.bucket}`;
  }

  private endpointName(): string {
    return this.settings.endpoint ?? `AWS S3 (${this.settings.region})`;
  }

  private urlFor(key: string | null, query: Record<string, string> = {}): URL {
    const enc = (s: string) => s.split("/").map(encodeURIComponent).join("/");
    const bucketPart = this.pathStyle ? `/${encodeURIComponent(this.bucket)}` : "";
    const keyPart = key === null ? "/" : `/${enc(this.prefix + key)}`;
    const u = new URL(this.base + bucketPart + keyPart);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u;
  }

  private display(key: string | null): string {
    return `s3://${this.bucket}/${key === null ? this.prefix : this.prefix + key}`;
  }

  /** One request, signed anew per attempt, retried on transient failures. Non-2xx answers are returned with their body read. */
  private send(req: Req): Promise<Answer> {
    return withRetry(this.policy, this.display(req.key), () => this.attempt(req));
  }

  /** One attempt at a request; a transient failure (connection, 5xx, 429, throttling, 409 conflict) throws Retryable. */
  private async attempt(req: Req): Promise<Answer> {
    const url = this.urlFor(req.key, req.query);
    const headers: Record<string, string> = { ...req.headers };
    let init: HttpInit;
    const creds = this.settings.credentials;
    if (creds) {
      const sha = req.bodySha256 ?? (req.body ? createHash("sha256").update(req.body).digest("hex") : EMPTY_SHA256);
      const signed = signS3(
        {
          method: req.method,
          url,
          headers: { ...headers, "x-amz-content-sha256": sha },
          accessKeyId: creds.accessKeyId,
          secretAccessKey: creds.secretAccessKey,
          ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}),
          region: this.settings.region,
        },
        this.signCache,
      );
      init = { method: req.method, headers: signed };
    } else {
      init = { method: req.method, headers };
    }
    if (req.body) init.body = req.body;
    // a redirect is not followed but answered (S3 redirects only a request sent to the wrong region or endpoint): fail() names it
    const res = await fetchOnce(url, init, this.policy);
    if (req.parts && res.ok) return { res, body: new Uint8Array(0), parts: await readParts(res) };
    const body = req.method === "HEAD" ? new Uint8Array(0) : await readBody(res);
    if (!res.ok) {
      const info = parseError(body);
      if (isRetryableStatus(res.status, info.code)) throw new Retryable(`${res.status} ${info.code || res.statusText}${info.message ? `: ${info.message}` : ""}`);
    }
    return { res, body };
  }

  /** Turn a non-2xx answer into the error that names its cause. */
  private fail(req: Req, res: HttpAnswer, body: Uint8Array): never {
    const info = parseError(body);
    const where = this.display(req.key);
    if (res.status === 412) throw new PreconditionFailedError(req.key ?? "");
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get("location");
      const said = info.message || `the server redirected the request${to ? ` to ${to}` : ""}`;
      throw new RemoteRequestError(where, res.status, info.code || "Redirect", `${said} (S3 requests are not redirected: set AWS_REGION to the bucket's region, or AWS_ENDPOINT_URL to its endpoint)`);
    }
    if (info.code === "NoSuchBucket" || (res.status === 404 && req.key === null)) throw new BucketNotFoundError(this.bucket, this.endpointName());
    if (res.status === 401 || res.status === 403) {
      if (!this.settings.credentials) throw new NoCredentialsError(where, `the server refused an unsigned request (${info.code || res.status}); credentials: ${this.settings.source}`);
      throw new AccessDeniedError(where, info.code || String(res.status), info.message || `the server refused the ${req.method} request with the key from ${this.settings.source}`);
    }
    throw new RemoteRequestError(where, res.status, info.code, info.message);
  }

  async get(key: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const req: Req = { method: "GET", key };
    const { res, body } = await this.send(req);
    if (res.status === 404 && parseError(body).code !== "NoSuchBucket") return null;
    if (!res.ok) this.fail(req, res, body);
    return { bytes: body, etag: cleanEtag(res.headers.get("etag")) };
  }

  async getParts(key: string): Promise<{ parts: Uint8Array[]; bytes: number; etag: string } | null> {
    const req: Req = { method: "GET", key, parts: true };
    const { res, body, parts } = await this.send(req);
    if (res.status === 404 && parseError(body).code !== "NoSuchBucket") return null;
    if (!res.ok || !parts) this.fail(req, res, body);
    return { parts, bytes: parts.reduce((n, p) => n + p.byteLength, 0), etag: cleanEtag(res.headers.get("etag")) };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const req: Req = { method: "HEAD", key };
    const { res, body } = await this.send(req);
    if (res.status === 404) return null;
    if (!res.ok) this.fail(req, res, body);
    return { etag: cleanEtag(res.headers.get("etag")), size: Number(res.headers.get("content-length") ?? 0) };
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions = {}): Promise<{ etag: string }> {
    const conditional = opts.ifMatch !== undefined || opts.ifNoneMatch !== undefined;
    if (conditional) return this.putConditional(key, bytes, opts);
    if (bytes.byteLength > this.partSize) return this.putMultipart(key, bytes);
    const req: Req = { method: "PUT", key, headers: { "content-type": "application/octet-stream" }, body: bytes, ...(opts.contentSha256 ? { bodySha256: opts.contentSha256 } : {}) };
    const { res, body } = await this.send(req);
    if (!res.ok) this.fail(req, res, body);
    return { etag: cleanEtag(res.headers.get("etag")) };
  }

  /**
   * A PUT with If-None-Match: * or If-Match, made to hold on every S3
   * implementation (docs/decisions.md, "Conditional writes on S3 servers"):
   *
   * - If-Match carries the ETag in the form this server was last seen to
   *   accept (at first: as the server served it). A 412 while the object's
   *   ETag is still the one sent is no lost race but a server that wants the
   *   other form (quoted ↔ bare): the write is tried once more in it, and the
   *   form that worked is kept for this server for the rest of the process.
   *   Refused in both forms: ConditionalWritesRefusedError.
   * - An answer that says nothing of the condition (5xx, 409
   *   ConditionalRequestConflict, a dropped connection) is not retried
   *   blindly: the object is looked at first. Changed (or created) since:
   *   PreconditionFailedError, and the caller reads it to see whose write
   *   landed (a write of ours answered 500 counts as ours). Unchanged: the
   *   write is tried again, with backoff.
   */
  private async putConditional(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{ etag: string }> {
    const expected = opts.ifMatch;
    const matchAny = expected === "*";
    let form: EtagForm | undefined = expected === undefined || matchAny ? undefined : (IF_MATCH_FORMS.get(this.serverKey) ?? etagForm(expected));
    let switched = false;
    let last: Retryable | null = null;
    for (let n = 0; n < this.policy.maxAttempts; n++) {
      if (n > 0 && last) await backoff(this.policy, n);
      const headers: Record<string, string> = { "content-type": "application/octet-stream" };
      if (opts.ifNoneMatch) headers["if-none-match"] = opts.ifNoneMatch;
      if (expected !== undefined) headers["if-match"] = form ? writeEtag(expected, form) : expected;
      const req: Req = { method: "PUT", key, headers, body: bytes, ...(opts.contentSha256 ? { bodySha256: opts.contentSha256 } : {}) };
      let answer: { res: HttpAnswer; body: Uint8Array };
      try {
        answer = await this.attempt(req);
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        last = err;
        const now = await this.head(key);
        const conditionFails = opts.ifNoneMatch === "*" ? now !== null : matchAny ? now === null : now === null || !sameEtag(now.etag, expected as string);
        if (conditionFails) throw new PreconditionFailedError(key);
        continue;
      }
      last = null;
      const { res, body } = answer;
      if (res.ok) {
        if (form && expected !== undefined && !matchAny) IF_MATCH_FORMS.set(this.serverKey, form);
        return { etag: cleanEtag(res.headers.get("etag")) };
      }
      if (res.status === 412 && form && expected !== undefined && !opts.ifMatchNever) {
        const now = await this.head(key);
        if (now && sameEtag(now.etag, expected)) {
          if (switched) throw new ConditionalWritesRefusedError(this.display(key), now.etag);
          switched = true;
          form = form === "quoted" ? "bare" : "quoted";
          n--; // not a failure of the server: the same attempt in the other form
          continue;
        }
      }
      this.fail(req, res, body);
    }
    throw new RemoteUnreachableError(this.display(key), this.policy.maxAttempts, last?.detail ?? "no answer", last?.cause);
  }

  private async putMultipart(key: string, bytes: Uint8Array): Promise<{ etag: string }> {
    const start: Req = { method: "POST", key, query: { uploads: "" }, headers: { "content-type": "application/octet-stream" } };
    const created = await this.send(start);
    if (!created.res.ok) this.fail(start, created.res, created.body);
    const uploadId = xmlValues(created.body, "UploadId")[0];
    if (!uploadId) throw new RemoteRequestError(this.display(key), created.res.status, "", "CreateMultipartUpload returned no UploadId");
    try {
      const parts: { n: number; start: number }[] = [];
      for (let off = 0, n = 1; off < bytes.byteLength; off += this.partSize, n++) parts.push({ n, start: off });
      const etags = await mapSettled(parts, 4, async ({ n, start: off }) => {
        const part = bytes.subarray(off, Math.min(off + this.partSize, bytes.byteLength));
        const req: Req = { method: "PUT", key, query: { partNumber: String(n), uploadId }, body: part };
        const { res, body } = await this.send(req);
        if (!res.ok) this.fail(req, res, body);
        return res.headers.get("etag") ?? "";
      });
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(e)}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
      const done: Req = { method: "POST", key, query: { uploadId }, body: new TextEncoder().encode(xml), headers: { "content-type": "application/xml" } };
      const { res, body } = await this.send(done);
      // S3 may answer 200 and put the error in the body
      if (!res.ok || xmlValues(body, "Code").length > 0) this.fail(done, res.ok ? { ...res, status: 500, ok: false } : res, body);
      return { etag: cleanEtag(xmlValues(body, "ETag")[0] ?? res.headers.get("etag")) };
    } catch (err) {
      await this.send({ method: "DELETE", key, query: { uploadId } }).catch(() => {});
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const o of this.listObjects(prefix)) yield o.key;
  }

  async *listObjects(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix: this.prefix + prefix, "max-keys": String(this.pageSize) };
      if (token) query["continuation-token"] = token;
      const req: Req = { method: "GET", key: null, query };
      const { res, body } = await this.send(req);
      if (!res.ok) this.fail(req, res, body);
      for (const c of xmlElements(new TextDecoder().decode(body), "Contents", false)) {
        const key = xmlElements(c, "Key")[0];
        if (key === undefined) continue;
        const size = Number(xmlElements(c, "Size")[0] ?? 0);
        const lastModified = new Date(xmlElements(c, "LastModified")[0] ?? 0);
        yield { key: key.slice(this.prefix.length), size, lastModified };
      }
      const truncated = xmlValues(body, "IsTruncated")[0] === "true";
      token = truncated ? xmlValues(body, "NextContinuationToken")[0] : undefined;
      if (truncated && !token) throw new RemoteRequestError(this.display(prefix), res.status, "", "a truncated listing without NextContinuationToken");
    } while (token);
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<void> {
    if (opts.ifMatch !== undefined && opts.ifMatch !== "*") return this.deleteConditional(key, opts.ifMatch);
    const req: Req = { method: "DELETE", key, ...(opts.ifMatch === undefined ? {} : { headers: { "if-match": opts.ifMatch } }) };
    const { res, body } = await this.send(req);
    if (!res.ok && res.status !== 404) this.fail(req, res, body);
  }

  /**
   * A DELETE with If-Match, held to the same rules as putConditional: the
   * ETag goes in the form this server accepts (learned from ref writes or
   * here: a 412 while the object still has the ETag sent is the wrong form,
   * tried once more in the other), and an answer that says nothing of the
   * condition (5xx, 409, a dropped connection) is settled by looking at the
   * object: gone or changed, PreconditionFailedError (a delete of ours that
   * was answered 500 and landed counts as done); unchanged, tried again.
   */
  private async deleteConditional(key: string, expected: string): Promise<void> {
    let form: EtagForm = IF_MATCH_FORMS.get(this.serverKey) ?? etagForm(expected);
    let switched = false;
    let last: Retryable | null = null;
    for (let n = 0; n < this.policy.maxAttempts; n++) {
      if (n > 0 && last) await backoff(this.policy, n);
      const req: Req = { method: "DELETE", key, headers: { "if-match": writeEtag(expected, form) } };
      let answer: { res: HttpAnswer; body: Uint8Array };
      try {
        answer = await this.attempt(req);
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        last = err;
        const now = await this.head(key);
        if (now === null) return; // gone: ours landed before the error, or another delete did; absent either way, as a 404 is
        if (!sameEtag(now.etag, expected)) throw new PreconditionFailedError(key);
        continue;
      }
      last = null;
      const { res, body } = answer;
      if (res.ok || (res.status === 404 && parseError(body).code !== "NoSuchBucket")) {
        if (res.ok) IF_MATCH_FORMS.set(this.serverKey, form);
        return;
      }
      if (res.status === 412) {
        const now = await this.head(key);
        if (now && sameEtag(now.etag, expected)) {
          if (switched) throw new ConditionalWritesRefusedError(this.display(key), now.etag);
          switched = true;
          form = form === "quoted" ? "bare" : "quoted";
          n--; // the same attempt in the other form
          continue;
        }
      }
      this.fail(req, res, body);
    }
    throw new RemoteUnreachableError(this.display(key), this.policy.maxAttempts, last?.detail ?? "no answer", last?.cause);
  }
}

function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    if (l === "amp") return "&";
    if (l === "lt") return "<";
    if (l === "gt") return ">";
    if (l === "quot") return '"';
    if (l === "apos") return "'";
    return String.fromCodePoint(l.startsWith("#x") ? parseInt(l.slice(2), 16) : parseInt(l.slice(1), 10));
  });
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The text of every `<tag>…</tag>` in an XML document (S3's answers are flat enough for this). */
export function xmlValues(body: Uint8Array, tag: string): string[] {
  return xmlElements(new TextDecoder().decode(body), tag);
}

/** The text of every `<tag>…</tag>` in `text`, entities decoded unless `decode` is false (an element that holds elements). */
function xmlElements(text: string, tag: string, decode = true): string[] {
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g");
  const out: string[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(decode ? decodeXml(m[1] as string) : (m[1] as string));
  return out;
}

function parseError(body: Uint8Array): S3ErrorInfo {
  if (body.byteLength === 0 || body.byteLength > 64 * 1024) return { code: "", message: "" };
  return { code: xmlValues(body, "Code")[0] ?? "", message: xmlValues(body, "Message")[0] ?? "" };
}
