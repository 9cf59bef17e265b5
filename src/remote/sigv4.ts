/**
 * AWS Signature Version 4 for S3 requests, with node:crypto on this thread.
 *
 * The canonical request is aws4fetch's for S3, byte for byte (its path and
 * query encoding, its unsigned headers; test/remote/s3-sign.test.ts signs
 * the same requests with both): what changed is the work around it. No web
 * `Headers` (its first use loads Node's fetch implementation, tens of ms of
 * a command's start), no web crypto (a digest, a key import and an HMAC per
 * request, each a promise and a trip through libuv's thread pool, where
 * they queue behind a transfer's file reads and writes), and the signing key
 * derived once a day per region.
 */
import { createHash, createHmac } from "node:crypto";

export interface SignInput {
  method: string;
  url: URL;
  /** the request's headers (names in any case); the payload's SHA-256 as x-amz-content-sha256, or UNSIGNED-PAYLOAD */
  headers: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  /** YYYYMMDDTHHMMSSZ; now when absent */
  datetime?: string;
}

/** Headers a proxy or client may change on the way: never signed (aws4fetch's list). */
const UNSIGNABLE = new Set(["authorization", "content-type", "content-length", "user-agent", "presigned-expires", "expect", "x-amzn-trace-id", "range", "connection"]);

const rfc3986 = (s: string) => s.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The path as S3 signs it: decoded, then each character but `/` encoded (RFC 3986). */
function canonicalPath(url: URL): string {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.replace(/\+/g, " "));
  } catch {
    path = url.pathname;
  }
  return rfc3986(encodeURIComponent(path).replace(/%2F/g, "/"));
}

/** The query as S3 signs it: each name once (the first), names and values encoded, sorted. */
function canonicalQuery(url: URL): string {
  const seen = new Set<string>();
  const pairs: [string, string][] = [];
  for (const [k, v] of url.searchParams) {
    if (!k || seen.has(k)) continue;
    seen.add(k);
    pairs.push([rfc3986(encodeURIComponent(k)), rfc3986(encodeURIComponent(v))]);
  }
  pairs.sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Sign an S3 request: the headers to send (names in lower case), Authorization and X-Amz-Date among them. */
export function signS3(req: SignInput, keys: Map<string, Buffer>): Record<string, string> {
  const datetime = req.datetime ?? new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v.trim();
  delete headers.host;
  headers["x-amz-content-sha256"] ??= "UNSIGNED-PAYLOAD";
  headers["x-amz-date"] = datetime;
  if (req.sessionToken) headers["x-amz-security-token"] = req.sessionToken;
  const signed = ["host", ...Object.keys(headers).filter((h) => !UNSIGNABLE.has(h))].sort();
  const canonicalHeaders = signed.map((h) => `${h}:${(h === "host" ? req.url.host : (headers[h] as string)).replace(/\s+/g, " ")}`).join("\n");
  const signedHeaders = signed.join(";");
  const canonical = [req.method.toUpperCase(), canonicalPath(req.url), canonicalQuery(req.url), `${canonicalHeaders}\n`, signedHeaders, headers["x-amz-content-sha256"]].join("\n");
  const date = datetime.slice(0, 8);
  const scope = `${date}/${req.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", datetime, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const cacheKey = [req.secretAccessKey, date, req.region, "s3"].join();
  let key = keys.get(cacheKey);
  if (!key) {
    const h = (k: string | Buffer, s: string) => createHmac("sha256", k).update(s).digest();
    key = h(h(h(h(`AWS4${req.secretAccessKey}`, date), req.region), "s3"), "aws4_request");
    keys.set(cacheKey, key);
  }
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${req.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
