/**
 * `tdv serve`: any revision of a repository over HTTP, read in place, for
 * Zarr readers (zarr-python through fsspec, xarray, zarrita's FetchStore, a
 * browser). Read-only; takes a RevisionSource, so a local repository and a
 * remote one are served alike.
 *
 *   GET /                       branches, tags and HEAD (JSON)
 *   GET /<rev>/                 the revision's root folder and its arrays (JSON)
 *   GET /<rev>/<dir>/           one folder: subfolders and files with sizes (JSON)
 *   GET /<rev>/<path>           the exact stored bytes of a file (a chunk, a
 *                               metadata document, a plain file); HEAD; Range
 *
 * `<rev>` is one URL-encoded path segment (a branch, tag, commit id, `REV~N`,
 * `main@{DATE}`; `%2F` spells the slash of a branch such as `team/run`). The
 * ETag of a file is its object's hash; `X-Tdv-Commit` names the commit a
 * response came from. Commit-id and tag URLs are immutable, branch URLs are
 * live (`no-cache`) unless the server pins every branch at startup.
 *
 * A v2 group without a stored `.zmetadata` answers `<group>/.zmetadata` with
 * consolidated metadata generated for the revision (zarr-python 2's format);
 * a v3 group whose `zarr.json` holds no `consolidated_metadata` gets it added
 * (zarr-python 3's form). A stored one is served as it is.
 *
 * One file's bytes are in memory at a time per request (a chunk, never a
 * whole array), read into a buffer lent by a pool and given back once the
 * response is sent. Sessions are kept per commit, the last few used.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { isTdvError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { ReadSession } from "../session/read.js";
import { BufferPool } from "../store/buffer-pool.js";
import type { RevisionRefs, RevisionSource } from "../session/source.js";
import { DEFAULT_PORT, etagMatches, HttpRefusal, IMMUTABLE, isImmutableRev, LIVE, parseRange, parseTarget, pinRev, ServeListenError } from "./serve-http.js";

export interface ServeOptions {
  /** default 8470; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** pin every branch (and HEAD) to the commit it names when the server starts */
  pin?: boolean;
  /** called with one line per request (method, path, status, bytes, milliseconds) */
  log?: (line: string) => void;
  /** sessions kept open, one per commit (default 16) */
  sessions?: number;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** with `pin`: branch → commit the server answers for it; otherwise null */
  pinned: RevisionRefs | null;
  /** stop listening, end open connections */
  close(): Promise<void>;
}

