/**
 * Revision names, as Git spells them: a base (HEAD, @, a branch, a tag, a
 * full or abbreviated commit id) followed by any of `~N`, `^N`, `^{}` and,
 * right after a ref, one `@{N}` or `@{DATE}` looked up in the ref's reflog.
 * A ref without a reflog (a remote's: remotes keep none) answers `@{DATE}`
 * from its history instead: the newest first-parent ancestor of its tip
 * committed at or before DATE.
 *
 *   main~3   HEAD^2   v1.0^{}   a1b2c3d~   @{1}   HEAD@{2}   main@{yesterday}~2
 *
 * Every revision resolves to a commit: annotated tags are peeled.
 */
import { AmbiguousRevisionError, CorruptObjectError, isTdvError, MissingObjectError, UnknownRevisionError, UsageError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import { checkRefName, type ReflogEntry } from "../store/refs.js";
import type { Repository, Stores } from "./repository.js";

type Step =
  | { kind: "ancestor"; n: number; text: string }
  | { kind: "parent"; n: number; text: string }
  | { kind: "peel"; to: string; text: string }
  | { kind: "reflog"; spec: string; text: string };

/** The commit a revision names. Throws UnknownRevisionError / AmbiguousRevisionError. */
export async function resolveRevision(repo: Repository<Stores>, rev: string): Promise<GitOid> {
  const { base, steps } = parseRevision(rev);
  const first = steps[0];
  const start =
    first?.kind === "reflog" ? await resolveReflogBase(repo, rev, base, first.spec) : await resolveBase(repo, rev, base);
  let oid = await peelToCommit(repo, rev, start, base || "@");
  for (const [i, step] of steps.entries()) {
    if (step.kind === "reflog" && i > 0) throw new UnknownRevisionError(rev, `${step.text}: @{...} must directly follow a branch, a tag or HEAD`);
    oid = await applyStep(repo, rev, oid, step);
  }
  return oid;
}

/**
 * The full ref a short name means: "HEAD" and "@" give "HEAD"; otherwise the
 * first of refs/heads/NAME, refs/tags/NAME, refs/NAME, refs/remotes/NAME
 * (origin/main) (and NAME itself when it starts with "refs/") that exists. Null when none does.
 */
export async function resolveRefName(repo: Repository<Stores>, name: string): Promise<string | null> {
  return (await findRef(repo, name))?.ref ?? null;
}

/** resolveRefName with the value it read ("HEAD" is read by the caller), so a ref is read once (a remote's: one GET). */
async function findRef(repo: Repository<Stores>, name: string): Promise<{ ref: string; oid: GitOid | null } | null> {
  if (name === "HEAD" || name === "@") return { ref: "HEAD", oid: null };
  const candidates = name.startsWith("refs/") ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`, `refs/${name}`, `refs/remotes/${name}`];
  for (const ref of candidates) {
    const oid = isValidRefName(ref) ? await readRef(repo, ref) : null;
    if (oid !== null) return { ref, oid };
  }
  return null;
}

/**
 * The object a tag chain ends at, with its type (null: the object is missing).
 * Chains of any depth are followed, one tag at a time (as git's deref_tag);
 * `onTag` sees every tag object on the way. A tag met twice (ids are hashes
 * of verified bytes, so only a broken object store could show one) is a
 * CorruptObjectError, never an endless loop.
 */
export async function peelObject(repo: Repository<Stores>, oid: GitOid, onTag?: (tag: GitOid) => void): Promise<{ oid: GitOid; type: string | null }> {
  const seen = new Set<string>();
  for (;;) {
    const type = await repo.git.typeOf(oid);
    if (type !== "tag") return { oid, type };
    if (seen.has(oid)) throw new CorruptObjectError(oid, `tag chain loops back to tag ${oid} after ${seen.size} tags`);
    seen.add(oid);
    onTag?.(oid);
    oid = (await repo.git.readTag(oid)).object;
  }
}

// ---- parsing --------------------------------------------------------------

const SUFFIX = /^(?:~(\d*)|\^\{([^}]*)\}|\^(\d*)|@\{([^}]*)\})/;

function parseRevision(rev: string): { base: string; steps: Step[] } {
  const cut = firstSuffixIndex(rev);
  const base = rev.slice(0, cut);
  const steps: Step[] = [];
  let rest = rev.slice(cut);
  while (rest.length > 0) {
    const m = SUFFIX.exec(rest);
    if (!m) throw new UnknownRevisionError(rev, `cannot parse '${rest}' (expected ~N, ^N, ^{}, @{N} or @{DATE})`);
    const text = rev.slice(0, rev.length - rest.length + m[0].length);
    if (m[1] !== undefined) steps.push({ kind: "ancestor", n: count(m[1]), text });
    else if (m[2] !== undefined) steps.push({ kind: "peel", to: m[2], text });
    else if (m[3] !== undefined) steps.push({ kind: "parent", n: count(m[3]), text });
    else steps.push({ kind: "reflog", spec: (m[4] as string).trim(), text });
    rest = rest.slice(m[0].length);
  }
  return { base, steps };
}

/** Where the base ends: ref names never contain '~', '^' or '@{' (checkRefName). */
function firstSuffixIndex(rev: string): number {
  const hits = [rev.indexOf("~"), rev.indexOf("^"), rev.indexOf("@{")].filter((i) => i >= 0);
  return hits.length ? Math.min(...hits) : rev.length;
}

function count(digits: string): number {
  return digits === "" ? 1 : Number(digits);
}

// ---- the base -------------------------------------------------------------

async function resolveBase(repo: Repository<Stores>, rev: string, base: string): Promise<GitOid> {
  if (base === "") throw new UnknownRevisionError(rev, "empty revision name");
  // a full object id is that object, as in git (a ref of that name would only earn git's ambiguity warning): no ref is read
  if (/^[0-9a-fA-F]{40}$/.test(base)) return expandHex(repo, rev, base.toLowerCase());
  const found = await findRef(repo, base);
  if (found !== null) {
    const oid = found.ref === "HEAD" ? await readRef(repo, "HEAD") : found.oid;
    if (oid !== null) return oid;
    throw new UnknownRevisionError("HEAD", "no commits yet");
  }
  await failIfUnbornBranch(repo, base);
  if (/^[0-9a-fA-F]{4,40}$/.test(base)) return expandHex(repo, rev, base.toLowerCase());
  throw new UnknownRevisionError(rev, `no branch, tag or commit id '${base}' in this repository`);
}

/** `main` on a fresh repository is HEAD's branch, which has no commit yet: say so. */
async function failIfUnbornBranch(repo: Repository<Stores>, name: string): Promise<void> {
  const head = await repo.refs.head();
  if (head.oid === null && head.branch === `refs/heads/${name}`) throw new UnknownRevisionError(name, `branch ${name} has no commits yet`);
}

async function expandHex(repo: Repository<Stores>, rev: string, hex: string): Promise<GitOid> {
  const found = (await repo.git.expand(hex)).sort();
  if (found.length === 0) throw new UnknownRevisionError(rev, `no branch, tag or object id '${hex}' in this repository`);
  if (found.length === 1) return found[0] as GitOid;
  // Like git in a commit context: when only one candidate is (or peels to) a commit, it wins.
  const commitish: GitOid[] = [];
  for (const oid of found) if ((await peelObject(repo, oid)).type === "commit") commitish.push(oid);
  if (commitish.length === 1) return commitish[0] as GitOid;
  throw new AmbiguousRevisionError(hex, commitish.length > 1 ? commitish : found);
}

async function peelToCommit(repo: Repository<Stores>, rev: string, oid: GitOid, label: string): Promise<GitOid> {
  const peeled = await peelObject(repo, oid);
  if (peeled.type === "commit") return peeled.oid;
  if (peeled.type === null) throw new MissingObjectError(peeled.oid, `object named by '${label}'`);
  throw new UnknownRevisionError(rev, `${label} names a ${peeled.type} (${peeled.oid.slice(0, 10)}), not a commit`);
}

/** A ref's value, treating a folder where a ref file would be (refs/heads/a when a/b exists) as absent. */
export async function readRef(repo: Repository<Stores>, ref: string): Promise<GitOid | null> {
  try {
    return await repo.refs.read(ref);
  } catch (err) {
    if (isTdvError(err, "FileAccessError") && ["EISDIR", "ENOTDIR"].includes(err.code)) return null;
    throw err;
  }
}

function isValidRefName(ref: string): boolean {
  try {
    checkRefName(ref);
    return true;
  } catch {
    return false;
  }
}

// ---- reflog: REF@{N}, REF@{DATE} -------------------------------------------

async function resolveReflogBase(repo: Repository<Stores>, rev: string, base: string, spec: string): Promise<GitOid> {
  const { ref, label } = await reflogRef(repo, rev, base);
  const entries = await repo.refs.reflog(ref);
  if (/^-\d+$/.test(spec)) throw new UnknownRevisionError(rev, "@{-N} (the N-th previously checked-out branch) is not supported");
  const date = /^\d+$/.test(spec) ? null : parseDate(spec);
  if (entries.length === 0) {
    // no reflog (a remote keeps none): a date falls back to the ref's history
    if (date !== null) return committedBy(repo, rev, ref, label, date);
    throw new UnknownRevisionError(rev, `${label} has no reflog`);
  }
  if (/^\d+$/.test(spec)) return nthValue(rev, label, entries, Number(spec));
  if (date === null) throw new UnknownRevisionError(rev, `'${spec}' is neither a reflog index nor a date tdv understands`);
  return valueAt(rev, label, entries, date);
}

/**
 * `REF@{DATE}` for a ref without a reflog (a remote's): the newest commit on
 * the ref's first-parent history committed at or before DATE (the committer
 * date). What the ref pointed to at that moment is unknown without a
 * reflog; this is the commit that was its tip then if the ref only ever
 * moved forward along that history.
 */
async function committedBy(repo: Repository<Stores>, rev: string, ref: string, label: string, date: Date): Promise<GitOid> {
  const t = Math.floor(date.getTime() / 1000);
  const tip = await readRef(repo, ref);
  if (tip === null) throw new UnknownRevisionError(rev, `${label} has no commits`);
  let oid: GitOid | undefined = await peelToCommit(repo, rev, tip, label);
  let oldest = 0;
  while (oid) {
    const c = await repo.git.readCommit(oid);
    if (c.committer.timestamp <= t) return oid;
    oldest = c.committer.timestamp;
    oid = c.parents[0];
  }
  throw new UnknownRevisionError(rev, `${label} has no reflog, and its first commit was made at ${formatTime(oldest)}, after ${formatTime(t)} (a date alone means 00:00 local time that day)`);
}

/** The ref whose reflog `base@{...}` reads: `@{...}` alone means the current branch. */
async function reflogRef(repo: Repository<Stores>, rev: string, base: string): Promise<{ ref: string; label: string }> {
  if (base === "") {
    const head = await repo.refs.head();
    const ref = head.branch ?? "HEAD";
    return { ref, label: describeRef(ref) };
  }
  const ref = await resolveRefName(repo, base);
  if (ref === null) throw new UnknownRevisionError(rev, `no branch or tag '${base}' (a reflog belongs to a ref)`);
  return { ref, label: describeRef(ref) };
}

function describeRef(ref: string): string {
  if (ref.startsWith("refs/heads/")) return `branch ${ref.slice(11)}`;
  if (ref.startsWith("refs/tags/")) return `tag ${ref.slice(10)}`;
  return ref;
}

/** The value `n` moves ago: @{0} is the newest entry's new value. */
function nthValue(rev: string, label: string, entries: ReflogEntry[], n: number): GitOid {
  const k = entries.length;
  const value = n < k ? entries[k - 1 - n]?.next : n === k ? entries[0]?.old : null;
  if (value) return value;
  throw new UnknownRevisionError(rev, `the reflog of ${label} has only ${k} entr${k === 1 ? "y" : "ies"}`);
}

/** The value the ref had at `date`: the newest entry at or before it. */
function valueAt(rev: string, label: string, entries: ReflogEntry[], date: Date): GitOid {
  const t = Math.floor(date.getTime() / 1000);
  const at = entries.findLast((e) => e.timestamp <= t);
  if (at?.next) return at.next;
  const first = entries[0] as ReflogEntry;
  const when = formatTime(t);
  // the range the reflog can answer for: a date alone is the start of its day, so "today" may fall before it
  const range = `its reflog runs from ${formatTime(first.timestamp)} to ${formatTime((entries.at(-1) as ReflogEntry).timestamp)}`;
  if (at) throw new UnknownRevisionError(rev, `${label} did not exist at ${when} (${range})`);
  if (first.old === null) {
    throw new UnknownRevisionError(rev, `${label} has no reflog entry at or before ${when}: it did not exist yet then (${range}; a date alone means 00:00 local time that day)`);
  }
  throw new UnknownRevisionError(rev, `the reflog of ${label} only goes back to ${formatTime(first.timestamp)}, after ${when} (${range})`);
}

function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
}

// ---- ~N, ^N, ^{} ------------------------------------------------------------

async function applyStep(repo: Repository<Stores>, rev: string, oid: GitOid, step: Step): Promise<GitOid> {
  switch (step.kind) {
    case "reflog":
      return oid;
    case "peel":
      if (step.to === "" || step.to === "commit") return oid;
      throw new UnknownRevisionError(rev, `${step.text}: only ^{} and ^{commit} are supported (a revision names a commit)`);
    case "parent":
      return step.n === 0 ? oid : nthParent(repo, rev, oid, step);
    case "ancestor":
      return firstParentWalk(repo, rev, oid, step);
  }
}

async function nthParent(repo: Repository<Stores>, rev: string, oid: GitOid, step: Step & { n: number }): Promise<GitOid> {
  const { parents } = await repo.git.readCommit(oid);
  const parent = parents[step.n - 1];
  if (parent) return parent;
  const what = parents.length === 0 ? "is a root commit (no parents)" : `has only ${parents.length} parent${parents.length === 1 ? "" : "s"}`;
  throw new UnknownRevisionError(rev, `${step.text}: commit ${oid.slice(0, 10)} ${what}`);
}

async function firstParentWalk(repo: Repository<Stores>, rev: string, oid: GitOid, step: Step & { n: number }): Promise<GitOid> {
  for (let i = 0; i < step.n; i++) {
    const parent = (await repo.git.readCommit(oid)).parents[0];
    if (!parent) throw new UnknownRevisionError(rev, `${step.text}: history has only ${i + 1} commit${i === 0 ? "" : "s"}`);
    oid = parent;
  }
  return oid;
}

// ---- dates ----------------------------------------------------------------

const UNITS: Record<string, "second" | "minute" | "hour" | "day" | "week" | "month" | "year"> = {
  s: "second", sec: "second", secs: "second", second: "second", seconds: "second",
  min: "minute", mins: "minute", minute: "minute", minutes: "minute",
  h: "hour", hr: "hour", hrs: "hour", hour: "hour", hours: "hour",
  day: "day", days: "day",
  week: "week", weeks: "week",
  month: "month", months: "month",
  year: "year", years: "year",
};

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * A date as `@{DATE}` takes it: ISO-8601 (`2026-11-01`, `2026-11-01T12:30`,
 * `2026-11-01 12:30:00`, with `Z` or `+01:00`; local time without a zone and
 * local midnight without a time), `@SECONDS`, `now`, `yesterday`, `N units ago`
 * / `N.units.ago`. Null when the text is none of these.
 */
export function parseDate(text: string, now: Date = new Date()): Date | null {
  const s = text.trim().toLowerCase();
  if (s === "now") return new Date(now);
  if (s === "yesterday") return shift(now, 1, "day");
  const unix = /^@(\d+)$/.exec(s);
  if (unix) return new Date(Number(unix[1]) * 1000);
  const rel = /^(\d+)[.\s_]*([a-z]+)(?:[.\s_]+ago)?$/.exec(s);
  if (rel) {
    const unit = UNITS[rel[2] as string];
    return unit ? shift(now, Number(rel[1]), unit) : null;
  }
  return parseIso(text.trim());
}

function shift(now: Date, n: number, unit: (typeof UNITS)[string]): Date {
  const d = new Date(now);
  const ms = { second: 1e3, minute: 6e4, hour: 36e5 } as const;
  if (unit === "second" || unit === "minute" || unit === "hour") return new Date(d.getTime() - n * ms[unit]);
  if (unit === "day" || unit === "week") d.setDate(d.getDate() - n * (unit === "week" ? 7 : 1));
  else {
    const day = d.getDate();
    d.setDate(1);
    if (unit === "month") d.setMonth(d.getMonth() - n);
    else d.setFullYear(d.getFullYear() - n);
    d.setDate(Math.min(day, daysInMonth(d.getFullYear(), d.getMonth() + 1)));
  }
  return d;
}

function parseIso(text: string): Date | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return null;
  const zone = m[8];
  if (zone === undefined) {
    const local = new Date(2000, 0, 1);
    local.setFullYear(y, mo - 1, d);
    local.setHours(h, mi, s, ms);
    return local;
  }
  const offset = zoneMinutes(zone);
  if (offset === null) return null;
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, ms);
  return new Date(utc.getTime() - offset * 60_000);
}

/** Minutes east of UTC for "Z", "+01", "+0100", "-01:30". */
function zoneMinutes(zone: string): number | null {
  if (zone.toUpperCase() === "Z") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 14 || minutes > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/** Git's default: unreachable objects younger than two weeks are kept. */
export const DEFAULT_PRUNE = "2.weeks.ago";

/** The cutoff time of a `--prune` value; null for "never". Throws UsageError for a value that is no date. */
export function parsePrune(spec: Date | string, now = new Date()): Date | null {
  if (spec instanceof Date) return spec;
  const s = spec.trim().toLowerCase();
  if (s === "never" || s === "false") return null;
  const d = parseDate(s, now);
  if (d === null) {
    throw new UsageError(`--prune: '${spec}' is not a date`, {
      hint: 'give a date or an age: --prune=2.weeks.ago, --prune=3.days.ago, --prune=2026-01-31, --prune=now (everything unreachable), --prune=never',
    });
  }
  return d;
}

/** "stash@{N}", "N" or nothing (0) → N. */
export function parseStashSelector(selector: string | undefined): number {
  if (selector === undefined) return 0;
  const m = /^(?:stash@\{(\d+)\}|(\d+))$/.exec(selector);
  if (!m) throw new UsageError(`'${selector}' is not a stash entry`, { hint: "name one as stash@{N} or N; `tdv stash list` shows them" });
  return Number(m[1] ?? m[2]);
}
