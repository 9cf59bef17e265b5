/**
 * The folder cache: each folder's listing as the last scan read it, kept
 * with the folder's stat data, so that a scan lists again only the folders
 * whose stat data changed (what git's untracked cache does). Adding,
 * removing or renaming a name in a folder changes the folder's mtime and
 * ctime; a folder replaced by another has another inode. A folder whose
 * ctime, mtime and inode are still the recorded ones has the recorded names,
 * and the scan takes them from here instead of opening and reading the
 * folder (open, fstat, two getdents, close: five system calls) and sorting
 * them: one `lstat` of the folder instead. Every file is still `lstat`ed, so
 * a file whose bytes changed is found as before; only the names come from
 * here.
 *
 * Racy folders: a folder changed in the same clock tick as its stat was
 * taken keeps the same times. A listing is recorded only when the folder's
 * mtime and ctime are older than a stamp taken (a file in the repository
 * folder written and its mtime read) before the folder's stat: any change
 * after the stat then has a later time. When the repository folder is not
 * the working tree's own `.tdv` (another file system, maybe another clock
 * or a coarser time), the times must be older than the stamp by 2 s more.
 *
 * The file (`.tdv/folder-cache`, docs/format.md) is a cache: absent, damaged
 * (its SHA-1 does not match) or of another version, it is ignored and
 * written again; older tdv never read it. It is written without fsync (a
 * torn file fails its checksum), and only when the scan recorded a listing
 * it did not have or a recorded folder is gone.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeAtomic } from "../store/atomic.js";

/** A folder's entry: its name, and whether it is a folder (anything else is `lstat`ed by the scan). */
export interface FolderEntry {
  name: string;
  dir: boolean;
}

const VERSION = 1;
const TYPE_FOLDER_CACHE = 4;
const HEAD = 5 + 4; // "TDV" | version | type | count u32
const SUM = 20; // SHA-1 of everything before it

export const FOLDER_CACHE = "folder-cache";
const STAMP = "folder-cache.stamp";
/** slack for a repository folder on another file system than the working tree */
const OTHER_FS_SLACK_MS = 2000;

/**
 * Encode one folder's record: size u32 (the bytes after it) | relLen u32 | rel | mtimeMs f64
 * | ctimeMs f64 | ino f64 | count u32 | count × dir u8 (1 a folder) | the names joined by "/".
 */
export function encodeFolder(rel: string, st: { mtimeMs: number; ctimeMs: number; ino: number }, entries: readonly FolderEntry[]): Buffer {
  const joined = entries.map((e) => e.name).join("/");
  const relLen = Buffer.byteLength(rel, "utf8");
  const size = 4 + 4 + relLen + 28 + entries.length + Buffer.byteLength(joined, "utf8");
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(size - 4, 0);
  b.writeUInt32LE(relLen, 4);
  let p = 8 + b.write(rel, 8, "utf8");
  b.writeDoubleLE(st.mtimeMs, p);
  b.writeDoubleLE(st.ctimeMs, p + 8);
  b.writeDoubleLE(st.ino, p + 16);
  b.writeUInt32LE(entries.length, p + 24);
  p += 28;
  for (const e of entries) b[p++] = e.dir ? 1 : 0;
  p += b.write(joined, p, "utf8");
  if (p !== size) throw new Error("internal: folder record size miscounted");
  return b;
}

/** The whole file from its folders' records, in the walk's order (a folder before what it holds, folders in path order). */
export function encodeFolderCache(records: readonly Uint8Array[], count = records.length): Uint8Array[] {
  const head = Buffer.alloc(HEAD);
  head.write("TDV", 0, "latin1");
  head[3] = VERSION;
  head[4] = TYPE_FOLDER_CACHE;
  head.writeUInt32LE(count, 5);
  const h = createHash("sha1").update(head);
  for (const r of records) h.update(r);
  return [head, ...records, h.digest()];
}

/** A record as read: where it is, and its folder's stat data. */
export interface Recorded {
  rel: string;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** the record's bytes: [start, end) */
  start: number;
  end: number;
  /** where the dir bytes start, and how many entries */
  entriesAt: number;
  count: number;
}

/**
 * The records of a folder cache file's bytes, one at a time from `at` (null
 * at the end or at bytes that are not a record). Only the checksum is
 * checked up front: the records are read as the walk meets them.
 */
class Records {
  private readonly dv: DataView;
  readonly end: number;
  readonly count: number;

