/**
 * Reachability: the roots a repository must keep (every ref, HEAD, reflog
 * entry, operation state and the index) and the object files on disk. fsck
 * checks that everything the roots reach is present; gc keeps exactly that.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { isTdvError } from "../errors.js";
import { type ChunkId, type GitOid, isChunkId, isGitOid } from "../format/hash.js";
import { filesUnder } from "../store/files-under.js";
import { fullRefNameProblem } from "../store/refs.js";
import type { Repository } from "./repository.js";

export interface Root {
  /** a Git object id (commit, tag, tree or blob) */
  oid: GitOid;
  /** what holds it: "HEAD", "refs/heads/main", "reflog of refs/heads/main", "MERGE_HEAD", "index" */
  label: string;
  /** for a blob or tree of the index: its path */
  path?: string;
}

export interface ChunkRoot {
  id: ChunkId;
  label: string;
  path: string;
}

export interface RootProblem {
  /** the ref, reflog or state file that could not be read */
  file: string;
  message: string;
}

export interface Roots {
  objects: Root[];
  chunks: ChunkRoot[];
  problems: RootProblem[];
  /** malformed reflog lines (a torn append): skipped, reported as warnings */
  warnings: string[];
  counts: { refs: number; reflogEntries: number; indexEntries: number; other: number };
}

/**
 * Everything the repository must keep, in a stable order: HEAD, refs, special
 * heads, operation state, reflogs, the index. Unreadable refs and state files
 * are returned as problems, never skipped silently.
 */
export async function collectRoots(repo: Repository): Promise<Roots> {
  const gitdir = repo.refs.gitdir;
  const out: Roots = { objects: [], chunks: [], problems: [], warnings: [], counts: { refs: 0, reflogEntries: 0, indexEntries: 0, other: 0 } };
  const problem = (file: string, err: unknown) =>
    out.problems.push({ file, message: isTdvError(err, "BadRefError") ? `${err.message}: ${err.hint}` : err instanceof Error ? err.message : String(err) });

  // HEAD: symbolic (its branch is listed with the refs) or detached
  const head = (await fsp.readFile(path.join(gitdir, "HEAD"), "utf8").catch(() => null))?.trim() ?? null;
  if (head === null) out.problems.push({ file: "HEAD", message: "HEAD is missing" });
  else if (isGitOid(head)) out.objects.push({ oid: head, label: "HEAD" });
  else if (!head.startsWith("ref: ")) out.problems.push({ file: "HEAD", message: `HEAD holds "${head.slice(0, 60)}", neither a commit id nor "ref: refs/…"` });
  else {
    try {
      const branch = (await repo.refs.head()).oid;
      if (branch) out.objects.push({ oid: branch, label: "HEAD" });
    } catch (err) {
      // HEAD naming no valid ref inside refs/ is HEAD's problem; a bad ref file it leads to is reported below
      if (isTdvError(err, "BadRefError") && err.ref === "HEAD") problem("HEAD", err);
    }
  }

  // every ref: loose files are read one by one so that a bad one is named
  const loose = await listFiles(path.join(gitdir, "refs"), "refs");
  for (const name of loose) {
    if (name.endsWith(".lock") || name.includes(".tmp-")) continue;
    const bad = fullRefNameProblem(name);
    if (bad !== null) {
      // a file a tdv or git command never writes: its name could not be read back as a ref
      out.problems.push({ file: name, message: `ref ${name}: git refuses its name (${bad}); rename or remove ${path.join(gitdir, ...name.split("/"))}` });
      continue;
    }
    try {
      const oid = await repo.refs.read(name);
      if (oid) {
        out.objects.push({ oid, label: name });
        out.counts.refs++;
      }
    } catch (err) {
      problem(name, err);
    }
  }
  // packed refs (written by stock `git pack-refs`), with their peeled values
  const packed = await fsp.readFile(path.join(gitdir, "packed-refs"), "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    problem("packed-refs", err);
    return "";
  });
  const seenRefs = new Set(loose);
  let last = "packed-refs";
  for (const line of packed.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^\^?([0-9a-f]{40})(?: (\S+))?$/.exec(line);
    if (!m) {
      out.problems.push({ file: "packed-refs", message: `malformed line "${line.slice(0, 60)}"` });
      continue;
    }
    const name = m[2] ?? last;
    if (m[2]) last = m[2];
    const bad = m[2] ? fullRefNameProblem(m[2]) : null;
    if (bad !== null) out.problems.push({ file: "packed-refs", message: `packed-refs names '${name.slice(0, 200)}', which git refuses as a ref name (${bad}): delete its line from ${path.join(gitdir, "packed-refs")}` });
    if (seenRefs.has(name) && m[2]) continue; // the loose ref wins
    out.objects.push({ oid: m[1] as GitOid, label: name });
    if (m[2]) out.counts.refs++;
  }

  // MERGE_HEAD, ORIG_HEAD, FETCH_HEAD, …: every line's first id
  for (const name of (await fsp.readdir(gitdir).catch(() => [] as string[])).sort()) {
    if (!/^[A-Z_]+_HEAD$/.test(name)) continue;
    const text = await fsp.readFile(path.join(gitdir, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      const id = /^([0-9a-f]{40})\b/.exec(line)?.[1];
      if (id) {
        out.objects.push({ oid: id as GitOid, label: name });
        out.counts.other++;
      }
    }
  }

  // an in-progress operation's state (MERGE_STATE.json, …): every id it names
  for (const name of (await fsp.readdir(repo.tdvDir).catch(() => [] as string[])).sort()) {
    if (!/^[A-Z_]+_STATE\.json$/.test(name)) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(await fsp.readFile(path.join(repo.tdvDir, name), "utf8"));
    } catch (err) {
      problem(name, err);
      continue;
    }
    for (const id of hexStrings(doc)) {
      if (isGitOid(id)) out.objects.push({ oid: id, label: name });
      else if (isChunkId(id)) out.chunks.push({ id, label: name, path: name });
      out.counts.other++;
    }
  }

  // reflogs: both sides of every move
  for (const ref of await reflogRefs(repo)) {
    const file = path.join(gitdir, "logs", ...ref.split("/"));
    const text = await fsp.readFile(file, "utf8").catch(() => "");
    let entries: Awaited<ReturnType<typeof repo.refs.reflog>>;
    try {
      entries = await repo.refs.reflog(ref);
    } catch (err) {
      problem(`logs/${ref}`, err);
      continue;
    }
    const lines = text.split("\n").filter((l) => l.trim() !== "").length;
    if (lines !== entries.length) out.warnings.push(`reflog of ${ref}: ${lines - entries.length} malformed ${lines - entries.length === 1 ? "line" : "lines"} skipped`);
    for (const e of entries) {
      out.counts.reflogEntries++;
      for (const oid of [e.old, e.next]) if (oid) out.objects.push({ oid, label: `reflog of ${ref}` });
    }
  }

  // the index: staged objects and the tree it caches
  try {
    const index = await repo.readIndex();
    if (index.tree) out.objects.push({ oid: index.tree, label: "index" });
    for (const [p, e] of index.entries) {
      out.counts.indexEntries++;
      if (e.store === "git") out.objects.push({ oid: e.id, label: "index", path: p });
      else out.chunks.push({ id: e.id, label: "index", path: p });
    }
  } catch (err) {
    problem("index", err);
  }
  return out;
}

