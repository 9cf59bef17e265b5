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

/** A recorded folder: its stat data and where its entries are in the file. */
interface Recorded {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** the record's bytes: [start, end) */
  start: number;
  end: number;
  /** where the entries start, and how many */
  entriesAt: number;
  count: number;
}

/** Encode one folder's record: relLen u32 | rel | mtimeMs f64 | ctimeMs f64 | ino f64 | count u32 | count × (dir u8 | nameLen u16 | name). */
export function encodeFolder(rel: string, st: { mtimeMs: number; ctimeMs: number; ino: number }, entries: readonly FolderEntry[]): Buffer {
  let size = 4 + Buffer.byteLength(rel, "utf8") + 24 + 4;
  for (const e of entries) size += 3 + Buffer.byteLength(e.name, "utf8");
  const b = Buffer.allocUnsafe(size);
  let p = 4 + b.write(rel, 4, "utf8");
  b.writeUInt32LE(p - 4, 0);
  b.writeDoubleLE(st.mtimeMs, p);
  b.writeDoubleLE(st.ctimeMs, p + 8);
  b.writeDoubleLE(st.ino, p + 16);
  b.writeUInt32LE(entries.length, p + 24);
  p += 28;
  for (const e of entries) {
    b[p] = e.dir ? 1 : 0;
    const len = b.write(e.name, p + 3, "utf8");
    b.writeUInt16LE(len, p + 1);
    p += 3 + len;
  }
  return b;
}

/** The whole file from its folders' records. */
export function encodeFolderCache(records: readonly Uint8Array[]): Uint8Array[] {
  const head = Buffer.alloc(HEAD);
  head.write("TDV", 0, "latin1");
  head[3] = VERSION;
  head[4] = TYPE_FOLDER_CACHE;
  head.writeUInt32LE(records.length, 5);
  const h = createHash("sha1").update(head);
  for (const r of records) h.update(r);
  return [head, ...records, h.digest()];
}

/**
 * The recorded folders of a folder cache file's bytes, or null when they are
 * not a folder cache this version reads whole and intact (then the cache is
 * ignored and written again).
 */
export function decodeFolderCache(b: Buffer): Map<string, Recorded> | null {
  if (b.length < HEAD + SUM || b.toString("latin1", 0, 3) !== "TDV" || b[3] !== VERSION || b[4] !== TYPE_FOLDER_CACHE) return null;
  const end = b.length - SUM;
  if (!createHash("sha1").update(b.subarray(0, end)).digest().equals(b.subarray(end))) return null;
  const count = b.readUInt32LE(5);
  const out = new Map<string, Recorded>();
  let p = HEAD;
  for (let i = 0; i < count; i++) {
    const start = p;
    if (p + 4 > end) return null;
    const len = b.readUInt32LE(p);
    p += 4;
    if (p + len + 28 > end) return null;
    const rel = b.toString("utf8", p, p + len);
    p += len;
    const mtimeMs = b.readDoubleLE(p);
    const ctimeMs = b.readDoubleLE(p + 8);
    const ino = b.readDoubleLE(p + 16);
    const n = b.readUInt32LE(p + 24);
    p += 28;
    const entriesAt = p;
    for (let k = 0; k < n; k++) {
      if (p + 3 > end) return null;
      p += 3 + b.readUInt16LE(p + 1);
    }
    if (p > end || out.has(rel)) return null;
    out.set(rel, { mtimeMs, ctimeMs, ino, start, end: p, entriesAt, count: n });
  }
  return p === end ? out : null;
}

/** A name a folder's listing can hold: one path component, never `.`, `..` or empty. */
function validName(n: string): boolean {
  return n !== "" && n !== "." && n !== ".." && !n.includes("/") && !n.includes("\0");
}

/**
 * One scan's use of the cache: the recorded folders, looked up by the walk,
 * and the records of the next file, written by `save` when they differ.
 */
export class FolderCache {
  private readonly bytes: Buffer;
  private readonly recorded: Map<string, Recorded>;
  /** the next file's records, by folder (in the order met) */
  private readonly next: Uint8Array[] = [];
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
    bytes: Buffer | null,
    private readonly slackMs: number,
    /** the stamp's clock (tests): by default a file beside the cache written and its mtime read */
    private readonly takeStamp: () => number,
  ) {
    const recorded = bytes ? decodeFolderCache(bytes) : null;
    this.bytes = recorded ? (bytes as Buffer) : Buffer.alloc(0);
    this.recorded = recorded ?? new Map();
  }

  /**
   * The cache of the working tree `root` whose repository folder is `tdvDir`
   * (read now; an absent or damaged file is an empty cache).
   */
  static open(root: string, tdvDir: string, { takeStamp }: { takeStamp?: () => number } = {}): FolderCache {
    const file = path.join(tdvDir, FOLDER_CACHE);
    let bytes: Buffer | null = null;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      bytes = null; // absent or unreadable: an empty cache
    }
    const own = path.resolve(tdvDir) === path.join(path.resolve(root), ".tdv");
    const stampFile = path.join(tdvDir, STAMP);
    return new FolderCache(file, bytes, own ? 0 : OTHER_FS_SLACK_MS, takeStamp ?? (() => fileStamp(stampFile)));
  }

  /** how many folders the file recorded when read */
  get size(): number {
    return this.recorded.size;
  }

  /**
   * The entries of folder `rel`, in the order recorded, when `st` (its
   * `lstat`, taken now) is the recorded stat data; null when it must be
   * listed. Before the first folder listed anew, the stamp is taken: the
   * caller then takes the folder's stat again (`restat`), so that it is
   * later than the stamp.
   */
  lookup(rel: string, st: fs.Stats): FolderEntry[] | null {
    const r = this.recorded.get(rel);
    if (r && r.ctimeMs === st.ctimeMs && r.mtimeMs === st.mtimeMs && r.ino === st.ino) {
      const entries = this.entriesOf(r);
      if (entries) {
        this.next.push(this.bytes.subarray(r.start, r.end));
        this.kept++;
        this.counts.hits++;
        return entries;
      }
    }
    return null;
  }

  /** whether the stat of the folder about to be listed must be taken again (the stamp was taken just now) */
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
    this.fresh++;
  }

  /** whether the next file differs from the one read (a folder recorded anew, or a recorded one gone) */
  get changed(): boolean {
    return this.fresh > 0 || this.kept < this.recorded.size;
  }

  /** Write the next file when it differs (not durably: a cache; a failure leaves the old one, still checked folder by folder). */
  async save(): Promise<void> {
    if (!this.changed) return;
    await writeAtomic(this.file, encodeFolderCache(this.next), { durable: false }).catch(() => {});
  }

  /** A recorded folder's entries, or null when a name is not one a listing can hold (then the folder is listed). */
  private entriesOf(r: Recorded): FolderEntry[] | null {
    const b = this.bytes;
    const out = new Array<FolderEntry>(r.count);
    let p = r.entriesAt;
    for (let k = 0; k < r.count; k++) {
      const dir = b[p] === 1;
      const len = b.readUInt16LE(p + 1);
      const name = b.toString("utf8", p + 3, p + 3 + len);
      if (!validName(name)) return null;
      out[k] = { name, dir };
      p += 3 + len;
    }
    return out;
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