  constructor(readonly bytes: Buffer) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length - SUM;
    this.count = bytes.length >= HEAD + SUM ? bytes.readUInt32LE(5) : 0;
  }

  at(p: number): Recorded | null {
    const end = this.end;
    if (p + 8 > end) return null;
    const dv = this.dv;
    const stop = p + 4 + dv.getUint32(p, true);
    const relLen = dv.getUint32(p + 4, true);
    const q = p + 8 + relLen;
    if (stop > end || q + 28 > stop) return null;
    const count = dv.getUint32(q + 24, true);
    if (q + 28 + count > stop) return null;
    return {
      rel: this.bytes.toString("utf8", p + 8, q),
      mtimeMs: dv.getFloat64(q, true),
      ctimeMs: dv.getFloat64(q + 8, true),
      ino: dv.getFloat64(q + 16, true),
      start: p,
      end: stop,
      entriesAt: q + 28,
      count,
    };
  }

  /** a record's entries, or null when they are not what a listing can hold (then the folder is listed) */
  entries(r: Recorded): FolderEntry[] | null {
    const b = this.bytes;
    const names = r.count === 0 ? [] : b.toString("utf8", r.entriesAt + r.count, r.end).split("/");
    if (names.length !== r.count) return null;
    const out = new Array<FolderEntry>(r.count);
    for (let k = 0; k < r.count; k++) {
      const name = names[k] as string;
      if (!validName(name)) return null;
      out[k] = { name, dir: b[r.entriesAt + k] === 1 };
    }
    return out;
  }
}

/** Whether `b` is a folder cache this version reads, whole (its SHA-1 matches). */
function intact(b: Buffer): boolean {
  if (b.length < HEAD + SUM || b.toString("latin1", 0, 3) !== "TDV" || b[3] !== VERSION || b[4] !== TYPE_FOLDER_CACHE) return false;
  const end = b.length - SUM;
  return createHash("sha1").update(b.subarray(0, end)).digest().equals(b.subarray(end));
}

/**
 * Every record of a folder cache file's bytes by folder, or null when they
 * are not a folder cache this version reads whole and intact (tests; the
 * scan reads the records in order instead, with no map).
 */
export function decodeFolderCache(b: Buffer): Map<string, Recorded> | null {
  if (!intact(b)) return null;
  const recs = new Records(b);
  const out = new Map<string, Recorded>();
  let p = HEAD;
  for (let i = 0; i < recs.count; i++) {
    const r = recs.at(p);
    if (!r || out.has(r.rel)) return null;
    out.set(r.rel, r);
    p = r.end;
  }
  return p === recs.end ? out : null;
}

/** A name a folder's listing can hold: one path component, never `.`, `..` or empty. */
function validName(n: string): boolean {
  return n !== "" && n !== "." && n !== ".." && !n.includes("/") && !n.includes("\0");
}

/**
 * One scan's use of the cache: the recorded folders, met in the order the
 * walk visits folders (each folder before what it holds, folders in path
 * order: the order of each path with "/" after it), and the records of the
 * next file, written by `save` when they differ.
 */
export class FolderCache {
  private records: Records | null = null;
  /** where the next record not yet passed is */
  private pos = HEAD;
  private current: Recorded | null | undefined = undefined;
  /** the next file: byte ranges of the file read ([start, end) pairs) and new records, in order */
  private readonly next: (Uint8Array | [number, number])[] = [];
  private nextCount = 0;
  /** recorded folders found unchanged */
  private kept = 0;
  /** folders listed anew and recorded */
  private fresh = 0;
  /** the stamp (ms, the file system's clock) once taken; null: not yet; NaN: could not be taken (nothing new recorded) */
  private stamp: number | null = null;
  /** folders found unchanged and listed anew by this scan, for tests and figures */
  readonly counts = { hits: 0, listed: 0 };

  private constructor(
    readonly file: string,
    private readonly slackMs: number,
    /** the stamp's clock (tests): by default a file beside the cache written and its mtime read */
    private readonly takeStamp: () => number,
  ) {}

  /**
   * The cache of the working tree `root` whose repository folder is `tdvDir`
   * (its file read when the walk first asks; an absent or damaged file is an
   * empty cache).
   */
  static open(root: string, tdvDir: string, { takeStamp }: { takeStamp?: () => number } = {}): FolderCache {
    const own = path.resolve(tdvDir) === path.join(path.resolve(root), ".tdv");
    const stampFile = path.join(tdvDir, STAMP);
    return new FolderCache(path.join(tdvDir, FOLDER_CACHE), own ? 0 : OTHER_FS_SLACK_MS, takeStamp ?? (() => fileStamp(stampFile)));
  }

