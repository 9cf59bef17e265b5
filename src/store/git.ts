/**
 * The single wrapper over Git metadata in `.tdv/git`. Objects are written as
 * loose Git objects by tdv itself (zlib + SHA-1, temp file + fsync + rename:
 * isomorphic-git's writer neither fsyncs nor keeps up with thousands of
 * metadata blobs). Loose objects are read and verified here; isomorphic-git
 * reads packfiles (a repository packed by stock git) and finds merge bases.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CorruptObjectError, MissingObjectError } from "../errors.js";
import {
  checkGitObject,
  encodeCommit,
  encodeTag,
  encodeTree,
  parseCommit,
  parseTag,
  parseTree,
  type CommitObject,
  type TagObject,
  type TreeEntry,
} from "../format/git-object.js";
import { sha1, type GitOid } from "../format/hash.js";
import { inflateObject, zlibObject } from "../format/zlib-stored.js";
import { asAccessError, freshen, tempName, writeAtomic, writeObjectFile } from "./atomic.js";
import { buildPack, Pack, PackSpool, type PackObject, type PackType, type RawObject } from "./pack.js";
import { Durability } from "./durability.js";
import type { ObjectStore, ObjectWriter } from "./types.js";

/**
 * Objects this process wrote or read and verified, by id: a commit reads back
 * the trees and manifests it has just written (its summary), and many arrays
 * share one metadata blob. Bounded by bytes; the oldest go first.
 */
class ObjectCache {
  private readonly map = new Map<GitOid, { type: string; content: Buffer }>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  get(oid: GitOid): { type: string; content: Buffer } | undefined {
    return this.map.get(oid);
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  delete(oid: GitOid): void {
    const v = this.map.get(oid);
    if (!v) return;
    this.map.delete(oid);
    this.bytes -= v.content.length + 100;
  }

  set(oid: GitOid, type: string, content: Buffer): void {
    if (content.length > this.maxBytes / 16 || this.map.has(oid)) return;
    this.map.set(oid, { type, content });
    this.bytes += content.length + 100;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.content.length + 100;
    }
  }
}

/** A loose object's file name in its fan-out folder (temp files of killed writes are not). */
const LOOSE_NAME = /^[0-9a-f]{38}$/;

/** Fewer new objects than this are written loose: a pack pays off for many. */
export const PACK_MIN = 64;

/** Past this many bytes of objects collected in memory, a pack's objects go to its file (PackSpool). */
export const SPOOL_BYTES = 8 << 20;

/** Objects a pack checks for loose copies one stat at a time before listing all 256 folders (which costs ~60 stats). */
const LOOSE_STATS = 64;

/** An object's content, once its type is the one asked for (a name that reaches another type is damage). */
export function contentOfType(o: { type: string; content: Buffer }, oid: GitOid, type: string, what: string): Buffer {
  if (o.type !== type) throw new CorruptObjectError(oid, `${what}: expected a ${type}, found a ${o.type}`);
  return o.content;
}

/**
 * Git objects in a Git directory on disk. File-system only (not in ObjectStore):
 * `gitdir`, the isomorphic-git `cache`, packs and loose objects (gc, fsck) and `dropCache`.
 */
export class GitStore implements ObjectStore {
  readonly cache: object = {};
  private readonly objects = new ObjectCache(32 << 20);
  /** packs by index file, opened on first need */
  private readonly packs = new Map<string, Pack>();
  private packsScanned = false;
  /** the packs being collected (withPack): their objects are readable before they are written */
  private readonly open = new Set<PackWriter>();
  /** the objects folder, with a separator after it (loose objects' paths are joined as text) */
  private readonly objectsDir: string;
  constructor(
    readonly gitdir: string,
    readonly durability: Durability = new Durability(gitdir, "fsync"),
  ) {
    this.objectsDir = path.join(gitdir, "objects") + path.sep;
  }

  /** Forget the objects kept in memory: the next reads go to the disk (fsck, gc). */
  dropCache(): void {
    this.objects.clear();
  }

