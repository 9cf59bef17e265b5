/**
 * A small forecast written as Zarr v2 (uncompressed, little-endian), for the
 * rules tests: fc.zarr/{time, lat, t2m}, t2m over (time, lat) in K, one chunk
 * per time step, NaN as its fill value; time in "days since 2024-01-01".
 */
import { promises as fsp } from "node:fs";
import path from "node:path";

export interface ArraySpec {
  shape: number[];
  chunks: number[];
  dtype: "<f4" | "<f8";
  fill: number | "NaN" | null;
  attrs: Record<string, unknown>;
}

export async function writeArray(dir: string, spec: ArraySpec): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const zarray = { zarr_format: 2, shape: spec.shape, chunks: spec.chunks, dtype: spec.dtype, compressor: null, fill_value: spec.fill, order: "C", filters: null, dimension_separator: "." };
  await fsp.writeFile(path.join(dir, ".zarray"), JSON.stringify(zarray, null, 2));
  await fsp.writeFile(path.join(dir, ".zattrs"), JSON.stringify(spec.attrs, null, 2));
}

/** Write chunk `index` of the array in `dir` with `values` (a whole chunk, C order). */
export async function writeChunk(dir: string, dtype: "<f4" | "<f8", index: number[], values: number[]): Promise<void> {
  const bytes = dtype === "<f4" ? Buffer.from(new Float32Array(values).buffer) : Buffer.from(new Float64Array(values).buffer);
  await fsp.writeFile(path.join(dir, index.join(".")), bytes);
}

export const T2M = "fc.zarr/t2m";

/** fc.zarr with `steps` time steps, every t2m value `value` (280 K by default). */
export async function writeForecast(root: string, { steps = 4, value = 280 }: { steps?: number; value?: number } = {}): Promise<void> {
  const fc = path.join(root, "fc.zarr");
  await fsp.mkdir(fc, { recursive: true });
  await fsp.writeFile(path.join(fc, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
  await writeArray(path.join(fc, "time"), { shape: [steps], chunks: [steps], dtype: "<f8", fill: null, attrs: { _ARRAY_DIMENSIONS: ["time"], units: "days since 2024-01-01", calendar: "proleptic_gregorian" } });
  await writeChunk(path.join(fc, "time"), "<f8", [0], Array.from({ length: steps }, (_, i) => i));
  await writeArray(path.join(fc, "lat"), { shape: [2], chunks: [2], dtype: "<f8", fill: null, attrs: { _ARRAY_DIMENSIONS: ["lat"], units: "degrees_north" } });
  await writeChunk(path.join(fc, "lat"), "<f8", [0], [10, 20]);
  await writeArray(path.join(fc, "t2m"), { shape: [steps, 2], chunks: [1, 2], dtype: "<f4", fill: "NaN", attrs: { _ARRAY_DIMENSIONS: ["time", "lat"], units: "K" } });
  for (let t = 0; t < steps; t++) await writeChunk(path.join(fc, "t2m"), "<f4", [t, 0], [value, value]);
}

export const RULES = `[branches.main]
protected = true
check_on = ["commit", "merge", "push"]

[[arrays]]
path = "fc.zarr/t2m"
max_nan_fraction = 0.0
range = [180.0, 340.0]
attrs = { units = "K" }
dtype = "float32"
complete_along = "time"

[[arrays]]
path = "fc.zarr/time"
monotonic = "increasing"

[[groups]]
path = "fc.zarr"
shared_dimensions = true
`;
