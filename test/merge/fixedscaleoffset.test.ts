/**
 * tdv.fixedscaleoffset against numcodecs 0.11's FixedScaleOffset (numpy
 * 1.x arithmetic), byte for byte: encoding arbitrary values (rounding half
 * to even, float32 arithmetic for a float32 array), decoding, and
 * encodeChunk on decoded values (what a merge writes).
 */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { decodeWithCodecs, encodeChunk } from "../../src/zarr/encode.js";
import { FixedScaleOffsetCodec } from "../../src/zarr/fixedscaleoffset.js";
import { hasZarrPython, pythonJson } from "../helpers/zarr-python.js";

const COMBOS: [string, string, number, number][] = [
  ["<f8", "<u2", 1000, 10],
  ["<f8", "<i2", 0.5, 3.3],
  ["<f4", "|u1", 0, 2],
  ["<f4", "<i4", 1.5, 0.1],
  ["<f8", "<f4", 2, 1.5],
  ["<f4", "<f8", -3, 7],
  ["<f8", "|i1", 0, 2],
];

/** values whose scaled form hits .5 exactly (round half to even), negatives, and two that round differently in float32 than in float64 arithmetic ((x + 3) · 7) */
const VALUES = "np.array([0.25, 0.75, 1.25, -0.25, -0.75, 2.5, 3.3, 1000.05, 1000.15, 1001.7, 0.1, 7.77, 12.34, 185.78570556640625, 362.21429443359375])";

const skip = !hasZarrPython();

describe.skipIf(skip)("fixedscaleoffset is numcodecs' FixedScaleOffset, byte for byte", () => {
  it("encode, decode and re-encode over dtype × astype × offset × scale", async () => {
    const want = await pythonJson<{ x: string; enc: string; dec: string }[]>(
      os.tmpdir(),
      `from numcodecs import FixedScaleOffset
out = []
for dt, at, off, sc in ${JSON.stringify(COMBOS)}:
  c = FixedScaleOffset(offset=off, scale=sc, dtype=dt, astype=at)
  info = np.iinfo(at) if np.dtype(at).kind in 'iu' else None
  x = ${VALUES}.astype(dt)
  if info is not None:
    e = np.around((x - off) * sc)
    x = x[(e >= info.min) & (e <= info.max)]
  enc = c.encode(x)
  out.append({'x': x.tobytes().hex(), 'enc': enc.tobytes().hex(), 'dec': c.decode(enc).tobytes().hex()})
print(json.dumps(out))`,
    );
    const problems: string[] = [];
    for (let k = 0; k < COMBOS.length; k++) {
      const [dt, at, offset, scale] = COMBOS[k]!;
      const w = want[k]!;
      const F = dt === "<f4" ? Float32Array : Float64Array;
      const xb = Buffer.from(w.x, "hex");
      const x = new F(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.length));
      const codec = FixedScaleOffsetCodec.fromConfig({ offset, scale, dtype: dt, astype: at }, { dataType: dt === "<f4" ? "float32" : "float64" });
      const enc = codec.encode({ data: x, shape: [x.length], stride: [1] }).data as unknown as Uint8Array;
      const encHex = Buffer.from(enc.buffer, enc.byteOffset, enc.byteLength).toString("hex");
      if (encHex !== w.enc) problems.push(`${dt}→${at} (${offset}, ${scale}) encode: ${encHex} vs ${w.enc}`);
      // through the array's codec chain: decode numcodecs' bytes, re-encode the decoded values
      const doc = { zarr_format: 2, shape: [x.length], chunks: [x.length], dtype: dt, fill_value: 0, order: "C", compressor: null, filters: [{ id: "fixedscaleoffset", offset, scale, dtype: dt, astype: at }] };
      const dec = await decodeWithCodecs(doc, Buffer.from(w.enc, "hex"));
      const d = dec.data as Float64Array;
      const decHex = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("hex");
      if (decHex !== w.dec) problems.push(`${dt}→${at} (${offset}, ${scale}) decode: ${decHex} vs ${w.dec}`);
      const again = Buffer.from(await encodeChunk(doc, [0], { data: d, shape: [x.length], stride: [1] })).toString("hex");
      if (again !== w.enc) problems.push(`${dt}→${at} (${offset}, ${scale}) re-encode: ${again} vs ${w.enc}`);
    }
    expect(problems).toEqual([]);
  });

  it("a value outside astype is an encoding error, not a wrapped number", () => {
    const codec = FixedScaleOffsetCodec.fromConfig({ offset: 0, scale: 2, dtype: "<f8", astype: "|u1" }, { dataType: "float64" });
    expect(() => codec.encode({ data: Float64Array.from([200]), shape: [1], stride: [1] })).toThrow(/outside uint8/);
  });
});