  // ---- writing -------------------------------------------------------------

  /** Write an object now (loose), or into `pack` (written with it when it commits). */
  async writeRaw(type: PackType, content: Uint8Array, pack?: PackWriter): Promise<GitOid> {
    if (pack && !this.open.has(pack)) throw new Error("internal: a write into a pack that is not open");
    const header = Buffer.from(`${type} ${content.byteLength}\0`);
    const full = Buffer.concat([header, content]);
    const oid = sha1(full);
    const body = full.subarray(header.length);
    if (pack && (pack.pending.has(oid) || pack.spool?.has(oid))) return oid;
    const file = this.loosePath(oid);
    // present: freshened (gc's grace period starts again); missing: written, or kept for the pack.
    // Collecting a pack of many objects, the loose ones are listed once (256 folder listings)
    // instead of a stat per object; the first ones, all a small commit writes, take a stat each.
    if ((!pack || this.mayBeLoose(pack, oid)) && freshen(file)) {
      this.objects.set(oid, type, body);
      return oid;
    }
    const packed = this.packOf(oid, false);
    // in a pack: that pack is freshened; a pack gc deleted since it was opened holds nothing, so the object is written anew
    const inPack = packed !== null && freshen(packed.file);
    if (!inPack && pack) {
      pack.pending.set(oid, { oid, type, content: body });
      pack.held += body.byteLength;
      if (pack.held >= SPOOL_BYTES) this.spill(pack);
    } else if (!inPack && (await writeObjectFile(file, zlibObject(full), this.durability.syncEachWrite, false))) {
      this.durability.written(file);
    }
    this.objects.set(oid, type, body);
    return oid;
  }

  /**
   * Run `fn` with a new pack: the objects written into it (`pack.writeBlob`,
   * `writeTree`, ... or a store write given `pack`) are written as one pack
   * when they are many (loose otherwise) once `fn` returns: thousands of
   * small trees and manifests cost two files instead of thousands. They are
   * readable at once. If `fn` throws, they are not written (no ref can name
   * them yet). Writes not given the pack are written at once, as outside.
   */
  async withPack<T>(fn: (pack: PackWriter) => Promise<T>): Promise<T> {
    const pack = new PackWriter(this);
    this.open.add(pack);
    let ok = false;
    try {
      const out = await fn(pack);
      ok = true;
      return out;
    } finally {
      this.open.delete(pack);
      const pending = [...pack.pending.values()];
      pack.pending.clear();
      pack.held = 0;
      if (ok && pack.spool) await this.writeSpooled(pack.spool, pending);
      else if (ok) await this.writePending(pending);
      else {
        // never written: not readable either
        for (const o of pending) this.objects.delete(o.oid);
        if (pack.spool) {
          for (const oid of pack.spool.oids()) this.objects.delete(oid);
          pack.spool.close();
          await fs.promises.rm(pack.spool.file, { force: true });
        }
      }
    }
  }

  /** Move the objects `pack` holds in memory to its spool file (opened on the first spill). */
  private spill(pack: PackWriter): void {
    // a temp name (gc sweeps what a killed command left)
    const file = pack.spool?.file ?? tempName(path.join(this.packDir(), "pack"));
    try {
      if (!pack.spool) {
        fs.mkdirSync(this.packDir(), { recursive: true });
        pack.spool = new PackSpool(file);
      }
      for (const o of pack.pending.values()) pack.spool.add(o);
    } catch (err) {
      // a full disk or a folder it may not write: named (withPack removes the spool file)
      throw asAccessError(err, file);
    }
    pack.pending.clear();
    pack.held = 0;
  }

