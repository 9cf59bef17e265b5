/**
 * A local repository as a read-only remote: `tdv clone ../climate mine`
 * (a working copy), `tdv clone /data/era5.tdv` (a repository folder), or
 * `tdv remote add team ../climate` then fetch and pull.
 *
 * A repository's own layout is not the remote layout (its Git objects are
 * packed, its refs may be packed, it keeps an index and locks), so it is read
 * through the stores rather than as files: Git objects from GitStore (packed
 * or loose), handed to fetch in the loose form it verifies; refs and HEAD from
 * Refs; chunk objects from the chunk folder. Fetch verifies every object
 * against its id as it does for any remote, so a damaged source object is
 * refused, never copied.
 */
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { isGitOid, type GitOid } from "../format/hash.js";
import { REPO_FORMAT_VERSION } from "../format/version.js";
import { Durability } from "../store/durability.js";
import { GitStore } from "../store/git.js";
import { Refs } from "../store/refs.js";
import type { BackendOptions, ListedObject, ObjectBackend, ObjectInfo } from "./backend.js";
import { ReadOnlyRemoteError } from "./errors.js";
import { CONFIG_KEY, HEAD_KEY, INFO_REFS_KEY } from "./layout.js";

/**
 * The repository folder (`.tdv`, or a separate one) of a local repository at
 * `dir`: a working copy (its `.tdv` folder, or a `.tdv` file naming the
 * folder), or a repository folder itself (tdv.json beside git/config and
 * chunks/). Null for anything else, among them a file remote, which has no
 * git/config.
 */
export function localRepositoryDir(dir: string): string | null {
  const marker = path.join(dir, ".tdv");
  const st = fs.statSync(marker, { throwIfNoEntry: false });
  let tdvDir = dir;
  if (st?.isDirectory()) tdvDir = marker;
  else if (st?.isFile()) {
    const m = /^tdvdir: (.+)$/.exec(fs.readFileSync(marker, "utf8").trim());
    if (!m) return null;
    tdvDir = path.resolve(dir, m[1] as string);
  }
  const isRepo = ["tdv.json", "git/config", "chunks"].every((f) => fs.existsSync(path.join(tdvDir, ...f.split("/"))));
  return isRepo ? tdvDir : null;
}

const enc = new TextEncoder();

export class LocalRepoBackend implements ObjectBackend {
  readonly writable = false;
  private readonly git: GitStore;
  private readonly refs: Refs;
  private readonly chunksDir: string;

  constructor(
    readonly url: string,
    readonly tdvDir: string,
  ) {
    const gitdir = path.join(tdvDir, "git");
    this.git = new GitStore(gitdir, new Durability(gitdir, "none"));
    this.refs = new Refs(gitdir);
    this.chunksDir = path.join(tdvDir, "chunks");
  }

  async get(key: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const bytes = await this.read(key);
    return bytes ? { bytes, etag: "" } : null;
  }

  private async read(key: string): Promise<Uint8Array | null> {
    if (key === CONFIG_KEY) {
      const config = JSON.parse(await fsp.readFile(path.join(this.tdvDir, "tdv.json"), "utf8")) as { formatVersion?: unknown; createdBy?: unknown };
      // what a remote's tdv.json says: the format (a newer one is refused by the reader) and its maker
      return enc.encode(JSON.stringify({ formatVersion: config.formatVersion ?? REPO_FORMAT_VERSION, createdBy: config.createdBy }));
    }
    if (key === HEAD_KEY) {
      const head = await this.refs.head().catch(() => null);
      return head?.branch ? enc.encode(`ref: ${head.branch}\n`) : null;
    }
    if (key === INFO_REFS_KEY) {
      const lines: string[] = [];
      for (const prefix of ["refs/heads/", "refs/tags/"]) for (const [ref, oid] of await this.refs.list(prefix)) lines.push(`${oid}\t${ref}\n`);
      return enc.encode(lines.join(""));
    }
    let m = /^git\/objects\/([0-9a-f]{2})\/([0-9a-f]{38})$/.exec(key);
    if (m) {
      const oid = `${m[1]}${m[2]}` as GitOid;
      if (!isGitOid(oid) || (await this.git.typeOf(oid)) === null) return null;
      const { type, content } = await this.git.readObject(oid, "object");
      // the loose form (zlib of "type size\0content") that fetch inflates and verifies
      return deflateSync(Buffer.concat([Buffer.from(`${type} ${content.byteLength}\0`), content]), { level: 1 });
    }
    m = /^chunks\/([0-9a-f]{2})\/([0-9a-f]{62})$/.exec(key);
    if (m) return fsp.readFile(path.join(this.chunksDir, m[1] as string, m[2] as string)).catch(missingAsNull);
    return null;
  }

  localFile(key: string): string | null {
    const m = /^chunks\/([0-9a-f]{2})\/([0-9a-f]{62})$/.exec(key);
    return m ? path.join(this.chunksDir, m[1] as string, m[2] as string) : null;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const m = /^chunks\/([0-9a-f]{2})\/([0-9a-f]{62})$/.exec(key);
    if (m) {
      const st = await fsp.stat(path.join(this.chunksDir, m[1] as string, m[2] as string)).catch(missingAsNull);
      return st ? { etag: "", size: st.size } : null;
    }
    const bytes = await this.read(key);
    return bytes ? { etag: "", size: bytes.byteLength } : null;
  }

  async put(): Promise<{ etag: string }> {
    throw new ReadOnlyRemoteError(this.url);
  }

  async *list(prefix: string): AsyncIterable<string> {
    if (prefix === "git/refs/" || prefix.startsWith("git/refs/")) {
      for (const [ref] of await this.refs.list(prefix.slice("git/".length))) yield `git/${ref}`;
    }
  }

  // biome-ignore lint/correctness/useYield: remote fsck and gc are for remotes; a local repository has `tdv fsck` and `tdv gc`
  async *listObjects(): AsyncIterable<ListedObject> {
    throw new ReadOnlyRemoteError(this.url);
  }

  async delete(): Promise<void> {
    throw new ReadOnlyRemoteError(this.url);
  }
}

function missingAsNull(err: NodeJS.ErrnoException): null {
  if (err.code === "ENOENT" || err.code === "ENOTDIR") return null;
  throw err;
}

/** The backend for a file URL: a local repository read through its stores, or null (a file remote). */
export function openLocalRepository(url: string, _opts: BackendOptions = {}): LocalRepoBackend | null {
  let dir: string;
  try {
    dir = fileURLToPath(url);
  } catch {
    return null;
  }
  const tdvDir = localRepositoryDir(dir);
  return tdvDir ? new LocalRepoBackend(url, tdvDir) : null;
}
