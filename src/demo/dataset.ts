/**
 * The demo's sample dataset: a small, realistic Zarr v3 store written with
 * zarrita, the way a data pipeline would write one, and a second "pipeline
 * run" that rewrites a region of it.
 *
 *   climate.zarr/            group, CF-1.8 attributes
 *     time                   int32   [24]          days since 2020-01-01 (mid-month)
 *     lat                    float32 [45]          -88 … 88 °N, 4° steps
 *     lon                    float32 [90]          -178 … 178 °E, 4° steps
 *     temperature            float32 [24, 45, 90]  K,      chunks 6×15×15, gzip
 *     precipitation          float32 [24, 45, 90]  mm/day, chunks 6×15×15, gzip
 *
 * Monthly means for 2020-2021 on a 4° grid: a latitude gradient, a seasonal
 * cycle of opposite sign in each hemisphere, and noise from a seeded PRNG.
 * The bytes are a function of the seed alone (gzip with mtime 0, no clock).
 *
 * zarrita 0.7 decodes gzip but cannot encode it: while writing, the merge
 * encoder's gzip codec (src/zarr/encode.ts, fflate) stands in for zarrita's in its codec
 * registry, and zarrita's own is put back afterwards.
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { UsageError } from "../errors.js";
import { encodingGzipCodec } from "../zarr/encode.js";

export const DEFAULT_SEED = 42;
export const N_LAT = 45;
export const N_LON = 90;
export const CHUNKS = { time: 6, lat: 15, lon: 15 } as const;
const GZIP_LEVEL = 5;

/** Latitude of row j (cell centres, °N). */
export const latOf = (j: number): number => -88 + 4 * j;
/** Longitude of column i (cell centres, °E). */
export const lonOf = (i: number): number => -178 + 4 * i;
/** Days since 2020-01-01 of the 15th of month t (t = 0 is January 2020). */
export const dayOf = (t: number): number => (Date.UTC(2020, t, 15) - Date.UTC(2020, 0, 1)) / 86_400_000;

export interface ClimateDatasetOptions {
  seed?: number;
  /** time steps (months from January 2020); the time chunk is 6 */
  nTime?: number;
}

export interface ClimateDatasetResult {
  /** array paths inside the store, e.g. "temperature" */
  arrays: string[];
  /** files written */
  files: number;
  /** bytes of all files written (metadata and chunks) */
  bytes: number;
}

// ---- gzip that encodes -------------------------------------------------------

type CodecLoader = Parameters<typeof zarr.registry.set>[1];

let encoderUsers = 0;
let zarritaGzip: CodecLoader | undefined;

/** Run `fn` with the encoding gzip codec registered; nested and concurrent calls share it. */
async function withGzipEncoder<T>(fn: () => Promise<T>): Promise<T> {
  if (encoderUsers++ === 0) {
    zarritaGzip = zarr.registry.get("gzip");
    zarr.registry.set("gzip", encodingGzipCodec as unknown as CodecLoader);
  }
  try {
    return await fn();
  } finally {
    if (--encoderUsers === 0) {
      if (zarritaGzip) zarr.registry.set("gzip", zarritaGzip);
      else zarr.registry.delete("gzip");
      zarritaGzip = undefined;
    }
  }
}

// ---- values ----------------------------------------------------------------

/** mulberry32: a small deterministic PRNG giving floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box-Muller) from a uniform source. */
function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const RAD = Math.PI / 180;

interface Fields {
  temperature: Float32Array;
  precipitation: Float32Array;
}

/** Temperature (K) and precipitation (mm/day), C order [time, lat, lon]. */
function climateFields(nTime: number, seed: number): Fields {
  const rand = prng(seed);
  const n = nTime * N_LAT * N_LON;
  const temperature = new Float32Array(n);
  const precipitation = new Float32Array(n);
  let k = 0;
  for (let t = 0; t < nTime; t++) {
    // months since mid-January: the cycle peaks in July (NH) and January (SH)
    const season = Math.cos((2 * Math.PI * (t % 12)) / 12);
    for (let j = 0; j < N_LAT; j++) {
      const lat = latOf(j);
      const s = Math.sin(lat * RAD);
      // the ITCZ follows the sun: ~6°N in boreal summer, ~4°S in austral summer
      const itcz = 1 - 5 * season;
      for (let i = 0; i < N_LON; i++) {
        const lon = lonOf(i);
        const wave = Math.sin(2 * lon * RAD) * Math.cos(lat * RAD); // a stationary wave
        const mean = 300 - 48 * s * s - 6 * Math.max(0, s) ** 4;
        const cycle = -14 * s * Math.abs(s) ** 0.5 * season;
        temperature[k] = round2(mean + cycle + 1.5 * wave + 0.8 * gaussian(rand));
        // wet in the ITCZ and the mid-latitude storm tracks, dry (often 0) in the subtropics
        const wet = 10 * Math.exp(-(((lat - itcz) / 9) ** 2)) + 3 * Math.exp(-(((Math.abs(lat) - 50) / 12) ** 2));
        const p = (wet + 1) * (0.4 + 1.2 * rand()) + 1.2 * wave - 0.5;
        precipitation[k] = p > 0 ? round2(p) : 0;
        k++;
      }
    }
  }
  return { temperature, precipitation };
}

