/**
 * Consolidated metadata after a merge: a v2 `.zmetadata`, or the
 * `consolidated_metadata` of a v3 group's `zarr.json` (zarr-python 3), lists
 * copies of the documents below it. When both sides changed it, neither
 * side's copy is right: rebuild it from the merged documents themselves.
 */
import { baseName, joinPath, parentDir } from "../hierarchy.js";
import { byCodePoint, pyDumps, pyLoads, type PyObject, type PyValue } from "../../format/py-json.js";
import { isConsolidatedDoc } from "../consolidated-check.js";

/** The merged state: which paths exist, and their bytes. */
export interface MergedView {
  paths: () => Iterable<string>;
  read: (path: string) => Promise<Uint8Array | null>;
}

/** The rebuilt document at `p` (`.zmetadata` or a group's `zarr.json`), or null when it lists nothing to rebuild. */
export async function rebuildConsolidated(p: string, view: MergedView): Promise<Uint8Array | null> {
  const current = await view.read(p);
  if (!current) return null;
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

  // zarr-python 3's consolidate_metadata: every node below, flattened, ordered by depth then by
  // NFKC-casefolded name, each its own document (to_dict, which its zarr.json holds), written with
  // json.dumps(indent=2): keys in order, floats as Python's repr, ASCII only
  const top = pyLoads(current, p);
  const cm = top instanceof Map ? top.get("consolidated_metadata") : null;
  const listed = cm instanceof Map ? cm.get("metadata") : null;
  if (!(top instanceof Map) || !(cm instanceof Map) || !(listed instanceof Map)) return null;
  const nodes: string[] = [];
  for (const f of view.paths()) if (under(f) && baseName(f) === "zarr.json" && f !== p) nodes.push(rel(parentDir(f)));
  const fold = (k: string) => k.normalize("NFKC").toLowerCase().replace(/ß/g, "ss");
  nodes.sort((a, b) => a.split("/").length - b.split("/").length || byCodePoint(fold(a), fold(b)));
  const metadata: PyObject = new Map();
  for (const k of nodes) {
    const bytes = await view.read(joinPath(joinPath(dir, k), "zarr.json"));
    if (!bytes) continue;
    const child = pyLoads(bytes, joinPath(dir, k));
    if (!(child instanceof Map)) continue;
    const before = listed.get(k);
    // nested groups keep the marker they were listed with
    if (before instanceof Map && before.has("consolidated_metadata")) child.set("consolidated_metadata", before.get("consolidated_metadata") as PyValue);
    else child.delete("consolidated_metadata");
    metadata.set(k, child);
  }
  cm.set("metadata", metadata);
  const text = new TextDecoder().decode(current);
  const indent = /\n( +)"/.exec(text)?.[1]?.length ?? 2;
  return new TextEncoder().encode(pyDumps(top, indent, false) + (text.endsWith("\n") ? "\n" : ""));
}
