/**
 * Three-way comparison of snapshots: what merges cleanly and what conflicts.
 *
 * Per file, by content id: changed on one side only takes that side; the same
 * change on both is taken once. Arrays are handled as units where it matters:
 * added on one side, deleted on one side (a conflict when the other changed
 * it), re-encoded on one side (codecs, dtype, grid: a conflict when the other
 * changed chunks). Within an array present on all sides, a chunk changed on
 * both is a ChunkBothChanged (settled element by element by `solve`), the
 * metadata documents merge key by key (shape, attributes, ...), and
 * consolidated metadata (`.zmetadata`, v3 `consolidated_metadata`) changed
 * on both sides is rebuilt from the merged documents.
 *
 * Reads only metadata documents; never decodes a chunk.
 */
import { parseChunkKey } from "../../format/chunk-key.js";
import { baseName, joinPath, META_NAMES, parentDir } from "../hierarchy.js";
import type { Snapshot, SnapEntry } from "../snapshot.js";
import { encodingKeysChanged, mergeDoc, describeChange, type Chooser } from "./docs.js";
import { rebuildConsolidated } from "./consolidated.js";
import { disputedBase, parseDoc, same, serializeLike, toJsonValue, type Json } from "./json.js";
import type { Conflict, Detection, MetaBothChanged, Side, Sides } from "./types.js";

export interface DetectInput {
  base: Snapshot;
  ours: Snapshot;
  theirs: Snapshot;
  /**
   * criss-cross history: the second version of the virtual base (`base` is the
   * first). Where the two differ the merge bases disagree: a file the sides
   * hold differently there is a conflict, never settled silently.
   */
  altBase?: Snapshot;
  /** the bytes of a file of one of the snapshots */
  read: (path: string, entry: SnapEntry) => Promise<Uint8Array>;
}

type Entry = SnapEntry | null;

const sameEntry = (a: Entry, b: Entry): boolean => (a === null ? b === null : b !== null && a.id === b.id);

/** Which files belong to which array: the nearest folder that is an array on any side. */
function plural(n: number, one: string, many: string, verb: string): string {
  return `${verb} ${n} ${n === 1 ? one : many}`;
}

export function arrayOwners(input: Pick<DetectInput, "base" | "ours" | "theirs">): { arrays: Set<string>; owner: (p: string) => string | null } {
  const arrays = new Set<string>([...input.base.arrays.keys(), ...input.ours.arrays.keys(), ...input.theirs.arrays.keys()]);
  const owner = (p: string): string | null => {
    for (let dir = parentDir(p); ; dir = parentDir(dir)) {
      if (arrays.has(dir)) return dir;
      if (dir === "") return null;
    }
  };
  return { arrays, owner };
}

/** Every path of an array folder on any side. */
export function arrayPaths(input: Pick<DetectInput, "base" | "ours" | "theirs">, array: string): string[] {
  const { owner } = arrayOwners(input);
  const out = new Set<string>();
  for (const s of [input.base, input.ours, input.theirs]) for (const p of s.files.keys()) if (owner(p) === array) out.add(p);
  return [...out].sort();
}

/**
 * Merge the three versions of a metadata document (`zarr.json`, `.zarray`,
 * `.zattrs`) key by key; `choose` settles keys changed differently on both
 * sides. Returns the merged document (in ours' style) and its conflicts.
 */