  /** Complete a spooled pack with the objects still in memory and name it: the pack first, then its index (as writePack). */
  private async writeSpooled(spool: PackSpool, rest: readonly PackObject[]): Promise<void> {
    let done: { name: string; idx: Buffer };
    try {
      try {
        for (const o of rest) spool.add(o);
        done = spool.finish();
        if (this.durability.syncEachWrite) spool.sync();
      } finally {
        spool.close();
      }
      await fs.promises.rename(spool.file, path.join(this.packDir(), `${done.name}.pack`));
    } catch (err) {
      await fs.promises.rm(spool.file, { force: true }).catch(() => {});
      throw asAccessError(err, spool.file);
    }
    const base = path.join(this.packDir(), done.name);
    this.durability.written(`${base}.pack`);
    await this.indexPack(base, done.idx);
  }

  /** A pack written at `base`.pack gets its index (written last: a reader finds a pack by its index) and is opened for reading. */
  private async indexPack(base: string, idx: Buffer): Promise<void> {
    await writeAtomic(`${base}.idx`, idx, { durable: this.durability.syncEachWrite, mode: 0o444 });
    this.durability.written(`${base}.idx`);
    const opened = Pack.open(`${base}.idx`);
    if (opened) this.packs.set(`${base}.idx`, opened);
  }

  /** Whether a pack holds `oid` (the packs on disk when this store first looked). */
  hasPacked(oid: GitOid): boolean {
    return this.packOf(oid, false) !== null;
  }

  /** Delete the loose copy of an object that a pack also holds (git's prune-packed). */
  async dropLooseCopy(oid: GitOid): Promise<void> {
    if (!this.hasPacked(oid)) throw new Error(`internal: ${oid} is in no pack`);
    await fs.promises.rm(this.loosePath(oid), { force: true });
  }

  /**
   * Move loose objects into one new pack (gc): each is read and verified,
   * the pack is written and made durable, and only then are the loose files
   * deleted. Killed at any point, every object is loose, packed, or both.
   * Returns the number of objects packed and the pack's size.
   */
  async packLoose(oids: readonly GitOid[]): Promise<{ objects: number; bytes: number }> {
    const packed = await this.packObjects(oids, "loose object");
    for (const oid of oids) await fs.promises.rm(this.loosePath(oid), { force: true });
    return packed;
  }

  /**
   * About how many loose objects there are: one fan-out folder's count × 256
   * (git's `gc --auto` samples objects/17 the same way).
   */
  looseEstimate(): number {
    try {
      return fs.readdirSync(path.join(this.gitdir, "objects", "17")).filter((n) => LOOSE_NAME.test(n)).length * 256;
    } catch {
      return 0;
    }
  }

  /** Move every loose object, reachable or not, into one pack (see packLoose). */
  async packAllLoose(): Promise<{ objects: number; bytes: number }> {
    const oids = [...this.looseIds()] as GitOid[];
    return this.packLoose(oids);
  }

  /** Write the objects `oids` (wherever they are now) as one new pack, durably. */
  async packObjects(oids: readonly GitOid[], what = "object"): Promise<{ objects: number; bytes: number }> {
    if (oids.length === 0) return { objects: 0, bytes: 0 };
    const objects: PackObject[] = [];
    for (const oid of oids) {
      const o = this.readObjectSync(oid, what);
      objects.push({ oid, type: o.type as PackType, content: o.content });
    }
    const bytes = await this.writePack(objects);
    await this.durability.flush(); // the pack is on disk before anything it replaces goes
    return { objects: objects.length, bytes };
  }

  /** The packs on disk: each one's index file and reader. */
  listPacks(): { idx: string; pack: Pack }[] {
    this.scanPacks();
    return [...this.packs].map(([idx, pack]) => ({ idx, pack }));
  }

  /**
   * Delete a pack: its index first, so that no reader finds an index whose pack
   * is gone (a pack left without its index is swept as a temp file).
   */
  async dropPack(idx: string): Promise<void> {
    const pack = this.packs.get(idx);
    pack?.close();
    this.packs.delete(idx);
    await fs.promises.rm(idx, { force: true });
    await fs.promises.rm(idx.replace(/\.idx$/, ".pack"), { force: true });
  }

