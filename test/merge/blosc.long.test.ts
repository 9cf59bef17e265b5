/**
 * tdv's Blosc writer (src/zarr/blosc.ts, through encodeChunk) against
 * numcodecs 0.11 (c-blosc 1.21): every frame decodes in numcodecs to the
 * values written, and carries the header numcodecs writes (typesize, flags,
 * blocksize); lz4 and zstd frames of one block are numcodecs' bytes exactly.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { bitShuffle } from "../../src/zarr/blosc.js";
import { decodeWithCodecs, encodeChunk } from "../../src/zarr/encode.js";
import { hasZarrPython, pythonJson } from "../helpers/zarr-python.js";

const DTYPES: [string, new (b: ArrayBuffer, o: number, n: number) => ArrayLike<unknown>, number][] = [
  ["<f8", Float64Array as never, 8],
  ["<f4", Float32Array as never, 4],
  ["<i2", Int16Array as never, 2],
  ["|u1", Uint8Array as never, 1],
];
const CNAMES = ["lz4", "zstd", "zlib", "lz4hc", "blosclz"];
const SHUFFLES = [-1, 0, 1, 2];
const SIZES = [10, 1001];

interface Frame {
  dt: string;
  n: number;
  cname: string;
  shuffle: number;
  clevel: number;
  data: string;
  frame: string;
}

describe("bitShuffle", () => {
  it("moves bit b of element i to bit b·n + i, copying what is left over", () => {
    // 8 one-byte elements, element 0 = 0b1 (bit 0): bit 0·8 + 0 → byte 0 bit 0; element 1 = 0b10 (bit 1) → bit 1·8 + 1 = byte 1 bit 1
    const src = new Uint8Array([1, 2, 0, 0, 0, 0, 0, 0, 0xaa]);
    expect([...bitShuffle(1, src)]).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0xaa]);
    const src2 = new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0]); // bit 7 of element 0 → bit 56 → byte 7 bit 0
    expect([...bitShuffle(1, src2)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });
});

describe("v3 blosc", () => {
  it("re-encodes with the configuration's typesize and shuffle (bitshuffle, typesize 2), and reads back", async () => {
    const doc = {
      zarr_format: 3,
      node_type: "array",
      shape: [300],
      data_type: "int16",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [300] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: 0,
      codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "blosc", configuration: { cname: "zstd", clevel: 5, shuffle: "bitshuffle", typesize: 2, blocksize: 0 } }],
      attributes: {},
    };
    const data = Int16Array.from({ length: 300 }, (_, i) => (i * 7) % 1000);
    const frame = await encodeChunk(doc, [0], { data: data as never, shape: [300], stride: [1] });
    // version 2, zstd (format 4 in bits 5-7), bit shuffle (0x04), no split (0x10); typesize 2; 600 bytes
    expect([frame[0], frame[2], frame[3]]).toEqual([2, (4 << 5) | 0x10 | 0x04, 2]);
    expect(new DataView(frame.buffer, frame.byteOffset).getUint32(4, true)).toBe(600);
    expect([...((await decodeWithCodecs(doc, frame)).data as Int16Array)]).toEqual([...data]);
  });
});

describe.skipIf(!hasZarrPython())("blosc frames against numcodecs", () => {
  it("dtype × cname × shuffle × size: numcodecs decodes every frame, headers match, lz4/zstd bytes match", { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const frames = await pythonJson<Frame[]>(
      dir,
      `out = []
for dt in ${JSON.stringify(DTYPES.map((d) => d[0]))}:
  for n in ${JSON.stringify(SIZES)}:
    a = (np.arange(n) * 1.25 + .5).astype(dt)
    for cname in ${JSON.stringify(CNAMES)}:
      for sh in ${JSON.stringify(SHUFFLES)}:
        b = Blosc(cname=cname, clevel=5, shuffle=sh).encode(a)
        out.append(dict(dt=dt, n=n, cname=cname, shuffle=sh, clevel=5, data=a.tobytes().hex(), frame=bytes(b).hex()))
print(json.dumps(out))`,
    );
    const ours: string[] = [];
    for (const f of frames) {
      const [, T] = DTYPES.find((d) => d[0] === f.dt)!;
      const bytes = Buffer.from(f.data, "hex");
      const data = new T(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, 0, f.n);
      const doc = { zarr_format: 2, shape: [f.n], chunks: [f.n], dtype: f.dt, compressor: { id: "blosc", cname: f.cname, clevel: f.clevel, shuffle: f.shuffle, blocksize: 0 }, filters: null, fill_value: 0, order: "C" };
      ours.push(Buffer.from(await encodeChunk(doc, [0], { data: data as never, shape: [f.n], stride: [1] })).toString("hex"));
    }
    await fsp.writeFile(path.join(dir, "ours.json"), JSON.stringify(ours));
    const decoded = await pythonJson<string[]>(dir, `ours = json.load(open('ours.json'))\nprint(json.dumps([bytes(Blosc().decode(bytes.fromhex(h))).hex() for h in ours]))`);

    const problems: string[] = [];
    let identical = 0;
    frames.forEach((f, k) => {
      const name = `${f.dt} ${f.cname} shuffle=${f.shuffle} n=${f.n}`;
      const mine = Buffer.from(ours[k]!, "hex");
      const theirs = Buffer.from(f.frame, "hex");
      if (decoded[k] !== f.data) problems.push(`${name}: numcodecs decodes other values`);
      // typesize and nbytes, blocksize; the flags too except where tdv has no compressor (blosclz: a plain copy)
      const same = (a: number, b: number) => mine.subarray(a, b).equals(theirs.subarray(a, b));
      if (!same(3, 12) || !same(0, 2)) problems.push(`${name}: header ${mine.subarray(0, 12).toString("hex")} vs ${theirs.subarray(0, 12).toString("hex")}`);
      if (f.cname !== "blosclz" && mine[2] !== theirs[2]) problems.push(`${name}: flags ${mine[2]} vs ${theirs[2]}`);
      if ((f.cname === "lz4" || f.cname === "zstd") && !mine.equals(theirs)) problems.push(`${name}: ${mine.length} bytes, numcodecs ${theirs.length}`);
      if (mine.equals(theirs)) identical++;
    });
    expect(problems).toEqual([]);
    expect(identical).toBeGreaterThanOrEqual(frames.length / 2);
  });
});
