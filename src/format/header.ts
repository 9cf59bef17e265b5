import { CorruptObjectError, UnsupportedFormatError } from "../errors.js";
import type { ByteReader } from "./varint.js";

/**
 * Every binary file tdv writes starts with a 5-byte header:
 * the ASCII magic "TDV", one format-version byte, one file-type byte.
 */
export const FORMAT_VERSION = 1;

export const FileType = { ManifestShard: 1, FileList: 2, Index: 3 } as const;

const MAGIC = [0x54, 0x44, 0x56]; // "TDV"

const TYPE_NAMES: Record<number, string> = {
  [FileType.ManifestShard]: "manifest shard",
  [FileType.FileList]: "file list",
  [FileType.Index]: "index",
};

function typeName(t: number): string {
  return `${t} (${TYPE_NAMES[t] ?? "unknown"})`;
}

export function writeHeader(fileType: number, out: number[]): void {
  out.push(...MAGIC, FORMAT_VERSION, fileType);
}

/** Consumes the header; refuses other files, other types and newer versions. */
export function readHeader(r: ByteReader, expectedType: number, what: string): void {
  const magic = r.bytes(MAGIC.length);
  if (MAGIC.some((b, i) => magic[i] !== b)) {
    const hex = Array.from(magic, (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new CorruptObjectError(what, `not a tdv file: bad magic bytes ${hex}`);
  }
  const version = r.u8();
  if (version === 0) throw new CorruptObjectError(what, "format version 0 is invalid");
  if (version > FORMAT_VERSION) throw new UnsupportedFormatError(what, version, FORMAT_VERSION);
  const fileType = r.u8();
  if (fileType !== expectedType) {
    throw new CorruptObjectError(
      what,
      `expected file type ${typeName(expectedType)}, found ${typeName(fileType)}`,
    );
  }
}