  private async writePending(objects: PackObject[]): Promise<void> {
    if (objects.length < PACK_MIN) {
      for (const o of objects) {
        const file = this.loosePath(o.oid);
        const full = Buffer.concat([Buffer.from(`${o.type} ${o.content.byteLength}\0`), o.content]);
        if (await writeObjectFile(file, zlibObject(full), this.durability.syncEachWrite)) this.durability.written(file);
      }
      return;
    }
    await this.writePack(objects);
  }

  /** Write `objects` as one pack and its index; returns their size. */
  private async writePack(objects: readonly PackObject[]): Promise<number> {
    const { name, pack, idx } = buildPack(objects);
    const dir = this.packDir();
    await fs.promises.mkdir(dir, { recursive: true });
    const base = path.join(dir, name);
    // the pack first: a reader finds a pack by its index, which must never name a missing pack
    await writeAtomic(`${base}.pack`, pack, { durable: this.durability.syncEachWrite, mode: 0o444 });
    this.durability.written(`${base}.pack`);
    await this.indexPack(base, idx);
    let size = idx.length;
    for (const part of pack) size += part.length;
    return size;
  }

  /** Whether a loose copy of `oid` needs looking for (freshen stats it): yes for the first few of a pack, then the listing says. */
  private mayBeLoose(pack: PackWriter, oid: GitOid): boolean {
    if (!pack.loose && pack.looseChecks < LOOSE_STATS) {
      pack.looseChecks++;
      return true;
    }
    pack.loose ??= this.looseIds();
    return pack.loose.has(oid);
  }

  /** The loose object ids (256 folder listings). */
  private looseIds(): Set<string> {
    const loose = new Set<string>();
    {
      const root = path.join(this.gitdir, "objects");
      for (let i = 0; i < 256; i++) {
        const fan = i.toString(16).padStart(2, "0");
        let names: string[];
        try {
          names = fs.readdirSync(path.join(root, fan));
        } catch {
          continue;
        }
        for (const n of names) if (LOOSE_NAME.test(n)) loose.add(fan + n);
      }
    }
    return loose;
  }

  private loosePath(oid: GitOid): string {
    // joined as text: path.join's normalizing was a tenth of `log`'s own work (the parts are clean)
    return `${this.objectsDir}${oid.slice(0, 2)}${path.sep}${oid.slice(2)}`;
  }

  private packDir(): string {
    return path.join(this.gitdir, "objects", "pack");
  }

  /** Open the packs not opened yet; true when there were new ones. */
  private scanPacks(): boolean {
    this.packsScanned = true;
    let names: string[];
    try {
      names = fs.readdirSync(this.packDir());
    } catch {
      return false;
    }
    let found = false;
    for (const n of names) {
      if (!/^pack-[0-9a-f]{40}\.idx$/.test(n)) continue;
      const f = path.join(this.packDir(), n);
      if (this.packs.has(f)) continue;
      const p = Pack.open(f);
      if (p) {
        this.packs.set(f, p);
        found = true;
      }
    }
    return found;
  }

  /** The pack holding `oid`; with `rescan`, packs written since by other processes are looked at too. */
  private packOf(oid: GitOid, rescan: boolean): Pack | null {
    if (!this.packsScanned) this.scanPacks();
    for (const p of this.packs.values()) if (p.has(oid)) return p;
    if (rescan && this.scanPacks()) for (const p of this.packs.values()) if (p.has(oid)) return p;
    return null;
  }

  /** Git blob id of `content` without writing it. */
  static blobOid(content: Uint8Array): GitOid {
    return createHash("sha1")
      .update(`blob ${content.byteLength}\0`)
      .update(content)
      .digest("hex") as GitOid;
  }

  writeBlob(content: Uint8Array, pack?: PackWriter): Promise<GitOid> {
    return this.writeRaw("blob", content, pack);
  }

  async writeTree(entries: readonly TreeEntry[], where = "", pack?: PackWriter): Promise<GitOid> {
    return this.writeRaw("tree", encodeTree(entries, where), pack);
  }

  async writeCommit(c: Omit<CommitObject, "oid">, pack?: PackWriter): Promise<GitOid> {
    return this.writeRaw("commit", encodeCommit(c), pack);
  }

