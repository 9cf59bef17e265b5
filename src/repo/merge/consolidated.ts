/**
 * Consolidated metadata after a merge: a v2 `.zmetadata`, or the
 * `consolidated_metadata` of a v3 group's `zarr.json` (zarr-python 3), lists
 * copies of the documents below it. When both sides changed it, neither
 * side's copy is right: rebuild it from the merged documents themselves.
 */
import { baseName, joinPath, parentDir } from "../hierarchy.js";
import { parseDoc, serializeLike, type Json } from "./json.js";

/** The merged state: which paths exist, and their bytes. */
export interface MergedView {
  paths: () => Iterable<string>;
  read: (path: string) => Promise<Uint8Array | null>;
}

const V2_DOCS = new Set([".zarray", ".zattrs", ".zgroup"]);

/** The rebuilt document at `p` (`.zmetadata` or a group's `zarr.json`), or null when it lists nothing to rebuild. */
export async function rebuildConsolidated(p: string, view: MergedView): Promise<Uint8Array | null> {
  const current = await view.read(p);
  if (!current) return null;
  const doc = parseDoc(current, p);
  const dir = parentDir(p);
  const under = (f: string) => dir === "" || f.startsWith(`${dir}/`);
  const rel = (f: string) => (dir ? f.slice(dir.length + 1) : f);

  if (baseName(p) === ".zmetadata") {
    const listed = isObject(doc.metadata) ? doc.metadata : {};
    const keys = new Set(Object.keys(listed));
    for (const f of view.paths()) if (under(f) && V2_DOCS.has(baseName(f)) && f !== p) keys.add(rel(f));
    const metadata: Json = {};
    for (const k of [...keys].sort()) {
      const bytes = await view.read(joinPath(dir, k));
      if (bytes) metadata[k] = parseDoc(bytes, joinPath(dir, k));
    }
    return serializeLike({ ...doc, metadata }, current);
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