export async function mergeDocumentAt(
  input: DetectInput,
  p: string,
  choose: Chooser,
  parse: (p: string, e: SnapEntry) => Promise<Json> = async (q, e) => parseDoc(await input.read(q, e), q),
): Promise<{ bytes: Uint8Array; conflicts: Conflict[]; rebuild: boolean }> {
  const get = (s: Snapshot) => s.files.get(p) ?? null;
  const [b, o, t] = [get(input.base), get(input.ours), get(input.theirs)];
  const node = parentDir(p);
  const isArray = [input.base, input.ours, input.theirs].some((s) => s.arrays.has(node));
  // criss-cross history: where the merge bases disagree on the document, the keys they disagree on have no known base
  const alt = input.altBase ? (input.altBase.files.get(p) ?? null) : b;
  const baseDoc = sameEntry(b, alt) ? (b ? await parse(p, b) : null) : disputedBase(b ? await parse(p, b) : null, alt ? await parse(p, alt) : null, baseName(p) === "zarr.json");
  const sides = { base: baseDoc, ours: o ? await parse(p, o) : null, theirs: t ? await parse(p, t) : null };
  const { doc, conflicts, rebuild } = mergeDoc({ path: p, node, isArray }, sides, choose);
  // ours' style; numbers keep the spelling ours, theirs or the base gave them (`1.0` stays `1.0`)
  const sources = await Promise.all([o, t, b].filter((e): e is SnapEntry => e !== null).map((e) => input.read(p, e)));
  return { bytes: serializeLike(doc, sources[0] ?? null, sources), conflicts, rebuild };
}

export async function detectConflicts(input: DetectInput): Promise<Detection> {
  const d = new Detector(input);
  return d.run();
}

class Detector {
  readonly files = new Map<string, SnapEntry>();
  readonly written = new Map<string, Uint8Array>();
  readonly conflicts: Conflict[] = [];
  private readonly docs = new Map<string, Promise<Json>>();
  private readonly consolidated: string[] = [];

  constructor(private readonly input: DetectInput) {}

  private entries(p: string): Sides<Entry> {
    return { base: this.input.base.files.get(p) ?? null, ours: this.input.ours.files.get(p) ?? null, theirs: this.input.theirs.files.get(p) ?? null };
  }

  /** The merge bases disagree on this file (criss-cross history), so it has no known base version. */
  private disputed(p: string): boolean {
    const alt = this.input.altBase;
    return alt !== undefined && !sameEntry(this.input.base.files.get(p) ?? null, alt.files.get(p) ?? null);
  }

  private set(p: string, e: Entry): void {
    if (e) this.files.set(p, e);
    else this.files.delete(p);
  }

  /** A parsed metadata document of one side (cached by content id). */
  doc(p: string, e: SnapEntry): Promise<Json> {
    let d = this.docs.get(e.id);
    if (!d) {
      d = this.input.read(p, e).then((bytes) => parseDoc(bytes, p));
      this.docs.set(e.id, d);
    }
    return d;
  }

  async run(): Promise<Detection> {
    const { arrays, owner } = arrayOwners(this.input);
    const byArray = new Map<string, string[]>([...arrays].map((a) => [a, []]));
    const loose: string[] = [];
    const all = new Set<string>();
    for (const s of [this.input.base, this.input.ours, this.input.theirs]) for (const p of s.files.keys()) all.add(p);
    for (const p of [...all].sort()) {
      const a = owner(p);
      if (a === null) loose.push(p);
      else byArray.get(a)!.push(p);
    }
    for (const [a, paths] of byArray) await this.mergeArray(a, paths);
    for (const p of loose) await this.mergeFile(p);
    // consolidated metadata both sides changed: rebuilt from the merged documents (again after conflicts are settled)
    const view = { paths: () => this.files.keys(), read: (q: string) => this.mergedBytes(q) };
    for (const p of this.consolidated) {
      const bytes = await rebuildConsolidated(p, view);
      if (bytes) this.written.set(p, bytes);
    }
    return { files: this.files, written: this.written, conflicts: this.conflicts, consolidated: this.consolidated };
  }

  // ---- plain files and documents ---------------------------------------------------

