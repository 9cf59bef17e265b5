/**
 * The index: the staged snapshot as a flat list of files, each with where its
 * bytes live (a Git blob or a chunk object) and the stat data (size, mtime,
 * ctime, inode) that lets `status` skip hashing files that did not change.
 *
 * Binary layout (little endian): "TDV" | version u8 | fileType u8 (3)
 * | flags u8 (bit 0: tree present) | tree oid (20 bytes, if present)
 * | count u32 | entries sorted by path: pathLen u32 | path utf8 | store u8 (0 git, 1 chunk)
 * | id (20 or 32 bytes) | size f64 | mtimeNs u64 | ctimeNs u64 | ino u64
 */
import { promises as fsp } from "node:fs";
import { CorruptObjectError, UnsupportedFormatError } from "../errors.js";
import type { ChunkId, GitOid } from "../format/hash.js";
import { writeAtomic } from "./atomic.js";

export type Stored = { store: "git"; id: GitOid } | { store: "chunk"; id: ChunkId };

export type IndexEntry = Stored & {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
};

export interface IndexState {
  /** the snapshot tree this index equals exactly, when known (cache-tree) */
  tree: GitOid | null;
  entries: Map<string, IndexEntry>;
  /** mtime of the index file when read: entries modified at or after it are "racy" */
  mtimeNs: bigint;
}

const VERSION = 1;
const TYPE_INDEX = 3;

export function emptyIndex(): IndexState {
  return { tree: null, entries: new Map(), mtimeNs: 0n };
}

export async function readIndex(file: string): Promise<IndexState> {
  let bytes: Buffer;
  let mtimeNs: bigint;
  try {
    const fh = await fsp.open(file, "r");
    try {
      mtimeNs = (await fh.stat({ bigint: true })).mtimeNs;
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyIndex();
    throw err;
  }
  return { ...decodeIndex(bytes, file), mtimeNs };
}

export function decodeIndex(b: Buffer, what: string): Omit<IndexState, "mtimeNs"> {
  let p = 0;
  const need = (n: number) => {
    if (p + n > b.length) throw new CorruptObjectError(what, "index is truncated");
  };
  need(6);
  if (b.toString("latin1", 0, 3) !== "TDV" || b[4] !== TYPE_INDEX) throw new CorruptObjectError(what, "not a tdv index");
  if ((b[3] as number) > VERSION) throw new UnsupportedFormatError(what, b[3] as number, VERSION);
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
    const size = dv.getFloat64(p, true);
    const mtimeNs = dv.getBigUint64(p + 8, true);
    const ctimeNs = dv.getBigUint64(p + 16, true);
    const ino = dv.getBigUint64(p + 24, true);
    p += 32;
    entries.set(path, { store: store === 0 ? "git" : "chunk", id, size, mtimeNs, ctimeNs, ino } as IndexEntry);
  }
  if (p !== b.length) throw new CorruptObjectError(what, "index has trailing bytes");
  return { tree, entries };
}

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
  // writes were most of the cost at 100,000 entries
  const lens = new Array<number>(paths.length);
  const list = new Array<IndexEntry>(paths.length);
  let total = 6 + (state.tree ? 20 : 0) + 4;
  for (let i = 0; i < paths.length; i++) {
    const e = state.entries.get(paths[i] as string) as IndexEntry;
    list[i] = e;
    lens[i] = Buffer.byteLength(paths[i] as string, "utf8");
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
    dv.setBigUint64(p + 8, e.mtimeNs, true);
    dv.setBigUint64(p + 16, e.ctimeNs, true);
    dv.setBigUint64(p + 24, e.ino, true);
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
