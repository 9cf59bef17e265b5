/**
 * Manifests: per array, chunk index → (chunk id, size), in a compact binary
 * encoding split into shards by chunk-grid region. Region extents depend only
 * on ndim, so growing an array never moves existing chunks to other shards.
 * Encodings are canonical: the same entries always give the same bytes, and
 * the decoders accept only bytes the encoders could have written.
 */
import { CorruptObjectError, InvalidManifestEntryError } from "../errors.js";
import { FileType, readHeader, writeHeader } from "./header.js";
import { type ChunkId, chunkIdToBytes, isChunkId } from "./hash.js";
import { ByteReader, encodeVarint } from "./varint.js";

export interface ManifestEntry {
  index: number[];
  id: ChunkId;
  size: number;
}

export interface FileListEntry {
  name: string;
  id: ChunkId;
  size: number;
}

/** The folder of an array's snapshot tree that holds its manifest shards. */
export const MANIFEST_TREE = ".tdv-manifest";
/** The blob of a snapshot folder that lists its plain files (encodeFileList). */
export const FILE_LIST = ".tdv-files";

const HASH_BYTES = 32;
const CHUNKS_PER_REGION = 4096;

/** Chunk-grid extent of one shard: about 4096 chunks per shard whatever the ndim. */
export function regionShape(ndim: number): number[] {
  return new Array<number>(ndim).fill(regionExtent(ndim));
}

/** Name of the shard that holds chunk `index`: region coordinates joined by "." ("0" for 0-d). */
export function regionName(index: readonly number[], ndim: number): string {
  if (index.length !== ndim) {
    throw new InvalidManifestEntryError(`chunk index [${index}] has ${index.length} dimensions, expected ${ndim}`);
  }
  if (ndim === 0) return "0";
  const extent = regionExtent(ndim);
  let name = String(Math.floor((index[0] as number) / extent));
  for (let d = 1; d < ndim; d++) name += `.${Math.floor((index[d] as number) / extent)}`;
  return name;
}

