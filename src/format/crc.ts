/**
 * Table-driven CRC-32 over any reflected polynomial: 0xedb88320 is the CRC-32
 * of zlib and Git's pack index, 0x82f63b78 the CRC-32C of Zarr's `crc32c` codec.
 */
export function crc32With(poly: number): (parts: Uint8Array | readonly Uint8Array[]) => number {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (parts) => {
    let c = 0xffffffff;
    for (const b of parts instanceof Uint8Array ? [parts] : parts) {
      for (let i = 0; i < b.length; i++) c = (table[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
    }
    return (c ^ 0xffffffff) >>> 0;
  };
}
