/**
 * Refs in Git's own layout (`refs/heads/*`, `refs/tags/*`, `HEAD`, reflogs in
 * `logs/`), moved only by compare-and-swap under Git's lock-file protocol.
 */
import fs, { promises as fsp } from "node:fs";
import { filesUnder } from "./files-under.js";
import path from "node:path";
import { BadRefError, BranchMovedError, CorruptObjectError, InvalidRefNameError, isTdvError } from "../errors.js";
import { isGitOid, type GitOid } from "../format/hash.js";
import { asAccessError, mkdirRaceproof, readFileOrNull } from "./atomic.js";
import { formatPerson, type Person } from "../format/git-object.js";
import { withLock } from "./lock.js";
import type { Head, ReflogEntry, RefScan, RefStore } from "./types.js";

export type { Head, ReflogEntry, RefScan } from "./types.js";

const ZERO = "0".repeat(40);

/** Throws InvalidRefNameError unless `short` (a branch or tag name, "main", "team/x") is a name tdv gives a new ref. */
export function checkRefName(short: string): void {
  const why = newRefNameReason(short);
  if (why !== null) throw new InvalidRefNameError(short, why);
}

/** git's check-ref-format, plus what tdv refuses for a new branch or tag ('HEAD', a leading '-', a commit id). */
function newRefNameReason(short: string): string | null {
  if (short === "HEAD") return `'${short}' is reserved`;
  const why = gitRefNameReason(short);
  if (why !== null) return why;
  if (short.startsWith("-")) return "starts with '-'";
  if (/^[0-9a-f]{40}$/.test(short)) return "looks like a commit id";
  return null;
}

/** What git's check-ref-format finds wrong with a ref name, or null. */
function gitRefNameReason(name: string): string | null {
  if (name.length === 0) return "empty";
  if (name === "@") return "'@' is reserved";
  if (/[\0-\x20\x7f~^:?*[\\]/.test(name)) return "contains a space, control character or one of ~ ^ : ? * [ \\";
  if (name.includes("..")) return "contains '..'";
  if (name.includes("@{")) return "contains '@{'";
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//")) return "empty path component";
  if (name.endsWith(".")) return "ends with '.'";
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return "a component starts with '.'";
    if (part.endsWith(".lock")) return "a component ends with '.lock'";
  }
  return null;
}

/**
 * What is wrong with a full ref name read from disk or from a remote (a
 * symbolic ref's target, a name in a listing or in packed-refs), or null: it
 * must lie inside refs/ and pass check-ref-format, so that it can never name
 * a file outside the repository's refs.
 */
export function fullRefNameProblem(ref: string): string | null {
  if (!ref.startsWith("refs/")) return "not inside refs/";
  return gitRefNameReason(ref.slice("refs/".length));
}

/** "it is a symbolic ref to 'X', which git refuses as a ref name (why)". */
function badTarget(target: string, why: string): string {
  return `it is a symbolic ref to '${target.slice(0, 200)}', which git refuses as a ref name (${why})`;
}

/** Git's SYMREF_MAXDEPTH: reading a ref follows at most this many refs, symbolic ones included. */
export const SYMREF_MAX_DEPTH = 5;

/** Refs in a Git directory on disk (`gitdir` is file-system only: fsck and gc read the folders). */
export class Refs implements RefStore {
  /** `beforeUpdate` runs before any ref moves: it makes the objects the ref will name durable. */
  constructor(
    readonly gitdir: string,
    private readonly beforeUpdate: () => Promise<void> = async () => {},
  ) {}

  /** The file of a ref; a name that could lead outside refs/ (or is no ref name at all) is refused. */
  private file(ref: string): string {
    // HEAD and git's other top-level pseudo-refs (ORIG_HEAD, MERGE_HEAD), else a name inside refs/
    if (!/^[A-Z_]*HEAD$/.test(ref)) {
      const problem = fullRefNameProblem(ref);
      if (problem !== null) throw new InvalidRefNameError(ref, problem);
    }
    return path.join(this.gitdir, ...ref.split("/"));
  }

  /** The reflog file of a ref, under logs/; the name is checked as for the ref itself. */
  private logFile(ref: string): string {
    this.file(ref);
    return path.join(this.gitdir, "logs", ...ref.split("/"));
  }