/** Lexicographic order of chunk indices (a shorter prefix sorts first). */
export function compareIndex(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Groups entries by region; each list sorted by index, the map ordered by region name. */
export function splitIntoShards(
  ndim: number,
  entries: Iterable<ManifestEntry>,
): Map<string, ManifestEntry[]> {
  const byRegion = new Map<string, ManifestEntry[]>();
  for (const e of entries) {
    const name = regionName(e.index, ndim);
    const list = byRegion.get(name);
    if (list) list.push(e);
    else byRegion.set(name, [e]);
  }
  const out = new Map<string, ManifestEntry[]>();
  for (const name of [...byRegion.keys()].sort(compareStrings)) {
    const list = byRegion.get(name)!.sort((a, b) => compareIndex(a.index, b.index));
    for (let i = 1; i < list.length; i++) {
      if (compareIndex(list[i - 1].index, list[i].index) === 0) {
        throw new InvalidManifestEntryError(`duplicate chunk index [${list[i].index}]`);
      }
    }
    out.set(name, list);
  }
  return out;
}

/**
 * An array's manifest entries kept as numbers and bytes, with no object a
 * chunk: a first commit of a million chunks holds them all until its shards
 * are written, and an object, an index array and an id string each were most
 * of its memory. `shards()` groups them as splitIntoShards does; each shard's
 * entries are made only when it is written (`shardEntries`).
 */
export class ChunkList {
  private index: Float64Array;
  private ids: Buffer;
  private sizes: Float64Array;
  length = 0;

  constructor(readonly ndim: number) {
    this.index = new Float64Array(Math.max(1, ndim) * 64);
    this.ids = Buffer.alloc(64 * HASH_BYTES);
    this.sizes = new Float64Array(64);
  }

  push(index: readonly number[], id: ChunkId, size: number): void {
    if (index.length !== this.ndim) throw new InvalidManifestEntryError(`chunk index [${index}] has ${index.length} dimensions, expected ${this.ndim}`);
    if (this.length === this.sizes.length) this.grow();
    const n = this.length;
    if (id.length !== HASH_BYTES * 2 || !isChunkId(id)) throw new InvalidManifestEntryError(`not a chunk id: ${JSON.stringify(id)}`);
    this.ids.write(id, n * HASH_BYTES, HASH_BYTES, "hex");
    for (let d = 0; d < this.ndim; d++) this.index[n * this.ndim + d] = index[d] as number;
    this.sizes[n] = size;
    this.length++;
  }

  private grow(): void {
    const index = new Float64Array(this.index.length * 2);
    index.set(this.index);
    this.index = index;
    const ids = Buffer.alloc(this.ids.length * 2);
    this.ids.copy(ids);
    this.ids = ids;
    const sizes = new Float64Array(this.sizes.length * 2);
    sizes.set(this.sizes);
    this.sizes = sizes;
  }

  /** entry i (a new object each time) */
  entry(i: number): ManifestEntry {
    const index = new Array<number>(this.ndim);
    for (let d = 0; d < this.ndim; d++) index[d] = this.index[i * this.ndim + d] as number;
    return { index, id: this.ids.toString("hex", i * HASH_BYTES, (i + 1) * HASH_BYTES) as ChunkId, size: this.sizes[i] as number };
  }

  /** The shards by region name, in name order, each the positions of its entries. */
  shards(): [string, number[]][] {
    const byRegion = new Map<string, number[]>();
    const index = new Array<number>(this.ndim);
    for (let i = 0; i < this.length; i++) {
      for (let d = 0; d < this.ndim; d++) index[d] = this.index[i * this.ndim + d] as number;
      const name = regionName(index, this.ndim);
      const list = byRegion.get(name);
      if (list) list.push(i);
      else byRegion.set(name, [i]);
    }
    return [...byRegion.keys()].sort(compareStrings).map((name) => [name, byRegion.get(name)!]);
  }

  /**
   * The shard of the entries at `positions` (one region): the bytes
   * encodeShard makes of shardEntries(positions), written from the list's
   * arrays without an entry object (a million chunks made a million of them,
   * each with its id as text, while a first snapshot was written). A chunk
   * index listed twice is refused.
   */
  encodeShard(positions: readonly number[]): Uint8Array {
    const nd = this.ndim;
    const ix = this.index;
    const cmp = (a: number, b: number): number => {
      for (let d = 0; d < nd; d++) {
        const diff = (ix[a * nd + d] as number) - (ix[b * nd + d] as number);
        if (diff !== 0) return diff;
      }
      return 0;
    };
    const order = Uint32Array.from(positions).sort(cmp);
    const out = Buffer.allocUnsafe(order.length * (nd * 8 + HASH_BYTES + 8));
    let p = 0;
    const varint = (n: number) => {
      p = putVarint(out, p, n);
    };
    for (let k = 0; k < order.length; k++) {
      const i = order[k] as number;
      if (k > 0 && cmp(order[k - 1] as number, i) === 0) throw new InvalidManifestEntryError(`duplicate chunk index [${this.entry(i).index}]`);
      // the id was checked when pushed (64 lowercase hex digits), and is held as its 32 bytes
      for (let d = 0; d < nd; d++) varint(ix[i * nd + d] as number);
      p += this.ids.copy(out, p, i * HASH_BYTES, (i + 1) * HASH_BYTES);
      varint(this.sizes[i] as number);
    }
    return withShardHead(nd, order.length, [out.subarray(0, p)]);
  }

  /** The entries at `positions` (one shard), sorted by index; a chunk index listed twice is refused. */
  shardEntries(positions: readonly number[]): ManifestEntry[] {
    const list = positions.map((i) => this.entry(i)).sort((a, b) => compareIndex(a.index, b.index));
    for (let i = 1; i < list.length; i++) {
      if (compareIndex(list[i - 1]!.index, list[i]!.index) === 0) throw new InvalidManifestEntryError(`duplicate chunk index [${list[i]!.index}]`);
    }
    return list;
  }
}

/**
 * header(ManifestShard) | varint ndim | varint count |
 * count × (ndim varints of the index | 32 hash bytes | varint size).
 * Entries must be sorted by index and unique.
 */
export function encodeShard(ndim: number, entries: readonly ManifestEntry[]): Uint8Array {
  return withShardHead(ndim, entries.length, [encodeEntries(ndim, entries, null)]);
}

/** A shard's bytes: its header and counts, then `parts` (its entries' bytes, in order). */
function withShardHead(ndim: number, count: number, parts: readonly Uint8Array[]): Uint8Array {
  const head: number[] = [];
  writeHeader(FileType.ManifestShard, head);
  encodeVarint(ndim, head);
  encodeVarint(count, head);
  let n = head.length;
  for (const part of parts) n += part.byteLength;
  const out = new Uint8Array(n);
  out.set(head, 0);
  let p = head.length;
  for (const part of parts) {
    out.set(part, p);
    p += part.byteLength;
  }
  return out;
}

/** A shard's varint of `n` (an integer in 0..2^53-1) into `out` at `p`; returns where it ends. */
function putVarint(out: Buffer, p: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidManifestEntryError(`varint must be an integer in 0..2^53-1, got ${n}`);
  while (n >= 0x80) {
    out[p++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[p++] = n;
  return p;
}

/** The bytes of `entries` (sorted, unique, each after `prev` when given), as a shard holds them. */
function encodeEntries(ndim: number, entries: readonly ManifestEntry[], prev: readonly number[] | null): Uint8Array {
  // one buffer with room for the largest varints, written in place (a number[] per byte was the cost)
  const out = Buffer.allocUnsafe(entries.length * (ndim * 8 + HASH_BYTES + 8));
  let p = 0;
  const varint = (n: number) => {
    p = putVarint(out, p, n);
  };
  for (const { index, id, size } of entries) {
    if (index.length !== ndim) {
      throw new InvalidManifestEntryError(`chunk index [${index}] has ${index.length} dimensions, expected ${ndim}`);
    }
    if (prev && compareIndex(prev, index) >= 0) {
      throw new InvalidManifestEntryError(`manifest entries must be sorted and unique: [${prev}] then [${index}]`);
    }
    prev = index;
    for (const i of index) varint(i);
    if (id.length !== HASH_BYTES * 2 || out.write(id, p, "hex") !== HASH_BYTES || !isChunkId(id)) throw new InvalidManifestEntryError(`not a chunk id: ${JSON.stringify(id)}`);
    p += HASH_BYTES;
    varint(size);
  }
  return out.subarray(0, p);
}

/**
 * Shard `bytes` (null: none yet) with `edits` applied: each sets the entry at
 * its index (`entry`) or removes it (null); edits sorted by index, unique.
 * The entries not edited are copied as bytes, runs at a time, never built as
 * objects (a commit that changes one chunk in each of a thousand shards read
 * a million entries). The same bytes as encodeShard of the merged entries;
 * null when no entry remains. The old shard is checked as decodeShard checks it.
 */
export function patchShard(ndim: number, bytes: Uint8Array | null, edits: readonly { index: readonly number[]; entry: ManifestEntry | null }[], what: string): Uint8Array | null {
  const c = bytes ? new ShardCursor(bytes, what) : null;
  if (c && c.ndim !== ndim) throw new CorruptObjectError(what, `shard has ${c.ndim} dimensions where its array has ${ndim}`);
  const parts: Uint8Array[] = [];
  let count = 0;
  let runFrom = -1;
  let runTo = -1;
  // the edits' order is checked among themselves; the merge keeps them in order with the copied entries
  let lastEdit: readonly number[] | null = null;
  const endRun = () => {
    if (runFrom < 0) return;
    parts.push((bytes as Uint8Array).subarray(runFrom, runTo));
    runFrom = -1;
  };
  let k = 0;
  while (c?.has || k < edits.length) {
    const e = edits[k];
    const order = !c?.has ? 1 : !e ? -1 : compareIndex(c.index, e.index);
    if (order < 0) {
      // an entry no edit touches: its bytes, joined to the run before it
      if (runFrom < 0) runFrom = c!.start;
      runTo = c!.end;
      count++;
      c!.next();
      continue;
    }
    endRun();
    if (order === 0) c!.next(); // replaced or removed
    k++;
    if (lastEdit && compareIndex(lastEdit, e!.index) >= 0) throw new InvalidManifestEntryError(`manifest edits must be sorted and unique: [${lastEdit}] then [${e!.index}]`);
    lastEdit = e!.index;
    if (!e!.entry) continue;
    if (compareIndex(e!.index, e!.entry.index) !== 0) throw new InvalidManifestEntryError(`an edit at [${e!.index}] sets the entry of [${e!.entry.index}]`);
    parts.push(encodeEntries(ndim, [e!.entry], null));
    count++;
  }
  endRun();
  return count === 0 ? null : withShardHead(ndim, count, parts);
}

export function decodeShard(bytes: Uint8Array, what: string): { ndim: number; entries: ManifestEntry[] } {
  const c = new ShardCursor(bytes, what);
  const entries: ManifestEntry[] = [];
  for (; c.has; c.next()) entries.push(c.entry());
  return { ndim: c.ndim, entries };
}

/**
 * The entries only in shard `a`, only in `b`, and in both with other bytes,
 * each in index order, with every check decodeShard makes on both. Entries
 * equal on both sides are compared as bytes and never built as objects: most
 * of two versions of a shard is the same.
 */
export function diffShards(
  a: Uint8Array | null,
  b: Uint8Array | null,
  whatA: string,
  whatB: string,
): { added: ManifestEntry[]; removed: ManifestEntry[]; modified: [ManifestEntry, ManifestEntry][] } {
  const out = { added: [] as ManifestEntry[], removed: [] as ManifestEntry[], modified: [] as [ManifestEntry, ManifestEntry][] };
  const ca = a ? new ShardCursor(a, whatA) : null;
  const cb = b ? new ShardCursor(b, whatB) : null;
  for (;;) {
    const x = ca?.has ? ca : null;
    const y = cb?.has ? cb : null;
    if (!x && !y) return out;
    const c = !x ? 1 : !y ? -1 : compareIndex(x.index, y.index);
    if (c < 0) {
      out.removed.push(x!.entry());
      x!.next();
    } else if (c > 0) {
      out.added.push(y!.entry());
      y!.next();
    } else {
      if (!x!.sameAs(y!)) out.modified.push([x!.entry(), y!.entry()]);
      x!.next();
      y!.next();
    }
  }
}

/** A shard's entries front to back, checked as read; an entry becomes an object only when asked. */
class ShardCursor {
  readonly ndim: number;
  /** whether index, size and the hash position describe an entry (false past the last) */
  has = true;
  /** the current entry's index: reused for the next entry, so entry() copies it */
  index: number[] = [];
  size = 0;
  /** where the current entry's bytes begin and end in the shard */
  start = 0;
  end = 0;
  private prev: number[] = [];
  private hashAt = 0;
  private left: number;
  private readonly r: ByteReader;
  private readonly buf: Buffer;

  constructor(
    bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.r = new ByteReader(bytes, what);
    readHeader(this.r, FileType.ManifestShard, what);
    this.ndim = this.r.varint();
    this.left = readCount(this.r, this.ndim + HASH_BYTES + 1, what);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.next(true);
  }

  next(first = false): void {
    if (this.left === 0) {
      if (this.has) expectEnd(this.r, this.what);
      this.has = false;
      return;
    }
    this.left--;
    this.start = this.r.pos;
    const index = this.prev;
    for (let d = 0; d < this.ndim; d++) index[d] = this.r.varint();
    index.length = this.ndim;
    if (!first && compareIndex(this.index, index) >= 0) {
      throw new CorruptObjectError(this.what, `entries out of order or duplicated: [${this.index}] then [${index}]`);
    }
    this.prev = this.index;
    this.index = index;
    this.hashAt = this.r.pos;
    this.r.skip(HASH_BYTES);
    this.size = this.r.varint();
    this.end = this.r.pos;
  }

  entry(): ManifestEntry {
    return { index: this.index.slice(), id: this.buf.toString("hex", this.hashAt, this.hashAt + HASH_BYTES) as ChunkId, size: this.size };
  }

  /** Same chunk id and size as the other cursor's entry. */
  sameAs(o: ShardCursor): boolean {
    return this.size === o.size && this.buf.compare(o.buf, o.hashAt, o.hashAt + HASH_BYTES, this.hashAt, this.hashAt + HASH_BYTES) === 0;
  }
}

/**
 * header(FileList) | varint count |
 * count × (varint UTF-8 length | UTF-8 name | 32 hash bytes | varint size).
 * Entries are written sorted by the UTF-8 bytes of their names; names must be unique.
 */
export function encodeFileList(entries: readonly FileListEntry[]): Uint8Array {
  const named = entries.map((e) => ({ ...e, utf8: utf8Name(e.name) }));
  named.sort((a, b) => compareBytes(a.utf8, b.utf8));
  const out: number[] = [];
  writeHeader(FileType.FileList, out);
  encodeVarint(named.length, out);
  for (let i = 0; i < named.length; i++) {
    const { name, utf8, id, size } = named[i];
    if (i > 0 && compareBytes(named[i - 1].utf8, utf8) === 0) {
      throw new InvalidManifestEntryError(`duplicate file name ${JSON.stringify(name)}`);
    }
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidManifestEntryError(`size of ${JSON.stringify(name)} must be an integer in 0..2^53-1, got ${size}`);
    encodeVarint(utf8.length, out);
    for (const b of utf8) out.push(b);
    pushHash(id, out);
    encodeVarint(size, out);
  }
  return Uint8Array.from(out);
}

export function decodeFileList(bytes: Uint8Array, what: string): FileListEntry[] {
  const r = new ByteReader(bytes, what);
  readHeader(r, FileType.FileList, what);
  const count = readCount(r, 1 + 1 + HASH_BYTES + 1, what);
  const entries: FileListEntry[] = [];
  let prev: Uint8Array | null = null;
  for (let n = 0; n < count; n++) {
    const utf8 = r.bytes(r.varint());
    if (prev && compareBytes(prev, utf8) >= 0) {
      throw new CorruptObjectError(what, `file names out of order or duplicated at entry ${n}`);
    }
    prev = utf8;
    let name: string;
    try {
      name = decoder.decode(utf8);
    } catch {
      throw new CorruptObjectError(what, `file name of entry ${n} is not valid UTF-8`);
    }
    const problem = nameProblem(name);
    if (problem) throw new CorruptObjectError(what, `file name ${JSON.stringify(name)} ${problem}`);
    entries.push({ name, id: r.hex(HASH_BYTES) as ChunkId, size: r.varint() });
  }
  expectEnd(r, what);
  return entries;
}

// ---------------------------------------------------------------------------

/** floor(4096^(1/ndim)): 1-D 4096, 2-D 64, 3-D 16, 4-D 8 (the epsilon absorbs 4095.9999…). */
const EXTENTS: number[] = [];
function regionExtent(ndim: number): number {
  EXTENTS[ndim] ??= Math.max(1, Math.floor(CHUNKS_PER_REGION ** (1 / ndim) + 1e-9));
  return EXTENTS[ndim];
}

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as part of the name instead of dropping it.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function pushHash(id: ChunkId, out: number[]): void {
  if (!isChunkId(id)) throw new InvalidManifestEntryError(`not a chunk id: ${JSON.stringify(id)}`);
  for (const b of chunkIdToBytes(id)) out.push(b);
}

/** A count the remaining bytes could hold, at `minEntry` bytes per entry at least. */
function readCount(r: ByteReader, minEntry: number, what: string): number {
  const count = r.varint();
  if (count > r.remaining() / minEntry) {
    throw new CorruptObjectError(what, `claims ${count} entries but only ${r.remaining()} bytes follow`);
  }
  return count;
}

function expectEnd(r: ByteReader, what: string): void {
  if (!r.done()) throw new CorruptObjectError(what, `${r.remaining()} trailing bytes after the last entry`);
}

/** A file name is one path component; returns what is wrong with it, or null. */
function nameProblem(name: string): string | null {
  if (name === "" || name === "." || name === "..") return "is not a file name";
  if (name.includes("/") || name.includes("\0")) return "must not contain '/' or NUL";
  return null;
}

function utf8Name(name: string): Uint8Array {
  const problem = nameProblem(name);
  if (problem) throw new InvalidManifestEntryError(`file name ${JSON.stringify(name)} ${problem}`);
  const utf8 = encoder.encode(name);
  // A lone surrogate would be written as U+FFFD and read back as another name.
  if (decoder.decode(utf8) !== name) {
    throw new InvalidManifestEntryError(`file name ${JSON.stringify(name)} is not valid Unicode`);
  }
  return utf8;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