// ---- writing ---------------------------------------------------------------

const BYTES_LE = { name: "bytes", configuration: { endian: "little" } };
const GZIP = { name: "gzip", configuration: { level: GZIP_LEVEL } };
const stridesOf = (shape: number[]): number[] => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

async function assertEmptyTarget(dir: string): Promise<void> {
  const st = await fsp.stat(dir).catch(() => null);
  if (!st) return;
  if (!st.isDirectory()) throw new UsageError(`${dir} exists and is not a folder`, { hint: "choose a new path for the dataset" });
  if ((await fsp.readdir(dir)).length > 0) {
    throw new UsageError(`${dir} is not empty`, { hint: "write the sample dataset into a new or empty folder" });
  }
}

/**
 * Write the sample climate dataset as a Zarr v3 store at `dir` (the store's
 * root folder, e.g. `…/climate.zarr`), which must be new or empty.
 */
export async function writeClimateDataset(dir: string, opts: ClimateDatasetOptions = {}): Promise<ClimateDatasetResult> {
  const { seed = DEFAULT_SEED, nTime = 24 } = opts;
  if (!Number.isInteger(nTime) || nTime < 1) throw new UsageError(`nTime must be a positive integer, not ${nTime}`);
  const root = path.resolve(dir);
  await assertEmptyTarget(root);
  await fsp.mkdir(root, { recursive: true });
  const { temperature, precipitation } = climateFields(nTime, seed);

  await withGzipEncoder(async () => {
    const loc = zarr.root(new FileSystemStore(root));
    await zarr.create(loc, {
      attributes: {
        title: "ERA-like monthly climate sample (synthetic)",
        institution: "tdv demo",
        source: `synthetic fields from a seeded generator (seed ${seed}), not observations`,
        Conventions: "CF-1.8",
        history: "written by `tdv demo` with zarrita",
        comment: "Monthly means on a 4-degree global grid, for showing version control of Zarr data.",
      },
    });

    const coord = async (
      name: string,
      dtype: "int32" | "float32",
      values: Int32Array | Float32Array,
      attributes: Record<string, unknown>,
    ) => {
      const arr = await zarr.create(loc.resolve(name), {
        shape: [values.length],
        chunkShape: [values.length],
        dtype,
        codecs: [BYTES_LE],
        fillValue: 0,
        dimensionNames: [name],
        attributes,
      });
      await zarr.set(arr, null, { data: values, shape: [values.length], stride: [1] } as never);
    };
    await coord("time", "int32", Int32Array.from({ length: nTime }, (_, t) => dayOf(t)), {
      standard_name: "time",
      long_name: "time (middle of the month)",
      units: "days since 2020-01-01",
      calendar: "proleptic_gregorian",
      axis: "T",
    });
    await coord("lat", "float32", Float32Array.from({ length: N_LAT }, (_, j) => latOf(j)), {
      standard_name: "latitude",
      long_name: "latitude",
      units: "degrees_north",
      axis: "Y",
    });
    await coord("lon", "float32", Float32Array.from({ length: N_LON }, (_, i) => lonOf(i)), {
      standard_name: "longitude",
      long_name: "longitude",
      units: "degrees_east",
      axis: "X",
    });

    const shape = [nTime, N_LAT, N_LON];
    const field = async (name: string, data: Float32Array, attributes: Record<string, unknown>) => {
      const arr = await zarr.create(loc.resolve(name), {
        shape,
        chunkShape: [CHUNKS.time, CHUNKS.lat, CHUNKS.lon],
        dtype: "float32",
        codecs: [BYTES_LE, GZIP],
        fillValue: Number.NaN,
        dimensionNames: ["time", "lat", "lon"],
        attributes,
      });
      await zarr.set(arr, null, { data, shape, stride: stridesOf(shape) });
    };
    await field("temperature", temperature, {
      standard_name: "air_temperature",
      long_name: "near-surface air temperature",
      units: "K",
      cell_methods: "time: mean",
      valid_range: [180, 340],
    });
    await field("precipitation", precipitation, {
      standard_name: "lwe_precipitation_rate",
      long_name: "precipitation",
      units: "mm/day",
      cell_methods: "time: mean",
      valid_min: 0,
    });
  });

  const files = await hashTree(root);
  let bytes = 0;
  for (const f of files.values()) bytes += f.size;
  return { arrays: ["time", "lat", "lon", "temperature", "precipitation"], files: files.size, bytes };
}

