/**
 * A Blosc 1 frame writer that honours every setting of the array: typesize,
 * shuffle (byte or bit), blocksize, clevel and cname, laid out as c-blosc
 * 1.21 (numcodecs' Blosc) lays out a frame. zarrita's Blosc encoder
 * (numcodecs.js wasm) hard-codes typesize 4, so a float64 chunk re-encoded
 * through it shuffles by the wrong width and grows; decoding is unaffected
 * (a frame describes itself), so tdv decodes with that wasm and encodes here.
 *
 *   const frame = await bloscCompress(bytes, { cname: "lz4", clevel: 5, shuffle: 1, typesize: 8, blocksize: 0 }, compressors);
 *
 * The frame: a 16-byte header (format version 2, compressor version 1,
 * flags, typesize, nbytes, blocksize, cbytes), one start offset per block,
 * then per block its streams (`typesize` streams of the shuffled block when
 * split, else one), each an int32 length and the compressed bytes, or the
 * raw bytes when compression did not make them smaller. A frame that does
 * not fit in nbytes + 16 is written as blosc's plain copy (flag 0x02).
 *
 * The stream compressors are passed in: lz4 (LZ4_compress_fast with
 * acceleration 10 - clevel) and zstd (level 2·clevel - 1, 22 at 9) run the
 * same libraries as c-blosc; zlib runs fflate (other bytes than zlib's
 * deflate, the same values); a cname with no compressor here (blosclz,
 * lz4hc) gets blosc's plain-copy frame, which c-blosc writes itself for data
 * it cannot compress and every blosc reader decodes.
 */

/** One stream compressor: the compressed bytes, or null when it cannot compress. */
export type StreamCompressor = (bytes: Uint8Array, clevel: number) => Promise<Uint8Array | null>;

export interface BloscSettings {
  cname: string;
  clevel: number;
  /** 0 none, 1 byte shuffle, 2 bit shuffle (AUTOSHUFFLE already resolved) */
  shuffle: 0 | 1 | 2;
  typesize: number;
  /** 0: blosc picks it (compute_blocksize) */
  blocksize: number;
}

const MIN_BUFFERSIZE = 128;
const MAX_SPLITS = 16;
const MAX_TYPESIZE = 255;
const MAX_BLOCKSIZE = 536_866_816; // BLOSC_MAX_BLOCKSIZE
const L1 = 32 * 1024;
const HEADER = 16;

/** cname → compressor code (blosc.h BLOSC_*) and the format code stored in the flags (BLOSC_*_FORMAT). */
const CODES: Record<string, { code: number; format: number }> = {
  blosclz: { code: 0, format: 0 },
  lz4: { code: 1, format: 1 },
  lz4hc: { code: 2, format: 1 },
  snappy: { code: 3, format: 2 },
  zlib: { code: 4, format: 3 },
  zstd: { code: 5, format: 4 },
};

/** lz4hc, zlib, zstd: the codecs blosc gives larger blocks (HCR in blosc.c). */
function hcr(cname: string): boolean {
  return cname === "lz4hc" || cname === "zlib" || cname === "zstd";
}

/** blosc.c split_block in its default mode (BLOSC_FORWARD_COMPAT_SPLIT). */
function splits(cname: string, typesize: number, blocksize: number): boolean {
  return cname !== "zstd" && typesize <= MAX_SPLITS && Math.trunc(blocksize / typesize) >= MIN_BUFFERSIZE;
}

/** blosc.c compute_blocksize. */
export function computeBlocksize(cname: string, clevel: number, typesize: number, nbytes: number, forced: number): number {
  if (nbytes < typesize) return 1;
  let blocksize = nbytes;
  if (forced) {
    blocksize = Math.min(Math.max(forced, MIN_BUFFERSIZE), MAX_BLOCKSIZE);
  } else if (nbytes >= L1) {
    blocksize = L1;
    if (hcr(cname)) blocksize *= 2;
    const factor = [0.25, 0.5, 1, 2, 4, 4, 8, 8, 8, 8][clevel] as number;
    blocksize = Math.trunc(blocksize * factor);
    if (clevel === 9 && hcr(cname)) blocksize *= 2;
  }
  if (clevel > 0 && splits(cname, typesize, blocksize)) {
    if (blocksize > 1 << 18) blocksize = 1 << 18;
    blocksize *= typesize;
    if (blocksize < 1 << 16) blocksize = 1 << 16;
    if (blocksize > 1024 * 1024) blocksize = 1024 * 1024;
  }
  if (blocksize > nbytes) blocksize = nbytes;
  if (blocksize > typesize) blocksize = Math.trunc(blocksize / typesize) * typesize;
  return blocksize;
}

/** blosc's byte shuffle of one block: byte j of element i to j·n + i; the bytes after the last whole element stay. */
export function byteShuffle(typesize: number, src: Uint8Array): Uint8Array {
  const out = src.slice();
  const n = Math.trunc(src.length / typesize);
  for (let j = 0; j < typesize; j++) for (let i = 0; i < n; i++) out[j * n + i] = src[i * typesize + j] as number;
  return out;
}

