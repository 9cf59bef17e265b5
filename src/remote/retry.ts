/**
 * Retries for HTTP backends: exponential backoff with full jitter (a random
 * wait between 0 and base·2^attempt, capped), on connection errors, timeouts,
 * 5xx, 429 and S3's throttling codes. Anything else is final at once.
 */
import type { BackendOptions } from "./backend.js";
import { RemoteUnreachableError } from "./errors.js";
import { type HttpAnswer, type HttpInit, readAll, readPieces, sendRequest } from "./http-client.js";

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** per-request timeout */
  timeoutMs: number;
}

export function retryPolicy(opts: BackendOptions): RetryPolicy {
  const env = opts.env ?? process.env;
  const num = (v: string | undefined, d: number) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
  return {
    maxAttempts: Math.max(1, opts.maxAttempts ?? num(env.TDV_REMOTE_MAX_ATTEMPTS, 6)),
    baseMs: opts.retryBaseMs ?? num(env.TDV_REMOTE_RETRY_MS, 200),
    capMs: 10_000,
    timeoutMs: num(env.TDV_REMOTE_TIMEOUT_MS, 300_000),
  };
}

/** Thrown by one attempt to ask for another. */
export class Retryable extends Error {
  constructor(
    readonly detail: string,
    override readonly cause?: unknown,
  ) {
    super(detail);
  }
}

/** HTTP statuses and S3 error codes worth another try. */
export function isRetryableStatus(status: number, code = ""): boolean {
  if (status >= 500 || status === 429 || status === 408) return true;
  return ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "ConditionalRequestConflict", "OperationAborted"].includes(code);
}

/** What a failed request says about the connection (ECONNREFUSED, ECONNRESET, timeout, ...). */
export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return "the request timed out";
  // Node's HTTP client says the code itself; fetch() said it in the cause
  const code = e?.code ?? e?.cause?.code;
  const msg = (e?.code ? e.message : (e?.cause?.message ?? e?.message)) ?? String(err);
  return code ? `${code} (${msg})` : msg;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The wait before attempt `n` (1-based retries): full jitter, exponential, capped. */
export function backoff(policy: RetryPolicy, n: number): Promise<void> {
  return sleep(Math.random() * Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1)));
}

/**
 * Run `attempt` until it returns, throws a non-Retryable error, or the
 * attempts are used up (then RemoteUnreachableError naming the last cause).
 * `attempt` gets the attempt number (0-based).
 */
export async function withRetry<T>(policy: RetryPolicy, url: string, attempt: (n: number) => Promise<T>): Promise<T> {
  let last: Retryable | null = null;
  for (let n = 0; n < policy.maxAttempts; n++) {
    if (n > 0) await backoff(policy, n);
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof Retryable)) throw err;
      last = err;
    }
  }
  throw new RemoteUnreachableError(url, policy.maxAttempts, last?.detail ?? "no answer", last?.cause);
}

/** One request with the policy's deadline; a connection failure becomes Retryable. */
export async function fetchOnce(url: URL, init: HttpInit, policy: RetryPolicy): Promise<HttpAnswer> {
  try {
    return await sendRequest(url, init, policy.timeoutMs);
  } catch (err) {
    throw new Retryable(describeFetchError(err), err);
  }
}

/** A body being read: a connection dropped mid-body is Retryable. */
async function bodyOrRetry<T>(reading: Promise<T>): Promise<T> {
  try {
    return await reading;
  } catch (err) {
    throw new Retryable(`connection lost while reading the body: ${describeFetchError(err)}`, err);
  }
}

/** Read an answer's body fully; a connection dropped mid-body is Retryable. */
export const readBody = (res: HttpAnswer): Promise<Uint8Array> => bodyOrRetry(readAll(res));

/** An answer's body as the pieces it arrived in; a connection dropped mid-body is Retryable, as readBody's. */
export const readParts = (res: HttpAnswer): Promise<Uint8Array[]> => bodyOrRetry(readPieces(res));

/** An ETag as the server wrote it (quoted or not), less a weak prefix: If-Match compares strongly. */
export function cleanEtag(raw: string | null): string {
  return (raw ?? "").trim().replace(/^W\//, "");
}

/** The opaque part of an ETag: no weak prefix, no quotes ("\"abc\"" and "abc" are the same version). */
export function bareEtag(etag: string): string {
  return cleanEtag(etag).replace(/^"(.*)"$/, "$1");
}

/** Whether two ETags name the same version, however each is quoted. */
export function sameEtag(a: string, b: string): boolean {
  return bareEtag(a) === bareEtag(b);
}

/** How an ETag is written into If-Match: as RFC 7232's quoted entity-tag, or bare. */
export type EtagForm = "quoted" | "bare";

export function etagForm(etag: string): EtagForm {
  return /^".*"$/.test(cleanEtag(etag)) ? "quoted" : "bare";
}

/** An ETag written in the given form. */
export function writeEtag(etag: string, form: EtagForm): string {
  const bare = bareEtag(etag);
  return form === "quoted" ? `"${bare}"` : bare;
}