// ---- a pipeline run that rewrites a region -----------------------------------

export interface RegionEdit {
  /** the array to edit, inside the store */
  array: string;
  /** time steps [start, stop) */
  time: [number, number];
  /** latitude band, degrees north, inclusive */
  lat: [number, number];
  /** longitude band, degrees east, inclusive */
  lon: [number, number];
  /** added to every value in the box */
  delta: number;
}

/** The demo's correction: +2.5 K over Europe (36-60°N, 10°W-30°E) in June-August 2021. */
export const HEATWAVE: RegionEdit = { array: "temperature", time: [17, 20], lat: [36, 60], lon: [-10, 30], delta: 2.5 };

export interface RegionEditResult {
  array: string;
  /** index ranges [start, stop) per dimension (time, lat, lon) */
  box: [number, number][];
  /** values changed */
  elements: number;
  /** chunk keys rewritten, relative to the array folder (e.g. "c/2/2/2") */
  chunks: string[];
}

/** Index range [start, stop) of the cells whose centres lie in [lo, hi]. */
function cellRange(lo: number, hi: number, centre: (k: number) => number, n: number): [number, number] {
  let start = n;
  let stop = 0;
  for (let k = 0; k < n; k++) {
    const c = centre(k);
    if (c >= lo && c <= hi) {
      start = Math.min(start, k);
      stop = k + 1;
    }
  }
  return start < stop ? [start, stop] : [0, 0];
}

/** The chunk keys ("c/t/j/i") of a regular grid that a box of index ranges touches. */
export function chunksCovering(box: readonly [number, number][], chunkShape: readonly number[]): string[] {
  const ranges = box.map(([a, b], d) => {
    const c = chunkShape[d] as number;
    const out: number[] = [];
    for (let k = Math.floor(a / c); b > a && k <= Math.floor((b - 1) / c); k++) out.push(k);
    return out;
  });
  let keys: number[][] = [[]];
  for (const r of ranges) keys = keys.flatMap((prefix) => r.map((k) => [...prefix, k]));
  return keys.map((k) => `c/${k.join("/")}`);
}

/**
 * Simulate a pipeline run: read a box of the store at `dir` with zarrita, add
 * `delta`, write it back. zarrita rewrites only the chunks the box covers.
 */
export async function editRegion(dir: string, opts: Partial<RegionEdit> = {}): Promise<RegionEditResult> {
  const edit: RegionEdit = { ...HEATWAVE, ...opts };
  const root = path.resolve(dir);
  return withGzipEncoder(async () => {
    const arr = await zarr.open.v3(zarr.root(new FileSystemStore(root)).resolve(edit.array), { kind: "array" });
    if (arr.dtype !== "float32" && arr.dtype !== "float64") {
      throw new UsageError(`editRegion works on float arrays; ${edit.array} is ${arr.dtype}`);
    }
    const [nTime, nLat, nLon] = arr.shape as [number, number, number];
    const box: [number, number][] = [
      [Math.max(0, edit.time[0]), Math.min(nTime, edit.time[1])],
      cellRange(edit.lat[0], edit.lat[1], latOf, nLat),
      cellRange(edit.lon[0], edit.lon[1], lonOf, nLon),
    ];
    const elements = box.reduce((acc, [a, b]) => acc * Math.max(0, b - a), 1);
    if (elements === 0) return { array: edit.array, box, elements: 0, chunks: [] };
    const selection = box.map(([a, b]) => zarr.slice(a, b));
    const region = (await zarr.get(arr, selection)) as { data: Float32Array | Float64Array; shape: number[]; stride: number[] };
    for (let k = 0; k < region.data.length; k++) region.data[k] = (region.data[k] as number) + edit.delta;
    await zarr.set(arr, selection, region as never);
    return { array: edit.array, box, elements, chunks: chunksCovering(box, arr.chunks) };
  });
}

// ---- hashing -----------------------------------------------------------------

/** Every file under `dir` as relative posix path → {size, sha256}, sorted by path. */
export async function hashTree(dir: string): Promise<Map<string, { size: number; sha256: string }>> {
  const out = new Map<string, { size: number; sha256: string }>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await fsp.readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), childRel);
      else if (e.isFile()) {
        const bytes = await fsp.readFile(path.join(abs, e.name));
        out.set(childRel, { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
      }
    }
  };
  await walk(dir, "");
  return out;
}
