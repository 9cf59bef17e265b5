/**
 * Releases: annotated tags that record the rules' verdict on the commit, its
 * arrays with what `verify` recomputes (manifest and metadata ids, chunk
 * counts and bytes), and the commits since the previous release with their
 * trailers (format/release.ts). A release tag moves or goes only with
 * `force`; `verifyRelease` re-checks that everything it names is intact.
 */
import { CorruptObjectError, MissingObjectError, RefExistsError, TdvError, UnavailableChunkError, UsageError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { MANIFEST_TREE } from "../format/manifest.js";
import { formatReleaseMessage, ReleaseProtectedError, parseReleaseMessage, parseTrailers, type ReleaseArray, type ReleaseCommit, type ReleaseRecord, type ReleaseVerdict, RELEASE_FORMAT } from "../format/release.js";
import { readFolder, readShard } from "../repo/folder-read.js";
import { commitsSince, isAncestor } from "../repo/history.js";
import type { Repository } from "../repo/repository.js";
import { readRef, resolveRevision } from "../repo/revision.js";
import { walkReachable } from "../repo/walk.js";
import { checkRefName } from "../store/refs.js";
import { checkRevision, ReleaseRefusedError, type Verdict } from "../rules/index.js";

const TAGS = "refs/tags/";

export interface ReleaseOptions {
  name: string;
  /** the revision to release (default HEAD) */
  rev?: string;
  message: string;
  /** replace a release (or tag) of that name */
  force?: boolean;
  /** release even though the rules fail, with this reason recorded in the tag */
  allowFailing?: string;
  /** the rules check of a commit (default: checkRevision, tdv check's) */
  check?: (repo: Repository, commit: GitOid, onProgress: (p: { done: number; total: number }) => void) => Promise<Verdict>;
  onProgress?: (p: ReleaseProgress) => void;
}

/** Progress of a release or a verify: the phase, a count (of `total` when known) and bytes read. */
export interface ReleaseProgress {
  phase: string;
  done: number;
  total?: number;
  bytes: number;
  unit?: string;
}

export interface ReleaseResult {
  tag: string;
  tagOid: GitOid;
  previous: GitOid | null;
  record: ReleaseRecord;
}

export function release(repo: Repository, opts: ReleaseOptions): Promise<ReleaseResult> {
  if (typeof opts.message !== "string" || opts.message.trim() === "") throw new UsageError("a release needs a message", { hint: 'say what is released: `tdv release v1.0 -m "the June product"`' });
  if (opts.allowFailing !== undefined && opts.allowFailing.trim() === "") throw new UsageError("--allow-failing needs a reason", { hint: 'it is recorded in the release: `--allow-failing "known gap in 2024-06-03, reprocessing"`' });
  return repo.writing("release", () => _release(repo, opts));
}

const defaultCheck: NonNullable<ReleaseOptions["check"]> = (repo, commit, onProgress) => checkRevision(repo, commit, { onProgress });

async function _release(repo: Repository, { name, rev = "HEAD", message, force = false, allowFailing, check = defaultCheck, onProgress }: ReleaseOptions): Promise<ReleaseResult> {
  checkRefName(name);
  const ref = TAGS + name;
  const commit = await resolveRevision(repo, rev);
  const previousOid = await readRef(repo, ref);
  if (previousOid !== null && !force) {
    if ((await releaseAt(repo, previousOid)) !== null) throw new ReleaseProtectedError(name, "move");
    throw new RefExistsError(ref);
  }
  const v = await check(repo, commit, (p) => onProgress?.({ phase: "checking rules", done: p.done, total: p.total, bytes: 0, unit: "chunks" }));
  if (!v.passed && allowFailing === undefined) throw new ReleaseRefusedError(name, commit, v.failures);
  const verdict: ReleaseVerdict = {
    passed: v.passed,
    rules: v.rules,
    arraysChecked: v.arraysChecked,
    chunksRead: v.chunksRead,
    failures: v.failures.length,
    since: v.since,
    override: v.passed ? null : { reason: (allowFailing as string).trim() },
  };
  onProgress?.({ phase: "recording arrays", done: 0, bytes: 0, unit: "arrays" });
  const c = await repo.git.readCommit(commit);
  const arrays = await releaseArrays(repo, c.tree);
  const prev = await previousRelease(repo, commit, name);
  const commits = (await commitsSince(repo, commit, prev ? [prev.commit] : [])).map(
    (x): ReleaseCommit => ({
      oid: x.oid,
      author: { name: x.author.name, email: x.author.email, date: new Date(x.author.timestamp * 1000).toISOString() },
      subject: x.message.split("\n")[0] ?? "",
      trailers: parseTrailers(x.message),
    }),
  );
  const record: ReleaseRecord = { format: RELEASE_FORMAT, tag: name, commit, tree: c.tree, message: message.trim(), verdict, arrays, previous: prev, commits };
  const who = repo.identity();
  const tagOid = await repo.git.writeTag({ object: commit, type: "commit", tag: name, tagger: who, message: formatReleaseMessage(record) });
  // one compare-and-swap: the tag appears (or moves, with force) whole, or not at all
  await repo.refs.update(ref, { expected: previousOid, next: tagOid, who, message: `release: ${name} at ${rev}` }).catch((err: unknown) => {
    if (previousOid === null && isTdvErrorTag(err, "BranchMovedError")) throw new RefExistsError(ref);
    throw err;
  });
  return { tag: name, tagOid, previous: previousOid, record };
}

function isTdvErrorTag(err: unknown, tag: string): boolean {
  return err instanceof TdvError && err._tag === tag;
}

/** The arrays of a snapshot tree with their manifest and metadata ids, chunk counts and bytes; sorted by path. */
export async function releaseArrays(repo: Repository, tree: GitOid, onChunk?: (id: ChunkId, label: string) => void): Promise<ReleaseArray[]> {
  const out: ReleaseArray[] = [];
  const visit = async (oid: GitOid, path: string): Promise<void> => {
    const folder = await readFolder(repo, oid, path);
    const a = folder.array;
    if (a) {
      let chunks = 0;
      let bytes = 0;
      for (const shard of a.shardOids.keys()) {
        for (const e of await readShard(repo, folder, shard)) {
          onChunk?.(e.id, `${path || "."} chunk [${e.index.join(",")}]`);
          chunks++;
          bytes += e.size;
        }
      }
      const entry = (n: string) => folder.entries.find((e) => e.name === n && e.mode !== "040000");
      out.push({
        path,
        metadataDoc: a.docName,
        metadata: (entry(a.docName) as { oid: GitOid }).oid,
        attributes: entry(".zattrs")?.oid ?? null,
        manifest: a.manifestOid,
        chunks,
        bytes,
      });
    }
    for (const e of folder.entries) if (e.mode === "040000" && e.name !== MANIFEST_TREE) await visit(e.oid, path ? `${path}/${e.name}` : e.name);
  };
  await visit(tree, "");
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** The record of the release whose tag object is `oid` (null: not an annotated tag, or no release). */
async function releaseAt(repo: Repository, oid: GitOid): Promise<ReleaseRecord | null> {
  if ((await repo.git.typeOf(oid)) !== "tag") return null;
  return parseReleaseMessage((await repo.git.readTag(oid)).message);
}

/** The newest release (other than `except`) whose commit is `commit` or one of its ancestors. */
async function previousRelease(repo: Repository, commit: GitOid, except: string): Promise<{ tag: string; commit: GitOid } | null> {
  let best: { tag: string; commit: GitOid; time: number } | null = null;
  for (const r of await listReleases(repo)) {
    if (r.tag === except || (best && r.time <= best.time)) continue;
    if ((await repo.git.typeOf(r.commit)) !== "commit" || !(await isAncestor(repo, r.commit, commit))) continue;
    best = { tag: r.tag, commit: r.commit, time: r.time };
  }
  return best ? { tag: best.tag, commit: best.commit } : null;
}

export interface ReleaseInfo {
  tag: string;
  tagOid: GitOid;
  commit: GitOid;
  /** the tagger's date, ISO 8601 */
  date: string;
  /** seconds since the epoch */
  time: number;
  tagger: { name: string; email: string } | null;
  passed: boolean;
  override: { reason: string } | null;
  subject: string;
  arrays: number;
  commits: number;
  previous: string | null;
}

/** Every release tag, newest first (by the tagger's date, then name). */
export async function listReleases(repo: Repository): Promise<ReleaseInfo[]> {
  const out: ReleaseInfo[] = [];
  for (const [ref, oid] of await repo.refs.list(TAGS)) {
    if ((await repo.git.typeOf(oid).catch(() => null)) !== "tag") continue;
    // a tag object that cannot be read is no release to list (`tdv verify TAG` and `tdv fsck` name it)
    const tag = await repo.git.readTag(oid).catch(() => null);
    if (!tag) continue;
    const r = parseReleaseMessage(tag.message);
    if (!r) continue;
    const time = tag.tagger?.timestamp ?? 0;
    out.push({
      tag: ref.slice(TAGS.length),
      tagOid: oid,
      commit: tag.object,
      date: new Date(time * 1000).toISOString(),
      time,
      tagger: tag.tagger ? { name: tag.tagger.name, email: tag.tagger.email } : null,
      passed: r.verdict?.passed === true,
      override: r.verdict?.override ?? null,
      subject: (r.message ?? "").split("\n")[0] ?? "",
      arrays: r.arrays.length,
      commits: r.commits.length,
      previous: r.previous?.tag ?? null,
    });
  }
  // newest first; within one second, a release that follows another (its previous) first
  return out.sort((a, b) => b.time - a.time || (a.previous === b.tag ? -1 : b.previous === a.tag ? 1 : a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

/** A release's tag and record, or null when NAME is not a release. */
export async function readRelease(repo: Repository, name: string): Promise<{ tag: string; tagOid: GitOid; tagger: { name: string; email: string; date: string } | null; record: ReleaseRecord } | null> {
  checkRefName(name);
  const oid = await readRef(repo, TAGS + name);
  if (oid === null || (await repo.git.typeOf(oid)) !== "tag") return null;
  const tag = await repo.git.readTag(oid);
  const record = parseReleaseMessage(tag.message);
  if (!record) return null;
  const tagger = tag.tagger ? { name: tag.tagger.name, email: tag.tagger.email, date: new Date(tag.tagger.timestamp * 1000).toISOString() } : null;
  return { tag: name, tagOid: oid, tagger, record };
}

/** Whether the tag NAME is a release (protected: moved or deleted only with force). */
export async function isReleaseTag(repo: Repository, name: string): Promise<boolean> {
  const oid = await readRef(repo, TAGS + name);
  return oid !== null && (await releaseAt(repo, oid)) !== null;
}

export type VerifyProblemKind = "tag" | "commit" | "tree" | "blob" | "chunk" | "array" | "not-local";

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** the object or array path concerned */
  object: string;
  /** where it was met (a path in the snapshot), when known */
  path: string | null;
  message: string;
}

export interface VerifyResult {
  tag: string;
  tagOid: GitOid | null;
  commit: GitOid | null;
  ok: boolean;
  gitObjects: number;
  chunks: number;
  /** chunks a lazy clone fetched from its remote (and verified) to check them */
  fetched: number;
  arrays: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  name: string;
  /** in a lazy clone, fetch (and verify) the chunks that are not local; false: list them as not local (default true) */
  fetch?: boolean;
  concurrency?: number;
  onProgress?: (p: ReleaseProgress) => void;
}

/**
 * Re-check a release: its tag object (hash, name, the commit it names, the
 * ref's reflog), the commit and every tree, blob and chunk object it reaches
 * (each re-hashed), and the recorded arrays against the ones recomputed from
 * the commit. Problems are listed, never thrown (`ok` false).
 */
export async function verifyRelease(repo: Repository, { name, fetch = true, concurrency = 8, onProgress }: VerifyOptions): Promise<VerifyResult> {
  checkRefName(name);
  const ref = TAGS + name;
  const res: VerifyResult = { tag: name, tagOid: null, commit: null, ok: false, gitObjects: 0, chunks: 0, fetched: 0, arrays: 0, problems: [] };
  const problem = (kind: VerifyProblemKind, object: string, path: string | null, message: string) => res.problems.push({ kind, object, path, message });
  const tagOid = await readRef(repo, ref);
  if (tagOid === null) throw new UsageError(`no tag '${name}'`, { hint: "`tdv log --releases` lists the releases" });
  res.tagOid = tagOid;
  let record: ReleaseRecord | null = null;
  let named: GitOid | null = null;
  try {
    const type = await repo.git.typeOf(tagOid);
    if (type !== "tag") {
      problem("tag", tagOid, ref, `${ref} points to a ${type ?? "missing object"}, not to a release's tag object`);
    } else {
      const tag = await repo.git.readTag(tagOid); // re-hashed on read
      res.gitObjects++;
      named = tag.object;
      record = parseReleaseMessage(tag.message);
      if (!record) problem("tag", tagOid, ref, `the tag object of ${name} holds no release record`);
      if (tag.tag !== name) problem("tag", tagOid, ref, `the tag object is named '${tag.tag}', not '${name}'`);
      if (record && record.commit !== tag.object) problem("tag", tagOid, ref, `the record names commit ${record.commit} but the tag object names ${tag.object}`);
      if (record && record.tag !== name) problem("tag", tagOid, ref, `the record is of release '${record.tag}', not '${name}'`);
    }
  } catch (err) {
    problem("tag", tagOid, ref, describe(err));
  }
  // a tag rewritten behind tdv's back: the ref no longer holds what its reflog last recorded
  const log = await repo.refs.reflog(ref).catch(() => []);
  const last = log[log.length - 1];
  if (last && last.next !== tagOid) problem("tag", tagOid, ref, `${ref} was rewritten outside tdv: its reflog last set it to ${last.next}`);
  if (named === null) return finish(res);
  res.commit = named;

  let tree: GitOid | null = null;
  try {
    const c = await repo.git.readCommit(named);
    res.gitObjects++;
    tree = c.tree;
    if (record && record.tree !== c.tree) problem("commit", named, null, `the commit's tree is ${c.tree}, the release recorded ${record.tree}`);
  } catch (err) {
    problem("commit", named, null, describe(err));
    return finish(res);
  }

  // the arrays recomputed from the commit (naming each chunk by its array and index), then compared with the record
  const labels = new Map<string, string>();
  let now: ReleaseArray[] | null = null;
  try {
    now = await releaseArrays(repo, tree, (id, label) => {
      if (!labels.has(id)) labels.set(id, label);
    });
  } catch (err) {
    problem("array", "", null, describe(err));
  }
  if (record && now) compareArrays(record.arrays, now, problem);
  res.arrays = now?.length ?? 0;

  // every Git object and chunk the snapshot reaches, re-hashed
  onProgress?.({ phase: "checking objects", done: 0, bytes: 0, unit: "objects" });
  const chunks = new Map<ChunkId, string>();
  try {
    await walkReachable(repo, { roots: [named], history: false }, {
      git: async (oid, type, path) => {
        if (type === "commit") return;
        try {
          await repo.git.readObject(oid, path || type);
          res.gitObjects++;
        } catch (err) {
          problem(type === "tag" ? "tag" : type, oid, path || null, describe(err));
        }
      },
      chunk: (id, _size, path) => {
        if (!chunks.has(id)) chunks.set(id, labels.get(id) ?? path);
      },
    });
  } catch (err) {
    const oid = err instanceof CorruptObjectError || err instanceof MissingObjectError ? err.id : "";
    problem("tree", oid, null, describe(err));
  }
  const list = [...chunks];
  let done = 0;
  let bytes = 0;
  const report = () => onProgress?.({ phase: "checking chunks", done, total: list.length, bytes, unit: "chunks" });
  report();
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const [id, path] = list[next++] as [ChunkId, string];
      try {
        const local = await repo.chunks.has(id);
        if (!local && (!fetch || !repo.chunks.fallback)) {
          problem("not-local", id, path, `chunk ${id} of ${path} is not in this repository${repo.chunks.fallback ? " (verify without --no-fetch fetches it)" : ""}`);
        } else {
          bytes += (await repo.chunks.get(id, path)).byteLength; // re-hashed on read; a lazy clone fetches, verifies and keeps it
          if (!local) res.fetched++;
          res.chunks++;
        }
      } catch (err) {
        problem(err instanceof UnavailableChunkError ? "not-local" : "chunk", id, path, describe(err));
      }
      done++;
      if (done % 64 === 0) report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, list.length)) }, worker));
  report();

  return finish(res);
}

function compareArrays(recordedList: readonly ReleaseArray[], now: readonly ReleaseArray[], problem: (kind: VerifyProblemKind, object: string, path: string | null, message: string) => void): void {
  const recorded = new Map(recordedList.map((a) => [a.path, a]));
  for (const a of now) {
    const r = recorded.get(a.path);
    recorded.delete(a.path);
    if (!r) {
      problem("array", a.path, a.path, `array ${a.path || "."} is in the commit but not in the release record`);
      continue;
    }
    for (const k of ["metadataDoc", "metadata", "attributes", "manifest", "chunks", "bytes"] as const) {
      if (r[k] !== a[k]) problem("array", a.path, a.path, `array ${a.path || "."}: ${k} is ${String(a[k])}, the release recorded ${String(r[k])}`);
    }
  }
  for (const p of recorded.keys()) problem("array", p, p, `array ${p || "."} is in the release record but not in the commit`);
}

function finish(res: VerifyResult): VerifyResult {
  res.ok = res.problems.length === 0;
  return res;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
