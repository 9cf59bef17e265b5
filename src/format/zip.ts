/**
 * A zip archive encoded front to back, for `tdv export --zip`: every entry
 * STORED (method 0, not deflated), so a reader can range-read a chunk at its
 * offset in the file (zarrita's ZipFileStore does, and zarr-python's
 * ZipStore reads each entry as it is). An entry's bytes are given whole,
 * their CRC-32 and size known before its local header is written: no data
 * descriptors, one entry's bytes in memory at a time.
 *
 * ZIP64 (APPNOTE 4.5.3) is used where the classic fields do not reach: an
 * entry of 4 GiB or more or one that starts beyond 4 GiB gets a ZIP64 extra
 * field, and an archive of more than 65,535 entries or whose central
 * directory starts or ends beyond 4 GiB gets the ZIP64 end records.
 *
 * The central directory goes to the sink's keeping as the entries go (a
 * side file: a million entries do not sit in memory) and is appended after
 * the last entry. Bytes in, bytes out: src/store/zip-file.ts puts them on disk.
 */
import zlib from "node:zlib";
import { crc32With } from "./crc.js";

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const END64_SIG = 0x06064b50;
const LOCATOR64_SIG = 0x07064b50;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
/** general purpose flag bit 11: names are UTF-8 */
const FLAG_UTF8 = 0x0800;
/** version needed to extract: 2.0 (stored, folders), 4.5 (ZIP64) */
const V20 = 20;
const V45 = 45;
/** version made by: Unix (3) in the high byte, so the external attributes carry Unix modes */
const MADE_BY_UNIX = 3 << 8;
/** a regular file, rw-r--r-- */
const FILE_MODE = 0o100644;

