/**
 * The working tree: what files exist, with the stat data the index caches,
 * and the safe way to write files into it.
 */
import { randomBytes } from "node:crypto";
import fs, { constants, promises as fsp } from "node:fs";
import path from "node:path";
import { UnsafePathError } from "../errors.js";
import { asAccessError, SMALL_IO } from "../store/atomic.js";

export interface FileStat {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface Scan {
  files: Map<string, FileStat>;
  skipped: Skipped[];
}

/** Names tdv uses inside snapshot trees; a user file may not have them. */
export const RESERVED_NAMES = new Set([".tdv-manifest", ".tdv-files"]);
const SKIP_DIRS = new Set([".tdv", ".git"]);

export function statOf(s: import("node:fs").BigIntStats): FileStat {
  return { size: Number(s.size), mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, ino: s.ino };
}

export function sameStat(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

/**
 * List the regular files under `root` (or only under `under`, paths relative
 * to root), skipping `.tdv` and `.git` folders. Symbolic links and special
 * files are reported in `skipped`, never followed.
 */
export async function scanWorktree(root: string, under?: readonly string[]): Promise<Scan> {
  // Synchronous calls on purpose: for many small stat calls they are several
  // times faster than promises through the thread pool, and allocate far less.
  const files = new Map<string, FileStat>();
  const skipped: Skipped[] = [];

  const visit = (rel: string, st: import("node:fs").BigIntStats): void => {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    if (st.isSymbolicLink()) {
      skipped.push({ path: rel, reason: "symbolic link (not tracked)" });
    } else if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name)) walkDir(rel);
    } else if (!st.isFile()) {
      skipped.push({ path: rel, reason: "not a regular file" });
    } else if (RESERVED_NAMES.has(name) || SKIP_DIRS.has(name)) {
      skipped.push({ path: rel, reason: `'${name}' is a name reserved by tdv` });
    } else {
      files.set(rel, statOf(st));
    }
  };

  const lstat = (abs: string) => {
    try {
      return fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false }) ?? null;
    } catch (err) {
      throw asAccessError(err, abs);
    }
  };

  const walkDir = (rel: string): void => {
    const abs = rel ? path.join(root, rel) : root;
    let ents: import("node:fs").Dirent[];
    try {
      ents = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      throw asAccessError(err, abs);
    }
    for (const ent of ents) {
      const n = ent.name;
      if (!rel && n === ".tdv") continue;
      const childRel = rel ? `${rel}/${n}` : n;
      if (ent.isDirectory()) {
        if (!SKIP_DIRS.has(n)) walkDir(childRel);
        continue;
      }
      const st = lstat(`${abs}/${n}`);
      if (st) visit(childRel, st);
    }
  };

  if (!under || under.includes("")) {
    walkDir("");
  } else {
    for (const rel of under) {
      const st = lstat(path.join(root, rel));
      if (st) visit(rel, st);
    }
  }
  return { files, skipped };
}

/** True when `p` is `prefix` itself or inside it ("" is the whole tree). */
export function isUnder(p: string, prefix: string): boolean {
  return prefix === "" || p === prefix || p.startsWith(`${prefix}/`);
}

/**
 * Writes files into the working tree without ever following a symbolic link
 * out of it: every folder on the way is checked once per writer.
 */
export class TreeWriter {
  private readonly safeDirs = new Set<string>([""]);
  constructor(
    readonly root: string,
    /**
     * A folder on the same file system (`.tdv/tmp`): files are written there and
     * renamed into place, so a command killed half-way never leaves a half-written
     * file, which would later read as a local change. Without it (or across file
     * systems) files are written in place.
     */
    readonly tmpDir?: string,
  ) {}

  private tmpReady = false;
  private tmpCount = 0;

