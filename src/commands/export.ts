/**
 * `tdv export`: the files of a revision, or of some paths in it, written out
 * of version control, as a plain folder (`to`) or one zip archive (`zip`).
 * Read through a read session (src/session), so it works the same over a
 * local repository and a remote's revisions, reads only what it exports, and
 * verifies every object's bytes against its hash before writing them.
 *
 * What is exported is what a checkout of those paths writes (`tdv sparse set
 * PATH...`, cone mode): the files under each path, and the files directly in
 * the root and in the folders on the way to a path (a group's zarr.json,
 * .zgroup, .zattrs), so that a Zarr reader opens the hierarchy. No path: every
 * file of the revision.
 *
 * A zip of exactly one folder (`tdv export v1 weather.zarr --zip w.zip`) holds
 * that folder's files at its root (`zarr.ZipStore("w.zip")` opens the group
 * itself); any other zip holds the files under their paths in the tree, as the
 * folder export does.
 *
 * Nothing appears under the target's name until the export is complete: a
 * folder is written in a temporary folder beside it and renamed, a zip is
 * written to a temporary file beside it and renamed. A failure removes the
 * temporary; one left by a killed export is removed by the next export to the
 * same target.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ExportTargetExistsError, InterruptedError, PathNotFoundError, TdvError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { isUnder, pathParts } from "../format/paths.js";
import { asAccessError } from "../store/atomic.js";
import { createZipFile } from "../store/zip-file.js";
import type { FileAt, ReadSession } from "../session/read.js";
import type { RevisionSource } from "../session/source.js";
import { TreeWriter } from "../worktree/worktree.js";

export interface ExportProgress {
  phase: string;
  /** files written */
  done: number;
  bytes: number;
}

export interface ExportOptions {
  /** a branch, tag, commit id, `REV~N`, `main@{DATE}` */
  rev: string;
  /** paths in the tree, relative to its root (folders or files); none or "": every file */
  paths?: readonly string[];
  /** a folder that does not exist or is empty */
  to?: string;
  /** a zip file that does not exist (or is replaced, with `force`) */
  zip?: string;
  /** replace an existing zip file */
  force?: boolean;
  onProgress?: (p: ExportProgress) => void;
  /** stops the export between two files; what it wrote is removed */
  signal?: AbortSignal;
  /** files read while one is written (default 4), holding at most 16 MiB (a larger file is read alone); 0: one file at a time */
  readAhead?: number;
  /** ZIP64 records for every entry (tests of zip readers) */
  forceZip64?: boolean;
}

export interface ExportResult {
  /** the commit exported */
  commit: GitOid;
  /** the paths exported, as given in the tree ([] for every file) */
  paths: string[];
  /** the folder or zip written (absolute) */
  target: string;
  format: "folder" | "zip";
  /** a zip's entries are relative to this path in the tree ("" for the root) */
  root: string;
  files: number;
  /** bytes of the files exported */
  bytes: number;
  /** bytes of the zip file (its headers and central directory included); the same as `bytes` for a folder */
  size: number;
}

/** Export revision `rev` (or some paths of it) from `source` to a folder or a zip. */
export async function exportRevision(source: RevisionSource, opts: ExportOptions): Promise<ExportResult> {
  if ((opts.to === undefined) === (opts.zip === undefined)) {
    throw new UsageError("name one target: --to DIR (a folder) or --zip FILE", { hint: "e.g. `tdv export v1.0 weather.zarr --to weather-v1` or `--zip weather-v1.zip`" });
  }
  const format = opts.to !== undefined ? "folder" : "zip";
  const target = path.resolve((opts.to ?? opts.zip) as string);
  const paths = normalizePaths(opts.paths ?? []);
  checkTarget(target, format, opts.force === true);
  removeStale(target);

  const session = await source.open(opts.rev);
  const kinds = new Map<string, "file" | "folder">();
  for (const p of paths) kinds.set(p, await kindOf(session, p, opts.rev));
  // a zip of one folder holds it at its root
  const root = format === "zip" && paths.length === 1 && kinds.get(paths[0] as string) === "folder" ? (paths[0] as string) : "";
  const files = filesOf(session, paths, root !== "");

  let written = 0;
  let bytes = 0;
  const step = (n: number) => {
    written++;
    bytes += n;
    opts.onProgress?.({ phase: "exporting", done: written, bytes });
  };
  const reads = readAhead(session, files, Math.max(0, opts.readAhead ?? 4), opts.signal);
  const tmpBase = path.join(path.dirname(target), `.${path.basename(target)}.tdv-export-${process.pid}-${randomBytes(3).toString("hex")}`);

  if (format === "folder") {
    const tmp = tmpBase;
    try {
      fs.mkdirSync(tmp);
    } catch (err) {
      throw asAccessError(err, tmp);
    }
    try {
      const w = new TreeWriter(tmp);
      for await (const { file, data } of reads) {
        w.writeSync(file.path, data);
        step(data.length);
      }
      placeFolder(tmp, target);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return { commit: session.commit, paths, target, format, root: "", files: written, bytes, size: bytes };
  }

  const tmp = `${tmpBase}.tmp`;
  const c = session.info.committer;
  // entries dated with the committer's local time, as git archive dates them: the same revision gives the same zip
  const out = createZipFile(tmp, `${tmpBase}.cd`, { mtime: new Date((c.timestamp + c.tzOffset * 60) * 1000), forceZip64: opts.forceZip64 === true });
  let size = 0;
  try {
    for await (const { file, data } of reads) {
      out.zip.add(root ? file.path.slice(root.length + 1) : file.path, data);
      step(data.length);
    }
    size = out.zip.finish().bytes;
    out.sync();
    out.close();
    placeFile(tmp, target, opts.force === true);
  } catch (err) {
    out.close();
    fs.rmSync(tmp, { force: true });
    throw err instanceof TdvError ? err : asAccessError(err, target);
  }
  return { commit: session.commit, paths, target, format, root, files: written, bytes, size };
}

/** Paths in the tree as given: "./a/" is "a", "" or "." the whole tree; paths inside another are dropped; `..` and the like refused. */
function normalizePaths(raw: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of raw) {
    const p = r.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
    if (p === "" || p === ".") return [];
    out.add(pathParts(p, "export path").join("/"));
  }
  const sorted = [...out].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && isUnder(p, q)));
}