/** zlib's CRC-32 (native in Node ≥ 20.15), else the table-driven one. */
const crc32: (b: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === "function" ? (b) => (zlib as unknown as { crc32(b: Uint8Array): number }).crc32(b) >>> 0 : crc32With(0xedb88320);

export interface ZipOptions {
  /** the entries' modification time (a DOS date and time in the archive): e.g. the commit's, so an export is the same bytes each time */
  mtime: Date;
  /** give every entry and the end of the archive ZIP64 records, whatever their sizes (tests of readers) */
  forceZip64?: boolean;
}

/** The entry of a file in a zip written by ZipWriter (what its central directory says of it). */
export interface ZipEntryInfo {
  name: string;
  size: number;
  /** where its bytes start in the archive */
  dataOffset: number;
}

/** Where a ZipWriter's bytes go. */
export interface ZipSink {
  /** append bytes to the archive */
  write(bytes: Uint8Array): void;
  /** keep a block of the central directory until the end */
  keep(block: Uint8Array): void;
  /** the kept blocks, in order (read once, by finish) */
  kept(): Iterable<Uint8Array>;
}

/** A zip written front to back into `sink`. */
export class ZipWriter {
  private offset = 0;
  private entries = 0;
  private cdSize = 0;
  private readonly dosTime: number;
  private readonly dosDate: number;
  private finished = false;

  constructor(
    private readonly sink: ZipSink,
    private readonly opts: ZipOptions,
  ) {
    [this.dosDate, this.dosTime] = dosDateTime(opts.mtime);
  }

  /** bytes written so far */
  get size(): number {
    return this.offset;
  }

  /** Append the file `name` ("weather.zarr/temp/0.0", no leading "/") with its bytes. */
  add(name: string, bytes: Uint8Array): ZipEntryInfo {
    if (this.finished) throw new Error("zip already finished");
    if (name === "" || name.startsWith("/") || name.endsWith("/")) throw new Error(`not a zip entry name: '${name}'`);
    const nameBytes = Buffer.from(name, "utf8");
    if (nameBytes.length > MAX16) throw new Error(`zip entry name longer than 65,535 bytes: '${name.slice(0, 80)}...'`);
    const crc = crc32(bytes);
    const size = bytes.length;
    const start = this.offset;
    const big = this.opts.forceZip64 === true || size >= MAX32 || start >= MAX32;

    // local header: with ZIP64, both sizes are 0xFFFFFFFF and the extra field holds them
    const localExtra = big ? zip64Extra([size, size]) : Buffer.alloc(0);
    const local = Buffer.alloc(30 + nameBytes.length + localExtra.length);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(big ? V45 : V20, 4);
    local.writeUInt16LE(FLAG_UTF8, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(this.dosTime, 10);
    local.writeUInt16LE(this.dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(big ? MAX32 : size, 18);
    local.writeUInt32LE(big ? MAX32 : size, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    nameBytes.copy(local, 30);
    localExtra.copy(local, 30 + nameBytes.length);
    this.write(local);
    const dataOffset = this.offset;
    this.write(bytes);

    // central directory record: the fields that overflow go to the ZIP64 extra, in the order the spec gives
    const sizeOver = this.opts.forceZip64 === true || size >= MAX32;
    const offsetOver = this.opts.forceZip64 === true || start >= MAX32;
    const extraFields: number[] = [];
    if (sizeOver) extraFields.push(size, size);
    if (offsetOver) extraFields.push(start);
    const cdExtra = extraFields.length ? zip64Extra(extraFields) : Buffer.alloc(0);
    const cd = Buffer.alloc(46 + nameBytes.length + cdExtra.length);
    cd.writeUInt32LE(CENTRAL_SIG, 0);
    cd.writeUInt16LE(MADE_BY_UNIX | V45, 4);
    cd.writeUInt16LE(extraFields.length ? V45 : V20, 6);
    cd.writeUInt16LE(FLAG_UTF8, 8);
    cd.writeUInt16LE(0, 10);
    cd.writeUInt16LE(this.dosTime, 12);
    cd.writeUInt16LE(this.dosDate, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(sizeOver ? MAX32 : size, 20);
    cd.writeUInt32LE(sizeOver ? MAX32 : size, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt16LE(cdExtra.length, 30);
    cd.writeUInt16LE(0, 32); // comment
    cd.writeUInt16LE(0, 34); // disk
    cd.writeUInt16LE(0, 36); // internal attributes
    cd.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
    cd.writeUInt32LE(offsetOver ? MAX32 : start, 42);
    nameBytes.copy(cd, 46);
    cdExtra.copy(cd, 46 + nameBytes.length);
    this.addToDirectory(cd);
    this.entries++;
    return { name, size, dataOffset };
  }

  /** Write the central directory and the end records: the archive is complete. */
  finish(): { entries: number; bytes: number } {
    if (this.finished) throw new Error("zip already finished");
    this.finished = true;
    this.flushDirectory();
    const cdStart = this.offset;
    for (const block of this.sink.kept()) this.write(block);
    if (this.offset - cdStart !== this.cdSize) throw new Error(`central directory of ${this.cdSize} bytes came back as ${this.offset - cdStart}`);
    const cdEnd = this.offset;
    const zip64 = this.opts.forceZip64 === true || this.entries > MAX16 || cdStart >= MAX32 || this.cdSize >= MAX32 || cdEnd >= MAX32;
    if (zip64) {
      const end64 = Buffer.alloc(56);
      end64.writeUInt32LE(END64_SIG, 0);
      end64.writeBigUInt64LE(44n, 4); // size of the rest of this record
      end64.writeUInt16LE(MADE_BY_UNIX | V45, 12);
      end64.writeUInt16LE(V45, 14);
      end64.writeUInt32LE(0, 16); // this disk
      end64.writeUInt32LE(0, 20); // disk of the central directory
      end64.writeBigUInt64LE(BigInt(this.entries), 24);
      end64.writeBigUInt64LE(BigInt(this.entries), 32);
      end64.writeBigUInt64LE(BigInt(this.cdSize), 40);
      end64.writeBigUInt64LE(BigInt(cdStart), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(LOCATOR64_SIG, 0);
      locator.writeUInt32LE(0, 4);
      locator.writeBigUInt64LE(BigInt(cdEnd), 8);
      locator.writeUInt32LE(1, 16); // disks
      this.write(end64);
      this.write(locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_SIG, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(zip64 ? MAX16 : this.entries, 8);
    end.writeUInt16LE(zip64 ? MAX16 : this.entries, 10);
    end.writeUInt32LE(zip64 ? MAX32 : this.cdSize, 12);
    end.writeUInt32LE(zip64 ? MAX32 : cdStart, 16);
    end.writeUInt16LE(0, 20); // comment
    this.write(end);
    return { entries: this.entries, bytes: this.offset };
  }

  /** central directory records not yet in the side file */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private addToDirectory(record: Buffer): void {
    this.pending.push(record);
    this.pendingBytes += record.length;
    this.cdSize += record.length;
    if (this.pendingBytes >= 1 << 20) this.flushDirectory();
  }

  private flushDirectory(): void {
    if (this.pending.length === 0) return;
    this.sink.keep(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private write(b: Uint8Array): void {
    this.sink.write(b);
    this.offset += b.length;
  }
}

/** A date as DOS keeps it (its UTC fields; seconds in units of two), clamped to 1980..2107. */
function dosDateTime(t: Date): [number, number] {
  const year = t.getUTCFullYear();
  if (year < 1980) return [(1 << 5) | 1, 0];
  if (year > 2107) return [(127 << 9) | (12 << 5) | 31, (23 << 11) | (59 << 5) | 29];
  return [((year - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate(), (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | Math.floor(t.getUTCSeconds() / 2)];
}

/** A ZIP64 extended information extra field (header 0x0001) holding `values` as 8-byte integers. */
function zip64Extra(values: readonly number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  for (const [i, v] of values.entries()) b.writeBigUInt64LE(BigInt(v), 4 + 8 * i);
  return b;
}