  async writeTag(t: Omit<TagObject, "oid">, pack?: PackWriter): Promise<GitOid> {
    return this.writeRaw("tag", encodeTag(t), pack);
  }

  /** An object collected by an open pack, not written yet (in memory, or in the pack's spool file). */
  private pendingObject(oid: GitOid): RawObject | undefined {
    for (const p of this.open) {
      const o = p.pending.get(oid);
      if (o) return { type: o.type, content: Buffer.from(o.content.buffer, o.content.byteOffset, o.content.byteLength) };
      const spooled = p.spool?.read(oid);
      if (spooled) return spooled;
    }
    return undefined;
  }

  // ---- reading -------------------------------------------------------------
  //
  // Loose objects are read here directly: inflate, check the SHA-1 against the
  // id (a repository may be hostile), parse. isomorphic-git is loaded only for
  // objects in packfiles (a repository packed by stock git) and merge bases,
  // which keeps it out of the start-up of every command.

  private iso(): Promise<typeof import("isomorphic-git")> {
    return import("isomorphic-git").then((m) => (m.default ?? m) as typeof import("isomorphic-git"));
  }

  private async isoArgs() {
    return { fs: (await import("node:fs")).default, gitdir: this.gitdir, cache: this.cache };
  }

  /** Type and content of an object, verified against its id. */
  async readObject(oid: GitOid, what: string): Promise<{ type: string; content: Buffer }> {
    return this.readObjectSync(oid, what);
  }

  private readObjectSync(oid: GitOid, what: string): RawObject {
    const cached = this.objects.get(oid);
    if (cached) return cached as RawObject;
    const pending = this.pendingObject(oid);
    if (pending) return pending;
    if (!/^[0-9a-f]{40}$/.test(oid)) throw new MissingObjectError(oid, what);
    // a packed object first when a known pack has it: a failed open of its loose path costs more than the read
    if (this.packs.size > 0 || !this.packsScanned) {
      const pack = this.packOf(oid, false);
      if (pack) return this.readPacked(oid, what, pack);
    }
    const file = this.loosePath(oid);
    let raw: Buffer;
    try {
      raw = readSmallFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw asAccessError(err, file);
      return this.readPacked(oid, what);
    }
    let full: Buffer;
    try {
      full = inflateObject(raw);
    } catch {
      throw new CorruptObjectError(oid, `${what}: loose object does not inflate`);
    }
    const o = checkGitObject(full, oid);
    if (typeof o === "string") throw new CorruptObjectError(oid, `${what}: ${o}`);
    this.objects.set(oid, o.type, o.content);
    return o;
  }

  private readPacked(oid: GitOid, what: string, known?: Pack): RawObject {
    const pack = known ?? this.packOf(oid, true);
    if (!pack) throw new MissingObjectError(oid, what);
    // a reference delta's base may be anywhere: loose, this pack or another one
    const o = pack.read(oid, (base) => {
      try {
        return this.readObjectSync(base, `delta base of ${what}`);
      } catch (err) {
        if (err instanceof MissingObjectError) return null;
        throw err;
      }
    });
    if (!o) throw new MissingObjectError(oid, what);
    const actual = createHash("sha1").update(`${o.type} ${o.content.length}\0`).update(o.content).digest("hex");
    if (actual !== oid) throw new CorruptObjectError(oid, `${what}: packed bytes do not match the object id`);
    this.objects.set(oid, o.type, o.content);
    return o;
  }

  private async readTyped(oid: GitOid, type: string, what: string): Promise<Buffer> {
    return this.readTypedSync(oid, type, what);
  }

  private readTypedSync(oid: GitOid, type: string, what: string): Buffer {
    return contentOfType(this.readObjectSync(oid, what), oid, type, what);
  }

  async readBlob(oid: GitOid, what = "blob"): Promise<Uint8Array> {
    return this.readTyped(oid, "blob", what);
  }

