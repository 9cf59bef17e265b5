/**
 * Git packfiles (version 2) with their index (version 2), read and written by
 * tdv itself.
 *
 * Writing: a command that creates many Git objects at once (the first commit
 * of a dataset, a group of thousands of small arrays, a fetch) writes them as
 * one pack instead of one loose file each: two files instead of thousands,
 * which is where such a command spent its time. The objects are stored whole
 * (no deltas), each a zlib stream (small ones stored uncompressed, see
 * format/zlib-stored.ts); `git fsck` and `git verify-pack` accept the result.
 *
 * Reading: the index is searched by its fan-out table and binary search; an
 * object is inflated from the pack at its offset. Deltas (what `git gc` or
 * `git repack` write) are resolved, both offset and reference deltas. Every
 * object read is checked against its id by the caller (GitStore).
 *
 * Format: https://git-scm.com/docs/pack-format
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CorruptObjectError } from "../errors.js";
import { crc32With } from "../format/crc.js";
import type { GitOid } from "../format/hash.js";
import { inflateObject, zlibObject } from "../format/zlib-stored.js";

export type PackType = "commit" | "tree" | "blob" | "tag";
const TYPE_CODE: Record<PackType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const CODE_TYPE: Record<number, PackType> = { 1: "commit", 2: "tree", 3: "blob", 4: "tag" };
const OFS_DELTA = 6;
const REF_DELTA = 7;
const IDX_MAGIC = 0xff744f63;

/** CRC-32 of zlib: the index records one per packed object. */
export const crc32 = crc32With(0xedb88320);

// ---- writing ------------------------------------------------------------------------

export interface PackObject {
  oid: GitOid;
  type: PackType;
  content: Uint8Array;
}

/** The type-and-size header of a packed object. */
function objectHeader(code: number, size: number): Buffer {
  const bytes: number[] = [];
  let b = (code << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(b | 0x80);
    b = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(b);
  return Buffer.from(bytes);
}

/** An object as a pack holds it: its type-and-size header, its zlib stream, and the CRC-32 of both (for the index). */
function packedObject(o: PackObject): { h: Buffer; z: Buffer; crc: number } {
  const h = objectHeader(TYPE_CODE[o.type], o.content.byteLength);
  const z = zlibObject(o.content);
  return { h, z, crc: crc32([h, z]) };
}

/**
 * The bytes of a pack holding `objects` and of its index. The pack's name is
 * its trailing checksum, as git names packs.
 */
export function buildPack(objects: readonly PackObject[]): { name: string; pack: Buffer[]; idx: Buffer } {
  const head = Buffer.alloc(12);
  head.write("PACK", 0, "latin1");
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [head];
  const entries: { oid: Buffer; offset: number; crc: number }[] = [];
  let offset = 12;
  for (const o of objects) {
    const { h, z, crc } = packedObject(o);
    entries.push({ oid: Buffer.from(o.oid, "hex"), offset, crc });
    parts.push(h, z);
    offset += h.length + z.length;
  }
  const sha = createHash("sha1");
  for (const p of parts) sha.update(p);
  const checksum = sha.digest();
  parts.push(checksum);
  // the pack's bytes in parts, written one after the other: a pack of a million chunks' manifests
  // is tens of MB, and one buffer of it was a third copy (the objects, their parts, the whole)
  const pack = parts;

  return { name: `pack-${checksum.toString("hex")}`, pack, idx: packIndex(entries, checksum) };
}

/** How much of a spooled pack is gathered in memory before it goes to its file. */
const SPOOL_BUFFER = 1 << 20;

/** `bytes` written at `position` of `fd`, however many calls it takes. */
function writeAllAt(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength; ) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
}

/**
 * A pack written to a temp file object by object, as they come, instead of
 * collected in memory (a first commit of a million chunks makes tens of MB
 * of manifests and trees: held until the end, they and their packed bytes
 * were ~80 MB of its peak). The objects spooled so far can be read back.
 * `finish` fills in the header's count and appends the checksum; the file
 * becomes a pack only when the caller renames it beside its index.
 */