  /**
   * The commit a ref ("HEAD", refs/heads/x, refs/tags/x) points to, or null.
   * Symbolic refs are followed as git follows them: a target must be a valid
   * ref name inside refs/, and at most SYMREF_MAX_DEPTH refs are read, so a
   * loop (refs/heads/a → refs/heads/a) is a BadRefError naming it, not a
   * stack overflow.
   */
  async read(ref: string): Promise<GitOid | null> {
    const chain = [ref];
    for (let name = ref; ; ) {
      const file = this.file(name);
      let loose: Buffer | null;
      try {
        loose = fs.readFileSync(file); // a few bytes: synchronous is faster than the thread pool
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // a folder where the ref file would be (refs/heads/a when a/b exists) means no such ref
        if (code !== "ENOENT" && code !== "EISDIR" && code !== "ENOTDIR") throw asAccessError(err, file);
        loose = null;
      }
      if (loose === null) return (await this.packed()).get(name) ?? null;
      const v = loose.toString("utf8").trim();
      if (!v.startsWith("ref: ")) {
        if (!isGitOid(v)) throw new CorruptObjectError(name, `ref file holds "${v.slice(0, 60)}", not a commit id`);
        return v;
      }
      const target = v.slice("ref: ".length).trim();
      const problem = fullRefNameProblem(target);
      if (problem !== null) throw new BadRefError(name, file, badTarget(target, problem));
      if (chain.length >= SYMREF_MAX_DEPTH || chain.includes(target)) {
        const loop = chain.indexOf(target);
        const at = loop >= 0 ? (chain[loop] as string) : ref;
        const shown = [...chain, target].join(" → ");
        throw new BadRefError(
          at,
          this.file(at),
          loop >= 0 ? `symbolic refs loop: ${shown}` : `symbolic refs nest deeper than ${SYMREF_MAX_DEPTH}: ${shown}`,
        );
      }
      chain.push(target);
      name = target;
    }
  }

  /** packed-refs as name → id; names that fail fullRefNameProblem are left out (see scan). */
  private async packed(): Promise<Map<string, GitOid>> {
    const out = new Map<string, GitOid>();
    for (const [name, oid] of await this.packedLines()) if (fullRefNameProblem(name) === null) out.set(name, oid);
    return out;
  }

  private async packedLines(): Promise<[string, GitOid][]> {
    const text = await readFileOrNull(path.join(this.gitdir, "packed-refs"));
    const out: [string, GitOid][] = [];
    if (!text) return out;
    for (const line of text.toString("utf8").split("\n")) {
      if (!line || line.startsWith("#") || line.startsWith("^")) continue;
      const [oid, name] = line.split(" ");
      if (oid && name && isGitOid(oid)) out.push([name, oid]);
    }
    return out;
  }

  /** Full ref names under `prefix` (e.g. "refs/heads/"), sorted, with their commits. Symbolic and broken refs are not listed (see scan). */
  async list(prefix: string): Promise<Map<string, GitOid>> {
    return (await this.scan(prefix)).refs;
  }

