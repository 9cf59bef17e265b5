/**
 * Arrays written by zarr-python 2 with numcodecs filters and compressors,
 * committed with the built CLI, changed on two branches by zarr-python, then
 * `tdv diff --values --json` and `tdv merge`: the merged array, read back by
 * zarr-python, must be exactly (byte for byte) what numpy expects; an array
 * tdv cannot decode faithfully must be refused by name (dtype, or codec and
 * setting), once per array, and merged as whole chunks, never as garbage.
 */
import { describe, expect, it } from "vitest";
import { ShuffleCodec } from "../../src/zarr/support.js";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { hasZarrPython, python, pythonJson } from "../helpers/zarr-python.js";
import os from "node:os";

interface Case {
  name: string;
  dtype: string;
  filters: string;
  compressor: string;
  /** numpy expression of the base values (N elements) */
  base: string;
  theirs: [number, string][];
  ours: [number, string][];
  /** null: decodable, merged element by element; else the refusal the messages must name */
  refused: RegExp | null;
}

/** Elements per array, one chunk: odd, and large enough that blosc compresses (not a plain copy) and shuffles have a remainder */
const N = 1001;

const FLOAT_BASE = (dt: string) => `(lambda b: (b.__setitem__(1, 0.0), b.__setitem__(5, -0.0), b)[2])((np.arange(N) + .5).astype('${dt}'))`;
// theirs turns +0.0 into -0.0 at [1]; ours turns -0.0 into +0.0 at [5]; both change [6] (theirs wins)
const FLOAT_THEIRS: [number, string][] = [[4, "200"], [1, "-0.0"], [6, "77"]];
const FLOAT_OURS: [number, string][] = [[0, "0.1"], [6, "66"], [5, "0.0"]];
const INT_THEIRS: [number, string][] = [[4, "200"], [6, "77"]];
const INT_OURS: [number, string][] = [[0, "9"], [6, "66"]];

const float = (name: string, dtype: string, filters: string, compressor: string): Case => ({
  name, dtype, filters, compressor, base: FLOAT_BASE(dtype), theirs: FLOAT_THEIRS, ours: FLOAT_OURS, refused: null,
});

const CASES: Case[] = [
  float("f8, Shuffle() (elementsize 4) + Zlib", "<f8", "[Shuffle()]", "Zlib()"),
  float("f8, Shuffle(elementsize=8) + Zlib", "<f8", "[Shuffle(elementsize=8)]", "Zlib()"),
  float("f4, Shuffle(elementsize=2), no compressor", "<f4", "[Shuffle(elementsize=2)]", "None"),
  float("f8, Blosc lz4 byte shuffle", "<f8", "None", "Blosc(cname='lz4', shuffle=Blosc.SHUFFLE)"),
  float("f4, Blosc zstd bitshuffle", "<f4", "None", "Blosc(cname='zstd', shuffle=Blosc.BITSHUFFLE)"),
  { name: "i2, Blosc lz4 byte shuffle", dtype: "<i2", filters: "None", compressor: "Blosc(cname='lz4', shuffle=Blosc.SHUFFLE)", base: "np.arange(N, dtype='<i2') * 3", theirs: INT_THEIRS, ours: INT_OURS, refused: null },
  { name: "f8, FixedScaleOffset(astype='<i2') + Zlib", dtype: "<f8", filters: "[numcodecs.FixedScaleOffset(offset=100, scale=10, dtype='<f8', astype='<i2')]", compressor: "Zlib()", base: "np.arange(N) * 0.5", theirs: INT_THEIRS, ours: INT_OURS, refused: null },
  { name: "f4, FixedScaleOffset(astype='|u1') + Blosc lz4 shuffle", dtype: "<f4", filters: "[numcodecs.FixedScaleOffset(offset=0, scale=2, dtype='<f4', astype='|u1')]", compressor: "Blosc(cname='lz4', shuffle=Blosc.SHUFFLE)", base: "(np.arange(N) % 100 * 0.5).astype('<f4')", theirs: [[4, "20"], [6, "77"]], ours: INT_OURS, refused: null },
  float("f8, Zlib", "<f8", "None", "Zlib()"),
  float("f4, no compressor", "<f4", "None", "None"),
  { name: "i8, Delta(astype='<i4') + Zlib", dtype: "<i8", filters: "[Delta(dtype='<i8', astype='<i4')]", compressor: "Zlib()", base: "np.arange(N, dtype='<i8') * 3", theirs: INT_THEIRS, ours: INT_OURS, refused: /codec 'delta' with astype="<i4"/ },
  { name: "M8[ns]", dtype: "<M8[ns]", filters: "None", compressor: "Zlib()", base: "np.arange(N).astype('<M8[ns]')", theirs: [[4, "np.datetime64(200, 'ns')"]], ours: [[0, "np.datetime64(9, 'ns')"]], refused: /data type '<M8\[ns\]': datetime64/ },
  { name: "m8[s]", dtype: "<m8[s]", filters: "None", compressor: "None", base: "np.arange(N).astype('<m8[s]')", theirs: [[4, "np.timedelta64(200, 's')"]], ours: [[0, "np.timedelta64(9, 's')"]], refused: /data type '<m8\[s\]': datetime64 and timedelta64/ },
  { name: "f2", dtype: "<f2", filters: "None", compressor: "Zlib()", base: "np.arange(N, dtype='<f2')", theirs: INT_THEIRS, ours: INT_OURS, refused: /data type '<f2': float16/ },
  { name: "c8", dtype: "<c8", filters: "None", compressor: "Blosc()", base: "np.arange(N).astype('<c8')", theirs: [[4, "200+1j"]], ours: [[0, "9-1j"]], refused: /data type '<c8': complex/ },
  { name: "c16", dtype: "<c16", filters: "None", compressor: "Zlib()", base: "np.arange(N).astype('<c16')", theirs: [[4, "200+1j"]], ours: [[0, "9-1j"]], refused: /data type '<c16': complex/ },
];