/** Whether `p` names a file or a folder of the session's tree; PathNotFoundError when neither. */
async function kindOf(session: ReadSession, p: string, rev: string): Promise<"file" | "folder"> {
  if (await session.file(p)) return "file";
  const it = session.walk(p);
  const first = await it.next();
  await it.return(undefined);
  if (first.done) throw new PathNotFoundError(p, `in ${rev} (nothing there to export)`);
  return "folder";
}

/**
 * The files to export: under each path, and (unless `rootedAtPath`) those
 * directly in the root and in each folder on the way to a path, each once.
 */
async function* filesOf(session: ReadSession, paths: readonly string[], rootedAtPath: boolean): AsyncGenerator<FileAt> {
  if (paths.length === 0) {
    yield* session.walk("");
    return;
  }
  const seen = new Set<string>();
  if (!rootedAtPath) {
    const folders = new Set<string>([""]);
    for (const p of paths) for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) folders.add(p.slice(0, i));
    for (const dir of [...folders].sort()) {
      const listing = await session.list(dir);
      for (const f of listing?.files ?? []) {
        if (paths.some((p) => isUnder(f.path, p))) continue; // the walk of that path writes it
        seen.add(f.path);
        yield f;
      }
    }
  }
  for (const p of paths) {
    for await (const f of session.walk(p)) if (!seen.has(f.path)) yield f;
  }
}

/** Files read ahead hold at most this many bytes (a larger file is read alone). */
const READ_AHEAD_BYTES = 16 << 20;
/** What a Git blob (size unknown until read: metadata, small plain files) counts for in that bound. */
const BLOB_GUESS = 64 << 10;

/**
 * Each file with its verified bytes, in order, up to `ahead` reads started
 * before the one being handed out while the files read ahead hold at most
 * READ_AHEAD_BYTES: memory stays bounded by that or by one file, and reads
 * (a thread-pool round trip, or a remote's request) overlap the writes.
 */
async function* readAhead(session: ReadSession, files: AsyncGenerator<FileAt>, ahead: number, signal: AbortSignal | undefined): AsyncGenerator<{ file: FileAt; data: Uint8Array }> {
  const queue: { file: FileAt; cost: number; data: Promise<Uint8Array> }[] = [];
  let inFlight = 0;
  const stopped = () => {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError("abort");
  };
  async function* drain(keep: number, adding: number): AsyncGenerator<{ file: FileAt; data: Uint8Array }> {
    while (queue.length > keep || (queue.length > 0 && inFlight + adding > READ_AHEAD_BYTES)) {
      const next = queue.shift() as (typeof queue)[number];
      const data = await next.data;
      inFlight -= next.cost;
      yield { file: next.file, data };
      stopped();
    }
  }
  try {
    for await (const file of files) {
      stopped();
      const cost = file.size >= 0 ? file.size : BLOB_GUESS;
      yield* drain(ahead, cost);
      const data = session.read(file);
      data.catch(() => {}); // awaited in order by drain
      queue.push({ file, cost, data });
      inFlight += cost;
    }
    yield* drain(0, 0);
  } finally {
    await files.return(undefined);
  }
}

/** Refuse a target that exists: a folder that is not empty (or a file there), a file without `force` (or a folder there). */
function checkTarget(target: string, format: "folder" | "zip", force: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      const parent = path.dirname(target);
      if (!fs.existsSync(parent)) throw new ExportTargetExistsError(target, `its folder ${parent} does not exist`, "make the folder first, or name a target in an existing folder");
      return;
    }
    throw asAccessError(err, target);
  }
  if (format === "folder") {
    if (!st.isDirectory()) throw new ExportTargetExistsError(target, "a file of that name exists", "name a folder that does not exist yet (or an empty one)");
    if (fs.readdirSync(target).length > 0) {
      throw new ExportTargetExistsError(target, "the folder is not empty", "name a folder that does not exist yet, or an empty one; nothing was written");
    }
    return;
  }
  if (st.isDirectory()) throw new ExportTargetExistsError(target, "a folder of that name exists", "name a zip file, e.g. export.zip");
  if (!force) throw new ExportTargetExistsError(target, "the file exists", "pass --force to replace it, or name another file; nothing was written");
}

/** Rename the finished folder `tmp` to `target` (which does not exist, or is an empty folder). */
function placeFolder(tmp: string, target: string): void {
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") {
      throw new ExportTargetExistsError(target, "something was written there while the export ran", "name another folder; nothing was written");
    }
    throw asAccessError(err, target);
  }
}

/** Put the finished zip `tmp` at `target`: replacing a file only with `force` (a link fails on one made while the export ran). */
function placeFile(tmp: string, target: string, force: boolean): void {
  if (force) {
    fs.renameSync(tmp, target);
    return;
  }
  try {
    fs.linkSync(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new ExportTargetExistsError(target, "a file of that name was made while the export ran", "pass --force to replace it, or name another file; nothing was written");
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
    fs.renameSync(tmp, target); // a file system without hard links
    return;
  }
  fs.rmSync(tmp, { force: true });
}

/** Remove what a killed export to `target` left beside it (its process no longer runs). */
function removeStale(target: string): void {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.tdv-export-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