  private read(): Records {
    if (this.records) return this.records;
    let bytes: Buffer | null = null;
    try {
      bytes = fs.readFileSync(this.file);
    } catch {
      bytes = null; // absent or unreadable: an empty cache
    }
    this.records = new Records(bytes && intact(bytes) ? bytes : Buffer.alloc(0));
    return this.records;
  }

  /** how many folders the file says it records (its header only: 0 when absent or not a folder cache) */
  get recordedFolders(): number {
    if (this.records) return this.records.count;
    const head = Buffer.alloc(HEAD);
    try {
      const fd = fs.openSync(this.file, "r");
      try {
        if (fs.readSync(fd, head, 0, HEAD, 0) < HEAD) return 0;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return 0;
    }
    return head.toString("latin1", 0, 3) === "TDV" && head[3] === VERSION && head[4] === TYPE_FOLDER_CACHE ? head.readUInt32LE(5) : 0;
  }

  /** The record of folder `rel`, if any: records before it (in the walk's order) are passed over (their folders are gone). */
  private recordOf(rel: string): Recorded | null {
    const recs = this.read();
    const key = `${rel}/`;
    for (;;) {
      if (this.current === undefined) this.current = recs.at(this.pos);
      const r = this.current;
      if (!r) return null;
      const at = `${r.rel}/`;
      if (at > key) return null;
      this.pos = r.end;
      this.current = undefined;
      if (at === key) return r;
    }
  }

  /**
   * The entries of folder `rel`, in the order recorded, when `st` (its
   * `lstat`, taken now) is the recorded stat data; null when it must be
   * listed. Folders are asked for in the walk's order.
   */
  lookup(rel: string, st: fs.Stats): FolderEntry[] | null {
    const r = this.recordOf(rel);
    if (r && r.ctimeMs === st.ctimeMs && r.mtimeMs === st.mtimeMs && r.ino === st.ino) {
      const entries = (this.records as Records).entries(r);
      if (entries) {
        const last = this.next[this.next.length - 1];
        if (Array.isArray(last) && last[1] === r.start) last[1] = r.end;
        else this.next.push([r.start, r.end]);
        this.nextCount++;
        this.kept++;
        this.counts.hits++;
        return entries;
      }
    }
    return null;
  }

  /**
   * Before the first folder listed anew, the stamp is taken: true when it was
   * taken just now (the caller then takes the folder's stat again, so that it
   * is later than the stamp).
   */
  stampBeforeListing(): boolean {
    if (this.stamp !== null) return false;
    try {
      this.stamp = this.takeStamp();
    } catch {
      this.stamp = Number.NaN; // a read-only repository folder: use what is recorded, record nothing
    }
    return true;
  }

  /**
   * Folder `rel` was listed anew: `st` its stat taken after the stamp and
   * before the listing, `entries` in the walk's order. Recorded when it is
   * not racy and the listing is `complete` (every name valid UTF-8).
   */
  listed(rel: string, st: fs.Stats, entries: readonly FolderEntry[], complete: boolean): void {
    this.counts.listed++;
    const stamp = this.stamp;
    if (!complete || stamp === null || !(Math.max(st.mtimeMs, st.ctimeMs) < stamp - this.slackMs)) return;
    this.next.push(encodeFolder(rel, st, entries));
    this.nextCount++;
    this.fresh++;
  }

  /** whether the next file differs from the one read (a folder recorded anew, or a recorded one gone) */
  get changed(): boolean {
    return this.fresh > 0 || (this.records !== null && this.kept < this.records.count);
  }

  /** Write the next file when it differs (not durably: a cache; a failure leaves the old one, still checked folder by folder). */
  async save(): Promise<void> {
    if (!this.changed) return;
    const bytes = this.records?.bytes ?? Buffer.alloc(0);
    const parts = this.next.map((x) => (Array.isArray(x) ? bytes.subarray(x[0], x[1]) : x));
    await writeAtomic(this.file, encodeFolderCache(parts, this.nextCount), { durable: false }).catch(() => {});
  }
}

/** The file system's clock now: a byte written to `file`, and its mtime. */
function fileStamp(file: string): number {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, "x");
    return fs.fstatSync(fd).mtimeMs;
  } finally {
    fs.closeSync(fd);
  }
}