export class PackSpool {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(SPOOL_BUFFER);
  private used = 0;
  /** the file's length before `buf` */
  private flushed = 12;
  private readonly entries: { oid: Buffer; offset: number; crc: number }[] = [];
  /** where each object's compressed bytes are: [start, end) in the file */
  private readonly where = new Map<GitOid, { type: PackType; start: number; end: number; size: number }>();

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "wx+", 0o444); // read back too (read, finish)
    const head = Buffer.alloc(12);
    head.write("PACK", 0, "latin1");
    head.writeUInt32BE(2, 4);
    try {
      writeAllAt(this.fd, head, 0);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  has(oid: GitOid): boolean {
    return this.where.has(oid);
  }

  oids(): IterableIterator<GitOid> {
    return this.where.keys();
  }

  add(o: PackObject): void {
    if (this.where.has(o.oid)) return;
    const { h, z, crc } = packedObject(o);
    const offset = this.flushed + this.used;
    this.entries.push({ oid: Buffer.from(o.oid, "hex"), offset, crc });
    this.where.set(o.oid, { type: o.type, start: offset + h.length, end: offset + h.length + z.length, size: o.content.byteLength });
    this.append(h);
    this.append(z);
  }

  private append(bytes: Uint8Array): void {
    if (this.used + bytes.byteLength > this.buf.length) this.flush();
    if (bytes.byteLength > this.buf.length) {
      writeAllAt(this.fd, bytes, this.flushed);
      this.flushed += bytes.byteLength;
      return;
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.byteLength;
  }

  private flush(): void {
    if (this.used === 0) return;
    writeAllAt(this.fd, this.buf.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }

  /** An object spooled here (null: not here). */
  read(oid: GitOid): RawObject | null {
    const w = this.where.get(oid);
    if (!w) return null;
    if (w.end > this.flushed) this.flush();
    const z = Buffer.allocUnsafe(w.end - w.start);
    for (let got = 0; got < z.length; ) {
      const n = fs.readSync(this.fd, z, got, z.length - got, w.start + got);
      if (n === 0) throw new CorruptObjectError(path.basename(this.file), `spooled pack is truncated at offset ${w.start + got}`);
      got += n;
    }
    const content = inflateObject(z);
    if (content.length !== w.size) throw new CorruptObjectError(oid, `spooled object: ${content.length} bytes where ${w.size} were written`);
    return { type: w.type, content };
  }

  /** The pack completed in its file (count, checksum): its name and index. */
  finish(): { name: string; idx: Buffer } {
    this.flush();
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.entries.length);
    writeAllAt(this.fd, count, 8);
    // the checksum covers the header as completed: the file is read back (from the page cache)
    const sha = createHash("sha1");
    for (let at = 0; at < this.flushed; ) {
      const n = fs.readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.flushed - at), at);
      if (n === 0) throw new CorruptObjectError(path.basename(this.file), `spooled pack is truncated at offset ${at}`);
      sha.update(this.buf.subarray(0, n));
      at += n;
    }
    const checksum = sha.digest();
    writeAllAt(this.fd, checksum, this.flushed);
    return { name: `pack-${checksum.toString("hex")}`, idx: packIndex(this.entries, checksum) };
  }

  sync(): void {
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** A pack's index (version 2) for its objects' ids, offsets and CRCs (sorted here) and the pack's checksum. */
function packIndex(entries: { oid: Buffer; offset: number; crc: number }[], checksum: Buffer): Buffer {
  entries.sort((a, b) => Buffer.compare(a.oid, b.oid));
  const n = entries.length;
  const large = entries.filter((e) => e.offset >= 0x80000000);
  const idx = Buffer.alloc(8 + 1024 + n * 28 + large.length * 8 + 40);
  idx.writeUInt32BE(IDX_MAGIC, 0);
  idx.writeUInt32BE(2, 4);
  let p = 8;
  for (let byte = 0, k = 0; byte < 256; byte++) {
    while (k < n && (entries[k]!.oid[0] as number) <= byte) k++;
    idx.writeUInt32BE(k, p);
    p += 4;
  }
  for (const e of entries) {
    e.oid.copy(idx, p);
    p += 20;
  }
  for (const e of entries) {
    idx.writeUInt32BE(e.crc, p);
    p += 4;
  }
  let li = 0;
  for (const e of entries) {
    idx.writeUInt32BE(e.offset >= 0x80000000 ? (0x80000000 | li++) >>> 0 : e.offset, p);
    p += 4;
  }
  for (const e of large) {
    idx.writeBigUInt64BE(BigInt(e.offset), p);
    p += 8;
  }
  checksum.copy(idx, p);
  p += 20;
  createHash("sha1").update(idx.subarray(0, p)).digest().copy(idx, p);
  return idx;
}

// ---- reading ------------------------------------------------------------------------

export interface RawObject {
  type: PackType;
  content: Buffer;
}

/** One pack and its index, opened for reading. */
export class Pack {
  private fd: number | null = null;
  private sortedOffsets: Float64Array | null = null;
  readonly count: number;
  private readonly packSize: number;

  private constructor(
    readonly file: string,
    private readonly idx: Buffer,
  ) {
    this.count = idx.readUInt32BE(8 + 255 * 4);
    this.packSize = fs.statSync(file).size;
  }

  /** Open `name.idx` and `name.pack`; null when the pack is not (yet) complete. */
  static open(idxFile: string): Pack | null {
    const packFile = idxFile.replace(/\.idx$/, ".pack");
    let idx: Buffer;
    try {
      idx = fs.readFileSync(idxFile);
      if (!fs.existsSync(packFile)) return null;
    } catch {
      return null;
    }
    if (idx.length < 8 + 1024 + 40 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) {
      throw new CorruptObjectError(path.basename(idxFile), "not a version 2 pack index");
    }
    const n = idx.readUInt32BE(8 + 255 * 4);
    if (idx.length < 8 + 1024 + n * 28 + 40) throw new CorruptObjectError(path.basename(idxFile), "pack index is truncated");
    return new Pack(packFile, idx);
  }

  private oidAt(i: number): Buffer {
    const p = 8 + 1024 + i * 20;
    return this.idx.subarray(p, p + 20);
  }

  private offsetAt(i: number): number {
    const n = this.count;
    const v = this.idx.readUInt32BE(8 + 1024 + n * 24 + i * 4);
    if (!(v & 0x80000000)) return v;
    return Number(this.idx.readBigUInt64BE(8 + 1024 + n * 28 + (v & 0x7fffffff) * 8));
  }

  /** Position of `oid` in the index, or -1. */
  find(oid: GitOid): number {
    const key = Buffer.from(oid, "hex");
    const first = key[0] as number;
    let lo = first === 0 ? 0 : this.idx.readUInt32BE(8 + (first - 1) * 4);
    let hi = this.idx.readUInt32BE(8 + first * 4);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.oidAt(mid), key);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  has(oid: GitOid): boolean {
    return this.find(oid) >= 0;
  }

  /** Every object id in the pack, in order. */
  *oids(): Generator<GitOid> {
    for (let i = 0; i < this.count; i++) yield this.oidAt(i).toString("hex") as GitOid;
  }

  /** The object `oid`, deltas resolved (`resolve` finds a reference delta's base elsewhere). */
  read(oid: GitOid, resolve: (base: GitOid) => RawObject | null): RawObject | null {
    const i = this.find(oid);
    return i < 0 ? null : this.readAt(this.offsetAt(i), resolve, 0);
  }

  private end(offset: number): number {
    if (!this.sortedOffsets) {
      const offs = new Float64Array(this.count);
      for (let i = 0; i < this.count; i++) offs[i] = this.offsetAt(i);
      offs.sort();
      this.sortedOffsets = offs;
    }
    const offs = this.sortedOffsets;
    let lo = 0;
    let hi = offs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((offs[mid] as number) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < offs.length ? (offs[lo] as number) : this.packSize - 20;
  }

  private readAt(offset: number, resolve: (base: GitOid) => RawObject | null, depth: number): RawObject {
    const where = path.basename(this.file);
    if (depth > 64) throw new CorruptObjectError(where, `delta chain deeper than 64 at offset ${offset}`);
    const end = this.end(offset);
    if (offset < 12 || end <= offset || end > this.packSize) throw new CorruptObjectError(where, `bad object offset ${offset}`);
    const buf = Buffer.allocUnsafe(end - offset);
    this.fd ??= fs.openSync(this.file, "r");
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(this.fd, buf, got, buf.length - got, offset + got);
      if (n === 0) throw new CorruptObjectError(where, `pack is truncated at offset ${offset + got}`);
      got += n;
    }
    let p = 0;
    let c = buf[p++] as number;
    const code = (c >> 4) & 7;
    let size = c & 0x0f;
    let shift = 4;
    while (c & 0x80) {
      c = buf[p++] as number;
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    let base: RawObject | null = null;
    if (code === OFS_DELTA) {
      c = buf[p++] as number;
      let back = c & 0x7f;
      while (c & 0x80) {
        c = buf[p++] as number;
        back = (back + 1) * 128 + (c & 0x7f);
      }
      base = this.readAt(offset - back, resolve, depth + 1);
    } else if (code === REF_DELTA) {
      const baseOid = buf.toString("hex", p, p + 20) as GitOid;
      p += 20;
      base = resolve(baseOid);
      if (!base) throw new CorruptObjectError(baseOid, `delta base of an object in ${where} is missing`);
    } else if (!CODE_TYPE[code]) {
      throw new CorruptObjectError(where, `unknown object type ${code} at offset ${offset}`);
    }
    let data: Buffer;
    try {
      data = inflateObject(buf.subarray(p));
    } catch {
      throw new CorruptObjectError(where, `object at offset ${offset} does not inflate`);
    }
    if (data.length !== size) throw new CorruptObjectError(where, `object at offset ${offset}: ${data.length} bytes where the header says ${size}`);
    if (!base) return { type: CODE_TYPE[code] as PackType, content: data };
    return { type: base.type, content: applyDelta(base.content, data, where) };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Apply a git delta (copy and insert instructions) to `base`. */
export function applyDelta(base: Buffer, delta: Buffer, where: string): Buffer {
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    let c: number;
    do {
      if (p >= delta.length) throw new CorruptObjectError(where, "truncated delta");
      c = delta[p++] as number;
      v += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return v;
  };
  const baseSize = varint();
  const outSize = varint();
  if (baseSize !== base.length) throw new CorruptObjectError(where, "delta does not fit its base");
  const out = Buffer.allocUnsafe(outSize);
  let o = 0;
  while (p < delta.length) {
    const op = delta[p++] as number;
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let k = 0; k < 4; k++) if (op & (1 << k)) off += (delta[p++] as number) * 2 ** (8 * k);
      for (let k = 0; k < 3; k++) if (op & (0x10 << k)) len += (delta[p++] as number) * 2 ** (8 * k);
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > outSize) throw new CorruptObjectError(where, "delta copies outside its base");
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op > 0) {
      if (p + op > delta.length || o + op > outSize) throw new CorruptObjectError(where, "delta inserts past its end");
      delta.copy(out, o, p, p + op);
      p += op;
      o += op;
    } else {
      throw new CorruptObjectError(where, "delta has a reserved instruction");
    }
  }
  if (o !== outSize) throw new CorruptObjectError(where, "delta result has the wrong size");
  return out;
}