const assign = (target: string, edits: [number, string][]) => edits.map(([i, v]) => `${target}[${i}] = ${v}`).join("\n");

/** A temp folder, removed after the file (the fixture's). */
function tmp(): Promise<string> {
  return tempDir();
}

interface ValuesJson {
  arrays: { path: string; values: { changed: number; after: { min: number; max: number } | null; kind: string } | null; valuesNote: string | null }[];
}

const skip = !hasZarrPython();

/** The array of case `k` in the one store all cases share (one repository, one set of commands). */
const arrayOf = (k: number) => `data.zarr/a${k}`;

describe.skipIf(skip)("numcodecs arrays written by zarr-python: diff --values and merge", () => {
  it("every case: values in diffs, merged values exactly numpy's, refusals by name", { timeout: 300_000 }, async () => {
    const dir = await tmp();
    const each = (fn: (c: Case, k: number) => string) => CASES.map((c, k) => fn(c, k)).join("\n");
    const script = (fn: (c: Case, k: number) => string) => `N = ${N}\n${each(fn)}`;
    await python(dir, script((c, k) => `z = zarr.open('${arrayOf(k)}', mode='w', shape=(${N},), chunks=(${N},), dtype='${c.dtype}', filters=${c.filters}, compressor=${c.compressor})\nz[:] = ${c.base}`));
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "import"]);
    await tdvOk(dir, ["switch", "-c", "b"]);
    await python(dir, script((c, k) => `z = zarr.open('${arrayOf(k)}')\n${assign("z", c.theirs)}`));
    await tdvOk(dir, ["commit", "-a", "-m", "theirs"]);
    await tdvOk(dir, ["switch", "main"]);
    await python(dir, script((c, k) => `z = zarr.open('${arrayOf(k)}')\n${assign("z", c.ours)}`));
    await tdvOk(dir, ["commit", "-a", "-m", "ours"]);

    // diff --values: ours' and theirs' changes against the import
    const oursDiff = await tdvJson<ValuesJson>(dir, ["diff", "--values", "--json", "HEAD~1", "HEAD"]);
    const theirsDiff = await tdvJson<ValuesJson>(dir, ["diff", "--values", "--json", "HEAD~1", "b"]);
    // merge, element by element: [6] conflicts (decodable); a refused array conflicts on its whole chunk
    const m = await tdv(dir, ["merge", "b"]);
    expect(m.code).toBe(1);
    await tdvOk(dir, ["merge", "--abort"]);
    // --strategy theirs alone refuses to discard ours' edits of the refused arrays' chunks (issue 15.5)
    const refused = await tdv(dir, ["merge", "--strategy", "theirs", "b"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--discard-other-edits");
    // with --discard-other-edits: exit 0, and exactly the values numpy expects
    const t = await tdv(dir, ["merge", "--strategy", "theirs", "--discard-other-edits", "b"]);
    expect(t.code, t.stderr).toBe(0);
    const read = await pythonJson<{ got: string; want: string; repr: string; file: string; enc: string }[]>(
      dir,
      `N = ${N}\nout = []\n` +
        each((c, k) => {
          const want = c.refused === null ? `e = (${c.base})\n${assign("e", c.ours)}\n${assign("e", c.theirs)}` : `e = (${c.base})\n${assign("e", c.theirs)}`;
          // the merged chunk file, and what numcodecs writes for its values (Blosc frames: typesize, shuffle, blocksize as numcodecs sets them)
          const enc = `zz = zarr.open('${arrayOf(k)}')\nv = np.ascontiguousarray(zz[:])\nfor f in (zz.filters or []): v = f.encode(v)\nenc = zz.compressor.encode(v) if zz.compressor is not None else b''`;
          return `${want}\n${enc}\nz = zz[:]\nout.append({'got': z.tobytes().hex(), 'want': e.astype(z.dtype).tobytes().hex(), 'repr': repr(z), 'file': open('${arrayOf(k)}/0', 'rb').read().hex(), 'enc': bytes(enc).hex()})`;
        }) +
        "\nprint(json.dumps(out))",
    );

    const problems: string[] = [];
    const check = (c: Case, what: string, ok: boolean, got: unknown) => {
      if (!ok) problems.push(`${c.name}: ${what}; got ${JSON.stringify(got)}`);
    };
    CASES.forEach((c, k) => {
      const ours = oursDiff.arrays.find((a) => a.path === arrayOf(k))!;
      const theirs = theirsDiff.arrays.find((a) => a.path === arrayOf(k))!;
      const line = m.stdout.split("\n").find((l) => l.startsWith(`CONFLICT (chunk): ${arrayOf(k)} chunk [0]`)) ?? "";
      if (c.refused === null) {
        const nums = c.ours.map(([, v]) => Number(v));
        check(c, "diff: no note", ours.valuesNote === null, ours.valuesNote);
        check(c, `diff: ${c.ours.length} changed by ours`, ours.values?.changed === c.ours.length, ours.values?.changed);
        check(c, "diff: ours' new values' range", ours.values?.after?.min === Math.min(...nums) && Math.abs((ours.values?.after?.max ?? 0) - Math.max(...nums)) < 1e-6, ours.values?.after);
        check(c, `diff: ${c.theirs.length} changed by theirs`, theirs.values?.changed === c.theirs.length, theirs.values?.changed);
        check(c, "merge: one conflicting element", line.endsWith("1 element changed on both sides to different values"), line);
      } else {
        for (const side of [ours, theirs]) {
          check(c, "diff: no values", side.values === null, side.values);
          check(c, `diff: note names ${c.refused}`, c.refused.test(side.valuesNote ?? "") && (side.valuesNote ?? "").includes("still reported"), side.valuesNote);
          check(c, "diff: one note, not one per chunk", !/is not a function|could not be compared/.test(side.valuesNote ?? ""), side.valuesNote);
        }
        check(c, "merge: whole-chunk conflict naming the refusal", c.refused.test(line) && line.includes("cannot merge element by element"), line);
      }
      const r = read[k]!;
      check(c, `merge --strategy theirs: exactly ${c.refused ? "theirs' chunk" : "both sides' changes"}`, r.got === r.want, r.repr);
      // a Blosc chunk tdv merged is the frame numcodecs writes for those values (lz4/zstd: the same bytes)
      if (c.refused === null && c.compressor.startsWith("Blosc")) check(c, "merged blosc chunk: numcodecs' bytes", r.file === r.enc, `${r.file.slice(0, 32)} vs ${r.enc.slice(0, 32)}`);
    });
    expect(problems).toEqual([]);
  });
});

