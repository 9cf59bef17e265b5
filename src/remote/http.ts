/**
 * A read-only remote published by any static web server, or a public bucket
 * over https: `https://host/path/to/remote`. 404 means "no such object";
 * transient failures are retried like S3's. Writes are refused, and listing
 * is not possible over plain HTTP: refs are read from `git/info/refs`, which
 * every push keeps up to date (as Git's "dumb" HTTP protocol does).
 */
import type { BackendOptions, ListedObject, ObjectBackend, ObjectInfo } from "./backend.js";
import { AccessDeniedError, ReadOnlyRemoteError, RemoteRequestError, UnsupportedUrlError } from "./errors.js";
import type { HttpAnswer } from "./http-client.js";
import { cleanEtag, fetchOnce, isRetryableStatus, readBody, Retryable, retryPolicy, withRetry, type RetryPolicy } from "./retry.js";

export class HttpBackend implements ObjectBackend {
  readonly writable = false;
  private readonly base: string;
  private readonly policy: RetryPolicy;

  constructor(
    readonly url: string,
    opts: BackendOptions = {},
  ) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UnsupportedUrlError(url, "not a valid URL");
    }
    if (u.search || u.hash) throw new UnsupportedUrlError(url, "a remote URL has no query or fragment");
    this.base = u.toString().replace(/\/+$/, "");
    this.policy = retryPolicy(opts);
  }

  private async request(method: "GET" | "HEAD", key: string): Promise<{ res: HttpAnswer; body: Uint8Array } | null> {
    const target = `${this.base}/${key.split("/").map(encodeURIComponent).join("/")}`;
    const r = await withRetry(this.policy, target, async () => {
      const res = await fetchOnce(new URL(target), { method }, this.policy);
      const body = method === "HEAD" ? new Uint8Array(0) : await readBody(res);
      if (!res.ok && isRetryableStatus(res.status)) throw new Retryable(`${res.status} ${res.statusText}`);
      return { res, body };
    });
    if (r.res.status === 404 || r.res.status === 410) return null;
    if (r.res.status === 401 || r.res.status === 403) throw new AccessDeniedError(target, String(r.res.status), "the web server refused the request");
    if (!r.res.ok) throw new RemoteRequestError(target, r.res.status, "", r.res.statusText);
    return r;
  }

  async get(key: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const r = await this.request("GET", key);
    return r ? { bytes: r.body, etag: cleanEtag(r.res.headers.get("etag")) } : null;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const r = await this.request("HEAD", key);
    return r ? { etag: cleanEtag(r.res.headers.get("etag")), size: Number(r.res.headers.get("content-length") ?? 0) } : null;
  }

  async put(): Promise<{ etag: string }> {
    throw new ReadOnlyRemoteError(this.url);
  }

  // biome-ignore lint/correctness/useYield: listing is impossible over plain HTTP
  async *list(): AsyncIterable<string> {
    throw new ReadOnlyRemoteError(this.url);
  }

  // biome-ignore lint/correctness/useYield: listing is impossible over plain HTTP
  async *listObjects(): AsyncIterable<ListedObject> {
    throw new ReadOnlyRemoteError(this.url);
  }

  async delete(): Promise<void> {
    throw new ReadOnlyRemoteError(this.url);
  }
}
