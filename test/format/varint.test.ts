import { describe, expect, it } from "vitest";
import { CorruptObjectError } from "../../src/errors.js";
import { ByteReader, encodeVarint } from "../../src/format/varint.js";

function enc(n: number): number[] {
  const out: number[] = [];
  encodeVarint(n, out);
  return out;
}

function read(bytes: number[]): number {
  return new ByteReader(Uint8Array.from(bytes), "test").varint();
}

describe("varint", () => {
  it("encodes unsigned LEB128", () => {
    expect(enc(0)).toEqual([0]);
    expect(enc(127)).toEqual([0x7f]);
    expect(enc(128)).toEqual([0x80, 0x01]);
    expect(enc(300)).toEqual([0xac, 0x02]);
    expect(enc(2 ** 32)).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(enc(Number.MAX_SAFE_INTEGER)).toHaveLength(8);
  });

  it("round-trips values across the whole range", () => {
    const values = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 49, Number.MAX_SAFE_INTEGER];
    const out: number[] = [];
    for (const v of values) encodeVarint(v, out);
    const r = new ByteReader(Uint8Array.from(out), "test");
    expect(values.map(() => r.varint())).toEqual(values);
    expect(r.done()).toBe(true);
  });

  it("refuses values outside 0..2^53-1", () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => enc(bad)).toThrow(RangeError);
    }
  });

  it("treats truncated, overlong and non-minimal varints as corrupt", () => {
    expect(() => read([0x80])).toThrow(CorruptObjectError);
    expect(() => read([])).toThrow(/truncated/);
    expect(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).toThrow(/longer than 8 bytes/);
    expect(() => read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10])).toThrow(/exceeds 2\^53-1/);
    expect(read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => read([0x81, 0x00])).toThrow(/non-minimal/);
  });
});

describe("ByteReader", () => {
  it("reads bytes and u8 and tracks the position", () => {
    const r = new ByteReader(Uint8Array.from([1, 2, 3, 4]), "obj");
    expect(r.u8()).toBe(1);
    expect(Array.from(r.bytes(2))).toEqual([2, 3]);
    expect(r.pos).toBe(3);
    expect(r.remaining()).toBe(1);
    expect(r.done()).toBe(false);
    expect(r.u8()).toBe(4);
    expect(r.done()).toBe(true);
  });

  it("throws CorruptObjectError naming the object on every read past the end", () => {
    const r = new ByteReader(Uint8Array.from([1, 2]), "shard abc");
    expect(() => r.bytes(3)).toThrow(CorruptObjectError);
    r.bytes(2);
    try {
      r.u8();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CorruptObjectError);
      expect((err as CorruptObjectError).id).toBe("shard abc");
      expect((err as Error).message).toMatch(/truncated/);
    }
  });
});
