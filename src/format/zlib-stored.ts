/**
 * A zlib stream that stores its data without compressing it (RFC 1950 with
 * RFC 1951 "stored" blocks). Git objects must be zlib streams; for the
 * thousands of small trees and manifests a commit writes, compressing buys a
 * few bytes each and costs most of the commit's time. Any zlib reader (stock
 * git, node:zlib) reads it as it reads any other.
 */
import { deflateSync, inflateSync } from "node:zlib";

export function zlibStored(data: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / 0xffff));
  const out = Buffer.allocUnsafe(2 + blocks * 5 + data.length + 4);
  out[0] = 0x78; // deflate, 32 KiB window
  out[1] = 0x01; // no preset dictionary, fastest level; (0x78 << 8 | 0x01) % 31 === 0
  let p = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 0xffff;
    const len = Math.min(0xffff, data.length - start);
    out[p++] = b === blocks - 1 ? 1 : 0; // BFINAL on the last, BTYPE 00 (stored)
    out.writeUInt16LE(len, p);
    out.writeUInt16LE(~len & 0xffff, p + 2);
    p += 4;
    out.set(data.subarray(start, start + len), p);
    p += len;
  }
  out.writeUInt32BE(adler32(data), p);
  return out;
}

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 bytes is the most that can be summed before the 32-bit sums must be reduced
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + 5552);
    for (; i < end; i++) {
      a += data[i] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Objects up to this size are stored, larger ones deflated (level 1). */
export const STORE_BELOW = 4096;

/** The zlib stream of a Git object's bytes (loose or packed): stored when small, deflated otherwise. */
export function zlibObject(data: Uint8Array): Buffer {
  return data.byteLength < STORE_BELOW ? zlibStored(data) : deflateSync(data, { level: 1 });
}

/**
 * Inflate a zlib stream. A stream of stored blocks (what zlibStored writes)
 * is read here directly, its Adler-32 checked: node:zlib's set-up costs more
 * than the whole read for the small objects history is made of. Anything
 * else, or anything malformed, goes to node:zlib, which decides.
 */
export function inflateObject(z: Uint8Array): Buffer {
  const stored = readStored(z);
  return stored ?? inflateSync(z);
}

function readStored(z: Uint8Array): Buffer | null {
  if (z.length < 11 || z[0] !== 0x78 || ((z[0] << 8) | (z[1] as number)) % 31 !== 0 || ((z[1] as number) & 0x20) !== 0) return null;
  const parts: Uint8Array[] = [];
  let p = 2;
  for (;;) {
    if (p + 5 > z.length) return null;
    const head = z[p] as number;
    if ((head & 0x06) !== 0) return null; // not a stored block: a compressed stream
    const len = (z[p + 1] as number) | ((z[p + 2] as number) << 8);
    const nlen = (z[p + 3] as number) | ((z[p + 4] as number) << 8);
    if ((len ^ 0xffff) !== nlen || p + 5 + len > z.length) return null;
    parts.push(z.subarray(p + 5, p + 5 + len));
    p += 5 + len;
    if (head & 1) break;
  }
  if (p + 4 !== z.length) return null;
  const out = parts.length === 1 ? Buffer.from(parts[0] as Uint8Array) : Buffer.concat(parts);
  const want = (((z[p] as number) << 24) | ((z[p + 1] as number) << 16) | ((z[p + 2] as number) << 8) | (z[p + 3] as number)) >>> 0;
  return adler32(out) === want ? out : null;
}