/** Start serving `source`; resolves once listening. */
export async function serve(source: RevisionSource, opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`'${port}' is not a port number`, { hint: "give 1-65535, or 0 for a free port" });
  const pinned = opts.pin ? await source.refs() : null;
  const handler = new Handler(source, pinned, opts.sessions ?? 16, opts.log);
  const server = http.createServer((req, res) => void handler.handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new ServeListenError(host, port, e.code ?? e.message, e)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    pinned,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- consolidated metadata ----------------------------------------------------

const V2_DOCS = [".zarray", ".zgroup", ".zattrs"] as const;

/** A document's text as JSON, with Python's NaN/Infinity (zarr-python 2 writes them in attributes) allowed. */
function jsonText(bytes: Uint8Array): string | null {
  const text = new TextDecoder().decode(bytes).trim();
  try {
    JSON.parse(text);
    return text;
  } catch {
    try {
      JSON.parse(text.replace(/-?\b(?:NaN|Infinity)\b/g, "null"));
      return text;
    } catch {
      return null;
    }
  }
}

/** zarr-python 2's `.zmetadata` for the v2 group at `group`: every .zarray, .zgroup and .zattrs under it, through its subgroups. */
export async function consolidateV2(session: ReadSession, group: string): Promise<Uint8Array> {
  const found: [string, string][] = [];
  const visit = async (dir: string): Promise<void> => {
    const docs = new Map<string, string>();
    for (const name of V2_DOCS) {
      const f = await session.file(join(dir, name));
      const text = f ? jsonText(await session.read(f)) : null;
      if (text !== null) docs.set(name, text);
    }
    const rel = (name: string) => (dir === group ? name : `${dir.slice(group ? group.length + 1 : 0)}/${name}`);
    for (const [name, text] of docs) found.push([rel(name), text]);
    if (docs.has(".zarray") || !docs.has(".zgroup")) return; // arrays have no children; v2 nodes live under groups
    const listing = await session.list(dir);
    for (const sub of listing?.dirs ?? []) await visit(join(dir, sub));
  };
  await visit(group);
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const indent = (text: string) => text.replace(/\n/g, "\n        ");
  const body = found.map(([k, text]) => `        ${JSON.stringify(k)}: ${indent(text)}`).join(",\n");
  return new TextEncoder().encode(`{\n    "metadata": {\n${body}\n    },\n    "zarr_consolidated_format": 1\n}`);
}

type Json = Record<string, unknown>;

function parseDoc(bytes: Uint8Array): Json | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

/** A v3 group document with `consolidated_metadata` set to `metadata`, in the key order zarr-python 3 writes. */
function withConsolidated(doc: Json, metadata: Json): Json {
  const { node_type, ...rest } = doc;
  return { ...rest, consolidated_metadata: { kind: "inline", must_understand: false, metadata }, node_type };
}

/**
 * zarr-python 3's consolidated form of the v3 group at `group` (whose stored
 * document is `doc`): every array and group under it through its subgroups,
 * keyed by path relative to it, depth first then case-folded path; subgroups
 * carry an empty consolidated block, as zarr-python writes them.
 */
export async function consolidateV3(session: ReadSession, group: string, doc: Json): Promise<Uint8Array> {
  const nodes: [string, Json][] = [];
  const visit = async (dir: string): Promise<void> => {
    const listing = await session.list(dir);
    for (const sub of listing?.dirs ?? []) {
      const path = join(dir, sub);
      const f = await session.file(join(path, "zarr.json"));
      const child = f ? parseDoc(await session.read(f)) : null;
      if (child?.zarr_format !== 3) continue; // not a v3 node
      const rel = path.slice(group ? group.length + 1 : 0);
      if (child.node_type === "group") {
        nodes.push([rel, withConsolidated(child, {})]);
        await visit(path);
      } else if (child.node_type === "array") nodes.push([rel, child]);
    }
  };
  await visit(group);
  const depth = (p: string) => p.split("/").length;
  nodes.sort(([a], [b]) => depth(a) - depth(b) || (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
  const out = withConsolidated(doc, Object.fromEntries(nodes));
  return new TextEncoder().encode(JSON.stringify(out, null, 2));
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** Git's blob id of `bytes`: the hash a generated document would have if it were committed. */
function blobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

// ---- the handler ---------------------------------------------------------------

/** One open session and what was generated from it. */
interface Open {
  session: ReadSession;
  /** generated documents by path (null: none for that path) */
  generated: Map<string, Promise<{ bytes: Uint8Array; etag: string } | null>>;
}

/** The file a request answers with. */
interface Body {
  bytes: Uint8Array;
  etag: string;
  type: string;
}

const REFS_TTL_MS = 2000;
const GENERATED_PER_COMMIT = 256;

class Handler {
  private readonly open = new Map<GitOid, Promise<Open>>();
  /** resolutions of immutable revisions (commit ids, tags) */
  private readonly fixed = new Map<string, GitOid>();
  /** resolutions under way, by revision */
  private readonly resolving = new Map<string, Promise<GitOid>>();
  private refsAt = 0;
  private refsNow: Promise<RevisionRefs> | null = null;
  /** the last reading of the refs that succeeded */
  private refsRead: RevisionRefs | null = null;
  /** the commit each live revision resolved to last (a guess to start reading from; never answered without resolving) */
  private readonly lastSeen = new Map<string, GitOid>();
  /** buffers chunks are read into, lent again once their response is sent */
  private readonly pool = new BufferPool();

  constructor(
    private readonly source: RevisionSource,
    private readonly pinned: RevisionRefs | null,
    private readonly maxSessions: number,
    private readonly log: ((line: string) => void) | undefined,
  ) {}

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    let sent = 0;
    const write = res.end.bind(res);
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk instanceof Uint8Array) sent += chunk.length;
      else if (typeof chunk === "string") sent += Buffer.byteLength(chunk);
      return (write as (...a: unknown[]) => http.ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
    const log = this.log;
    if (log) res.once("close", () => log(`${req.method} ${req.url} ${res.statusCode} ${sent} ${Date.now() - started}ms${res.writableFinished ? "" : " (aborted)"}`));
    try {
      await this.route(req, res);
    } catch (e) {
      this.fail(res, e);
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "";
    if (method !== "GET" && method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return this.message(res, 405, "MethodNotAllowed", `${method} is not served: the server is read-only (GET and HEAD)`);
    }
    const target = parseTarget(req.url ?? "/");
    if (target.kind === "refs") return this.json(req, res, await this.refsDoc(), LIVE);
    const rev = this.pinned ? pinRev(target.rev, this.pinned) : target.rev;
    const immutable = this.pinned !== null && rev !== target.rev ? true : isImmutableRev(target.rev, await this.refs());
    // A live revision (a branch) is resolved on every request. Meanwhile the file is looked up in the
    // commit it named last time: when the resolution names that commit again (the common case), the
    // request waits for whichever of the two is slower instead of both one after the other (locally a ref
    // file read queued behind chunk reads; over a remote a ref GET before the chunk's GETs).
    const guess = immutable || target.folder ? undefined : this.lastSeen.get(rev);
    const early = guess === undefined ? null : this.session(guess).then((o) => this.body(o.session, o.generated, target.path));
    early?.catch(() => undefined); // used only when the guess was right; then its failure is the request's
    const commit = await this.resolve(rev, immutable);
    if (!immutable) this.remember(rev, commit);
    const { session, generated } = await this.session(commit);
    res.setHeader("x-tdv-commit", commit);
    res.setHeader("cache-control", immutable ? IMMUTABLE : LIVE);
    if (target.folder) return this.listing(req, res, session, target.path, commit, target.rev);
    if (early && guess !== commit) void early.then((b) => b && this.pool.give(b.bytes), () => undefined);
    const body = early && guess === commit ? await early : await this.body(session, generated, target.path);
    if (!body) {
      const isDir = (await session.list(target.path).catch(() => null)) !== null;
      return this.message(res, 404, "NotFound", isDir ? `${target.path} is a folder of ${target.rev}: GET /${encodeURIComponent(target.rev)}/${target.path}/ lists it` : `no file ${target.path} in ${target.rev} (${commit.slice(0, 10)})`);
    }
    const etag = `"${body.etag}"`;
    res.setHeader("etag", etag);
    res.setHeader("accept-ranges", "bytes");
    if (etagMatches(req.headers["if-none-match"], etag)) {
      this.pool.give(body.bytes);
      res.writeHead(304);
      res.end();
      return;
    }
    const size = body.bytes.length;
    const range = parseRange(req.headers.range, size);
    if (range === "unsatisfiable") {
      this.pool.give(body.bytes);
      res.setHeader("content-range", `bytes */${size}`);
      return this.message(res, 416, "RangeNotSatisfiable", `range '${req.headers.range}' does not fit ${target.path} (${size} bytes); give one range: bytes=A-B, bytes=A- or bytes=-N`);
    }
    res.setHeader("content-type", body.type);
    const part = range ? body.bytes.subarray(range.start, range.end + 1) : body.bytes;
    if (range) res.setHeader("content-range", `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader("content-length", part.length);
    res.writeHead(range ? 206 : 200);
    if (req.method === "HEAD") {
      this.pool.give(body.bytes);
      res.end();
      return;
    }
    // the buffer is lent again once the socket has taken every byte; a response cut short (its socket
    // destroyed, which may have held the bytes) keeps it, and it is collected instead
    const socket = res.socket; // detached from the response when it finishes
    res.end(part, () => {
      if (socket && !socket.destroyed) this.pool.give(body.bytes);
    });
  }

  /** The bytes of `path`: stored, or generated consolidated metadata; null when neither. */
  private async body(session: ReadSession, generated: Open["generated"], path: string): Promise<Body | null> {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const dir = path.slice(0, Math.max(0, path.lastIndexOf("/")));
    const type = /^(\.z(array|group|attrs|metadata)|zarr\.json)$/.test(name) || name.endsWith(".json") ? "application/json" : "application/octet-stream";
    const file = await session.file(path);
    if (file && name === "zarr.json") {
      const bytes = await session.read(file);
      const doc = parseDoc(bytes);
      if (doc && doc.zarr_format === 3 && doc.node_type === "group" && doc.consolidated_metadata == null) {
        const made = await this.generate(generated, path, async () => consolidateV3(session, dir, doc));
        if (made) return { ...made, type };
      }
      return { bytes, etag: file.id, type };
    }
    if (file) return { bytes: await session.read(file, this.pool), etag: file.id, type };
    if (name === ".zmetadata" && (await session.file(join(dir, ".zgroup")))) {
      const made = await this.generate(generated, path, () => consolidateV2(session, dir));
      if (made) return { ...made, type };
    }
    return null;
  }

  private generate(generated: Open["generated"], path: string, make: () => Promise<Uint8Array>): Promise<{ bytes: Uint8Array; etag: string } | null> {
    let hit = generated.get(path);
    if (!hit) {
      hit = make().then((bytes) => ({ bytes, etag: blobId(bytes) }));
      hit.catch(() => generated.delete(path));
      if (generated.size >= GENERATED_PER_COMMIT) generated.delete(generated.keys().next().value as string);
      generated.set(path, hit);
    }
    return hit;
  }

  private async listing(req: http.IncomingMessage, res: http.ServerResponse, session: ReadSession, path: string, commit: GitOid, rev: string): Promise<void> {
    const list = await session.list(path);
    if (!list) {
      res.setHeader("cache-control", LIVE);
      return this.message(res, 404, "NotFound", `no folder ${path} in ${rev} (${commit.slice(0, 10)})`);
    }
    const files: { name: string; size: number; kind: string }[] = [];
    for (const f of list.files) {
      const size = f.size >= 0 ? f.size : (await session.read(f)).length;
      files.push({ name: f.path.slice(f.path.lastIndexOf("/") + 1), size, kind: f.kind });
    }
    const doc: Record<string, unknown> = { rev, commit, path, dirs: list.dirs, files };
    if (path === "") doc.arrays = await session.arrays();
    return this.json(req, res, doc, res.getHeader("cache-control") as string);
  }

  private async refsDoc(): Promise<Record<string, unknown>> {
    const refs = this.pinned ?? (await this.source.refs());
    return {
      source: this.source.name,
      pinned: this.pinned !== null,
      head: refs.head,
      branches: Object.fromEntries([...refs.branches].sort()),
      tags: Object.fromEntries([...refs.tags].sort()),
    };
  }

  /**
   * The branches and tags, read at most every REFS_TTL_MS (for cache headers
   * only: revisions resolve live). Once read, a request never waits for a
   * new reading: it gets the last one (at most REFS_TTL_MS plus one reading
   * old) while the next is read.
   */
  private refs(): Promise<RevisionRefs> {
    if (this.pinned) return Promise.resolve(this.pinned);
    if (!this.refsNow || Date.now() - this.refsAt > REFS_TTL_MS) {
      this.refsAt = Date.now();
      const reading = this.source.refs();
      const last = this.refsRead;
      reading.then(
        (r) => {
          this.refsRead = r;
          this.refsNow = Promise.resolve(r);
        },
        () => {
          if (this.refsNow === reading) this.refsNow = null;
        },
      );
      if (!last) this.refsNow = reading;
      else this.refsNow = Promise.resolve(last);
      return last ? Promise.resolve(last) : reading;
    }
    return this.refsNow;
  }

  /**
   * The commit `rev` names. Immutable revisions are resolved once; a live one
   * (a branch) on every request, concurrent requests for it sharing one
   * resolution that is under way (so the answer is the branch as it was
   * while the request was being served).
   */
  private async resolve(rev: string, immutable: boolean): Promise<GitOid> {
    const hit = this.fixed.get(rev);
    if (hit) return hit;
    let pending = this.resolving.get(rev);
    if (!pending) {
      pending = this.source.resolve(rev);
      this.resolving.set(rev, pending);
      const done = () => this.resolving.delete(rev);
      pending.then(done, done);
    }
    const oid = await pending;
    if (immutable) {
      if (this.fixed.size >= 1024) this.fixed.delete(this.fixed.keys().next().value as string);
      this.fixed.set(rev, oid);
    }
    return oid;
  }

  private remember(rev: string, commit: GitOid): void {
    if (this.lastSeen.get(rev) === commit) return;
    this.lastSeen.delete(rev);
    if (this.lastSeen.size >= 1024) this.lastSeen.delete(this.lastSeen.keys().next().value as string);
    this.lastSeen.set(rev, commit);
  }

  /** The session on `commit`, opened once and kept among the last `maxSessions` used. */
  private session(commit: GitOid): Promise<Open> {
    let hit = this.open.get(commit);
    if (hit) {
      this.open.delete(commit);
      this.open.set(commit, hit);
      return hit;
    }
    hit = this.source.open(commit).then((session) => ({ session, generated: new Map() }));
    hit.catch(() => this.open.delete(commit));
    if (this.open.size >= this.maxSessions) this.open.delete(this.open.keys().next().value as GitOid);
    this.open.set(commit, hit);
    return hit;
  }

  private json(req: http.IncomingMessage, res: http.ServerResponse, value: unknown, cache: string): void {
    const bytes = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
    res.setHeader("cache-control", cache);
    res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length });
    res.end(req.method === "HEAD" ? undefined : bytes);
  }

  private message(res: http.ServerResponse, status: number, error: string, message: string, hint?: string): void {
    const bytes = Buffer.from(`${JSON.stringify(hint ? { error, message, hint } : { error, message })}\n`);
    if (status >= 400) res.setHeader("cache-control", "no-store");
    res.writeHead(status, { "content-type": "application/json", "content-length": bytes.length });
    res.end(res.req?.method === "HEAD" ? undefined : bytes);
  }

  private fail(res: http.ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const h of ["etag", "content-range", "accept-ranges", "x-tdv-commit"]) res.removeHeader(h);
    if (e instanceof HttpRefusal) this.message(res, e.status, "BadRequest", e.message);
    else if (isTdvError(e)) {
      const status = e._tag === "UnknownRevisionError" || e._tag === "AmbiguousRevisionError" ? 404 : e._tag.startsWith("Remote") ? 502 : 500;
      this.message(res, status, e._tag, e.message, e.hint);
    } else this.message(res, 500, "InternalError", e instanceof Error ? e.message : String(e));
  }
}