/** Every 40- or 64-hex string anywhere in a JSON document. */
function hexStrings(doc: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(v)) out.push(v);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(doc);
  return out;
}

/** Relative paths of the files under `dir` (prefixed with `rel`), recursively. */
async function listFiles(dir: string, rel: string): Promise<string[]> {
  return (await filesUnder(dir)).map((f) => `${rel}/${f.rel}`).sort();
}

export interface StoredObject {
  /** Git object id or chunk id */
  id: string;
  file: string;
}

export interface ObjectListing {
  git: StoredObject[];
  chunks: StoredObject[];
  /** temp files of writes that never finished (killed processes) */
  temp: string[];
  /** files in the object folders that are none of these */
  other: string[];
}

/** The loose Git objects, chunk objects and leftover temp files on disk. */
export async function listObjectFiles(repo: Repository): Promise<ObjectListing> {
  const out: ObjectListing = { git: [], chunks: [], temp: [], other: [] };
  const scan = async (root: string, nameLen: number, into: StoredObject[]) => {
    for (const fan of (await fsp.readdir(root).catch(() => [] as string[])).sort()) {
      const dir = path.join(root, fan);
      if (!/^[0-9a-f]{2}$/.test(fan)) {
        if (isTemp(fan)) out.temp.push(dir);
        continue;
      }
      for (const name of (await fsp.readdir(dir).catch(() => [] as string[])).sort()) {
        const file = path.join(dir, name);
        if (name.length === nameLen && /^[0-9a-f]+$/.test(name)) into.push({ id: fan + name, file });
        else if (isTemp(name)) out.temp.push(file);
        else out.other.push(file);
      }
    }
  };
  await scan(path.join(repo.refs.gitdir, "objects"), 38, out.git);
  await scan(repo.chunks.dir, 62, out.chunks);
  // packs: temp files of a killed pack write, and a pack whose index was never written (killed between the two)
  const packDir = path.join(repo.refs.gitdir, "objects", "pack");
  const packNames = await fsp.readdir(packDir).catch(() => [] as string[]);
  for (const name of packNames) {
    const orphan = /^pack-[0-9a-f]{40}\.pack$/.test(name) && !packNames.includes(name.replace(/\.pack$/, ".idx"));
    if (isTemp(name) || orphan) out.temp.push(path.join(packDir, name));
  }
  // temp files of atomic writes elsewhere (index, refs), and of working files (.tdv/tmp)
  for (const dir of [repo.tdvDir, repo.refs.gitdir]) {
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) if (isTemp(name)) out.temp.push(path.join(dir, name));
  }
  for (const name of await fsp.readdir(path.join(repo.tdvDir, "tmp")).catch(() => [] as string[])) out.temp.push(path.join(repo.tdvDir, "tmp", name));
  return out;
}

function isTemp(name: string): boolean {
  return name.includes(".tmp-") || name.startsWith("tmp_obj_");
}

/** Full names of every ref that has a reflog ("HEAD", "refs/heads/main", …), sorted. */
export async function reflogRefs(repo: Repository): Promise<string[]> {
  const out: string[] = [];
  for (const { rel, ent } of await filesUnder(path.join(repo.refs.gitdir, "logs"))) {
    if (ent.isFile() && !ent.name.endsWith(".lock") && !ent.name.includes(".tmp-")) out.push(rel);
  }
  return out.sort();
}
