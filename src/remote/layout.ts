/**
 * A remote repository: the local layout (docs/format.md, "Remote layout") on
 * an ObjectBackend.
 *
 *   tdv.json                 {"formatVersion": 1, "createdBy": "tdv 0.1.0"}
 *   chunks/ab/cdef…          chunk objects, the exact bytes, by SHA-256
 *   git/objects/ab/cdef…     Git objects, loose (zlib), by SHA-1
 *   git/refs/heads/NAME      "<commit id>\n", moved only by conditional writes
 *   git/refs/tags/NAME
 *   git/HEAD                 "ref: refs/heads/main\n" (the default branch)
 *   git/info/refs            "<id>\t<ref>\n" for every ref (for http:// readers)
 *   git/conditional-writes   written once by the first push to an S3 server,
 *                            to check that it enforces conditional writes
 */
import { CorruptObjectError, UnsupportedFormatError } from "../errors.js";
import { isGitOid, type GitOid } from "../format/hash.js";
import { mapLimit } from "../store/atomic.js";
import { REPO_FORMAT_VERSION, TDV_VERSION } from "../format/version.js";
import { fullRefNameProblem } from "../store/refs.js";
import { openBackend, type BackendOptions, type ObjectBackend, type PutOptions } from "./backend.js";
import { backoff, retryPolicy, type RetryPolicy } from "./retry.js";
import { ConditionalWritesIgnoredError, ConditionalWritesRefusedError, InfoRefsNotUpdatedError, NotARemoteRepositoryError, PreconditionFailedError } from "./errors.js";
import { CONFIG_KEY, CONDITIONS_CHECK_KEY, HEAD_KEY, INFO_REFS_KEY, chunkKey, gitObjectKey, isSafeRef, refKey } from "./keys.js";

// the layout's keys live in a module of their own (opening a repository loads it without this one)
export { CONFIG_KEY, CONDITIONS_CHECK_KEY, HEAD_KEY, INFO_REFS_KEY, chunkKey, gitObjectKey, isSafeRef, refKey };

/** Each remote's check of conditional writes in this process: passed, or running (a failed one is forgotten). */
const CONDITIONS_CHECKED = new Map<string, Promise<void>>();

/** What a compare-and-swap of a remote ref came to: moved (from `old`), or refused with the value found. */
export type RefMove = { moved: true; old: GitOid | null } | { moved: false; now: RemoteRef | null };

export interface RemoteRef {
  oid: GitOid;
  /** the ETag of the ref object as read ("" when read from info/refs) */
  etag: string;
}

