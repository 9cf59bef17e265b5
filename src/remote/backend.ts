/**
 * An object store as tdv sees it: keys to bytes, with conditional writes.
 * Each backend is a small class in its own module, loaded from a
 * `Map<scheme, () => import(...)>` registry only when a URL needs it.
 *
 *   file:///path or /path   file.ts   (conditional writes under a lock file);
 *                           local.ts  (read-only) when the folder is a local repository
 *   s3://bucket/prefix      s3.ts     (signed requests; any S3-compatible server)
 *   http(s)://host/path     http.ts   (read-only; any static web server)
 *
 * Keys are relative to the remote's root and use "/" ("chunks/ab/cdef…").
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../errors.js";
import { UnsupportedUrlError } from "./errors.js";

export interface PutOptions {
  /** "*": write only when no object has the key (create) */
  ifNoneMatch?: "*";
  /** write only when the object's ETag still is this value (as `get`/`head`/`put` returned it) */
  ifMatch?: string;
  /**
   * the `ifMatch` value can have no object: a refusal (412) is the answer sought, not a server
   * that wants the ETag in its other form (quoted or bare), so it is not looked into (S3)
   */
  ifMatchNever?: true;
  /** SHA-256 (hex) of the bytes when the caller knows it (a chunk id): S3 sends it instead of hashing again */
  contentSha256?: string;
}

export interface DeleteOptions {
  /** delete only when the object's ETag still is this value (S3's conditional delete) */
  ifMatch?: string;
}

export interface ObjectInfo {
  /** opaque version tag, to pass back as `ifMatch` */
  etag: string;
  size: number;
}

/** One object of a listing, with what the store says about it. */
export interface ListedObject {
  key: string;
  size: number;
  /** when the object was last written, by the store's clock (S3 LastModified, a file's mtime) */
  lastModified: Date;
}

export interface ObjectBackend {
  /** the URL, for messages */
  readonly url: string;
  /** false for read-only transports (http) */
  readonly writable: boolean;
  /**
   * true when the server may not enforce conditional writes and must be
   * checked before a ref is moved there (S3-compatible servers vary; a
   * folder enforces them itself)
   */
  readonly checkConditions?: boolean;
  /**
   * The bytes of an object and their ETag, read in one request (so a
   * conditional write based on them is sound), or null when there is none.
   */
  get(key: string): Promise<{ bytes: Uint8Array; etag: string } | null>;
  /**
   * `get`, with the body left in the pieces it arrived in (not copied into
   * one buffer): for a transfer that hashes the pieces and writes them to a
   * file as they are (S3: one copy of every byte fewer).
   */
  getParts?(key: string): Promise<{ parts: Uint8Array[]; bytes: number; etag: string } | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Write the whole object; a failed condition throws PreconditionFailedError. */
  put(key: string, bytes: Uint8Array, opts?: PutOptions): Promise<{ etag: string }>;
  /** Every key under `prefix` (which ends with "/"), in any order. */
  list(prefix: string): AsyncIterable<string>;
  /** `list` with each object's size and time (remote fsck and gc); read-only transports throw ReadOnlyRemoteError. */
  listObjects(prefix: string): AsyncIterable<ListedObject>;
  /**
   * Remove an object (no error when it is gone); a failed `ifMatch` throws
   * PreconditionFailedError; read-only transports throw ReadOnlyRemoteError.
   */
  delete(key: string, opts?: DeleteOptions): Promise<void>;
  /**
   * The file on this machine that holds an object's bytes (a folder remote,
   * a local repository's chunk), for transfers that copy it instead of
   * reading it into memory; undefined (or null for a key) where there is none.
   */
  localFile?(key: string): string | null;
  /**
   * Write the object from the file `src` on this machine, hashing its bytes
   * as they pass: placed (atomically) only when they hash to `sha256`, else
   * `{ corrupt: actualHash }` and nothing written; `{ missing: true }` when
   * `src` is absent. Backends on this machine offer it (no read into memory).
   */
  putFromFile?(key: string, src: string, sha256: string, size: number): Promise<{ ok: true } | { corrupt: string } | { missing: true }>;
  /** Remove what interrupted writers left (temp files); returns how many. Backends with atomic writes have none. */
  sweepTemporaries?(): Promise<number>;
}

/** What a backend may take from its caller: the environment (for credentials) and tuning. */
export interface BackendOptions {
  env?: NodeJS.ProcessEnv;
  /** attempts for a failing request (first try included) */
  maxAttempts?: number;
  /** first backoff delay in ms (doubled each retry, with jitter) */
  retryBaseMs?: number;
  /** S3: objects larger than this go up in parts of this size */
  partSize?: number;
  /** S3: max-keys per ListObjectsV2 page */
  pageSize?: number;
  /** fsync files written by the file backend (default: unless TDV_FSYNC=0) */
  durable?: boolean;
}

type Factory = (url: string, opts: BackendOptions) => Promise<ObjectBackend>;

const BACKENDS = new Map<string, Factory>([
  // a folder: a local repository (a working copy, or its repository folder) read through its stores, else a file remote
  ["file", async (url, opts) => (await import("./local.js")).openLocalRepository(url, opts) ?? new (await import("./file.js")).FileBackend(url, opts)],
  ["s3", async (url, opts) => new (await import("./s3.js")).S3Backend(url, opts)],
  ["http", async (url, opts) => new (await import("./http.js")).HttpBackend(url, opts)],
  ["https", async (url, opts) => new (await import("./http.js")).HttpBackend(url, opts)],
]);

/** The URL scheme of a remote; a plain path is "file". */
export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  return m ? (m[1] as string).toLowerCase() : "file";
}

/**
 * The canonical form of a remote URL: a plain path becomes an absolute path
 * (resolved against `cwd`); URLs are kept as given, less a trailing "/".
 */
export function normalizeRemoteUrl(url: string, cwd = process.cwd()): string {
  const scheme = schemeOf(url);
  if (!BACKENDS.has(scheme)) throw new UnsupportedUrlError(url, `unknown scheme '${scheme}://'`);
  if (scheme === "file" && !/^file:\/\//i.test(url)) return path.resolve(cwd, url);
  return url.length > scheme.length + 3 ? url.replace(/\/+$/, "") : url;
}

/** Open the backend for a remote URL (its module is imported on first use). */
export async function openBackend(url: string, opts: BackendOptions = {}): Promise<ObjectBackend> {
  const scheme = schemeOf(url);
  const factory = BACKENDS.get(scheme);
  if (!factory) throw new UnsupportedUrlError(url, `unknown scheme '${scheme}://'`);
  return factory(scheme === "file" && !/^file:\/\//i.test(url) ? pathToFileURL(path.resolve(url)).href : url, opts);
}

/** The folder `clone URL` makes: the URL's last path component, less `.tdv`. */
export function cloneDirName(url: string): string {
  const parts = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/").filter(Boolean);
  const last = (parts[parts.length - 1] ?? "").replace(/\.tdv$/, "");
  if (!last || last === "." || last === "..") throw new UsageError(`cannot name a folder after '${url}'`, { hint: "give the folder: `tdv clone URL DIR`" });
  return last;
}
