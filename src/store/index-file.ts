/**
 * The index: the staged snapshot as a flat list of files, each with where its
 * bytes live (a Git blob or a chunk object) and the stat data (size, mtime,
 * ctime, inode) that lets `status` skip hashing files that did not change.
 *
 * Binary layout (little endian): "TDV" | version u8 | fileType u8 (3)
 * | flags u8 (bit 0: tree present) | tree oid (20 bytes, if present)
 * | count u32 | entries sorted by path: pathLen u32 | path utf8 | store u8 (0 git, 1 chunk)
 * | id (20 or 32 bytes) | size f64 | then version 2: mtimeMs f64 | ctimeMs f64 | ino f64
 * (exactly as Node's fs.Stats gives them), version 1: mtimeNs u64 | ctimeNs u64 | ino u64.
 *
 * Stat data is kept as numbers, not BigInts: `status` compares one stat per
 * working file with its entry, and at 100,000 files the BigInts (three per
 * entry, nineteen per BigInt stat call) were a large share of the time spent
 * collecting garbage.
 */
import fs from "node:fs";
import { CorruptObjectError, UnsupportedFormatError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { writeAtomic } from "./atomic.js";

export type Stored = { store: "git"; id: GitOid } | { store: "chunk"; id: ChunkId };

export type IndexEntry = Stored & {
  size: number;
  /** modification and status-change times in milliseconds, and the inode, as fs.Stats has them */
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
};

export interface IndexState {
  /** the snapshot tree this index equals exactly, when known (cache-tree) */
  tree: GitOid | null;
  entries: Map<string, IndexEntry>;
  /** mtime of the index file when read (ms, as fs.Stats has it): entries modified at or after it are "racy" */
  mtimeMs: number;
}

const VERSION = 2;
const TYPE_INDEX = 3;

export function emptyIndex(): IndexState {
  return { tree: null, entries: new Map(), mtimeMs: 0 };
}

export async function readIndex(file: string): Promise<IndexState> {
  // synchronous: four thread-pool round trips (open, stat, read, close) cost more than the reads
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyIndex();
    throw err;
  }
  try {
    const mtimeMs = fs.fstatSync(fd).mtimeMs;
    return { ...decodeIndex(fs.readFileSync(fd), file), mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

/** A version 1 time (u64 nanoseconds) as fs.Stats gives it in milliseconds, to the same double. */
function msFromNs(ns: bigint): number {
  return Number(ns / 1_000_000_000n) * 1e3 + Number(ns % 1_000_000_000n) / 1e6;
}

export function decodeIndex(b: Buffer, what: string): Omit<IndexState, "mtimeMs"> {
  let p = 0;
  const need = (n: number) => {
    if (p + n > b.length) throw new CorruptObjectError(what, "index is truncated");
  };
  need(6);
  if (b.toString("latin1", 0, 3) !== "TDV" || b[4] !== TYPE_INDEX) throw new CorruptObjectError(what, "not a tdv index");
  const version = b[3] as number;
  if (version > VERSION) throw new UnsupportedFormatError(what, version, VERSION);
  const flags = b[5] as number;
  p = 6;
  let tree: GitOid | null = null;
  if (flags & 1) {
    need(20);
    tree = b.toString("hex", p, p + 20) as GitOid;
    p += 20;
  }
  need(4);
  const count = b.readUInt32LE(p);
  p += 4;
  // every entry takes at least 57 bytes: a count the file cannot hold is damage, not an allocation to try
  if (count * 57 > b.length - p) throw new CorruptObjectError(what, "index is truncated");
  if (version < VERSION) return { tree, entries: decodeVersion1(b, p, count, what) };
  // version 2: the paths and where each entry starts are read now (and every length checked);
  // the entries themselves, and the map, when first asked for
  const paths = new Array<string>(count);
  const starts = new Uint32Array(count + 1);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < count; i++) {
    starts[i] = p;
    need(4);
    const len = dv.getUint32(p, true);
    p += 4;
    need(len + 1);
    paths[i] = b.toString("utf8", p, p + len);
    p += len;
    const store = b[p++];
    if (store !== 0 && store !== 1) throw new CorruptObjectError(what, `index entry ${paths[i]} has an unknown store ${store}`);
    need((store === 0 ? 20 : 32) + 32);
    p += (store === 0 ? 20 : 32) + 32;
  }
  if (p !== b.length) throw new CorruptObjectError(what, "index has trailing bytes");
  starts[count] = p;
  return { tree, entries: new IndexEntries(new Source(b, paths, starts)) };
}

/** Version 1 (times as u64 nanoseconds): decoded whole, into a plain map (written back as version 2). */
function decodeVersion1(b: Buffer, from: number, count: number, what: string): Map<string, IndexEntry> {
  let p = from;
  const need = (n: number) => {
    if (p + n > b.length) throw new CorruptObjectError(what, "index is truncated");
  };
  const entries = new Map<string, IndexEntry>();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < count; i++) {
    need(4);
    const len = dv.getUint32(p, true);
    p += 4;
    need(len + 1);
    const path = b.toString("utf8", p, p + len);
    p += len;
    const store = b[p++];
    const idLen = store === 0 ? 20 : 32;
    need(idLen + 32);
    const id = b.toString("hex", p, p + idLen);
    p += idLen;
    entries.set(path, {
      store: store === 0 ? "git" : "chunk",
      id,
      size: dv.getFloat64(p, true),
      mtimeMs: msFromNs(dv.getBigUint64(p + 8, true)),
      ctimeMs: msFromNs(dv.getBigUint64(p + 16, true)),
      ino: Number(dv.getBigUint64(p + 24, true)),
    } as IndexEntry);
    p += 32;
  }
  if (p !== b.length) throw new CorruptObjectError(what, "index has trailing bytes");
  return entries;
}

/**
 * The bytes an entries map was decoded from, in order. Entries are never
 * changed in place (a change is a new object), so an entry that is still the
 * very object decoded at the same path encodes to the same bytes: a write
 * copies those runs whole. At 100,000 entries with 1,000 changed, that makes
 * the write ~10 copies instead of 100,000 encodings.
 */
class Source {
  private readonly decoded: (IndexEntry | undefined)[];
  private readonly dv: DataView;

  constructor(
    readonly bytes: Buffer,
    readonly paths: readonly string[],
    /** where each entry starts, and where the last one ends */
    readonly starts: Uint32Array,
  ) {
    this.decoded = new Array(paths.length);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** where entry i's store byte is */
  private storeAt(i: number): number {
    const at = this.starts[i] as number;
    return at + 4 + this.dv.getUint32(at, true);
  }

  /** entry i, made once (the same object each time: encodeIndex knows it by identity) */
  entry(i: number): IndexEntry {
    let e = this.decoded[i];
    if (e) return e;
    e = this.read(i);
    this.decoded[i] = e;
    return e;
  }

  /** entry i, made anew unless already made (not kept: a pass over every entry holds none of them) */
  read(i: number): IndexEntry {
    const made = this.decoded[i];
    if (made) return made;
    const p = this.storeAt(i);
    const git = this.bytes[p] === 0;
    const idEnd = p + 1 + (git ? 20 : 32);
    const dv = this.dv;
    return {
      store: git ? "git" : "chunk",
      id: this.bytes.toString("hex", p + 1, idEnd),
      size: dv.getFloat64(idEnd, true),
      mtimeMs: dv.getFloat64(idEnd + 8, true),
      ctimeMs: dv.getFloat64(idEnd + 16, true),
      ino: dv.getFloat64(idEnd + 24, true),
    } as IndexEntry;
  }

  /** where path `p` is, or -1 */
  indexOf(p: string): number {
    return indexOfPath(this.paths, p);
  }

  /** size, mtimeMs, ctimeMs, ino of entry i, read from the bytes without making it */
  statInto(i: number, into: Float64Array): void {
    const p = this.storeAt(i);
    const idEnd = p + 1 + (this.bytes[p] === 0 ? 20 : 32);
    for (let f = 0; f < 4; f++) into[f] = this.dv.getFloat64(idEnd + f * 8, true);
  }
}

/**
 * The entries of an index as read, as a Map: its Source (sorted paths, the
 * bytes) with the changes made since over it: entries set and paths deleted.
 * No map entry or entry object is made for what is only read: at 1,000,000
 * files a map of all entries cost seconds and a few hundred MB, and a clean
 * `status` or a `commit -a` of a thousand files needs none of it. A path is
 * found in the source by binary search; iteration is in path order.
 */
class IndexEntries extends Map<string, IndexEntry> {
  /** entries set since the index was read (new paths and replaced ones) */
  private readonly over = new Map<string, IndexEntry>();
  /** source paths deleted (and not set again) */
  private readonly gone = new Set<string>();
  /** how many paths of `over` the source lacks */
  private added = 0;
  private cleared = false;

  constructor(readonly source: Source) {
    super();
  }

  /** whether it is still exactly its source */
  get asRead(): boolean {
    return !this.cleared && this.over.size === 0 && this.gone.size === 0;
  }

  /** the source index of a path still from the source, or -1 */
  private inSource(k: string): number {
    if (this.cleared || this.gone.has(k)) return -1;
    return this.source.indexOf(k);
  }

  override get size(): number {
    return (this.cleared ? 0 : this.source.paths.length - this.gone.size) + this.added;
  }
  override get(k: string): IndexEntry | undefined {
    const e = this.over.get(k);
    if (e !== undefined) return e;
    const i = this.inSource(k);
    return i < 0 ? undefined : this.source.entry(i);
  }
  /** get(k), without keeping the entry made from the source */
  peek(k: string): IndexEntry | undefined {
    const e = this.over.get(k);
    if (e !== undefined) return e;
    const i = this.inSource(k);
    return i < 0 ? undefined : this.source.read(i);
  }
  override has(k: string): boolean {
    return this.over.has(k) || this.inSource(k) >= 0;
  }
  override set(k: string, v: IndexEntry): this {
    if (!this.over.has(k)) {
      const i = this.cleared ? -1 : this.source.indexOf(k);
      if (i < 0) this.added++;
      else this.gone.delete(k);
    }
    this.over.set(k, v);
    return this;
  }
  override delete(k: string): boolean {
    const i = this.cleared ? -1 : this.source.indexOf(k);
    const had = this.has(k);
    if (this.over.delete(k) && i < 0) this.added--;
    if (i >= 0) this.gone.add(k);
    return had;
  }
  override clear(): void {
    this.cleared = true;
    this.over.clear();
    this.gone.clear();
    this.added = 0;
  }
  override forEach(fn: (v: IndexEntry, k: string, m: Map<string, IndexEntry>) => void, self?: unknown): void {
    for (const [k, v] of this) fn.call(self, v, k, this);
  }
  override keys(): MapIterator<string> {
    // the array's own iterator: a generator's step a path cost ~2 µs (50 ms at 20,000 paths)
    return this.order().paths.values() as unknown as MapIterator<string>;
  }
  override *values(): MapIterator<IndexEntry> {
    const o = this.order();
    for (let i = 0; i < o.paths.length; i++) yield o.entry(i);
  }
  override entries(): MapIterator<[string, IndexEntry]> {
    return this[Symbol.iterator]();
  }
  override *[Symbol.iterator](): MapIterator<[string, IndexEntry]> {
    const o = this.order();
    for (let i = 0; i < o.paths.length; i++) yield [o.paths[i] as string, o.entry(i)];
  }

  /** every path in order, each with its source index when its entry is the source's (-1: from `over`) */
  order(): Ordered {
    const src = this.source;
    if (this.asRead) return { paths: src.paths, from: null, entry: (i) => src.entry(i) };
    const extra = [...this.over.keys()].sort(comparePaths);
    const n = this.size;
    const paths = new Array<string>(n);
    const from = new Int32Array(n);
    const vals = new Array<IndexEntry>(n);
    const srcPaths = this.cleared ? [] : src.paths;
    let j = 0;
    let x = 0;
    let k = 0;
    while (j < srcPaths.length || x < extra.length) {
      const p = j < srcPaths.length ? (srcPaths[j] as string) : null;
      const q = x < extra.length ? (extra[x] as string) : null;
      if (q !== null && (p === null || q <= p)) {
        paths[k] = q;
        vals[k] = this.over.get(q) as IndexEntry;
        from[k++] = -1;
        x++;
        if (q === p) j++; // replaced: the source's entry is not listed
        continue;
      }
      j++;
      if (p === null || this.gone.has(p)) continue;
      paths[k] = p;
      from[k++] = j - 1;
    }
    if (k !== n) throw new Error(`internal: the index lists ${k} entries and counts ${n}`);
    return { paths, from, entry: (i) => ((from[i] as number) >= 0 ? src.entry(from[i] as number) : (vals[i] as IndexEntry)) };
  }
}

/**
 * `entries.get(p)`, but an index map (as read) does not keep the entry it
 * makes from its bytes: a pass over a million entries then holds none.
 */
export function peekEntry<T>(entries: ReadonlyMap<string, T>, p: string): T | undefined {
  return entries instanceof IndexEntries ? (entries.peek(p) as T | undefined) : entries.get(p);
}

/** Entries in path order: `from[i]`, where not null, the source index whose bytes entry i still is (-1: changed or new). */
interface Ordered {
  paths: readonly string[];
  from: Int32Array | null;
  entry(i: number): IndexEntry;
}

/** Index entries in path order, for walking beside a sorted scan. */
export interface InOrder {
  paths: readonly string[];
  /** entry i */
  entry(i: number): IndexEntry;
  /** size, mtimeMs, ctimeMs, ino of entry i into `into` (from the bytes where the entry is as read) */
  statInto(i: number, into: Float64Array): void;
}

/** Any entries map in path order (a plain map is sorted when its keys are not in order). */
function orderOf(entries: ReadonlyMap<string, IndexEntry>): Ordered {
  if (entries instanceof IndexEntries) return entries.order();
  let paths = [...entries.keys()];
  let inOrder = true;
  for (let i = 1; i < paths.length && inOrder; i++) inOrder = (paths[i - 1] as string) < (paths[i] as string);
  if (!inOrder) paths = paths.sort(comparePaths);
  const list = paths.map((p) => entries.get(p) as IndexEntry);
  return { paths, from: null, entry: (i) => list[i] as IndexEntry };
}

/** The entries in path order, each one's stat data read from the index's bytes where it is unchanged. */
export function entriesInOrder(entries: ReadonlyMap<string, IndexEntry>): InOrder {
  const o = orderOf(entries);
  const src = entries instanceof IndexEntries ? entries.source : null;
  const from = src && !o.from ? null : o.from;
  return {
    paths: o.paths,
    entry: o.entry,
    statInto: (i, into) => {
      const j = src ? (from ? (from[i] as number) : i) : -1;
      if (src && j >= 0) return src.statInto(j, into);
      const e = o.entry(i);
      into[0] = e.size;
      into[1] = e.mtimeMs;
      into[2] = e.ctimeMs;
      into[3] = e.ino;
    },
  };
}

/**
 * New entries written straight into the bytes of the index they join: the
 * old entries are laid out (copied or encoded) when the table is made, with
 * a slot for each new path whose store byte, id and stat data `set` (or the
 * store worker, through `bytes` and `at`: shared memory) fill in as each file
 * is stored; `withAdded` then wraps the bytes as the new index map. A million
 * new files thus hold no object, and no second copy of their ids and stat
 * data, before they join the index. `paths` is sorted (comparePaths) and
 * names no path of `entries`; `stores[i]` is where path i's bytes go
 * (0 a Git blob, 1 a chunk object): it sizes the slot's id.
 */
export class EntryTable {
  /** the new index's bytes (a header as an index file's, without a tree), in shared memory */
  readonly bytes: Buffer;
  /** where new path i's store byte is in `bytes` (shared memory) */
  readonly at: Uint32Array;
  private readonly merged: string[];
  private readonly starts: Uint32Array;
  private readonly dv: DataView;

  constructor(
    entries: ReadonlyMap<string, IndexEntry>,
    readonly paths: readonly string[],
    private readonly stores: Uint8Array,
  ) {
    if (stores.length !== paths.length) throw new Error("internal: an entry table's paths and stores differ in length");
    for (let i = 1; i < paths.length; i++) {
      if (!((paths[i - 1] as string) < (paths[i] as string))) throw new Error(`internal: paths to add are not sorted at ${paths[i]}`);
    }
    const o = orderOf(entries);
    const src = entries instanceof IndexEntries ? entries.source : null;
    const from = src ? (o.from ?? null) : null;
    const old = o.paths;
    // where old entry i's bytes are in the source (-1: encoded anew)
    const srcAt = (i: number): number => (src ? (from ? (from[i] as number) : i) : -1);
    const n = old.length + paths.length;
    let total = 10;
    for (let i = 0; i < old.length; i++) {
      const j = srcAt(i);
      if (src && j >= 0) total += (src.starts[j + 1] as number) - (src.starts[j] as number);
      else total += 4 + Buffer.byteLength(old[i] as string, "utf8") + 1 + (o.entry(i).store === "git" ? 20 : 32) + 32;
    }
    for (let i = 0; i < paths.length; i++) total += 4 + Buffer.byteLength(paths[i] as string, "utf8") + 1 + (stores[i] === 0 ? 20 : 32) + 32;
    if (total > 0xffff_ffff) throw new Error("internal: an index of 4 GiB or more");
    const b = Buffer.from(new SharedArrayBuffer(total));
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // a header as an index file's (no tree): the source's bytes are whole entries from byte 10
    b.write("TDV", 0, "latin1");
    b[3] = VERSION;
    b[4] = TYPE_INDEX;
    b[5] = 0;
    dv.setUint32(6, n, true);
    const merged = new Array<string>(n);
    const starts = new Uint32Array(n + 1);
    const at = new Uint32Array(new SharedArrayBuffer(paths.length * 4));
    let p = 10;
    let a = 0;
    let x = 0;
    for (let k = 0; k < n; k++) {
      starts[k] = p;
      const q = a < old.length ? (old[a] as string) : null;
      const r = x < paths.length ? (paths[x] as string) : null;
      if (q !== null && r !== null && q === r) throw new Error(`internal: ${r} is in the index already`);
      if (r === null || (q !== null && q < r)) {
        merged[k] = q as string;
        const j = srcAt(a);
        if (src && j >= 0) p += src.bytes.copy(b, p, src.starts[j] as number, src.starts[j + 1] as number);
        else {
          p = writeEntryTail(b, dv, writePath(b, dv, p, q as string), q as string, o.entry(a));
        }
        a++;
        continue;
      }
      merged[k] = r;
      p = writePath(b, dv, p, r);
      at[x] = p;
      b[p] = UNSET; // filled in when the file is stored
      p += 1 + (stores[x] === 0 ? 20 : 32) + 32;
      x++;
    }
    starts[n] = p;
    if (p !== total) throw new Error("internal: index size miscounted");
    this.bytes = b;
    this.at = at;
    this.merged = merged;
    this.starts = starts;
    this.dv = dv;
  }

  get length(): number {
    return this.paths.length;
  }

  /** fill slot i (the entry's store is the one its slot was laid out for) */
  set(i: number, e: IndexEntry): void {
    const want = this.stores[i] === 0 ? "git" : "chunk";
    if (e.store !== want) throw new Error(`internal: ${this.paths[i]} was laid out as a ${want} entry and stored as ${e.store}`);
    writeEntryTail(this.bytes, this.dv, this.at[i] as number, this.paths[i] as string, e);
  }

  /** the size slot i records */
  size(i: number): number {
    const p = this.at[i] as number;
    return this.dv.getFloat64(p + 1 + (this.bytes[p] === 0 ? 20 : 32), true);
  }

  /** the new index map over the bytes; every slot must have been filled */
  entries(): Map<string, IndexEntry> {
    for (let i = 0; i < this.paths.length; i++) {
      const s = this.bytes[this.at[i] as number];
      if (s !== (this.stores[i] === 0 ? 0 : 1)) throw new Error(`internal: ${this.paths[i]} was never stored`);
    }
    return new IndexEntries(new Source(this.bytes, this.merged, this.starts));
  }
}

/** a slot's store byte until it is filled (neither 0 nor 1) */
const UNSET = 0xff;

/**
 * The index map of an entry table's bytes (what `readIndex` gives): the
 * entries there before and the new ones, with no map entry or entry object
 * made for any of them.
 */
export function withAdded(table: EntryTable): Map<string, IndexEntry> {
  return table.entries();
}

/** An entry's bytes after its path at `p` (store, id, size, mtime, ctime, inode); returns where they end. */
function writeEntryTail(b: Buffer, dv: DataView, p: number, path: string, e: IndexEntry): number {
  const idLen = e.store === "git" ? 20 : 32;
  // the id before the store byte: a table slot whose id is refused stays unfilled
  if (e.id.length !== idLen * 2 || b.write(e.id, p + 1, idLen, "hex") !== idLen) throw new CorruptObjectError(path, `index entry has a malformed id ${e.id}`);
  b[p++] = e.store === "git" ? 0 : 1;
  p += idLen;
  dv.setFloat64(p, e.size, true);
  dv.setFloat64(p + 8, e.mtimeMs, true);
  dv.setFloat64(p + 16, e.ctimeMs, true);
  dv.setFloat64(p + 24, e.ino, true);
  return p + 32;
}

/** A path's length (u32) and UTF-8 bytes at `p`; returns where they end. */
function writePath(b: Buffer, dv: DataView, p: number, path: string): number {
  const len = b.write(path, p + 4, "utf8");
  dv.setUint32(p, len, true);
  return p + 4 + len;
}

export function encodeIndex(state: Pick<IndexState, "tree" | "entries">): Buffer {
  const parts = encodeParts(state);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * The index's bytes in parts, in order: the header, then runs of entries
 * still as the source has them (views of its bytes, not copies) and runs
 * encoded anew (one buffer each, sized first, written through a DataView:
 * per-entry buffers and bound-checked writes were most of the cost at 100,000
 * entries). `writeIndex` writes the parts one after the other, so a
 * `commit -a` of a thousand files among a million copies no 100 MB buffer.
 */
function encodeParts(state: Pick<IndexState, "tree" | "entries">): Buffer[] {
  const o = orderOf(state.entries);
  const paths = o.paths;
  const n = paths.length;
  const src = state.entries instanceof IndexEntries ? state.entries.source : null;
  // the source entry whose bytes path i copies (-1: encoded anew)
  const srcAt = (i: number): number => (src ? (o.from ? (o.from[i] as number) : i) : -1);
  const head = Buffer.alloc(6 + (state.tree ? 20 : 0) + 4);
  head.write("TDV", 0, "latin1");
  head[3] = VERSION;
  head[4] = TYPE_INDEX;
  head[5] = state.tree ? 1 : 0;
  if (state.tree) head.write(state.tree, 6, 20, "hex");
  head.writeUInt32LE(n, head.length - 4);
  const parts: Buffer[] = [head];
  let i = 0;
  while (i < n) {
    const j = srcAt(i);
    if (src && j >= 0) {
      // a run of entries decoded one after the other: one view
      let k = i;
      while (k + 1 < n && srcAt(k + 1) === srcAt(k) + 1) k++;
      parts.push(src.bytes.subarray(src.starts[j] as number, src.starts[srcAt(k) + 1] as number));
      i = k + 1;
      continue;
    }
    let end = i;
    let total = 0;
    const lens: number[] = [];
    for (; end < n && srcAt(end) < 0; end++) {
      const len = Buffer.byteLength(paths[end] as string, "utf8");
      lens.push(len);
      total += 4 + len + 1 + (o.entry(end).store === "git" ? 20 : 32) + 32;
    }
    const b = Buffer.allocUnsafe(total);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let p = 0;
    for (let k = i; k < end; k++) {
      const e = o.entry(k);
      const len = lens[k - i] as number;
      dv.setUint32(p, len, true);
      p += 4;
      p += b.write(paths[k] as string, p, len, "utf8");
      p = writeEntryTail(b, dv, p, paths[k] as string, e);
    }
    if (p !== total) throw new Error("internal: index size miscounted");
    parts.push(b);
    i = end;
  }
  return parts;
}

export async function writeIndex(file: string, state: Pick<IndexState, "tree" | "entries">, durable = true): Promise<void> {
  // the entries as read (or as `withAdded` encoded them) are written from their bytes, uncopied
  const parts = encodeParts(state);
  await writeAtomic(file, parts, { durable });
}

/** Where `p` is in `paths` (sorted by comparePaths), by binary search; -1 when absent. */
export function indexOfPath(paths: readonly string[], p: string): number {
  let lo = 0;
  let hi = paths.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = paths[mid] as string;
    if (at === p) return mid;
    if (at < p) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Byte-wise order of UTF-8 paths (what Git and the manifests use). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