export interface RemoteConfig {
  formatVersion: number;
  createdBy?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class RemoteRepo {
  constructor(
    readonly backend: ObjectBackend,
    /** backoff between rounds of a contended write (git/info/refs) */
    private readonly policy: RetryPolicy = retryPolicy({}),
  ) {}

  static async open(url: string, opts: BackendOptions = {}): Promise<RemoteRepo> {
    return new RemoteRepo(await openBackend(url, opts), retryPolicy(opts));
  }

  get url(): string {
    return this.backend.url;
  }

  /** The remote's tdv.json, checked; null when the remote is empty. A newer format is refused. */
  async readConfig(): Promise<RemoteConfig | null> {
    const got = await this.backend.get(CONFIG_KEY);
    if (!got) return null;
    let config: RemoteConfig;
    try {
      config = JSON.parse(dec.decode(got.bytes)) as RemoteConfig;
    } catch {
      throw new CorruptObjectError(`${this.url}/${CONFIG_KEY}`, "not valid JSON");
    }
    if (typeof config?.formatVersion !== "number") throw new CorruptObjectError(`${this.url}/${CONFIG_KEY}`, "no formatVersion");
    if (config.formatVersion > REPO_FORMAT_VERSION) throw new UnsupportedFormatError(`remote ${this.url}`, config.formatVersion, REPO_FORMAT_VERSION);
    return config;
  }

  /** The config of a remote that must exist (fetch, clone). */
  async requireConfig(): Promise<RemoteConfig> {
    const c = await this.readConfig();
    if (!c) throw new NotARemoteRepositoryError(this.url);
    return c;
  }

  /**
   * Make the remote a tdv repository if it is empty (first push); returns
   * whether it was created. First checks that the server enforces
   * conditional writes (checkConditionalWrites), before anything is uploaded.
   * `known`: the config as the caller read it moments before (null: absent
   * then), which is not read again; a config written since is found by the
   * conditional write.
   */
  async ensureConfig(known?: RemoteConfig | null): Promise<boolean> {
    await this.checkConditionalWrites();
    if (known !== undefined ? known : await this.readConfig()) return false;
    const config: RemoteConfig = { formatVersion: REPO_FORMAT_VERSION, createdBy: `tdv ${TDV_VERSION}` };
    try {
      await this.backend.put(CONFIG_KEY, enc.encode(`${JSON.stringify(config, null, 2)}\n`), { ifNoneMatch: "*" });
      return true;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      await this.requireConfig(); // another pusher made it first: check its version
      return false;
    }
  }

  async readRef(ref: string): Promise<RemoteRef | null> {
    const got = await this.backend.get(refKey(ref));
    if (!got) return null;
    const v = dec.decode(got.bytes).trim();
    if (!isGitOid(v)) throw new CorruptObjectError(`${this.url}/${refKey(ref)}`, `a ref holds "${v.slice(0, 60)}", not a commit id`);
    return { oid: v, etag: got.etag };
  }

  /**
   * Branches and tags on the remote. Backends that list read every ref object
   * (authoritative); http:// reads git/info/refs.
   */
  async listRefs(): Promise<Map<string, RemoteRef>> {
    return (await this.scanRefs()).refs;
  }

  /**
   * listRefs, with the names it refused: a name git's check-ref-format
   * refuses or that lies outside refs/ (a remote is not trusted: such a name
   * must never become a local path), or a branch or tag name tdv does not
   * use. Other refs (refs/notes/…) are not tdv's and are passed over.
   */
  async scanRefs(): Promise<{ refs: Map<string, RemoteRef>; ignored: IgnoredRemoteRef[] }> {
    const out = new Map<string, RemoteRef>();
    const ignored: IgnoredRemoteRef[] = [];
    const take = (ref: string, where: string): boolean => {
      const why = refusal(ref);
      if (why !== null) ignored.push({ ref: ref.slice(0, 200), where: `${this.url}/${where}`, problem: why });
      return why === null && isSafeRef(ref);
    };
    if (!this.backend.writable) {
      const got = await this.backend.get(INFO_REFS_KEY);
      if (!got) return { refs: out, ignored };
      for (const line of dec.decode(got.bytes).split("\n")) {
        const [oid, ref] = line.split("\t");
        if (oid && ref && isGitOid(oid) && take(ref, INFO_REFS_KEY)) out.set(ref, { oid, etag: "" });
      }
      return { refs: sorted(out), ignored };
    }
    const names: string[] = [];
    for await (const key of this.backend.list("git/refs/")) {
      const ref = key.slice("git/".length);
      if (take(ref, key)) names.push(ref);
    }
    const refs = await mapLimit(names, 16, (ref) => this.readRef(ref));
    names.forEach((ref, i) => {
      const r = refs[i];
      if (r) out.set(ref, r);
    });
    return { refs: sorted(out), ignored };
  }

  /**
   * Compare-and-swap a ref: create it (`expected` null: If-None-Match: *) or
   * move it from the version read (`expected` its ETag: If-Match). Throws
   * PreconditionFailedError when the ref changed meanwhile.
   */
  async updateRef(ref: string, next: GitOid, expected: RemoteRef | null): Promise<void> {
    await this.checkConditionalWrites();
    await this.backend.put(refKey(ref), enc.encode(`${next}\n`), expected ? { ifMatch: expected.etag } : { ifNoneMatch: "*" });
  }

  /**
   * Move a ref to `next` by compare-and-swap from `expected`, reading it
   * again after each refusal: our value already there (a write of ours that
   * landed though its answer was lost) is a move; the same commit under a
   * new ETag (rewritten meanwhile) is tried again from it; a different value
   * is another push's, and the ref moves over it only if `canMove(now)`
   * says so (a fast-forward from it, or --force).
   */
  async moveRef(ref: string, next: GitOid, expected: RemoteRef | null, canMove: (now: RemoteRef | null) => Promise<boolean>): Promise<RefMove> {
    let from = expected;
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await this.updateRef(ref, next, from);
        return { moved: true, old: from?.oid ?? null };
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
      const now = await this.readRef(ref);
      if (now?.oid === next) return { moved: true, old: from?.oid ?? null };
      if (now && from && now.oid === from.oid) {
        from = now;
        continue;
      }
      if (!(await canMove(now))) return { moved: false, now };
      from = now;
    }
    const now = await this.readRef(ref);
    // still the commit it held when read: no push moved it, the server refused every write
    if (now && expected && now.oid === expected.oid) throw new ConditionalWritesRefusedError(`${this.url}/${refKey(ref)}`, now.etag);
    return { moved: false, now };
  }

  /**
   * Check once per process that the server enforces conditional writes, on
   * a key of its own: a PUT with If-None-Match: * over an existing object
   * and a PUT with If-Match of an ETag it cannot have must both be refused.
   * A server that lets either through (some S3 look-alikes ignore the
   * headers) would let racing pushes overwrite each other's refs:
   * ConditionalWritesIgnoredError, before anything moves.
   */
  checkConditionalWrites(): Promise<void> {
    if (!this.backend.checkConditions) return Promise.resolve();
    let check = CONDITIONS_CHECKED.get(this.url);
    if (!check) {
      const url = this.url;
      check = this.runConditionsCheck();
      CONDITIONS_CHECKED.set(url, check);
      check.catch(() => CONDITIONS_CHECKED.delete(url));
    }
    return check;
  }

