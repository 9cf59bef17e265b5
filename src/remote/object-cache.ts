/**
 * The local cache of objects read from remotes (read sessions over a remote:
 * remote-source.ts). One cache serves every remote: objects are named by the
 * hash of their bytes, so an object cached from one remote is the same object
 * for any other.
 *
 *   <dir>/git/ab/cdef…      Git objects, inflated ("type size\0content"), by SHA-1
 *   <dir>/chunks/ab/cdef…   chunk objects, the exact bytes, by SHA-256
 *   <dir>/tmp/              writes in progress (renamed into place when whole)
 *
 * Where: `cacheDir`, else `$TDV_CACHE_DIR`, else `$XDG_CACHE_HOME/tdv`, else
 * `~/.cache/tdv`. How big: `cacheBytes`, else `$TDV_CACHE_SIZE` ("500M",
 * "2G", "1.5GiB", a number of bytes), else 2 GiB.
 *
 * - Every write goes to a temp file renamed into place: a killed process
 *   leaves no half object, and processes sharing the cache never see one.
 * - Every read is verified by the caller against the id (this module hands
 *   out the bytes, `drop` removes a file that failed): a damaged or tampered
 *   file is never returned, it is fetched again.
 * - Least recently used first out: a hit touches the file (its mtime); when
 *   the cache holds more than its limit, the oldest files go until it holds
 *   at most 90% of it. The cache is scanned for that at most once per
 *   `evictEvery` writes (or once an eighth of the limit was written since
 *   the last scan), so a write stays cheap.
 * - Refs are never cached: they change.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../errors.js";

export type CacheKind = "git" | "chunks";

/** Where the cache is and how big it may grow (remoteSource takes these). */
export interface CacheOptions {
  /** the cache folder (default: $TDV_CACHE_DIR, $XDG_CACHE_HOME/tdv, ~/.cache/tdv) */
  cacheDir?: string;
  /** the size limit in bytes (default: $TDV_CACHE_SIZE, else 2 GiB) */
  cacheBytes?: number;
  /** the environment the defaults are read from (default: process.env) */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;
/** a full scan of the cache (for eviction) at most once per this many writes */
const EVICT_EVERY = 256;
/** eviction leaves the cache at this share of its limit, so the next writes do not scan again at once */
const LOW_WATER = 0.9;
/** temp files older than this are leftovers of a killed writer */
const STALE_TMP_MS = 60 * 60 * 1000;

/** The cache folder: `cacheDir`, $TDV_CACHE_DIR, $XDG_CACHE_HOME/tdv, or ~/.cache/tdv. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TDV_CACHE_DIR) return path.resolve(env.TDV_CACHE_DIR);
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return path.join(env.XDG_CACHE_HOME, "tdv");
  return path.join(env.HOME || os.homedir(), ".cache", "tdv");
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A size as TDV_CACHE_SIZE gives it: a number of bytes, or a number with a
 * unit K, M, G, T (powers of 1024; "KB", "KiB", "MB", "MiB", ... mean the same).
 * UsageError for anything else.
 */
export function parseSize(text: string, what = "TDV_CACHE_SIZE"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`${what}: '${text}' is not a size`, { hint: 'give bytes or a number with a unit: "500M", "2G", "1.5GiB", "1048576"' });
  const unit = UNITS[(m[2] ?? "").toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}

/** The cache's size limit: `cacheBytes`, $TDV_CACHE_SIZE, or 2 GiB. */
export function defaultCacheBytes(env: NodeJS.ProcessEnv = process.env): number {
  return env.TDV_CACHE_SIZE ? parseSize(env.TDV_CACHE_SIZE) : DEFAULT_CACHE_BYTES;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** cached files found damaged (dropped, fetched again) */
  dropped: number;
  writes: number;
  /** files removed by eviction */
  evicted: number;
}

export class ObjectCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, dropped: 0, writes: 0, evicted: 0 };
  private writesSinceScan = 0;
  private bytesSinceScan = 0;
  /** files seen by the last scan: the next scan waits for a quarter as many writes (at least evictEvery) */
  private filesAtScan = 0;
  private evicting: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    readonly limitBytes: number = DEFAULT_CACHE_BYTES,
    private readonly evictEvery = EVICT_EVERY,
  ) {
    if (!Number.isFinite(limitBytes) || limitBytes < 0) throw new UsageError(`cache size limit ${limitBytes} is not a size`, { hint: "give a number of bytes (0 keeps nothing)" });
  }

  /** The cache as `opts` (or the environment) says. */
  static open(opts: CacheOptions = {}): ObjectCache {
    const env = opts.env ?? process.env;
    return new ObjectCache(path.resolve(opts.cacheDir ?? defaultCacheDir(env)), opts.cacheBytes ?? defaultCacheBytes(env));
  }

  pathOf(kind: CacheKind, id: string): string {
    if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(id)) throw new UsageError(`'${id}' is no object id`, { hint: "a cached object is named by its SHA-1 or SHA-256 in hex" });
    return path.join(this.dir, kind, id.slice(0, 2), id.slice(2));
  }

  /**
   * The cached bytes of an object, unverified (the caller checks them against
   * the id and calls `drop` when they fail), or null when not cached. A hit
   * marks the file as recently used.
   */
  async get(kind: CacheKind, id: string): Promise<Buffer | null> {
    const file = this.pathOf(kind, id);
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(file);
    } catch {
      this.stats.misses++;
      return null; // absent, evicted meanwhile, or unreadable: fetched again
    }
    this.stats.hits++;
    const now = new Date();
    await fsp.utimes(file, now, now).catch(() => undefined);
    return bytes;
  }

  /** Remove a cached file whose bytes do not match its id. */
  async drop(kind: CacheKind, id: string): Promise<void> {
    this.stats.dropped++;
    await fsp.rm(this.pathOf(kind, id), { force: true }).catch(() => undefined);
  }

  /**
   * Keep an object's verified bytes. Never fails the read that fetched them:
   * a cache that cannot be written (full disk, no permission) only makes the
   * next read fetch again.
   */
  async put(kind: CacheKind, id: string, bytes: Uint8Array): Promise<void> {
    if (this.limitBytes === 0) return;
    const file = this.pathOf(kind, id);
    const tmpDir = path.join(this.dir, "tmp");
    const tmp = path.join(tmpDir, `${id.slice(0, 16)}-${process.pid}-${randomBytes(6).toString("hex")}`);
    try {
      await fsp.writeFile(tmp, bytes).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        await fsp.mkdir(tmpDir, { recursive: true });
        await fsp.writeFile(tmp, bytes);
      });
      await fsp.rename(tmp, file).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        await fsp.mkdir(path.dirname(file), { recursive: true });
        await fsp.rename(tmp, file);
      });
    } catch {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      return;
    }
    this.stats.writes++;
    this.writesSinceScan++;
    this.bytesSinceScan += bytes.byteLength;
    const due = this.writesSinceScan >= Math.max(this.evictEvery, this.filesAtScan / 4) || this.bytesSinceScan >= this.limitBytes / 8;
    if (due) await this.evict();
  }

  /**
   * Scan the cache and, when it holds more than its limit, remove the least
   * recently used files until it holds at most 90% of it. Also removes temp
   * files that killed writers left. Concurrent calls share one scan.
   */
  evict(): Promise<void> {
    this.evicting ??= this.scanAndEvict().finally(() => {
      this.evicting = null;
    });
    return this.evicting;
  }

  /** The cache's files with their sizes and last use, oldest first; and the total. */
  async usage(): Promise<{ files: { file: string; size: number; used: number }[]; bytes: number }> {
    const files: { file: string; size: number; used: number }[] = [];
    for (const kind of ["git", "chunks"] as const) {
      const root = path.join(this.dir, kind);
      for (const fan of await fsp.readdir(root).catch(() => [] as string[])) {
        const sub = path.join(root, fan);
        for (const name of await fsp.readdir(sub).catch(() => [] as string[])) {
          const file = path.join(sub, name);
          const st = await fsp.stat(file).catch(() => null);
          if (st?.isFile()) files.push({ file, size: st.size, used: st.mtimeMs });
        }
      }
    }
    files.sort((a, b) => a.used - b.used);
    return { files, bytes: files.reduce((n, f) => n + f.size, 0) };
  }

  private async scanAndEvict(): Promise<void> {
    this.writesSinceScan = 0;
    this.bytesSinceScan = 0;
    const tmpDir = path.join(this.dir, "tmp");
    const old = Date.now() - STALE_TMP_MS;
    for (const name of await fsp.readdir(tmpDir).catch(() => [] as string[])) {
      const file = path.join(tmpDir, name);
      const st = await fsp.stat(file).catch(() => null);
      if (st && st.mtimeMs < old) await fsp.rm(file, { force: true }).catch(() => undefined);
    }
    const { files, bytes } = await this.usage();
    this.filesAtScan = files.length;
    if (bytes <= this.limitBytes) return;
    let total = bytes;
    const target = Math.floor(this.limitBytes * LOW_WATER);
    for (const f of files) {
      if (total <= target) break;
      await fsp.rm(f.file, { force: true }).catch(() => undefined);
      total -= f.size;
      this.filesAtScan--;
      this.stats.evicted++;
    }
  }
}