  /** Three-way merge of one file (metadata documents key by key). */
  private async mergeFile(p: string): Promise<void> {
    const e = this.entries(p);
    if (sameEntry(e.ours, e.theirs)) return this.set(p, e.ours);
    const name = baseName(p);
    const isDoc = name === ".zattrs" || name === "zarr.json" || name === ".zarray";
    if (this.disputed(p) && !(isDoc && e.ours !== null && e.theirs !== null)) {
      this.conflicts.push({ _tag: "FileBothChanged", path: p, entries: e, basesDisagree: true });
      return this.set(p, e.ours ?? e.theirs);
    }
    if (this.disputed(p)) {
      // a metadata document the merge bases disagree on: key by key, a key they disagree on has no known base
      const merged = await this.mergeDocument(p, () => null);
      this.set(p, e.ours);
      this.written.set(p, merged);
      return;
    }
    if (sameEntry(e.base, e.ours)) return this.set(p, e.theirs);
    if (sameEntry(e.base, e.theirs)) return this.set(p, e.ours);
    if (e.ours === null || e.theirs === null) {
      const deletedBy: Side = e.ours === null ? "ours" : "theirs";
      this.conflicts.push({ _tag: "DeleteOfChanged", path: p, array: false, deletedBy, changed: [p] });
      return this.set(p, e.ours ?? e.theirs); // the changed version stays: nothing is lost
    }
    if (name === ".zmetadata") {
      this.set(p, e.ours); // rebuilt once every document is merged
      this.consolidated.push(p);
      return;
    }
    if (isDoc) {
      const merged = await this.mergeDocument(p, () => null);
      this.set(p, e.ours);
      this.written.set(p, merged);
      return;
    }
    this.conflicts.push({ _tag: "FileBothChanged", path: p, entries: e });
    this.set(p, e.ours);
  }

  /** Merge a document key by key; its conflicts join the list; returns its provisional bytes. */
  async mergeDocument(p: string, choose: Chooser): Promise<Uint8Array> {
    const { bytes, conflicts, rebuild } = await mergeDocumentAt(this.input, p, choose, (q, e) => this.doc(q, e));
    this.conflicts.push(...conflicts);
    if (rebuild) this.consolidated.push(p);
    return bytes;
  }

  // ---- arrays -------------------------------------------------------------------------

