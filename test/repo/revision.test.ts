import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isTdvError } from "../../src/errors.js";
import type { GitOid } from "../../src/format/hash.js";
import type { Repository } from "../../src/repo/repository.js";
import { parseDate, resolveRefName, resolveRevision } from "../../src/repo/revision.js";
import { GitStore } from "../../src/store/git.js";
import { formatPerson, type Person } from "../../src/format/git-object.js";
import { newRepo, person, writeFiles } from "../helpers/git-objects.js";

// ---- helpers (build commits directly; the commit command lives elsewhere) ----

const DAY = 86_400;

async function commit(repo: Repository, t: number, parents: GitOid[] = [], message = `commit at ${t}`): Promise<GitOid> {
  const tree = await writeFiles(repo, { "README.md": message });
  return repo.git.writeCommit({ tree, parents, author: person(t), committer: person(t), message });
}

async function move(repo: Repository, ref: string, next: GitOid, t: number, message = "commit"): Promise<void> {
  const expected = await repo.refs.read(ref);
  await repo.refs.update(ref, { expected, next, who: person(t), message });
}

async function rejection(p: Promise<unknown>): Promise<{ _tag: string; message: string; [k: string]: unknown }> {
  try {
    await p;
  } catch (err) {
    if (isTdvError(err)) return err as unknown as { _tag: string; message: string };
    throw err;
  }
  throw new Error("expected a rejection");
}

/** The id GitStore.writeCommit will give, without writing (to brute-force short-id collisions). */
function commitOid(tree: GitOid, parents: GitOid[], who: Person, message: string): string {
  let text = `tree ${tree}\n`;
  for (const p of parents) text += `parent ${p}\n`;
  text += `author ${formatPerson(who)}\ncommitter ${formatPerson(who)}\n\n${message}\n`;
  return createHash("sha1").update(`commit ${Buffer.byteLength(text)}\0`).update(text).digest("hex");
}

// ---- a history with known times --------------------------------------------
//
//   c1 (Jan 10) - c2 (Jan 15) - c3 (Jan 20) - m (Jan 25)   main, HEAD
//                   \                        /
//                    s1 (Jan 16) -------- s2 (Jan 22)       side
//
// main's reflog: created at c1 on Jan 10 12:00Z, moved on Jan 15, Jan 20, Jan 25.

const T1 = Date.UTC(2026, 0, 10, 12) / 1000;
const T2 = Date.UTC(2026, 0, 15, 12) / 1000;
const T3 = Date.UTC(2026, 0, 20, 12) / 1000;
const TM = Date.UTC(2026, 0, 25, 12) / 1000;

