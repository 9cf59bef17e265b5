/**
 * A zip archive (format/zip.ts) written to a file on disk, its central
 * directory kept in a side file until the end, so memory holds one entry's
 * bytes and 1 MiB of directory whatever the number of entries.
 */
import fs from "node:fs";
import { ZipWriter, type ZipOptions, type ZipSink } from "../format/zip.js";
import { asAccessError } from "./atomic.js";

export interface ZipFile {
  zip: ZipWriter;
  /** flush the archive to disk (after zip.finish()) */
  sync(): void;
  /** close the archive and remove the side file (always: after success or failure) */
  close(): void;
}

/** Create `file` (which must not exist) and a ZipWriter into it; `sideFile` is made and removed. */
export function createZipFile(file: string, sideFile: string, opts: ZipOptions): ZipFile {
  let fd: number;
  let side: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o666);
  } catch (err) {
    throw asAccessError(err, file);
  }
  try {
    side = fs.openSync(sideFile, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600);
  } catch (err) {
    fs.closeSync(fd);
    throw asAccessError(err, sideFile);
  }
  let pos = 0;
  let sidePos = 0;
  const sink: ZipSink = {
    write(b) {
      writeAll(fd, b, pos, file);
      pos += b.length;
    },
    keep(b) {
      writeAll(side, b, sidePos, sideFile);
      sidePos += b.length;
    },
    *kept() {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, sidePos)));
      for (let at = 0; at < sidePos; ) {
        const n = fs.readSync(side, buf, 0, Math.min(buf.length, sidePos - at), at);
        if (n <= 0) throw new Error(`${sideFile} is shorter than what was written to it`);
        yield buf.subarray(0, n);
        at += n;
      }
    },
  };
  let open = true;
  return {
    zip: new ZipWriter(sink, opts),
    sync: () => fs.fsyncSync(fd),
    close() {
      if (!open) return;
      open = false;
      fs.closeSync(side);
      fs.rmSync(sideFile, { force: true });
      fs.closeSync(fd);
    },
  };
}

function writeAll(fd: number, b: Uint8Array, position: number, file: string): void {
  try {
    for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off, b.length - off, position + off);
  } catch (err) {
    throw asAccessError(err, file);
  }
}