describe.skipIf(skip)("unicode arrays with a numeric fill value", () => {
  it("<U4 with fill_value 0 and an absent chunk: diff --values compares against '0', as numpy reads it", async () => {
    const dir = await tmp();
    await python(
      dir,
      "z = zarr.open('data.zarr/s', mode='w', shape=(8,), chunks=(4,), dtype='<U4', fill_value='0', compressor=None)\nz[0:4] = ['a', 'b', 'c', 'd']\n" +
        "m = json.load(open('data.zarr/s/.zarray')); m['fill_value'] = 0; json.dump(m, open('data.zarr/s/.zarray', 'w'))",
    );
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "import"]);
    await python(dir, "z = zarr.open('data.zarr/s')\nz[5] = 'xy'\nz[0] = 'q'");
    await tdvOk(dir, ["commit", "-a", "-m", "edit"]);
    const d = (await tdvJson<ValuesJson>(dir, ["diff", "--values", "--json", "HEAD~1", "HEAD"])).arrays.find((a) => a.path === "data.zarr/s")!;
    expect(d.valuesNote).toBeNull();
    expect(d.values).toMatchObject({ kind: "equality", changed: 2 });
  });
});

describe.skipIf(skip)("tdv's shuffle is numcodecs' Shuffle, byte for byte", () => {
  it.each([1, 2, 3, 4, 8, 16])("elementsize %i", async (size) => {
    const n = size * 24;
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
    const out = await pythonJson<{ enc: string }>(os.tmpdir(), `b = np.frombuffer(bytes.fromhex('${Buffer.from(bytes).toString("hex")}'), dtype='u1')\nprint(json.dumps({'enc': bytes(Shuffle(${size}).encode(b)).hex()}))`);
    const codec = new ShuffleCodec(size);
    const enc = codec.encode(bytes);
    expect(Buffer.from(enc).toString("hex")).toBe(out.enc);
    expect(Buffer.from(codec.decode(enc)).toString("hex")).toBe(Buffer.from(bytes).toString("hex"));
  });
});
