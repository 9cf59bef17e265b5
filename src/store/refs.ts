/**
 * Refs in Git's own layout (`refs/heads/*`, `refs/tags/*`, `HEAD`, reflogs in
 * `logs/`), moved only by compare-and-swap under Git's lock-file protocol.
 */
import fs, { promises as fsp } from "node:fs";
import { filesUnder } from "./files-under.js";
import path from "node:path";
import { BranchMovedError, CorruptObjectError, InvalidRefNameError } from "../errors.js";
import { isGitOid, type GitOid } from "../format/hash.js";
import { asAccessError, mkdirRaceproof, readFileOrNull } from "./atomic.js";
import { formatPerson, type Person } from "./git.js";
import { withLock } from "./lock.js";

export interface Head {
  /** "refs/heads/main" when on a branch; null when detached */
  branch: string | null;
  /** commit HEAD points to; null on an unborn branch */
  oid: GitOid | null;
}

export interface ReflogEntry {
  old: GitOid | null;
  next: GitOid | null;
  who: string;
  timestamp: number;
  message: string;
}

const ZERO = "0".repeat(40);

export function checkRefName(short: string): void {
  const bad = (why: string) => {
    throw new InvalidRefNameError(short, why);
  };
  if (short.length === 0) bad("empty");
  if (short === "@" || short === "HEAD") bad(`'${short}' is reserved`);
  if (/[\0-\x20\x7f~^:?*[\\]/.test(short)) bad("contains a space, control character or one of ~ ^ : ? * [ \\");
  if (short.includes("..")) bad("contains '..'");
  if (short.includes("@{")) bad("contains '@{'");
  if (short.startsWith("-")) bad("starts with '-'");
  if (short.startsWith("/") || short.endsWith("/") || short.includes("//")) bad("empty path component");
  if (short.endsWith(".")) bad("ends with '.'");
  for (const part of short.split("/")) {
    if (part.startsWith(".")) bad("a component starts with '.'");
    if (part.endsWith(".lock")) bad("a component ends with '.lock'");
  }
  if (/^[0-9a-f]{40}$/.test(short)) bad("looks like a commit id");
}

export class Refs {
  /** `beforeUpdate` runs before any ref moves: it makes the objects the ref will name durable. */
  constructor(
    readonly gitdir: string,
    private readonly beforeUpdate: () => Promise<void> = async () => {},
  ) {}

  private file(ref: string): string {
    return path.join(this.gitdir, ...ref.split("/"));
  }

  /** The commit a full ref name (refs/heads/x, refs/tags/x) points to, or null. */
  async read(ref: string): Promise<GitOid | null> {
    let loose: Buffer | null;
    try {
      loose = fs.readFileSync(this.file(ref)); // a few bytes: synchronous is faster than the thread pool
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // a folder where the ref file would be (refs/heads/a when a/b exists) means no such ref
      if (code !== "ENOENT" && code !== "EISDIR" && code !== "ENOTDIR") throw asAccessError(err, this.file(ref));
      loose = null;
    }
    if (loose !== null) {
      const v = loose.toString("utf8").trim();
      if (v.startsWith("ref: ")) return this.read(v.slice(5));
      if (!isGitOid(v)) throw new CorruptObjectError(ref, `ref file holds "${v.slice(0, 60)}", not a commit id`);
      return v;
    }
    return (await this.packed()).get(ref) ?? null;
  }

  private async packed(): Promise<Map<string, GitOid>> {
    const text = await readFileOrNull(path.join(this.gitdir, "packed-refs"));
    const out = new Map<string, GitOid>();
    if (!text) return out;
    for (const line of text.toString("utf8").split("\n")) {
      if (!line || line.startsWith("#") || line.startsWith("^")) continue;
      const [oid, name] = line.split(" ");
      if (oid && name && isGitOid(oid)) out.set(name, oid);
    }
    return out;
  }

  /** Full ref names under `prefix` (e.g. "refs/heads/"), sorted, with their commits. */
  async list(prefix: string): Promise<Map<string, GitOid>> {
    const out = new Map<string, GitOid>();
    for (const [name, oid] of await this.packed()) if (name.startsWith(prefix)) out.set(name, oid);
    for (const { rel, abs, ent } of await filesUnder(this.file(prefix.replace(/\/$/, "")))) {
      if (!ent.isFile() || ent.name.endsWith(".lock") || ent.name.includes(".tmp-")) continue;
      // a ref deleted while we list is simply not listed
      const v = ((await readFileOrNull(abs))?.toString("utf8") ?? "").trim();
      if (isGitOid(v)) out.set(prefix + rel, v);
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async head(): Promise<Head> {
    const raw = (await readFileOrNull(path.join(this.gitdir, "HEAD")))?.toString("utf8").trim() ?? "";
    if (raw.startsWith("ref: ")) {
      const branch = raw.slice(5);
      return { branch, oid: await this.read(branch) };
    }
    return { branch: null, oid: isGitOid(raw) ? raw : null };
  }

  /**
   * Compare-and-swap: move `ref` from `expected` (null: must not exist) to
   * `next` (null: delete). Throws BranchMovedError when the ref holds anything
   * else. The reflog of the ref (and of HEAD when HEAD points to it) records
   * the move.
   */
  async update(
    ref: string,
    { expected, next, who, message }: { expected: GitOid | null | undefined; next: GitOid | null; who: Person; message: string },
  ): Promise<void> {
    const file = this.file(ref);
    await mkdirRaceproof(path.dirname(file));
    if (next !== null) await this.beforeUpdate();
    await withLock(
      file,
      ref,
      async (lock) => {
        const actual = await this.read(ref);
        if (expected !== undefined && actual !== expected) throw new BranchMovedError(ref, expected, actual);
        if (next === null) {
          await fsp.rm(file, { force: true });
          await this.dropPacked(ref);
          await fsp.rm(this.file(`logs/${ref}`), { force: true });
          return;
        }
        const head = await this.head();
        const logs = head.branch === ref ? [ref, "HEAD"] : [ref];
        const sizes = await Promise.all(logs.map((l) => fsp.stat(this.file(`logs/${l}`)).then((s) => s.size, () => null)));
        try {
          for (const l of logs) await this.appendReflog(l, actual, next, who, message);
          await lock.commit(`${next}\n`);
        } catch (err) {
          // the ref did not move: take back the reflog lines that say it did (a full disk can fail the second append)
          await Promise.all(
            logs.map((l, i) => {
              const size = sizes[i];
              const file = this.file(`logs/${l}`);
              return (size === null || size === undefined ? fsp.rm(file, { force: true }) : fsp.truncate(file, size)).catch(() => {});
            }),
          );
          throw err;
        }
      },
      2000,
    );
    if (next === null) await this.pruneEmptyDirs(ref); // after the lock file is gone
  }

  /** Point HEAD at a branch (symbolic) or a commit (detached). */
  async setHead(target: { branch: string } | { oid: GitOid }, who: Person, message: string): Promise<void> {
    const file = path.join(this.gitdir, "HEAD");
    await this.beforeUpdate();
    await withLock(
      file,
      "HEAD",
      async (lock) => {
        const before = await this.head();
        const after = "branch" in target ? await this.read(target.branch) : target.oid;
        if (after) await this.appendReflog("HEAD", before.oid, after, who, message);
        await lock.commit("branch" in target ? `ref: ${target.branch}\n` : `${target.oid}\n`);
      },
      2000,
    );
  }

  /** Remove folders left empty by deleting `ref` (refs/heads/a/b → a/), as git does. */
  private async pruneEmptyDirs(ref: string): Promise<void> {
    const parts = ref.split("/");
    for (const base of ["", "logs/"]) {
      for (let i = parts.length - 1; i > 2; i--) {
        try {
          await fsp.rmdir(this.file(base + parts.slice(0, i).join("/")));
        } catch {
          break;
        }
      }
    }
  }

  private async dropPacked(ref: string): Promise<void> {
    const file = path.join(this.gitdir, "packed-refs");
    const text = await readFileOrNull(file);
    if (!text || !text.toString("utf8").includes(` ${ref}\n`)) return;
    await withLock(file, "packed-refs", async (lock) => {
      const lines = text.toString("utf8").split("\n");
      const keep: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line.endsWith(` ${ref}`)) {
          if (lines[i + 1]?.startsWith("^")) i++;
          continue;
        }
        keep.push(line);
      }
      await lock.commit(keep.join("\n"));
    });
  }

  private async appendReflog(ref: string, old: GitOid | null, next: GitOid, who: Person, message: string): Promise<void> {
    const file = this.file(`logs/${ref}`);
    const line = `${old ?? ZERO} ${next} ${formatPerson(who)}\t${message.replace(/\n/g, " ")}\n`;
    for (let attempt = 0; ; attempt++) {
      try {
        // mkdir itself fails with ENOENT when a concurrent delete prunes a parent mid-way
        await mkdirRaceproof(path.dirname(file));
        await fsp.appendFile(file, line);
        return;
      } catch (err) {
        // a concurrent ref delete pruned the empty folder since it was made: make it again
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 5) throw asAccessError(err, file);
      }
    }
  }

  /** Reflog entries of a ref, oldest first. Malformed lines (a torn write) are skipped. */
  async reflog(ref: string): Promise<ReflogEntry[]> {
    const text = await readFileOrNull(this.file(`logs/${ref}`));
    if (!text) return [];
    const out: ReflogEntry[] = [];
    for (const line of text.toString("utf8").split("\n")) {
      const m = /^([0-9a-f]{40}) ([0-9a-f]{40}) (.*) (\d+) [+-]\d{4}\t?(.*)$/.exec(line);
      if (!m) continue;
      out.push({
        old: m[1] === ZERO ? null : (m[1] as GitOid),
        next: m[2] === ZERO ? null : (m[2] as GitOid),
        who: m[3] as string,
        timestamp: Number(m[4]),
        message: m[5] as string,
      });
    }
    return out;
  }
}