  private async runConditionsCheck(): Promise<void> {
    const body = enc.encode("tdv writes this object with conditions that must fail, to check that the server enforces them\n");
    let created = false;
    try {
      await this.backend.put(CONDITIONS_CHECK_KEY, body, { ifNoneMatch: "*" });
      created = true;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
    // the object exists now: both writes below must be refused, and are sent at once (neither changes it unless
    // the server ignores its condition, which is then the error either way)
    const refused = async (condition: "If-None-Match: *" | "If-Match", opts: PutOptions): Promise<void> => {
      try {
        await this.backend.put(CONDITIONS_CHECK_KEY, body, opts);
      } catch (err) {
        if (err instanceof PreconditionFailedError) return;
        throw err;
      }
      throw new ConditionalWritesIgnoredError(this.url, condition);
    };
    const checks = [...(created ? [refused("If-None-Match: *", { ifNoneMatch: "*" })] : []), refused("If-Match", { ifMatch: '"00000000000000000000000000000000-0"', ifMatchNever: true })];
    const results = await Promise.allSettled(checks);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  /**
   * Delete a ref if it still holds the version read (`expected`): a
   * conditional delete (If-Match). Throws PreconditionFailedError when it
   * moved meanwhile; a read-only transport throws ReadOnlyRemoteError.
   */
  async deleteRef(ref: string, expected: RemoteRef): Promise<void> {
    await this.backend.delete(refKey(ref), { ifMatch: expected.etag });
  }

  /** The remote's default branch ("refs/heads/main"), from git/HEAD; null when unset, not a branch, or refused (readHead). */
  async defaultBranch(): Promise<string | null> {
    return (await this.readHead()).branch;
  }

  /** git/HEAD: the branch it names, or why it was refused (a target such as "refs/heads/../../x" is never followed). */
  async readHead(): Promise<{ branch: string | null; ignored: IgnoredRemoteRef | null }> {
    const got = await this.backend.get(HEAD_KEY);
    const text = got ? dec.decode(got.bytes).trim() : "";
    if (!text.startsWith("ref: ")) return { branch: null, ignored: null };
    const target = text.slice("ref: ".length).trim();
    const why = refusal(target);
    if (why !== null) return { branch: null, ignored: { ref: "HEAD", where: `${this.url}/${HEAD_KEY}`, problem: `it is a symbolic ref to '${target.slice(0, 200)}': ${why}` } };
    return { branch: target.startsWith("refs/heads/") && isSafeRef(target) ? target : null, ignored: null };
  }

  /** Set git/HEAD unless it exists (the first branch pushed becomes the default). */
  async ensureHead(branchRef: string): Promise<void> {
    try {
      await this.backend.put(HEAD_KEY, enc.encode(`ref: ${branchRef}\n`), { ifNoneMatch: "*" });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }

  /**
   * Rewrite git/info/refs from the refs themselves, unless it already says
   * what they say. Read it (and its ETag) first and list after, and write
   * with If-Match: a pusher that listed before another pusher's ref moved
   * cannot overwrite that pusher's newer list. Refused (another pusher wrote
   * it meanwhile): read and list again, with backoff. Gives up with
   * InfoRefsNotUpdatedError, never silently. `firstRead`: the first read,
   * begun by the caller (a push, beside its ref updates); it is awaited
   * before the listing starts.
   */
  async updateInfoRefs(firstRead?: Promise<{ bytes: Uint8Array; etag: string } | null>): Promise<void> {
    const attempts = 12;
    for (let n = 0; n < attempts; n++) {
      if (n > 0) await backoff({ ...this.policy, capMs: 2000 }, n);
      // the file as it was before the refs are listed (a writer's listing after it is then at least as new)
      const cur = n === 0 && firstRead ? await firstRead : await this.backend.get(INFO_REFS_KEY);
      const refs = await this.listRefs();
      const text = [...refs].map(([ref, r]) => `${r.oid}\t${ref}\n`).join("");
      if (cur && dec.decode(cur.bytes) === text) return;
      try {
        await this.backend.put(INFO_REFS_KEY, enc.encode(text), cur ? { ifMatch: cur.etag } : { ifNoneMatch: "*" });
        return;
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
    }
    throw new InfoRefsNotUpdatedError(this.url, attempts);
  }
}

/** A ref the remote names but tdv does not take, and why. */
export interface IgnoredRemoteRef {
  ref: string;
  /** the remote object that names it */
  where: string;
  problem: string;
}

/** Why a ref name from a remote is refused, or null: git's check-ref-format and inside refs/; a branch or tag as tdv names them. */
function refusal(ref: string): string | null {
  const problem = fullRefNameProblem(ref);
  if (problem !== null) return `git refuses it as a ref name (${problem})`;
  if (/^refs\/(heads|tags)\//.test(ref) && !isSafeRef(ref)) return "it is no branch or tag name tdv uses";
  return null;
}

function sorted<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
