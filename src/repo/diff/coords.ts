/**
 * Changed regions in coordinate values: when an array names its dimensions
 * (v3 `dimension_names`, v2 `_ARRAY_DIMENSIONS` in .zattrs) and its group
 * holds a 1-D array of that name and length (a CF / xarray coordinate),
 * the first and last index of a changed region are read from it:
 *
 *   bbox [[5, 7], [0, 3]]  →  time 2024-06-01..2024-06-03, lat 30..45.5
 *
 * CF time coordinates (`units: "<unit> since <date>"`, standard or
 * proleptic Gregorian calendar) read as dates (ISO 8601, UTC; the time of
 * day only when it is not midnight); other coordinates as their values.
 * Read from the side after the change; a coordinate tdv cannot read
 * (missing, another length, sharded, not decodable) is left out.
 */
import { decodeChunk, fillChunk } from "../../zarr/decode.js";
import { elementAt } from "../../zarr/bits.js";
import { shardingOf } from "../../zarr/shard.js";
import { joinPath, parentDir } from "../hierarchy.js";
import { readNode, type ArrayNodeDocs } from "./metadata.js";
import type { Box } from "./ranges.js";
import type { Folder } from "./sides.js";
import type { CoordRange } from "./types.js";
import { cfTime, isoDate } from "./time.js";

/** The dimension names of an array, or null. */
export function dimensionNames(node: ArrayNodeDocs): (string | null)[] | null {
  const raw = node.zarrFormat === 3 ? node.raw.dimension_names : node.attributes._ARRAY_DIMENSIONS;
  if (!Array.isArray(raw) || raw.length !== node.meta.shape.length) return null;
  return raw.map((n) => (typeof n === "string" && n !== "" ? n : null));
}

async function nodeAt(root: Folder, path: string): Promise<ArrayNodeDocs | null> {
  let folder: Folder | undefined = root;
  for (const name of path === "" ? [] : path.split("/")) {
    folder = (await folder.list()).dirs.get(name);
    if (!folder) return null;
  }
  const node = await readNode(await folder.list(), path, []);
  return node?.kind === "array" ? node : null;
}

/** Element `i` of a 1-D array, read from the chunk that holds it. */
async function elementOf(root: Folder, path: string, node: ArrayNodeDocs, i: number): Promise<unknown> {
  const chunk = node.meta.chunkShape[0] as number;
  const index = [Math.floor(i / chunk)];
  let folder: Folder | undefined = root;
  for (const name of path.split("/")) folder = (await folder!.list()).dirs.get(name);
  const manifest = (await folder!.list()).manifest;
  let bytes: Uint8Array | null = null;
  for (const shard of manifest ? manifest.shards.values() : []) {
    const ref = (await shard.entries()).find((c) => c.index[0] === index[0]);
    if (ref) {
      bytes = await ref.read();
      break;
    }
  }
  const decoded = bytes ? await decodeChunk(node.doc, node.zattrs, index, bytes) : await fillChunk(node.doc, index);
  return elementAt(decoded.data, (i % chunk) * (decoded.stride[0] ?? 1));
}

function show(v: unknown, time: ((v: number) => number) | null): string | number | null {
  if (typeof v === "bigint") v = Number(v);
  if (typeof v === "number") {
    if (time && Number.isFinite(v)) {
      const ms = time(v);
      return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? isoDate(ms) : v;
    }
    return Number.isFinite(v) ? v : String(v);
  }
  if (typeof v === "string" || typeof v === "boolean") return typeof v === "string" ? v : String(v);
  return null;
}

/** The coordinate values at the ends of `bbox` of the array at `path` (`node`, after the change), or null when none. */
export async function coordinateRanges(root: Folder | null, path: string, node: ArrayNodeDocs, bbox: Box): Promise<CoordRange[] | null> {
  const dims = dimensionNames(node);
  if (!root || !dims) return null;
  const out: CoordRange[] = [];
  for (let d = 0; d < dims.length; d++) {
    const name = dims[d];
    if (!name || name.includes("/")) continue;
    const cpath = joinPath(parentDir(path), name);
    try {
      const c = cpath === path && node.meta.shape.length === 1 ? node : await nodeAt(root, cpath);
      if (c?.meta.shape.length !== 1 || c.meta.shape[0] !== node.meta.shape[d] || shardingOf(c.raw) !== null) continue;
      const [lo, hi] = bbox[d] as [number, number];
      const time = cfTime(c.attributes);
      const first = show(await elementOf(root, cpath, c, lo), time);
      const last = show(lo === hi ? null : await elementOf(root, cpath, c, hi), time) ?? first;
      if (first === null || last === null) continue;
      out.push({ dim: name, array: cpath, indices: [lo, hi], first, last, time: time !== null });
    } catch {
      // a coordinate tdv cannot read is left out (its own diff says why)
    }
  }
  return out.length ? out : null;
}