describe("resolveRevision", () => {
  let repo: Repository;
  const c: Record<string, GitOid> = {};

  beforeAll(async () => {
    repo = await newRepo();
    c.c1 = await commit(repo, T1);
    c.c2 = await commit(repo, T2, [c.c1]);
    c.s1 = await commit(repo, T2 + DAY, [c.c2]);
    c.c3 = await commit(repo, T3, [c.c2]);
    c.s2 = await commit(repo, T3 + 2 * DAY, [c.s1]);
    c.m = await commit(repo, TM, [c.c3, c.s2], "merge side");
    await move(repo, "refs/heads/main", c.c1, T1, "commit (initial): c1");
    await move(repo, "refs/heads/main", c.c2, T2);
    await move(repo, "refs/heads/main", c.c3, T3);
    await move(repo, "refs/heads/main", c.m, TM, "merge side");
    await move(repo, "refs/heads/side", c.s2, T3 + 2 * DAY, "branch: Created from s2");
    await move(repo, "refs/tags/v1", c.c1, T1);
    c.tag2 = await repo.git.writeTag({ object: c.c2, type: "commit", tag: "v2", tagger: person(T2), message: "release 2" });
    await move(repo, "refs/tags/v2", c.tag2, T2);
    c.tagOfTag = await repo.git.writeTag({ object: c.tag2, type: "tag", tag: "v2-again", tagger: person(T2), message: "again" });
    await move(repo, "refs/tags/v2-again", c.tagOfTag, T2);
  });

  const cases: [string, string][] = [
    ["HEAD", "m"],
    ["@", "m"],
    ["main", "m"],
    ["refs/heads/main", "m"],
    ["heads/main", "m"],
    ["side", "s2"],
    ["HEAD~", "c3"],
    ["HEAD~1", "c3"],
    ["HEAD~2", "c2"],
    ["HEAD~3", "c1"],
    ["HEAD~0", "m"],
    ["HEAD^", "c3"],
    ["HEAD^1", "c3"],
    ["HEAD^0", "m"],
    ["HEAD^^", "c2"],
    ["HEAD^^^", "c1"],
    ["HEAD^2", "s2"],
    ["HEAD^2^", "s1"],
    ["HEAD^2~2", "c2"],
    ["main~1^", "c2"],
    ["@~2", "c2"],
    ["@^2", "s2"],
    ["v1", "c1"],
    ["tags/v1", "c1"],
    ["refs/tags/v1", "c1"],
    ["v2", "c2"],
    ["v2^{}", "c2"],
    ["v2^{commit}", "c2"],
    ["v2~1", "c1"],
    ["v2-again", "c2"],
    ["main@{0}", "m"],
    ["main@{1}", "c3"],
    ["main@{2}", "c2"],
    ["main@{3}", "c1"],
    ["main@{1}~1", "c2"],
    ["main@{0}^2", "s2"],
    ["HEAD@{1}", "c3"],
    ["@{1}", "c3"],
    ["@{2}^", "c1"],
    ["main@{2026-01-15T12:00:00Z}", "c2"],
    ["main@{2026-01-15T11:59:59Z}", "c1"],
    ["main@{2026-01-16T00:00Z}", "c2"],
    ["main@{2026-01-17}", "c2"],
    ["main@{2026-01-21 09:30}", "c3"],
    ["main@{2026-01-21 09:30:00}", "c3"],
    ["main@{2026-01-20T13:00:00+01:00}", "c3"],
    ["main@{2026-01-20T12:59:59+01:00}", "c2"],
    ["main@{2027-01-01}", "m"],
    [`main@{@${T3}}`, "c3"],
    [`main@{@${T3 - 1}}`, "c2"],
    ["main@{2026-01-17}~1", "c1"],
  ];

  it.each(cases)("%s is %s", async (rev, name) => {
    expect(await resolveRevision(repo, rev)).toBe(c[name]);
  });

  it("takes full and abbreviated commit ids, in either case", async () => {
    const id = c.c3 as GitOid;
    expect(await resolveRevision(repo, id)).toBe(id);
    expect(await resolveRevision(repo, id.slice(0, 12))).toBe(id);
    expect(await resolveRevision(repo, id.slice(0, 12).toUpperCase())).toBe(id);
    expect(await resolveRevision(repo, `${id.slice(0, 10)}~1`)).toBe(c.c2);
    expect(await resolveRevision(repo, `${id.slice(0, 10)}^`)).toBe(c.c2);
  });

  it("peels a tag object id (full or short) to its commit", async () => {
    expect(await resolveRevision(repo, c.tag2 as string)).toBe(c.c2);
    expect(await resolveRevision(repo, (c.tag2 as string).slice(0, 10))).toBe(c.c2);
  });

  it("says how short the history is for ~N past the root", async () => {
    const err = await rejection(resolveRevision(repo, "main~5"));
    expect(err._tag).toBe("UnknownRevisionError");
    expect(err.message).toBe("unknown revision 'main~5': main~5: history has only 4 commits");
    expect((await rejection(resolveRevision(repo, "v1~1"))).message).toContain("v1~1: history has only 1 commit");
  });

  it("names the commit that lacks the parent asked for", async () => {
    const root = await rejection(resolveRevision(repo, "v1^"));
    expect(root.message).toContain(`v1^: commit ${(c.c1 as string).slice(0, 10)} is a root commit`);
    const second = await rejection(resolveRevision(repo, "HEAD~1^2"));
    expect(second.message).toContain("HEAD~1^2: commit");
    expect(second.message).toContain("has only 1 parent");
    expect((await rejection(resolveRevision(repo, "HEAD^3"))).message).toContain("has only 2 parents");
  });

  it("reports reflog indexes past the oldest entry", async () => {
    const err = await rejection(resolveRevision(repo, "main@{4}"));
    expect(err._tag).toBe("UnknownRevisionError");
    expect(err.message).toContain("the reflog of branch main has only 4 entries");
  });

  it("reports a date before the branch existed", async () => {
    const err = await rejection(resolveRevision(repo, "main@{2026-01-10T11:59:59Z}"));
    expect(err._tag).toBe("UnknownRevisionError");
    expect(err.message).toContain("branch main has no reflog entry at or before 2026-01-10T11:59:59Z");
    expect(err.message).toContain("did not exist yet");
  });

  it("reports a reflog that starts after the date asked for (a truncated log)", async () => {
    await move(repo, "refs/heads/trunc", c.c1 as GitOid, T1);
    await move(repo, "refs/heads/trunc", c.c2 as GitOid, T2);
    const log = path.join(repo.tdvDir, "git/logs/refs/heads/trunc");
    const lines = (await fs.readFile(log, "utf8")).trimEnd().split("\n");
    await fs.writeFile(log, `${lines[1]}\n`);
    expect(await resolveRevision(repo, "trunc@{0}")).toBe(c.c2);
    expect(await resolveRevision(repo, "trunc@{1}")).toBe(c.c1); // the old value of the oldest entry
    expect((await rejection(resolveRevision(repo, "trunc@{2}"))).message).toContain("has only 1 entry");
    const err = await rejection(resolveRevision(repo, "trunc@{2026-01-12}"));
    expect(err.message).toContain("the reflog of branch trunc only goes back to 2026-01-15T12:00:00Z");
  });

  it("reports a ref without reflog", async () => {
    await fs.writeFile(path.join(repo.tdvDir, "git/refs/heads/nolog"), `${c.c1}\n`);
    expect(await resolveRevision(repo, "nolog")).toBe(c.c1);
    expect((await rejection(resolveRevision(repo, "nolog@{1}"))).message).toContain("branch nolog has no reflog");
  });

  it.each([
    ["nope", "no branch, tag or commit id 'nope'"],
    ["", "empty revision name"],
    ["~1", "empty revision name"],
    ["HEAD~x", "cannot parse 'x'"],
    ["HEAD^{tree}", "only ^{} and ^{commit} are supported"],
    ["main~1@{1}", "@{...} must directly follow a branch, a tag or HEAD"],
    ["main@{-1}", "@{-N}"],
    ["main@{next tuesday}", "'next tuesday' is neither a reflog index nor a date"],
    ["nope@{1}", "no branch or tag 'nope'"],
    ["../../HEAD", "no branch, tag or commit id"],
    ["ffff", "no branch, tag or object id 'ffff'"],
    ["0000000000000000000000000000000000000000", "no branch, tag or object id"],
  ])("rejects %j (%s)", async (rev, detail) => {
    const err = await rejection(resolveRevision(repo, rev));
    expect(err._tag).toBe("UnknownRevisionError");
    expect(err.rev).toBe(rev);
    expect(err.message).toContain(detail);
  });

  it("refuses a tag or id that names a tree or blob", async () => {
    const tree = await writeFiles(repo, { "a.txt": "tree tag" });
    await move(repo, "refs/tags/treetag", tree, T3);
    expect((await rejection(resolveRevision(repo, "treetag"))).message).toContain(`treetag names a tree (${tree.slice(0, 10)}), not a commit`);
    const blob = await repo.git.writeBlob(Buffer.from("just a blob"));
    expect((await rejection(resolveRevision(repo, blob))).message).toContain("names a blob");
  });

  it("prefers a branch over a tag of the same name; tags/NAME reaches the tag", async () => {
    await move(repo, "refs/heads/both", c.c1 as GitOid, T1);
    await move(repo, "refs/tags/both", c.c2 as GitOid, T1);
    expect(await resolveRevision(repo, "both")).toBe(c.c1);
    expect(await resolveRevision(repo, "tags/both")).toBe(c.c2);
    expect(await resolveRevision(repo, "heads/both")).toBe(c.c1);
  });

  it("takes a full commit id as that commit, over a branch of the same name, as git does", async () => {
    // a branch named like c2's full id, pointing at c1: the id wins (git rev-parse warns "refname is ambiguous")
    await move(repo, `refs/heads/${c.c2}`, c.c1 as GitOid, T1);
    expect(await resolveRevision(repo, c.c2 as string)).toBe(c.c2);
    expect(await resolveRevision(repo, `${c.c2}~1`)).toBe(c.c1);
    const gitdir = path.join(repo.tdvDir, "git");
    const want = execFileSync("git", ["--git-dir", gitdir, "rev-parse", "--verify", "--quiet", c.c2 as string], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    expect(want).toBe(c.c2);
    await repo.refs.update(`refs/heads/${c.c2}`, { expected: c.c1 as GitOid, next: null, who: person(T1), message: "gone" });
  });

  it("matches stock git rev-parse on the same repository", async () => {
    const gitdir = path.join(repo.tdvDir, "git");
    const revs = ["HEAD~2", "HEAD^2~1", "main@{1}", "@{2}", "v1", "v2", "v2-again", "side~1", (c.c3 as string).slice(0, 8), "main@{2026-01-21 09:30:00 +0000}"];
    for (const rev of revs) {
      const want = execFileSync("git", ["--git-dir", gitdir, "rev-parse", "--verify", "--quiet", `${rev}^{commit}`], { encoding: "utf8" }).trim();
      expect(await resolveRevision(repo, rev), rev).toBe(want);
    }
  });
});

describe("resolveRevision on a repository without commits", () => {
  it("says HEAD has no commits yet", async () => {
    const repo = await newRepo();
    for (const rev of ["HEAD", "@", "HEAD~1"]) {
      const err = await rejection(resolveRevision(repo, rev));
      expect(err._tag).toBe("UnknownRevisionError");
      expect(err.rev).toBe("HEAD");
      expect(err.message).toBe("unknown revision 'HEAD': no commits yet");
    }
    const main = await rejection(resolveRevision(repo, "main"));
    expect(main.message).toBe("unknown revision 'main': branch main has no commits yet");
    expect((await rejection(resolveRevision(repo, "@{1}"))).message).toContain("branch main has no reflog");
  });
});

describe("abbreviated ids", () => {
  it("are ambiguous between two commits, and a blob never shadows a commit", async () => {
    const repo = await newRepo();
    const tree = await writeFiles(repo, { "README.md": "x" });
    const first = await repo.git.writeCommit({ tree, parents: [], author: person(T1), committer: person(T1), message: "first" });
    const prefix = first.slice(0, 4);
    let i = 0;
    while (!commitOid(tree, [], person(T1), `twin ${i}`).startsWith(prefix)) i++;
    const twin = await repo.git.writeCommit({ tree, parents: [], author: person(T1), committer: person(T1), message: `twin ${i}` });
    expect(twin.slice(0, 4)).toBe(prefix);
    let j = 0;
    while (!GitStore.blobOid(Buffer.from(`blob ${j}`)).startsWith(prefix)) j++;
    const blob = await repo.git.writeBlob(Buffer.from(`blob ${j}`));

    const err = await rejection(resolveRevision(repo, prefix));
    expect(err._tag).toBe("AmbiguousRevisionError");
    expect(err.candidates).toEqual([first, twin].sort());

    // Longer prefixes are unique again.
    let n = 4;
    while (first.slice(0, n) === twin.slice(0, n) || first.slice(0, n) === blob.slice(0, n)) n++;
    expect(await resolveRevision(repo, first.slice(0, n))).toBe(first);

    // A prefix shared by a blob and one commit means the commit (git does this in a commit context).
    const other = await repo.git.writeCommit({ tree, parents: [first], author: person(T2), committer: person(T2), message: "other" });
    let k = 0;
    while (!GitStore.blobOid(Buffer.from(`other ${k}`)).startsWith(other.slice(0, 4))) k++;
    await repo.git.writeBlob(Buffer.from(`other ${k}`));
    expect(await resolveRevision(repo, other.slice(0, 4))).toBe(other);
  });

  it("shorter than 4 hex digits are not ids", async () => {
    const repo = await newRepo();
    const c1 = await commit(repo, T1);
    await move(repo, "refs/heads/main", c1, T1);
    expect((await rejection(resolveRevision(repo, c1.slice(0, 3))))._tag).toBe("UnknownRevisionError");
  });
});

describe("relative reflog dates", () => {
  it("resolves yesterday, now and N units ago against the real clock", async () => {
    const repo = await newRepo();
    const now = Math.floor(Date.now() / 1000);
    const a = await commit(repo, now - 10 * DAY);
    const b = await commit(repo, now - 3 * DAY, [a]);
    const d = await commit(repo, now - 3600, [b]);
    await move(repo, "refs/heads/rel", a, now - 10 * DAY);
    await move(repo, "refs/heads/rel", b, now - 3 * DAY);
    await move(repo, "refs/heads/rel", d, now - 3600);
    const cases: [string, GitOid][] = [
      ["rel@{now}", d],
      ["rel@{30.minutes.ago}", d],
      ["rel@{2 hours ago}", b],
      ["rel@{yesterday}", b],
      ["rel@{2.days.ago}", b],
      ["rel@{5 days ago}", a],
      ["rel@{1.week.ago}", a],
      ["rel@{1 week}", a],
    ];
    for (const [rev, want] of cases) expect(await resolveRevision(repo, rev), rev).toBe(want);
    expect((await rejection(resolveRevision(repo, "rel@{2.weeks.ago}"))).message).toContain("did not exist yet");
  });
});

describe("resolveRefName", () => {
  it("finds HEAD, branches, tags and full names; null otherwise", async () => {
    const repo = await newRepo();
    expect(await resolveRefName(repo, "HEAD")).toBe("HEAD");
    expect(await resolveRefName(repo, "@")).toBe("HEAD");
    expect(await resolveRefName(repo, "main")).toBeNull(); // unborn
    const c1 = await commit(repo, T1);
    await move(repo, "refs/heads/main", c1, T1);
    await move(repo, "refs/heads/feature/x", c1, T1);
    await move(repo, "refs/tags/v1", c1, T1);
    expect(await resolveRefName(repo, "main")).toBe("refs/heads/main");
    expect(await resolveRefName(repo, "feature/x")).toBe("refs/heads/feature/x");
    expect(await resolveRefName(repo, "v1")).toBe("refs/tags/v1");
    expect(await resolveRefName(repo, "refs/tags/v1")).toBe("refs/tags/v1");
    expect(await resolveRefName(repo, "tags/v1")).toBe("refs/tags/v1");
    expect(await resolveRefName(repo, "feature")).toBeNull(); // a folder of branches, not a branch
    expect(await resolveRefName(repo, "feature/x/y")).toBeNull();
    expect(await resolveRefName(repo, "nope")).toBeNull();
    expect(await resolveRefName(repo, "../../HEAD")).toBeNull();
    expect(await resolveRefName(repo, c1)).toBeNull();
  });
});

describe("parseDate", () => {
  const now = new Date(2026, 2, 31, 15, 45, 30); // local Mar 31 2026, 15:45:30

  it.each([
    ["now", now],
    ["yesterday", new Date(2026, 2, 30, 15, 45, 30)],
    ["5 seconds ago", new Date(now.getTime() - 5_000)],
    ["10.minutes.ago", new Date(now.getTime() - 600_000)],
    ["1 minute ago", new Date(now.getTime() - 60_000)],
    ["3 hours ago", new Date(now.getTime() - 3 * 3_600_000)],
    ["2.days.ago", new Date(2026, 2, 29, 15, 45, 30)],
    ["2 weeks ago", new Date(2026, 2, 17, 15, 45, 30)],
    ["1.month.ago", new Date(2026, 1, 28, 15, 45, 30)], // Feb has no 31st: the last day of Feb
    ["13 months ago", new Date(2025, 1, 28, 15, 45, 30)],
    ["2 years ago", new Date(2024, 2, 31, 15, 45, 30)],
    ["3 Days Ago", new Date(2026, 2, 28, 15, 45, 30)],
    ["2026-11-01", new Date(2026, 10, 1)],
    ["2026-11-01T12:30", new Date(2026, 10, 1, 12, 30)],
    ["2026-11-01 12:30:00", new Date(2026, 10, 1, 12, 30, 0)],
    ["2026-11-01 12:30:05.250", new Date(2026, 10, 1, 12, 30, 5, 250)],
    ["2026-11-01T12:30:00Z", new Date(Date.UTC(2026, 10, 1, 12, 30))],
    ["2026-11-01t12:30z", new Date(Date.UTC(2026, 10, 1, 12, 30))],
    ["2026-11-01T12:30:00+01:00", new Date(Date.UTC(2026, 10, 1, 11, 30))],
    ["2026-11-01T12:30:00+0100", new Date(Date.UTC(2026, 10, 1, 11, 30))],
    ["2026-11-01 12:30:00 -05:30", new Date(Date.UTC(2026, 10, 1, 18, 0))],
    ["2026-11-01T12:30+02", new Date(Date.UTC(2026, 10, 1, 10, 30))],
    ["2024-02-29", new Date(2024, 1, 29)],
    ["@1700000000", new Date(1_700_000_000_000)],
    ["  2026-11-01  ", new Date(2026, 10, 1)],
  ])("%j", (text, want) => {
    expect(parseDate(text, now)?.getTime()).toBe(want.getTime());
  });

  it.each([
    "",
    "tomorrow",
    "blah",
    "3 fortnights ago",
    "2026-13-01",
    "2026-02-30",
    "2026-02-29",
    "2026-11-01T24:00",
    "2026-11-01T12:60",
    "2026-11-01T12:30:00+15:00",
    "2026-11-1",
    "26-11-01",
    "2026/11/01",
  ])("rejects %j", (text) => {
    expect(parseDate(text, now)).toBeNull();
  });

  it("defaults `now` to the current time", () => {
    const before = Date.now();
    const got = parseDate("now")?.getTime() ?? 0;
    expect(got).toBeGreaterThanOrEqual(before);
    expect(got).toBeLessThanOrEqual(Date.now());
  });
});
