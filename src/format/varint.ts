import { CorruptObjectError } from "../errors.js";

/** Unsigned LEB128 varints are at most 8 bytes: 8 × 7 = 56 bits cover 2^53 - 1. */
const MAX_VARINT_BYTES = 8;

/** Appends `n` (an integer in 0..2^53-1) to `out` as an unsigned LEB128 varint. */
export function encodeVarint(n: number, out: number[]): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`varint must be an integer in 0..2^53-1, got ${n}`);
  }
  // Arithmetic, not bit operators: those truncate to 32 bits.
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/**
 * Reads a binary file front to back. Every read past the end, and every
 * non-canonical varint, throws CorruptObjectError(what, ...): decoding and
 * re-encoding a file that reads cleanly gives back the same bytes.
 */
export class ByteReader {
  pos = 0;
  private asBuffer: Buffer | undefined;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  varint(): number {
    const start = this.pos;
    let n = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) this.corrupt(`non-minimal varint at offset ${start}`);
        if (n > Number.MAX_SAFE_INTEGER) this.corrupt(`varint at offset ${start} exceeds 2^53-1`);
        return n;
      }
      scale *= 0x80;
    }
    return this.corrupt(`varint at offset ${start} is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** The next `n` bytes as lowercase hex (a hash), without a view of them first. */
  hex(n: number): string {
    this.need(n);
    this.asBuffer ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const out = this.asBuffer.toString("hex", this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Step over the next `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** The next `n` bytes, as a view into the input (not a copy). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private need(n: number): void {
    if (n > this.remaining()) {
      this.corrupt(`truncated: needed ${n} bytes at offset ${this.pos}, only ${this.remaining()} left`);
    }
  }

  u8(): number {
    if (this.pos >= this.buf.length) {
      this.corrupt(`truncated: unexpected end of data at offset ${this.pos}`);
    }
    return this.buf[this.pos++];
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  private corrupt(problem: string): never {
    throw new CorruptObjectError(this.what, problem);
  }
}
