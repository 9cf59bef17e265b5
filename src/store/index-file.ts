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
  const entries = new Map<string, IndexEntry>();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // what a later write copies instead of encoding again (version 2 bytes only)
  const src: Source | null = version === VERSION ? { bytes: b, paths: new Array(count), entries: new Array(count), starts: new Uint32Array(count + 1) } : null;
  for (let i = 0; i < count; i++) {
    if (src) src.starts[i] = p;
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
    const size = dv.getFloat64(p, true);
    const e = (
      version >= 2
        ? { store: store === 0 ? "git" : "chunk", id, size, mtimeMs: dv.getFloat64(p + 8, true), ctimeMs: dv.getFloat64(p + 16, true), ino: dv.getFloat64(p + 24, true) }
        : {
            store: store === 0 ? "git" : "chunk",
            id,
            size,
            mtimeMs: msFromNs(dv.getBigUint64(p + 8, true)),
            ctimeMs: msFromNs(dv.getBigUint64(p + 16, true)),
            ino: Number(dv.getBigUint64(p + 24, true)),
          }
    ) as IndexEntry;
    p += 32;
    entries.set(path, e);
    if (src) {
      src.paths[i] = path;
      src.entries[i] = e;
    }
  }
  if (p !== b.length) throw new CorruptObjectError(what, "index has trailing bytes");
  if (src) {
    src.starts[count] = p;
    sources.set(entries, src);
  }
  return { tree, entries };
}

/**
 * The bytes an entries map was decoded from, in order. Entries are never
 * changed in place (a change is a new object), so an entry that is still the
 * very object decoded at the same path encodes to the same bytes: a write
 * copies those runs whole. At 100,000 entries with 1,000 changed, that makes
 * the write ~10 copies instead of 100,000 encodings.
 */
interface Source {
  bytes: Buffer;
  paths: string[];
  entries: IndexEntry[];
  /** where each entry starts, and where the last one ends */
  starts: Uint32Array;
}
const sources = new WeakMap<ReadonlyMap<string, IndexEntry>, Source>();

export function encodeIndex(state: Pick<IndexState, "tree" | "entries">): Buffer {
  const paths = [...state.entries.keys()];
  // the map is usually in order already (decoded sorted, few additions): sort only when it is not
  for (let i = 1; i < paths.length; i++) {
    if (comparePaths(paths[i - 1] as string, paths[i] as string) >= 0) {
      paths.sort(comparePaths);
      break;
    }
  }
  // one buffer, sized first, written through a DataView: per-entry buffers and bound-checked
  // writes were most of the cost at 100,000 entries. `from[i]` is the decoded entry that path i
  // copies (-1: encoded anew).
  const src = sources.get(state.entries);
  const from = new Int32Array(paths.length).fill(-1);
  const lens = new Array<number>(paths.length);
  const list = new Array<IndexEntry>(paths.length);
  let total = 6 + (state.tree ? 20 : 0) + 4;
  for (let i = 0, j = 0; i < paths.length; i++) {
    const path = paths[i] as string;
    const e = state.entries.get(path) as IndexEntry;
    list[i] = e;
    if (src) {
      while (j < src.paths.length && (src.paths[j] as string) < path) j++;
      if (src.paths[j] === path && src.entries[j] === e) {
        from[i] = j;
        total += (src.starts[j + 1] as number) - (src.starts[j] as number);
        continue;
      }
    }
    lens[i] = Buffer.byteLength(path, "utf8");
    total += 4 + (lens[i] as number) + 1 + (e.store === "git" ? 20 : 32) + 32;
  }
  const b = Buffer.allocUnsafe(total);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  b.write("TDV", 0, "latin1");
  b[3] = VERSION;
  b[4] = TYPE_INDEX;
  b[5] = state.tree ? 1 : 0;
  let p = 6;
  if (state.tree) p += b.write(state.tree, p, 20, "hex");
  dv.setUint32(p, paths.length, true);
  p += 4;
  for (let i = 0; i < paths.length; i++) {
    const j = from[i] as number;
    if (j >= 0 && src) {
      // a run of entries decoded one after the other: one copy
      let k = i;
      while (k + 1 < paths.length && from[k + 1] === (from[k] as number) + 1) k++;
      p += src.bytes.copy(b, p, src.starts[j] as number, src.starts[(from[k] as number) + 1] as number);
      i = k;
      continue;
    }
    const e = list[i] as IndexEntry;
    const len = lens[i] as number;
    dv.setUint32(p, len, true);
    p += 4;
    p += b.write(paths[i] as string, p, len, "utf8");
    b[p++] = e.store === "git" ? 0 : 1;
    const idLen = e.store === "git" ? 20 : 32;
    if (e.id.length !== idLen * 2 || b.write(e.id, p, idLen, "hex") !== idLen) throw new CorruptObjectError(paths[i] as string, `index entry has a malformed id ${e.id}`);
    p += idLen;
    dv.setFloat64(p, e.size, true);
    dv.setFloat64(p + 8, e.mtimeMs, true);
    dv.setFloat64(p + 16, e.ctimeMs, true);
    dv.setFloat64(p + 24, e.ino, true);
    p += 32;
  }
  if (p !== total) throw new Error("internal: index size miscounted");
  return b;
}

export async function writeIndex(file: string, state: Pick<IndexState, "tree" | "entries">, durable = true): Promise<void> {
  await writeAtomic(file, encodeIndex(state), { durable });
}

/** Byte-wise order of UTF-8 paths (what Git and the manifests use). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