  /**
   * The refs under `prefix` as git's for-each-ref sees them: those that hold
   * a commit id, the symbolic ones (resolved), and the broken ones with what
   * is wrong, so that a listing can report them instead of hiding them.
   */
  async scan(prefix: string): Promise<RefScan> {
    const refs = new Map<string, GitOid>();
    const symbolic = new Map<string, { target: string; oid: GitOid | null }>();
    const broken: RefScan["broken"] = [];
    const packedFile = path.join(this.gitdir, "packed-refs");
    for (const [name, oid] of await this.packedLines()) {
      if (!name.startsWith(prefix)) continue;
      const problem = fullRefNameProblem(name);
      if (problem === null) refs.set(name, oid);
      else broken.push({ ref: name, file: packedFile, problem: `packed-refs names '${name.slice(0, 200)}', which git refuses as a ref name (${problem})` });
    }
    for (const { rel, abs, ent } of await filesUnder(path.join(this.gitdir, ...prefix.replace(/\/$/, "").split("/")))) {
      if (!ent.isFile() || ent.name.endsWith(".lock") || ent.name.includes(".tmp-")) continue;
      const name = prefix + rel;
      refs.delete(name); // the loose ref wins over a packed one
      const problem = fullRefNameProblem(name);
      if (problem !== null) {
        broken.push({ ref: name, file: abs, problem: `git refuses its name (${problem})` });
        continue;
      }
      // a ref deleted while we list is simply not listed
      const raw = await readFileOrNull(abs);
      if (raw === null) continue;
      const v = raw.toString("utf8").trim();
      if (isGitOid(v)) refs.set(name, v);
      else if (!v.startsWith("ref: ")) broken.push({ ref: name, file: abs, problem: `the file holds "${v.slice(0, 60)}", not a commit id` });
      else {
        try {
          symbolic.set(name, { target: v.slice("ref: ".length).trim(), oid: await this.read(name) });
        } catch (err) {
          if (!isTdvError(err)) throw err;
          broken.push({ ref: name, file: abs, problem: err instanceof BadRefError ? err.problem : err.message });
        }
      }
    }
    const byName = <V>(m: Map<string, V>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { refs: byName(refs), symbolic: byName(symbolic), broken: broken.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0)) };
  }

  /**
   * Where HEAD points. A symbolic HEAD must name a valid ref inside refs/
   * (git's own check): "ref: refs/heads/../../x" is a BadRefError, never a
   * path to write a branch at.
   */
  async head(): Promise<Head> {
    const branch = await this.headBranch();
    if (branch === undefined) return { branch: null, oid: null };
    if (typeof branch === "string") return { branch, oid: await this.read(branch) };
    return { branch: null, oid: branch.oid };
  }

  /** HEAD's branch (checked), { oid } when detached (null when HEAD holds no id), undefined when HEAD is missing. */
  private async headBranch(): Promise<string | { oid: GitOid | null } | undefined> {
    const file = path.join(this.gitdir, "HEAD");
    const text = await readFileOrNull(file);
    if (text === null) return undefined;
    const raw = text.toString("utf8").trim();
    if (!raw.startsWith("ref: ")) return { oid: isGitOid(raw) ? raw : null };
    const branch = raw.slice("ref: ".length).trim();
    const problem = fullRefNameProblem(branch);
    if (problem !== null) throw new BadRefError("HEAD", file, badTarget(branch, problem));
    return branch;
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
          await fsp.rm(this.logFile(ref), { force: true });
          return;
        }
        const logs = (await this.headBranch()) === ref ? [ref, "HEAD"] : [ref];
        const sizes = await Promise.all(logs.map((l) => fsp.stat(this.logFile(l)).then((s) => s.size, () => null)));
        try {
          for (const l of logs) await this.appendReflog(l, actual, next, who, message);
          await lock.commit(`${next}\n`);
        } catch (err) {
          // the ref did not move: take back the reflog lines that say it did (a full disk can fail the second append)
          await Promise.all(
            logs.map((l, i) => {
              const size = sizes[i];
              const file = this.logFile(l);
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

  /**
   * Drop entry `n` (0 is the newest) from the reflog of `ref` and point the ref
   * at the newest entry left, or delete it when none is left (how `stash drop`
   * pops a stack kept in a reflog). Under the ref's lock; `expected` is checked
   * as in `update`. The log is rewritten first (temp file, rename): killed
   * before the ref moves, the ref still names a commit that exists.
   */
  async dropReflogEntry(ref: string, n: number, expected: GitOid): Promise<GitOid | null> {
    const file = this.file(ref);
    const log = this.logFile(ref);
    let top: GitOid | null = null;
    await withLock(
      file,
      ref,
      async (lock) => {
        const actual = await this.read(ref);
        if (actual !== expected) throw new BranchMovedError(ref, expected, actual);
        const lines = ((await readFileOrNull(log))?.toString("utf8") ?? "").split("\n").filter((l) => /^[0-9a-f]{40} [0-9a-f]{40} /.test(l));
        const i = lines.length - 1 - n;
        if (i < 0) throw new InvalidRefNameError(`${ref}@{${n}}`, `the reflog of ${ref} has ${lines.length} entries`);
        lines.splice(i, 1);
        const last = lines[lines.length - 1];
        top = last === undefined ? null : (last.slice(41, 81) as GitOid);
        if (top === null) {
          await fsp.rm(log, { force: true });
          await fsp.rm(file, { force: true });
          await this.dropPacked(ref);
          return;
        }
        // dot-named: git's reflog scan passes over it should this be killed before the rename
        const tmp = path.join(path.dirname(log), `.${path.basename(log)}.tmp-${process.pid}`);
        await fsp.writeFile(tmp, `${lines.join("\n")}\n`);
        await fsp.rename(tmp, log);
        await lock.commit(`${top}\n`);
      },
      2000,
    );
    return top;
  }

  /** Point HEAD at a branch (symbolic) or a commit (detached). */
  async setHead(target: { branch: string } | { oid: GitOid }, who: Person, message: string): Promise<void> {
    const file = path.join(this.gitdir, "HEAD");
    if ("branch" in target) this.file(target.branch); // a valid name inside refs/
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
          await fsp.rmdir(path.join(this.gitdir, ...(base + parts.slice(0, i).join("/")).split("/")));
        } catch {
          break;
        }
      }
    }
  }

  private async dropPacked(ref: string): Promise<void> {
    const file = path.join(this.gitdir, "packed-refs");
    const text = await readFileOrNull(file);
    if (!text?.toString("utf8").includes(` ${ref}\n`)) return;
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
    const file = this.logFile(ref);
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
    const text = await readFileOrNull(this.logFile(ref));
    if (!text) return [];
    const out: ReflogEntry[] = [];
    for (const line of text.toString("utf8").split("\n")) {
      const m = /^([0-9a-f]{40}) ([0-9a-f]{40}) (.*) (\d+) ([+-])(\d\d)(\d\d)\t?(.*)$/.exec(line);
      if (!m) continue;
      out.push({
        old: m[1] === ZERO ? null : (m[1] as GitOid),
        next: m[2] === ZERO ? null : (m[2] as GitOid),
        who: m[3] as string,
        timestamp: Number(m[4]),
        tzOffset: (m[5] === "-" ? -1 : 1) * (Number(m[6]) * 60 + Number(m[7])),
        message: m[8] as string,
      });
    }
    return out;
  }
}
