/**
 * The HTTP side of `tdv serve` that reads nothing: what a URL names, a Range
 * header, If-None-Match, which revisions are immutable, pinned branches.
 */
import { TdvError } from "../errors.js";
import type { RevisionRefs } from "../session/source.js";

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const LIVE = "no-cache";

/** What a request names: the list of revisions, or a revision and a path in it. */
export type Target = { kind: "refs" } | { kind: "rev"; rev: string; path: string; folder: boolean };

/** A request the server refuses before reading anything: its status and why. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The target of a request's URL (its raw path, as sent): `/`, `/<rev>`,
 * `/<rev>/`, `/<rev>/<path>`, `/<rev>/<dir>/`. Each part is percent-decoded on
 * its own; a part that decodes to nothing, `.`, `..`, or holds a slash (`%2F`),
 * a backslash or NUL is refused (400), as are `//` and raw backslashes. The
 * revision may hold `%2F` (a branch such as `team/run`), never `..` parts.
 */
export function parseTarget(rawUrl: string): Target {
  const q = rawUrl.search(/[?#]/);
  const raw = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if (!raw.startsWith("/")) throw new HttpRefusal(400, "the path must start with /");
  if (raw.includes("\\") || /%5c/i.test(raw)) throw new HttpRefusal(400, "a backslash in the path: name files with forward slashes");
  if (raw === "/") return { kind: "refs" };
  const segs = raw.slice(1).split("/");
  const folder = segs[segs.length - 1] === "";
  if (folder) segs.pop();
  const decoded = segs.map((s, i) => {
    if (s === "") throw new HttpRefusal(400, "an empty part ('//') in the path: it is not canonical");
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpRefusal(400, `'${s}' is not valid percent-encoding`);
    }
    if (d.includes("\0")) throw new HttpRefusal(400, "a NUL in the path");
    if (i === 0) {
      if (d === "" || d.split("/").some((p) => p === "." || p === ".." || p === "")) throw new HttpRefusal(400, `'${d}' is not a revision`);
      return d;
    }
    if (d === "." || d === "..") throw new HttpRefusal(400, `'${d}' in the path: name files as they are in the tree`);
    if (d.includes("/")) throw new HttpRefusal(400, `an encoded slash in '${s}': a path's parts are separated by plain slashes`);
    if (d.includes("\\")) throw new HttpRefusal(400, "a backslash in the path");
    return d;
  });
  const [rev, ...rest] = decoded as [string, ...string[]];
  const path = rest.join("/");
  return { kind: "rev", rev, path, folder: folder || path === "" };
}

/** A byte range of a file: first and last byte, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A `Range` header against a file of `size` bytes: null (no header, or several
 * ranges: the whole file is sent, 200), a range (206), or "unsatisfiable"
 * (416: malformed, another unit, past the end, larger than a safe integer).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | "unsatisfiable" {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return "unsatisfiable";
  const spec = (m[1] as string).trim();
  if (spec.includes(",")) return spec.split(",").every((p) => /^\s*(\d+-\d*|-\d+)\s*$/.test(p)) ? null : "unsatisfiable";
  const r = /^(\d*)-(\d*)$/.exec(spec);
  if (!r || (r[1] === "" && r[2] === "")) return "unsatisfiable";
  const num = (s: string) => (s.length > 16 ? Number.NaN : Number(s));
  if (r[1] === "") {
    const n = num(r[2] as string);
    if (!Number.isSafeInteger(n) || n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = num(r[1] as string);
  const end = r[2] === "" ? size - 1 : num(r[2] as string);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start || start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}

/** Whether an `If-None-Match` header names `etag` (or is `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v === etag || v === `W/${etag}`;
  });
}

/**
 * The cache class of a revision: immutable for a full commit id (and its
 * ancestors, `ID~2`) and for a tag; live for branches, HEAD, reflog dates
 * (`main@{DATE}`) and abbreviated ids (a prefix may become ambiguous).
 */
export function isImmutableRev(rev: string, refs: Pick<RevisionRefs, "branches" | "tags">): boolean {
  if (rev.includes("@{")) return false;
  const cut = [rev.indexOf("~"), rev.indexOf("^")].filter((i) => i >= 0);
  const base = cut.length ? rev.slice(0, Math.min(...cut)) : rev;
  if (base.startsWith("refs/tags/")) return true;
  if (base === "HEAD" || base === "@" || base.startsWith("refs/")) return false;
  if (refs.branches.has(base)) return false;
  if (refs.tags.has(base)) return true;
  return /^[0-9a-f]{40}$/i.test(base);
}

/** A revision with its branch (or HEAD) replaced by the commit it was pinned to. */
export function pinRev(rev: string, pinned: RevisionRefs): string {
  if (rev.includes("@{")) return rev;
  const cut = [rev.indexOf("~"), rev.indexOf("^")].filter((i) => i >= 0);
  const at = cut.length ? Math.min(...cut) : rev.length;
  const base = rev.slice(0, at);
  const name = base.startsWith("refs/heads/") ? base.slice("refs/heads/".length) : base === "HEAD" || base === "@" ? pinned.head : base;
  const oid = name === null ? undefined : pinned.branches.get(name);
  return oid ? oid + rev.slice(at) : rev;
}

export const DEFAULT_PORT = 8470;

/** The server could not listen (the port is taken, the host is not this machine's). */
export class ServeListenError extends TdvError<"ServeListenError"> {
  readonly _tag = "ServeListenError";
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
    cause?: unknown,
  ) {
    super(`cannot listen on ${host}:${port}: ${code === "EADDRINUSE" ? "the port is in use" : code === "EADDRNOTAVAIL" ? "the address is not one of this machine's" : code === "EACCES" ? "permission denied" : code}`, {
      hint: code === "EADDRINUSE" ? "stop the other server, or pick another port (--port 0 picks a free one)" : "pick another --host or --port (ports below 1024 need privileges)",
      cause,
    });
  }
}

declare module "../errors.js" {
  interface TdvErrorMap {
    ServeListenError: ServeListenError;
  }
}