  /** Write `bytes` (or a clone of `src`) to a temp file and rename it over `abs`; null when that cannot be done here. */
  private async viaTemp(abs: string, fill: (tmp: string) => Promise<boolean>): Promise<FileStat | null> {
    if (!this.tmpDir) return null;
    if (!this.tmpReady) {
      fs.mkdirSync(this.tmpDir, { recursive: true });
      this.tmpReady = true;
    }
    const tmp = path.join(this.tmpDir, `${process.pid}-${randomBytes(4).toString("hex")}-${this.tmpCount++}.tmp`);
    let placed = false;
    try {
      if (!(await fill(tmp))) return null;
      try {
        fs.renameSync(tmp, abs);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EXDEV") return null;
        if (code !== "EISDIR" && code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
        fs.rmSync(abs, { recursive: true, force: true }); // a folder where the file goes
        fs.renameSync(tmp, abs);
      }
      placed = true;
      return statOf(fs.lstatSync(abs, { bigint: true })); // after the rename, which changes ctime
    } catch (err) {
      throw asAccessError(err, abs);
    } finally {
      if (!placed) fs.rmSync(tmp, { force: true });
    }
  }

  abs(rel: string): string {
    checkRelPath(rel);
    return path.join(this.root, ...rel.split("/"));
  }

  /** Make the parent folders of `rel`, refusing symlinks and replacing files in the way. */
  async prepareParent(rel: string): Promise<void> {
    const parts = rel.split("/").slice(0, -1);
    let cur = "";
    for (const part of parts) {
      cur = cur ? `${cur}/${part}` : part;
      if (this.safeDirs.has(cur)) continue;
      const abs = path.join(this.root, ...cur.split("/"));
      const st = await fsp.lstat(abs).catch(() => null);
      if (st?.isSymbolicLink()) throw new UnsafePathError(cur, "a folder on the path is a symbolic link");
      if (st && !st.isDirectory()) await fsp.rm(abs);
      if (!st || !st.isDirectory()) await fsp.mkdir(abs).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw asAccessError(err, abs);
      });
      this.safeDirs.add(cur);
    }
  }

  async write(rel: string, bytes: Uint8Array): Promise<FileStat> {
    const abs = this.abs(rel);
    await this.prepareParent(rel);
    const done = await this.viaTemp(abs, async (tmp) => {
      if (bytes.byteLength <= SMALL_IO) fs.writeFileSync(tmp, bytes, { flag: "wx" });
      else await fsp.writeFile(tmp, bytes, { flag: "wx" });
      return true;
    });
    if (done) return done;
    if (bytes.byteLength <= SMALL_IO) return writeNewFileSync(abs, bytes);
    try {
      await fsp.rm(abs, { force: true, recursive: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EISDIR" || (err as NodeJS.ErrnoException).code === "ERR_FS_EISDIR") await fsp.rm(abs, { recursive: true, force: true });
      else throw asAccessError(err, abs);
    }
    try {
      await fsp.writeFile(abs, bytes, { flag: "wx" });
      return statOf(await fsp.lstat(abs, { bigint: true }));
    } catch (err) {
      throw asAccessError(err, abs);
    }
  }

  /**
   * Write `rel` as a reflink (copy-on-write clone) of `src`, whose bytes the
   * caller verified. Returns null when the file system cannot clone.
   */
  async clone(rel: string, src: string): Promise<FileStat | null> {
    const abs = this.abs(rel);
    await this.prepareParent(rel);
    if (this.tmpDir) {
      let cloned = true;
      const done = await this.viaTemp(abs, async (tmp) => {
        cloned = await cloneFile(src, tmp);
        if (cloned) await fsp.chmod(tmp, 0o644 & ~process.umask());
        return cloned;
      });
      if (done || !cloned) return done;
    }
    await fsp.rm(abs, { force: true });
    try {
      await fsp.copyFile(src, abs, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (["ENOTSUP", "EOPNOTSUPP", "EINVAL", "EXDEV", "ENOSYS", "ENOTTY", "EBADF"].includes(code)) return null;
      throw asAccessError(err, abs);
    }
    await fsp.chmod(abs, 0o644 & ~process.umask());
    return statOf(await fsp.lstat(abs, { bigint: true }));
  }

  /** Delete a file, then any folders that became empty (never the root). */
  async remove(rel: string): Promise<void> {
    const abs = this.abs(rel);
    const st = await fsp.lstat(abs).catch(() => null);
    if (st && !st.isDirectory()) await fsp.rm(abs, { force: true });
    let dir = path.dirname(abs);
    while (dir.startsWith(this.root) && dir !== this.root) {
      try {
        await fsp.rmdir(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
    // folders may have been removed: forget what we verified under this path
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) this.safeDirs.delete(parts.slice(0, i).join("/"));
  }
}

/** Clone `src` to the new file `dest` (reflink); false when the file system cannot. */
async function cloneFile(src: string, dest: string): Promise<boolean> {
  try {
    await fsp.copyFile(src, dest, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (["ENOTSUP", "EOPNOTSUPP", "EINVAL", "EXDEV", "ENOSYS", "ENOTTY", "EBADF"].includes(code)) {
      await fsp.rm(dest, { force: true });
      return false;
    }
    throw err;
  }
}

/** Replace `abs` by a new file holding `bytes` (never writing through an existing file or link). */
function writeNewFileSync(abs: string, bytes: Uint8Array): FileStat {
  try {
    try {
      fs.unlinkSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EISDIR" || code === "EPERM") fs.rmSync(abs, { recursive: true, force: true });
      else if (code !== "ENOENT") throw err;
    }
    const fd = fs.openSync(abs, "wx");
    try {
      let off = 0;
      while (off < bytes.byteLength) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
      return statOf(fs.fstatSync(fd, { bigint: true }));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw asAccessError(err, abs);
  }
}

/** Refuse relative paths that could leave the working tree or touch tdv's own folders. */
export function checkRelPath(rel: string): void {
  if (rel === "" || rel.startsWith("/") || /^[A-Za-z]:/.test(rel)) throw new UnsafePathError(rel, "absolute or empty path");
  for (const part of rel.split("/")) {
    if (part === "" || part === "." || part === "..") throw new UnsafePathError(rel, "empty, '.' or '..' path component");
    if (part.includes("\\") || part.includes("\0")) throw new UnsafePathError(rel, "path component contains '\\' or NUL");
    const lower = part.toLowerCase();
    if (lower === ".tdv" || lower === ".git") throw new UnsafePathError(rel, `'${part}' is reserved`);
  }
}
