/**
 * Which files of a tree are Zarr metadata, which are chunks of which array,
 * and which are plain files. Arrays are found lazily, one folder at a time,
 * from whatever source of bytes the caller has (working tree, index, snapshot).
 */
import { type InvalidMetadataError, isTdvError } from "../errors.js";
import { parseChunkKey } from "../format/chunk-key.js";
import { isInGrid, parseZarray, parseZarrJson, type ArrayMeta, type NodeMeta } from "../format/zarr-meta.js";

export const META_NAMES = new Set([".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]);

/** Plain files up to this size are Git blobs; larger ones are chunk objects. */
export const SMALL_FILE = 64 * 1024;

export interface ArrayNode {
  /** folder of the array, relative to the root ("" when the root is an array) */
  dir: string;
  metaPath: string;
  meta: ArrayMeta;
}

export type FileKind =
  | { kind: "meta"; array: string | null }
  | { kind: "chunk"; array: string; index: number[]; inGrid: boolean }
  | { kind: "plain"; array: string | null };

/** Reads the bytes of a file of the tree, or null when the tree has no such file. */
export type ReadFile = (rel: string) => Promise<Uint8Array | null>;

export function parentDir(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}

export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** The value of `key` in `map`, made (once) by `make` when absent. */
function memo<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/**
 * What `add`, `commit -a` and `status` say about metadata tdv cannot read (an
 * unknown Zarr version, a document that does not parse): the file, why, and
 * that its folder is carried as plain files. (`status` also warns so about
 * invalid metadata of a version tdv reads, which `add` refuses.)
 */
export function plainFolderWarning(err: InvalidMetadataError): string {
  const dir = parentDir(err.path);
  if (!err.unreadable) return err.message;
  return `${err.message}; tdv keeps ${dir ? `'${dir}'` : "the top folder"} as plain files`;
}

/** The problems whose folder holds one of `paths` (a folder of plain files is worth a warning where something in it changes). */
export function problemsFor(problems: readonly InvalidMetadataError[], paths: Iterable<string>): InvalidMetadataError[] {
  const dirs = problems.map((p) => parentDir(p.path));
  const hit = new Set<number>();
  for (const p of paths) {
    dirs.forEach((d, i) => {
      if (d === "" || p.startsWith(`${d}/`)) hit.add(i);
    });
  }
  return problems.filter((_, i) => hit.has(i));
}

/**
 * Metadata documents parsed, by the bytes object read (and the path it was
 * read as): a hierarchy over the working tree and one over the files staged
 * from the same bytes (`add`'s snapshot) parse each document once.
 */
const parsed = new WeakMap<Uint8Array, { path: string; v3: NodeMeta | null; v2: ArrayMeta | null }>();

function parseV3(bytes: Uint8Array, path: string): NodeMeta {
  const known = parsed.get(bytes);
  if (known?.path === path && known.v3) return known.v3;
  const node = parseZarrJson(bytes, path);
  parsed.set(bytes, { path, v3: node, v2: null });
  return node;
}

function parseV2(bytes: Uint8Array, path: string): ArrayMeta {
  const known = parsed.get(bytes);
  if (known?.path === path && known.v2) return known.v2;
  const meta = parseZarray(bytes, path);
  parsed.set(bytes, { path, v3: null, v2: meta });
  return meta;
}

export class Hierarchy {
  private readonly nodes = new Map<string, Promise<ArrayNode | null>>();
  private readonly nearest = new Map<string, Promise<ArrayNode | null>>();
  /** metadata tdv cannot read met so far, once per folder: the folder is then plain files */
  readonly problems: InvalidMetadataError[] = [];

  constructor(
    private readonly read: ReadFile,
    private readonly strict = false,
  ) {}

  /** The array whose folder is `dir`, or null. */
  arrayAt(dir: string): Promise<ArrayNode | null> {
    return memo(this.nodes, dir, () => this.load(dir));
  }

  private async load(dir: string): Promise<ArrayNode | null> {
    try {
      const v3Path = joinPath(dir, "zarr.json");
      const v3 = await this.read(v3Path);
      if (v3) {
        const node = parseV3(v3, v3Path);
        return node.kind === "array" ? { dir, metaPath: v3Path, meta: node.meta } : null;
      }
      const v2Path = joinPath(dir, ".zarray");
      const v2 = await this.read(v2Path);
      if (v2) return { dir, metaPath: v2Path, meta: parseV2(v2, v2Path) };
      return null;
    } catch (err) {
      if (!isTdvError(err, "InvalidMetadataError")) throw err;
      if (this.strict && !(err as InvalidMetadataError).unreadable) throw err;
      this.problems.push(err as InvalidMetadataError);
      return null;
    }
  }

  /** The nearest array folder holding `rel` (a file path), or null. */
  arrayOf(rel: string): Promise<ArrayNode | null> {
    return this.nearestIn(parentDir(rel));
  }

  /** The array at `dir` or its nearest ancestor, kept per folder: thousands of chunks share one. */
  private nearestIn(dir: string): Promise<ArrayNode | null> {
    return memo(this.nearest, dir, async () => (await this.arrayAt(dir)) ?? (dir === "" ? null : this.nearestIn(parentDir(dir))));
  }

  /** The nearest array folder at or above the folder `dir`, or null (`arrayOf` of the files in it). */
  arrayIn(dir: string): Promise<ArrayNode | null> {
    return this.nearestIn(dir);
  }

  async classify(rel: string): Promise<FileKind> {
    return kindIn(await this.arrayOf(rel), rel);
  }

  /**
   * Classify many paths (sorted, or at least grouped by folder) a block at a
   * time: each folder's array is looked up once, all of a block's at once, and
   * `each` called with every path's kind, in order. At a million chunk paths,
   * a promise chain a path (`classify`) was most of what the loop allocated.
   */
  async classifyEach(paths: Iterable<string>, each: (i: number, kind: FileKind, node: ArrayNode | null, rel: string) => void | Promise<void>): Promise<void> {
    const BLOCK = 1024;
    const dirOf = new Int32Array(BLOCK);
    // a block of paths at a time, taken from `paths` as they come (an index's million paths are never all strings at once)
    const block: string[] = [];
    let from = 0;
    const run = async (): Promise<void> => {
      const dirs: string[] = [];
      let last: string | null = null;
      for (let k = 0; k < block.length; k++) {
        const d = parentDir(block[k] as string);
        if (d !== last) {
          dirs.push(d);
          last = d;
        }
        dirOf[k] = dirs.length - 1;
      }
      const nodes = await Promise.all(dirs.map((d) => this.nearestIn(d)));
      for (let k = 0; k < block.length; k++) {
        const node = nodes[dirOf[k] as number] ?? null;
        const rel = block[k] as string;
        const done = each(from + k, kindIn(node, rel), node, rel);
        if (done) await done;
      }
      from += block.length;
      block.length = 0;
    };
    for (const rel of paths) {
      block.push(rel);
      if (block.length === BLOCK) await run();
    }
    if (block.length > 0) await run();
  }
}

/** The kind of file `rel`, whose nearest array (at or above its folder) is `node`. */
export function kindIn(node: ArrayNode | null, rel: string): FileKind {
  if (META_NAMES.has(baseName(rel))) return { kind: "meta", array: node && parentDir(rel) === node.dir ? node.dir : null };
  if (!node) return { kind: "plain", array: null };
  const key = node.dir ? rel.slice(node.dir.length + 1) : rel;
  const index = parseChunkKey(node.meta.keyEncoding, key, node.meta.shape.length);
  if (!index) return { kind: "plain", array: node.dir };
  return { kind: "chunk", array: node.dir, index, inGrid: isInGrid(node.meta, index) };
}

/** Where a file's bytes are stored: metadata and small plain files in Git, the rest as chunk objects. */
export function storeFor(kind: FileKind, size: number): "git" | "chunk" {
  if (kind.kind === "meta") return "git";
  if (kind.kind === "chunk") return "chunk";
  return size <= SMALL_FILE ? "git" : "chunk";
}

/** Classify a path against a known set of arrays (folder → metadata), as a snapshot has them. */
export function classifyWith(arrays: ReadonlyMap<string, ArrayMeta>, rel: string): FileKind {
  let dir = parentDir(rel);
  for (;;) {
    const meta = arrays.get(dir);
    if (meta) {
      if (META_NAMES.has(baseName(rel))) return { kind: "meta", array: parentDir(rel) === dir ? dir : null };
      const index = parseChunkKey(meta.keyEncoding, dir ? rel.slice(dir.length + 1) : rel, meta.shape.length);
      if (!index) return { kind: "plain", array: dir };
      return { kind: "chunk", array: dir, index, inGrid: isInGrid(meta, index) };
    }
    if (dir === "") break;
    dir = parentDir(dir);
  }
  return META_NAMES.has(baseName(rel)) ? { kind: "meta", array: null } : { kind: "plain", array: null };
}
