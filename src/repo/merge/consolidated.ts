/**
 * Consolidated metadata after a merge: a v2 `.zmetadata`, or the
 * `consolidated_metadata` of a v3 group's `zarr.json` (zarr-python 3), lists
 * copies of the documents below it. When both sides changed it, neither
 * side's copy is right: rebuild it from the merged documents themselves.
 */
import { baseName, joinPath, parentDir } from "../hierarchy.js";
import { pyDumps, pyLoads, type PyObject } from "../../format/py-json.js";
import { isConsolidatedDoc } from "../consolidated-check.js";
import { parseDoc, serializeLike, type Json } from "./json.js";

/** The merged state: which paths exist, and their bytes. */
export interface MergedView {
  paths: () => Iterable<string>;
  read: (path: string) => Promise<Uint8Array | null>;
}

/** The rebuilt document at `p` (`.zmetadata` or a group's `zarr.json`), or null when it lists nothing to rebuild. */
export async function rebuildConsolidated(p: string, view: MergedView): Promise<Uint8Array | null> {
  const current = await view.read(p);
  if (!current) return null;
  const doc = parseDoc(current, p);
  const dir = parentDir(p);
  const under = (f: string) => dir === "" || f.startsWith(`${dir}/`);
  const rel = (f: string) => (dir ? f.slice(dir.length + 1) : f);

  if (baseName(p) === ".zmetadata") {
    // as zarr-python 2's consolidate_metadata: every document below whose key ends in .zarray, .zgroup
    // or .zattrs, read with json.loads and written with its json_dumps, so consolidating the merged
    // working copy again writes the same bytes (0.0 stays 0.0, keys sorted, ASCII only)
    const top = pyLoads(current, p);
    if (!(top instanceof Map)) return null;
    const metadata: PyObject = new Map();
    for (const f of view.paths()) {
      if (!under(f) || f === p || !isConsolidatedDoc(f)) continue;
      const bytes = await view.read(f);
      if (bytes) metadata.set(rel(f), pyLoads(bytes, f));
    }
    top.set("metadata", metadata);
    const text = new TextDecoder().decode(current);
    const indent = /\n( +)"/.exec(text)?.[1]?.length ?? 4;
    return new TextEncoder().encode(pyDumps(top, indent) + (text.endsWith("\n") ? "\n" : ""));
  }

  const cm = doc.consolidated_metadata;
  if (!isObject(cm) || !isObject(cm.metadata)) return null;
  const listed = cm.metadata;
  const nodes: string[] = [];
  for (const f of view.paths()) if (under(f) && baseName(f) === "zarr.json" && f !== p) nodes.push(rel(parentDir(f)));
  // zarr-python's order: by depth, then by name
  nodes.sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : a > b ? 1 : 0));
  const metadata: Json = {};
  for (const k of nodes) {
    const bytes = await view.read(joinPath(joinPath(dir, k), "zarr.json"));
    if (!bytes) continue;
    const child = parseDoc(bytes, joinPath(dir, k));
    const before = listed[k];
    // nested groups keep the marker they were listed with
    if (isObject(before) && "consolidated_metadata" in before) child.consolidated_metadata = before.consolidated_metadata;
    else delete child.consolidated_metadata;
    metadata[k] = child;
  }
  return serializeLike({ ...doc, consolidated_metadata: { ...cm, metadata } }, current);
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
