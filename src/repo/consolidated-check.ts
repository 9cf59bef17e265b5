/**
 * Consolidated metadata against the tree beside it. A v2 `.zmetadata`
 * (zarr-python's `consolidate_metadata`) copies every `.zarray`, `.zgroup` and
 * `.zattrs` below its folder; readers that open the store consolidated trust
 * it and never look at the folders. When it names an array the tree does not
 * hold (zarr-python consolidated an array the user has not added), or the
 * tree holds one it does not name, the two disagree: these functions say
 * which arrays and groups, for `commit` and `status` to warn.
 */
import { isTdvError } from "../errors.js";
import { parseZattrs } from "../format/zarr-meta.js";
import { joinPath, parentDir } from "./hierarchy.js";

/** The documents zarr-python 2 consolidates: keys ending so (its `is_zarr_key`). */
export function isConsolidatedDoc(rel: string): boolean {
  return rel.endsWith(".zarray") || rel.endsWith(".zgroup") || rel.endsWith(".zattrs");
}

/** The paths (relative to the root) of the documents a `.zmetadata` lists, or null when it does not parse as consolidated metadata. */
export function listedDocs(bytes: Uint8Array, p: string): string[] | null {
  let doc: Record<string, unknown>;
  try {
    doc = parseZattrs(bytes, p);
  } catch (err) {
    if (isTdvError(err, "InvalidMetadataError")) return null;
    throw err;
  }
  const m = doc.metadata;
  if (typeof m !== "object" || m === null || Array.isArray(m)) return null;
  return Object.keys(m).map((k) => joinPath(parentDir(p), k));
}

export interface Disagreement {
  /** the `.zmetadata` */
  path: string;
  /** folders of the arrays and groups it lists that the tree does not hold */
  missing: string[];
  /** folders of the arrays and groups the tree holds that it does not list */
  unlisted: string[];
}

/**
 * Where the `.zmetadata` at `p` and the tree (`has`: is this file in it;
 * `docsUnder`: the tree's metadata documents under the folder) disagree, or
 * null when they agree.
 */
export function disagreement(p: string, listed: readonly string[], has: (rel: string) => boolean, docsUnder: readonly string[]): Disagreement | null {
  const listedSet = new Set(listed);
  const missing = folders(listed.filter((d) => !has(d)));
  const unlisted = folders(docsUnder.filter((d) => !listedSet.has(d)));
  return missing.length + unlisted.length === 0 ? null : { path: p, missing, unlisted };
}

function folders(docs: readonly string[]): string[] {
  return [...new Set(docs.map((d) => parentDir(d) || "."))].sort();
}

/** The warning text: which arrays and groups, and what to do. `tree` names the other side ("the commit", "the tracked files"). */
export function disagreementWarning(d: Disagreement, tree: string): string {
  const parts: string[] = [];
  const names = (l: string[]) => (l.length > 5 ? `${l.slice(0, 5).join(", ")} and ${l.length - 5} more` : l.join(", "));
  if (d.missing.length) parts.push(`it lists ${names(d.missing)}, not in ${tree} (\`tdv add ${d.missing[0]}\` adds it)`);
  if (d.unlisted.length) parts.push(`it does not list ${names(d.unlisted)}, in ${tree} (consolidate the metadata again)`);
  return `consolidated metadata ${d.path} and ${tree} disagree: ${parts.join("; ")}`;
}

/**
 * The disagreements of the `.zmetadata` documents among `files` (a tree's
 * paths) whose folder holds one of `changed`: a commit warns about what it
 * changes, not again about every old disagreement.
 */
export async function checkConsolidated(
  files: ReadonlyMap<string, unknown>,
  read: (rel: string) => Promise<Uint8Array | null>,
  changed: readonly string[],
): Promise<Disagreement[]> {
  // one pass over the paths (a million chunks): the .zmetadata documents and the documents they could list
  const zmetas: string[] = [];
  const allDocs: string[] = [];
  for (const f of files.keys()) {
    if (f.endsWith("/.zmetadata") || f === ".zmetadata") zmetas.push(f);
    else if (isConsolidatedDoc(f)) allDocs.push(f);
  }
  if (zmetas.length === 0) return [];
  const out: Disagreement[] = [];
  for (const p of zmetas) {
    const dir = parentDir(p);
    const under = (f: string) => dir === "" || f.startsWith(`${dir}/`);
    if (!changed.some(under)) continue;
    const bytes = await read(p);
    const listed = bytes && listedDocs(bytes, p);
    if (!listed) continue;
    const docs = allDocs.filter(under);
    const d = disagreement(p, listed, (rel) => files.has(rel), docs);
    if (d) out.push(d);
  }
  return out;
}

/**
 * The tracked `.zmetadata` documents of the working tree that list untracked
 * documents (`untracked`: paths; `exists`: is this file in the working tree and tracked),
 * each with the untracked arrays and groups it names. Reads only when a
 * metadata document is untracked, so a clean `status` reads nothing.
 */
export async function listedUntracked(
  untracked: readonly string[],
  exists: (rel: string) => boolean,
  read: (rel: string) => Promise<Uint8Array | null>,
): Promise<Disagreement[]> {
  const docs = untracked.filter(isConsolidatedDoc);
  if (docs.length === 0) return [];
  const candidates = new Set<string>();
  for (const d of docs) {
    for (let dir = parentDir(d); ; dir = parentDir(dir)) {
      const z = joinPath(dir, ".zmetadata");
      if (exists(z)) candidates.add(z);
      if (dir === "") break;
    }
  }
  const isUntracked = new Set(docs);
  const out: Disagreement[] = [];
  for (const p of [...candidates].sort()) {
    const bytes = await read(p);
    const listed = bytes && listedDocs(bytes, p);
    const missing = folders((listed ?? []).filter((d) => isUntracked.has(d)));
    if (missing.length > 0) out.push({ path: p, missing, unlisted: [] });
  }
  return out;
}