  async readTree(oid: GitOid, what = "tree"): Promise<TreeEntry[]> {
    return parseTree(await this.readTyped(oid, "tree", what), oid, what);
  }

  async readCommit(oid: GitOid): Promise<CommitObject> {
    return this.readCommitSync(oid);
  }

  /** readCommit without a promise: history walks read thousands of small commits from the page cache. */
  readCommitSync(oid: GitOid): CommitObject {
    return parseCommit(this.readTypedSync(oid, "commit", "commit"), oid);
  }

  async readTag(oid: GitOid): Promise<TagObject> {
    return parseTag(await this.readTyped(oid, "tag", "tag"), oid);
  }

  /** The type of an object, or null when the repository lacks it. */
  async typeOf(oid: GitOid): Promise<string | null> {
    try {
      return (await this.readObject(oid, "object")).type;
    } catch (err) {
      if (err instanceof MissingObjectError) return null;
      throw err;
    }
  }

  /** All object ids starting with `prefix` (loose and packed). */
  async expand(prefix: string): Promise<GitOid[]> {
    const out = new Set<string>();
    const dir = path.join(this.gitdir, "objects", prefix.slice(0, 2));
    try {
      for (const f of await fs.promises.readdir(dir)) {
        const oid = prefix.slice(0, 2) + f;
        if (oid.startsWith(prefix) && oid.length === 40) out.add(oid);
      }
    } catch {
      /* no loose objects with that fan-out */
    }
    this.scanPacks();
    for (const p of this.packs.values()) for (const oid of p.oids()) if (oid.startsWith(prefix)) out.add(oid);
    return [...out] as GitOid[];
  }

  async mergeBase(a: GitOid, b: GitOid): Promise<GitOid[]> {
    const git = await this.iso();
    const oids = await git.findMergeBase({ ...(await this.isoArgs()), oids: [a, b] });
    return oids as GitOid[];
  }
}

/** A scratch buffer for loose objects: most fit, and are read with open, read, close (no fstat). */
const scratch = Buffer.allocUnsafe(64 << 10);

/** A whole file, read as readFileSync does but with one system call fewer for a small one. */
function readSmallFile(file: string): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const n = fs.readSync(fd, scratch, 0, scratch.length, 0);
    if (n < scratch.length) return Buffer.from(scratch.subarray(0, n));
    const size = fs.fstatSync(fd).size;
    const out = Buffer.allocUnsafe(Math.max(size, n));
    scratch.copy(out, 0, 0, n);
    let off = n;
    for (let r = 1; r > 0 && off < out.length; off += r) r = fs.readSync(fd, out, off, out.length - off, off);
    return out.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The objects one `GitStore.withPack` collects, written together when it
 * returns. Writes given to it (its own methods, or the store's with `pack`)
 * go into it; it is passed to every write it covers.
 */
export class PackWriter implements ObjectWriter {
  /** objects collected in memory, by id, and their bytes */
  readonly pending = new Map<GitOid, PackObject>();
  held = 0;
  /** the file the objects go to once they are many (SPOOL_BYTES): opened on the first spill */
  spool: PackSpool | null = null;
  /** the loose object ids on disk, listed once this pack has checked LOOSE_STATS objects one by one */
  loose: Set<string> | null = null;
  /** objects checked with a stat of their own */
  looseChecks = 0;
  constructor(private readonly store: GitStore) {}

  writeRaw(type: PackType, content: Uint8Array): Promise<GitOid> {
    return this.store.writeRaw(type, content, this);
  }

  writeBlob(content: Uint8Array): Promise<GitOid> {
    return this.store.writeBlob(content, this);
  }

  writeTree(entries: readonly TreeEntry[], where = ""): Promise<GitOid> {
    return this.store.writeTree(entries, where, this);
  }

  writeCommit(c: Omit<CommitObject, "oid">): Promise<GitOid> {
    return this.store.writeCommit(c, this);
  }

  writeTag(t: Omit<TagObject, "oid">): Promise<GitOid> {
    return this.store.writeTag(t, this);
  }
}
