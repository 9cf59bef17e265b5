/**
 * Reachability on a remote: every Git object and chunk that the remote's refs
 * need, found by reading the graph (remote fsck and remote gc stand on it).
 *
 * Git objects are read from the remote (inflated and checked against their
 * SHA-1, as fetch does) or, when `local` is given and holds the object, from
 * this repository: the same id is the same bytes, so only the remote's
 * presence of it is then left to check, which the caller does from a listing.
 * Each object is attributed to the first ref found to need it, so a problem
 * names a ref.
 */
import { CorruptObjectError, MissingObjectError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { decodeFileList, decodeShard, FILE_LIST, MANIFEST_TREE } from "../format/manifest.js";
import type { Repository } from "../repo/repository.js";
import { parseTree } from "../format/git-object.js";
import { decodeLoose, headerLinks, type GitType } from "./git-objects.js";
import { gitObjectKey, type RemoteRepo } from "./layout.js";
import { drain, meter, type OnTransferProgress } from "./transfer.js";

type Role = "any" | "tree" | "manifest" | "blob" | "shard" | "filelist";

export interface Needed {
  /** the first ref found to need it ("refs/heads/main") */
  ref: string;
  /** where in that ref's history or snapshot ("era5.zarr/t2m/.tdv-manifest/0", "commit") */
  path: string;
}

export interface RemoteGraph {
  /** reachable Git objects: id → type and who needs it */
  git: Map<GitOid, Needed & { type: GitType | "unknown"; fromRemote: boolean }>;
  /** reachable chunks: id → size the manifest or file list records, and who needs it */
  chunks: Map<ChunkId, Needed & { size: number }>;
}

export interface WalkProblem {
  kind: "missing" | "corrupt";
  /** "commit", "tree", "blob", "tag", "Git object", "chunk" */
  type: string;
  id: string;
  ref: string;
  path: string;
  detail: string;
}

export interface RemoteWalkOptions {
  /** ref → commit or tag id */
  roots: Map<string, GitOid>;
  /** read objects this repository holds from it instead of downloading them */
  local?: Repository | null;
  concurrency?: number;
  onProgress?: OnTransferProgress;
  /** a missing or damaged Git object: recorded here (fsck goes on); without it the walk throws */
  onProblem?: (p: WalkProblem) => void;
}

/** Walk the remote's graph from `roots`. Git objects only the remote holds are downloaded and verified. */
export async function walkRemote(remote: RemoteRepo, opts: RemoteWalkOptions): Promise<RemoteGraph> {
  const { roots, local = null, concurrency = 16, onProgress, onProblem } = opts;
  const graph: RemoteGraph = { git: new Map(), chunks: new Map() };
  const seen = new Set<string>();
  const queue: { oid: GitOid; role: Role; need: Needed }[] = [];
  for (const [ref, oid] of roots) {
    if (seen.has(`${oid}:any`)) continue;
    seen.add(`${oid}:any`);
    queue.push({ oid, role: "any", need: { ref, path: "" } });
  }
  const m = meter(onProgress, "reading the remote's history", queue.length);
  await drain(queue, concurrency, async ({ oid, role, need }, enqueue) => {
    const where = need.path || (role === "any" ? "the commit it names" : "root tree");
    const read = await readObject(remote, local, oid, `${where} (needed by ${need.ref})`).then((r) => {
      const want = role === "any" ? ["commit", "tag"] : role === "tree" || role === "manifest" ? ["tree"] : ["blob"];
      if (r && !want.includes(r.type)) throw new CorruptObjectError(oid, `${where} (needed by ${need.ref}): expected a ${want.join(" or ")}, the remote holds a ${r.type}`);
      return r;
    }).catch((err: unknown) => {
      const missing = err instanceof MissingObjectError;
      if (!(missing || err instanceof CorruptObjectError) || !onProblem) throw err;
      onProblem({ kind: missing ? "missing" : "corrupt", type: roleType(role), id: oid, ref: need.ref, path: need.path, detail: missing ? "not on the remote" : (err as Error).message });
      return null;
    });
    m.add(0);
    if (!read) {
      if (!graph.git.has(oid)) graph.git.set(oid, { ...need, type: "unknown", fromRemote: true });
      return;
    }
    const { type, content, fromRemote } = read;
    if (!graph.git.has(oid)) graph.git.set(oid, { ...need, type, fromRemote });
    const follow = (child: GitOid, childRole: Role, childPath: string) => {
      const key = `${child}:${childRole}`;
      if (seen.has(key)) return;
      seen.add(key);
      m.grow(1);
      enqueue({ oid: child, role: childRole, need: { ref: need.ref, path: childPath } });
    };
    const at = need.path;
    if (type === "commit" || type === "tag") {
      const l = headerLinks(oid, type, content);
      const label = (id: GitOid) => `${type} ${id.slice(0, 12)}`;
      if (l.tree) follow(l.tree, "tree", "");
      for (const p of l.parents) follow(p, "any", label(p));
      if (l.object) follow(l.object, "any", label(l.object));
    } else if (type === "tree") {
      for (const e of parseTree(content, oid)) {
        if (e.mode === "160000") continue;
        const rel = at && !/^(commit|tag) /.test(at) ? `${at}/${e.name}` : e.name;
        if (e.mode === "040000") follow(e.oid, e.name === MANIFEST_TREE ? "manifest" : "tree", rel);
        else follow(e.oid, role === "manifest" ? "shard" : e.name === FILE_LIST ? "filelist" : "blob", rel);
      }
    } else if (role === "shard" || role === "filelist") {
      const what = `${role === "shard" ? "manifest shard" : "file list"} ${at} (needed by ${need.ref})`;
      const entries = role === "shard" ? decodeShard(content, what).entries : decodeFileList(content, what);
      for (const c of entries) if (!graph.chunks.has(c.id)) graph.chunks.set(c.id, { ref: need.ref, path: at, size: c.size });
    }
  });
  return graph;
}

function roleType(role: Role): string {
  return role === "any" ? "commit" : role === "tree" || role === "manifest" ? "tree" : "blob";
}

async function readObject(remote: RemoteRepo, local: Repository | null, oid: GitOid, where: string): Promise<{ type: GitType; content: Buffer; fromRemote: boolean } | null> {
  if (local && (await local.git.typeOf(oid))) {
    const o = await local.git.readObject(oid, where);
    return { type: o.type as GitType, content: o.content, fromRemote: false };
  }
  const got = await remote.backend.get(gitObjectKey(oid));
  if (!got) throw new MissingObjectError(oid, `Git object (${where}) on the remote ${remote.url}:`);
  const obj = decodeLoose(oid, got.bytes, `${where}, on the remote ${remote.url}`);
  return { ...obj, fromRemote: true };
}

export interface RefProblem {
  ref: string;
  key: string;
  detail: string;
}

/**
 * Every ref on the remote with the id it holds, read from the ref objects
 * themselves (git/refs/…; http: git/info/refs). Unlike fetch, a name tdv
 * would not take is kept: its objects are still the remote's. A ref object
 * that holds no id is a problem.
 */
export async function readRemoteRoots(remote: RemoteRepo): Promise<{ roots: Map<string, GitOid>; problems: RefProblem[] }> {
  const roots = new Map<string, GitOid>();
  const problems: RefProblem[] = [];
  if (!remote.backend.writable) {
    for (const [ref, r] of await remote.listRefs()) roots.set(ref, r.oid);
    return { roots, problems };
  }
  const keys: string[] = [];
  for await (const key of remote.backend.list("git/refs/")) keys.push(key);
  keys.sort();
  const dec = new TextDecoder();
  await drain(keys, 16, async (key) => {
    const got = await remote.backend.get(key);
    if (!got) return; // deleted since the listing
    const v = dec.decode(got.bytes).trim();
    if (/^[0-9a-f]{40}$/.test(v)) roots.set(key.slice("git/".length), v as GitOid);
    else problems.push({ ref: key.slice("git/".length), key, detail: `holds "${v.slice(0, 60)}", not a commit id` });
  });
  return { roots: new Map([...roots].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), problems };
}
