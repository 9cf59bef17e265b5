import { describe, expect, it } from "vitest";
import { CorruptObjectError, UnsupportedFormatError } from "../../src/errors.js";
import { FORMAT_VERSION, FileType, readHeader, writeHeader } from "../../src/format/header.js";
import { ByteReader } from "../../src/format/varint.js";

function check(bytes: number[], type: number): ByteReader {
  const r = new ByteReader(Uint8Array.from(bytes), "obj");
  readHeader(r, type, "obj");
  return r;
}

describe("header", () => {
  it("writes TDV, the format version and the file type", () => {
    const out: number[] = [];
    writeHeader(FileType.FileList, out);
    expect(out).toEqual([0x54, 0x44, 0x56, FORMAT_VERSION, 2]);
    expect(check(out, FileType.FileList).pos).toBe(5);
  });

  it("refuses bad magic, wrong types and truncated headers as corrupt", () => {
    expect(() => check([0x47, 0x49, 0x54, 1, 1], FileType.ManifestShard)).toThrow(/bad magic bytes 47 49 54/);
    expect(() => check([0x54, 0x44, 0x56, 1, 2], FileType.ManifestShard)).toThrow(
      /expected file type 1 \(manifest shard\), found 2 \(file list\)/,
    );
    expect(() => check([0x54, 0x44, 0x56, 0, 1], FileType.ManifestShard)).toThrow(CorruptObjectError);
    expect(() => check([0x54, 0x44, 0x56, 1], FileType.ManifestShard)).toThrow(/truncated/);
    expect(() => check([0x54, 0x44], FileType.ManifestShard)).toThrow(CorruptObjectError);
  });

  it("refuses a newer format version with UnsupportedFormatError", () => {
    try {
      check([0x54, 0x44, 0x56, FORMAT_VERSION + 1, 1], FileType.ManifestShard);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnsupportedFormatError);
      expect(err).toMatchObject({ what: "obj", found: FORMAT_VERSION + 1, supported: FORMAT_VERSION });
    }
  });
});
