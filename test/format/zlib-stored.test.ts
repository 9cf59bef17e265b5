import { randomBytes } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { adler32, inflateObject, zlibObject, zlibStored, STORE_BELOW } from "../../src/format/zlib-stored.js";

describe("stored zlib streams", () => {
  it("inflate back to the same bytes (zlib checks the Adler-32), across block and sum-reduction boundaries", () => {
    for (const n of [0, 1, 100, 5551, 5552, 5553, 65535, 65536, 65537, 200_000]) {
      const data = randomBytes(n);
      expect(inflateSync(zlibStored(data)).equals(data), `${n} bytes`).toBe(true);
    }
    const ones = Buffer.alloc(300_000, 0xff); // the largest sums
    expect(inflateSync(zlibStored(ones)).equals(ones)).toBe(true);
  });

  it("Adler-32 of known inputs", () => {
    expect(adler32(Buffer.from(""))).toBe(1);
    expect(adler32(Buffer.from("Wikipedia"))).toBe(0x11e60398);
  });

  it("small objects are stored, large ones deflated", () => {
    const small = Buffer.alloc(STORE_BELOW - 1, 7);
    const large = Buffer.alloc(STORE_BELOW * 4, 7);
    expect(zlibObject(small).length).toBe(small.length + 2 + 5 + 4);
    expect(zlibObject(large).length).toBeLessThan(large.length / 10);
    expect(inflateSync(zlibObject(large)).equals(large)).toBe(true);
  });

  it("inflateObject reads stored streams itself and leaves the rest, and anything damaged, to node:zlib", () => {
    const data = randomBytes(70_000);
    expect(inflateObject(zlibStored(data)).equals(data)).toBe(true);
    expect(inflateObject(deflateSync(data)).equals(data)).toBe(true);
    expect(inflateObject(deflateSync(data, { level: 0 })).equals(data)).toBe(true); // zlib's own stored blocks
    const bad = zlibStored(Buffer.from("a small object"));
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1; // wrong Adler-32
    expect(() => inflateObject(bad)).toThrow();
    const cut = zlibStored(data).subarray(0, 1000);
    expect(() => inflateObject(cut)).toThrow();
  });
});