  private async mergeArray(a: string, paths: string[]): Promise<void> {
    const has = {
      base: this.input.base.arrays.has(a),
      ours: this.input.ours.arrays.has(a),
      theirs: this.input.theirs.arrays.has(a),
    };
    const differing = (x: "base" | "ours" | "theirs", y: "base" | "ours" | "theirs") =>
      paths.filter((p) => !sameEntry(this.entries(p)[x], this.entries(p)[y]));
    const takeAll = (side: Side) => {
      for (const p of paths) this.set(p, this.entries(p)[side]);
    };

    if (!has.base) {
      if (has.ours && has.theirs) {
        const diff = differing("ours", "theirs");
        if (diff.length > 0) {
          this.conflicts.push({ _tag: "ArrayAddedBoth", array: a, differing: diff.slice(0, 5) });
          return takeAll("ours");
        }
      }
      for (const p of paths) await this.mergeFile(p);
      return;
    }
    if (!has.ours || !has.theirs) {
      if (!has.ours && !has.theirs) {
        for (const p of paths) await this.mergeFile(p);
        return;
      }
      const deletedBy: Side = has.ours ? "theirs" : "ours";
      const keeper: Side = deletedBy === "ours" ? "theirs" : "ours";
      const changed = differing("base", keeper);
      if (changed.length === 0) {
        for (const p of paths) await this.mergeFile(p);
        return;
      }
      this.conflicts.push({ _tag: "DeleteOfChanged", path: a, array: true, deletedBy, changed: changed.slice(0, 5) });
      return takeAll(keeper);
    }

    // on all three sides: the metadata documents decide whether chunks can be combined
    const metaPath = (s: "base" | "ours" | "theirs") => {
      const v3 = joinPath(a, "zarr.json");
      return this.entries(v3)[s] ? v3 : joinPath(a, ".zarray");
    };
    const docOf = async (s: "base" | "ours" | "theirs") => {
      const p = metaPath(s);
      return { path: p, doc: await this.doc(p, this.entries(p)[s] as SnapEntry) };
    };
    const [b, o, t] = [await docOf("base"), await docOf("ours"), await docOf("theirs")];
    const isDoc = (p: string) => META_NAMES.has(baseName(p)) && parentDir(p) === a;
    const dataChanged = (s: Side) => paths.some((p) => !isDoc(p) && !sameEntry(this.entries(p).base, this.entries(p)[s]));
    const encO = b.path === o.path ? encodingKeysChanged(b.doc, o.doc) : ["zarr_format"];
    const encT = b.path === t.path ? encodingKeysChanged(b.doc, t.doc) : ["zarr_format"];
    const sameEncoding = o.path === t.path && encodingKeysChanged(o.doc, t.doc).length === 0;
    const arrayConflicts: MetaBothChanged[] = [];
    if (!sameEncoding) {
      const dims = (this.input.ours.arrays.get(a) ?? this.input.base.arrays.get(a))?.dimensionNames ?? null;
      const what = (side: Side, keys: string[], doc: Json) =>
        keys.length === 0 ? (dataChanged(side) ? plural(this.countChunks(a, paths, side), "chunk", "chunks", "changed") : "changed no chunk") : keys.map((k) => describeChange(k, b.doc[k], doc[k], dims)).join("; ");
      const conflict = (key: string, message: string): MetaBothChanged => ({
        _tag: "MetaBothChanged",
        array: a,
        path: o.path,
        key,
        scope: "array",
        values: { base: toJsonValue(b.doc[key]), ours: toJsonValue(o.doc[key]), theirs: toJsonValue(t.doc[key]) },
        ours: what("ours", encO, o.doc),
        theirs: what("theirs", encT, t.doc),
        message,
      });
      if (encO.length > 0 && encT.length > 0) {
        const keys = [...new Set([...encO, ...encT])];
        for (const k of keys.filter((k) => !same(o.doc[k], t.doc[k]))) {
          const c = conflict(k, "");
          c.message = `${a || "."}: '${k}' changed differently on both sides (ours ${c.ours}; theirs ${c.theirs}); the chunks of one side cannot be read with the other's metadata`;
          arrayConflicts.push(c);
        }
      } else if (encO.length > 0 && dataChanged("theirs")) {
        const c = conflict(encO[0] as string, "");
        c.message = `${a || "."}: ours re-encoded the array (${c.ours}) while theirs ${c.theirs}`;
        arrayConflicts.push(c);
      } else if (encT.length > 0 && dataChanged("ours")) {
        const c = conflict(encT[0] as string, "");
        c.message = `${a || "."}: theirs re-encoded the array (${c.theirs}) while ours ${c.ours}`;
        arrayConflicts.push(c);
      }
    }
    if (arrayConflicts.length > 0) {
      this.conflicts.push(...arrayConflicts);
      return takeAll("ours");
    }

    // compatible: file by file; chunks changed on both sides merge element by element
    const meta = this.input.ours.arrays.get(a)!;
    for (const p of paths) {
      const e = this.entries(p);
      const disputed = !isDoc(p) && !sameEntry(e.ours, e.theirs) && this.disputed(p);
      if (!disputed && (isDoc(p) || sameEntry(e.ours, e.theirs) || sameEntry(e.base, e.ours) || sameEntry(e.base, e.theirs))) {
        await this.mergeFile(p);
        continue;
      }
      const index = parseChunkKey(meta.keyEncoding, a ? p.slice(a.length + 1) : p, meta.shape.length);
      if (!index) {
        await this.mergeFile(p);
        continue;
      }
      this.conflicts.push({ _tag: "ChunkBothChanged", array: a, chunk: index, path: p, entries: e, ...(disputed ? { basesDisagree: true } : {}) });
      this.set(p, e.ours);
    }
  }

  private countChunks(a: string, paths: string[], side: Side): number {
    const meta = this.input.ours.arrays.get(a) ?? this.input.base.arrays.get(a);
    let n = 0;
    for (const p of paths) {
      const e = this.entries(p);
      if (sameEntry(e.base, e[side])) continue;
      if (meta && parseChunkKey(meta.keyEncoding, a ? p.slice(a.length + 1) : p, meta.shape.length)) n++;
    }
    return n;
  }

  private async mergedBytes(p: string): Promise<Uint8Array | null> {
    const w = this.written.get(p);
    if (w) return w;
    const e = this.files.get(p);
    return e ? this.input.read(p, e) : null;
  }
}