/**
 * blosc's bit shuffle of one block (bitshuffle's trans_bit_elem): bit b of
 * element i (bits numbered from the least significant bit of byte 0) goes to
 * bit b·n + i. Only a multiple of 8 elements is shuffled, the rest is copied;
 * a block whose element count is not a multiple of 8 is copied whole.
 */
export function bitShuffle(typesize: number, src: Uint8Array): Uint8Array {
  const out = src.slice();
  const size = Math.trunc(src.length / typesize);
  if (size % 8 !== 0) return out;
  out.fill(0, 0, size * typesize);
  const bits = typesize * 8;
  for (let i = 0; i < size; i++) {
    for (let b = 0; b < bits; b++) {
      if (((src[i * typesize + (b >> 3)] as number) >> (b & 7)) & 1) {
        const k = b * size + i;
        out[k >> 3] = (out[k >> 3] as number) | (1 << (k & 7));
      }
    }
  }
  return out;
}

function setU32(buf: Uint8Array, at: number, v: number): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(at, v, true);
}

/**
 * Compress `src` into a Blosc 1 frame as c-blosc 1.21's blosc_compress_ctx
 * does with these settings, with `compressors[cname]` for the streams.
 */
export async function bloscCompress(src: Uint8Array, s: BloscSettings, compressors: Partial<Record<string, StreamCompressor>>): Promise<Uint8Array> {
  const codes = CODES[s.cname];
  if (!codes) throw new Error(`blosc: unknown compressor '${s.cname}'`);
  if (!Number.isInteger(s.clevel) || s.clevel < 0 || s.clevel > 9) throw new Error(`blosc: clevel ${s.clevel} is not 0..9`);
  const typesize = s.typesize > MAX_TYPESIZE ? 1 : Math.max(1, s.typesize);
  const nbytes = src.length;
  const blocksize = computeBlocksize(s.cname, s.clevel, typesize, nbytes, s.blocksize);
  const leftover = nbytes % blocksize;
  const nblocks = Math.trunc(nbytes / blocksize) + (leftover > 0 ? 1 : 0);
  const dontSplit = !splits(s.cname, typesize, blocksize);
  let flags = (dontSplit ? 0x10 : 0) | (codes.format << 5);
  if (s.shuffle === 1) flags |= 0x01;
  if (s.shuffle === 2) flags |= 0x04;
  const maxbytes = nbytes + HEADER;

  const header = (f: number, cbytes: number, out: Uint8Array) => {
    out[0] = 2; // BLOSC_VERSION_FORMAT
    out[1] = 1; // every compressor's format version
    out[2] = f;
    out[3] = typesize;
    setU32(out, 4, nbytes);
    setU32(out, 8, blocksize);
    setU32(out, 12, cbytes);
  };
  const plainCopy = () => {
    const out = new Uint8Array(HEADER + nbytes);
    header(flags | 0x02, HEADER + nbytes, out);
    out.set(src, HEADER);
    return out;
  };

  const compress = compressors[s.cname];
  if (s.clevel === 0 || nbytes < MIN_BUFFERSIZE || !compress || nbytes === 0) return plainCopy();

  const out = new Uint8Array(maxbytes);
  let ntbytes = HEADER + 4 * nblocks;
  if (ntbytes > maxbytes) return plainCopy();
  for (let j = 0; j < nblocks; j++) {
    setU32(out, HEADER + 4 * j, ntbytes);
    const leftoverBlock = j === nblocks - 1 && leftover > 0;
    const block = src.subarray(j * blocksize, j * blocksize + (leftoverBlock ? leftover : blocksize));
    const shuffled = s.shuffle === 1 && typesize > 1 ? byteShuffle(typesize, block) : s.shuffle === 2 && block.length >= typesize ? bitShuffle(typesize, block) : block;
    const nsplits = !dontSplit && !leftoverBlock ? typesize : 1;
    const neblock = Math.trunc(block.length / nsplits);
    for (let k = 0; k < nsplits; k++) {
      const at = ntbytes;
      ntbytes += 4;
      let maxout = neblock;
      if (ntbytes + maxout > maxbytes) {
        maxout = maxbytes - ntbytes;
        if (maxout <= 0) return plainCopy();
      }
      const stream = shuffled.subarray(k * neblock, (k + 1) * neblock);
      let packed = await compress(stream, s.clevel);
      if (packed && packed.length > maxout) packed = null; // the C compressors stop at maxout and return 0
      if (!packed || packed.length === 0 || packed.length === neblock) {
        if (ntbytes + neblock > maxbytes) return plainCopy();
        packed = stream;
      }
      setU32(out, at, packed.length);
      out.set(packed, ntbytes);
      ntbytes += packed.length;
    }
  }
  header(flags, ntbytes, out);
  return out.slice(0, ntbytes);
}
