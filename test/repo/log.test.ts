import { execFileSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isTdvError } from "../../src/errors.js";
import type { GitOid } from "../../src/format/hash.js";
import { log, treeEntryAt } from "../../src/commands/log.js";
import { isAncestor } from "../../src/repo/history.js";
import type { Repository } from "../../src/repo/repository.js";
import type { Person } from "../../src/format/git-object.js";
import { newRepo, writeFiles, type Files } from "../helpers/git-objects.js";

// ---- helpers (build commits directly; the commit command lives elsewhere) ----

function person(timestamp: number, name = "Ada Tester"): Person {
  return { name, email: "ada@example.com", timestamp, tzOffset: -300 };
}

async function commit(repo: Repository, t: number, files: Files, parents: GitOid[] = [], message = `commit at ${t}`): Promise<GitOid> {
  const tree = await writeFiles(repo, files);
  return repo.git.writeCommit({ tree, parents, author: person(t - 50, "Author"), committer: person(t), message });
}

async function move(repo: Repository, ref: string, next: GitOid, t: number): Promise<void> {
  const expected = await repo.refs.read(ref);
  await repo.refs.update(ref, { expected, next, who: person(t), message: "commit" });
}

// ---- a dataset history ------------------------------------------------------
//
//  a (100) ─ b (300) ─────────────── m (500)   main, HEAD
//   \                               /
//    s1 (200) ─ s2 (400) ──────────┘           side
//
//  a:  t2m v1, README v1
//  b:  README v2                 (t2m untouched)
//  s1: t2m v2                    (side changes t2m)
//  s2: precip added              (t2m untouched)
//  m:  merge: t2m v2, README v2, precip
//
const base: Files = { "README.md": "v1", "era5.zarr/zarr.json": "{}", "era5.zarr/t2m/zarr.json": "t2m v1", "era5.zarr/t2m/c/0": "chunk" };

describe("log", () => {
  let repo: Repository;
  const c: Record<string, GitOid> = {};

  beforeAll(async () => {
    repo = await newRepo();
    c.a = await commit(repo, 100, base, [], "initial import\n\nfrom ERA5");
    c.b = await commit(repo, 300, { ...base, "README.md": "v2" }, [c.a]);
    c.s1 = await commit(repo, 200, { ...base, "era5.zarr/t2m/zarr.json": "t2m v2" }, [c.a]);
    c.s2 = await commit(repo, 400, { ...base, "era5.zarr/t2m/zarr.json": "t2m v2", "era5.zarr/precip/zarr.json": "p" }, [c.s1]);
    const merged = { ...base, "README.md": "v2", "era5.zarr/t2m/zarr.json": "t2m v2", "era5.zarr/precip/zarr.json": "p" };
    c.m = await commit(repo, 500, merged, [c.b, c.s2], "merge side");
    await move(repo, "refs/heads/main", c.a, 100);
    await move(repo, "refs/heads/main", c.b, 300);
    await move(repo, "refs/heads/main", c.m, 500);
    await move(repo, "refs/heads/side", c.s2, 400);
    await move(repo, "refs/tags/v1", c.a, 100);
    const tag = await repo.git.writeTag({ object: c.m, type: "commit", tag: "v2", tagger: person(600), message: "v2" });
    await move(repo, "refs/tags/v2", tag, 600);
  });

  const names = (entries: { oid: GitOid }[]) => entries.map((e) => Object.keys(c).find((k) => c[k] === e.oid));

  it("walks newest committer time first across merges, each commit once", async () => {
    expect(names(await log(repo))).toEqual(["m", "s2", "b", "s1", "a"]);
    expect(names(await log(repo, { rev: "side" }))).toEqual(["s2", "s1", "a"]);
    expect(names(await log(repo, { rev: "HEAD^" }))).toEqual(["b", "a"]);
  });

  it("orders like stock git log", async () => {
    const gitdir = path.join(repo.tdvDir, "git");
    const want = execFileSync("git", ["--git-dir", gitdir, "log", "--format=%H", "main"], { encoding: "utf8" }).trim().split("\n");
    expect((await log(repo)).map((e) => e.oid)).toEqual(want);
  });

  it("returns each commit's data, refs and message without its final newline", async () => {
    const [m] = await log(repo, { n: 1 });
    expect(m).toMatchObject({
      oid: c.m,
      parents: [c.b, c.s2],
      message: "merge side",
      refs: ["HEAD", "main", "v2"],
      author: { name: "Author", email: "ada@example.com", timestamp: 450, tzOffset: -300 },
      committer: { name: "Ada Tester", timestamp: 500, tzOffset: -300 },
    });
    expect(m?.tree).toBe((await repo.git.readCommit(c.m as GitOid)).tree);
    const entries = await log(repo);
    const root = entries.at(-1);
    expect(root).toMatchObject({ oid: c.a, parents: [], message: "initial import\n\nfrom ERA5", refs: ["v1"] });
    expect(entries.find((e) => e.oid === c.s2)?.refs).toEqual(["side"]);
    expect(entries.find((e) => e.oid === c.b)?.refs).toEqual([]);
  });

  it("limits the count with n", async () => {
    expect(names(await log(repo, { n: 2 }))).toEqual(["m", "s2"]);
    expect(await log(repo, { n: 0 })).toEqual([]);
    expect(names(await log(repo, { n: 99 }))).toHaveLength(5);
  });

  it("keeps only commits that change a path (vs the first parent; a root when the path exists)", async () => {
    expect(names(await log(repo, { path: "era5.zarr/t2m" }))).toEqual(["m", "s1", "a"]);
    expect(names(await log(repo, { path: "era5.zarr/t2m/" }))).toEqual(["m", "s1", "a"]);
    expect(names(await log(repo, { path: "era5.zarr/t2m/zarr.json" }))).toEqual(["m", "s1", "a"]);
    expect(names(await log(repo, { path: "era5.zarr/t2m/c/0" }))).toEqual(["a"]);
    expect(names(await log(repo, { path: "README.md" }))).toEqual(["b", "a"]);
    expect(names(await log(repo, { path: "era5.zarr/precip" }))).toEqual(["m", "s2"]);
    expect(names(await log(repo, { path: "era5.zarr" }))).toEqual(["m", "s2", "s1", "a"]);
    expect(names(await log(repo, { path: "era5.zarr/precip", rev: "side" }))).toEqual(["s2"]);
  });

  it("applies n after the path filter", async () => {
    expect(names(await log(repo, { path: "era5.zarr/t2m", n: 2 }))).toEqual(["m", "s1"]);
  });

  it("yields nothing for a path no commit has", async () => {
    expect(await log(repo, { path: "nope.zarr" })).toEqual([]);
    expect(await log(repo, { path: "README.md/inside" })).toEqual([]);
    expect(await log(repo, { path: "era5.zarr/../README.md" })).toEqual([]);
  });

  it("with path '' keeps every commit that changes the tree", async () => {
    const empty = await commit(repo, 700, { ...base, "README.md": "v2", "era5.zarr/t2m/zarr.json": "t2m v2", "era5.zarr/precip/zarr.json": "p" }, [c.m as GitOid], "empty");
    const all = await log(repo, { rev: empty });
    expect(all.map((e) => e.oid)).toContain(empty);
    expect((await log(repo, { rev: empty, path: "" })).map((e) => e.oid)).toEqual(all.slice(1).map((e) => e.oid));
  });

  it("lists a path deleted by a commit", async () => {
    const { "README.md": _, ...withoutReadme } = base;
    const del = await commit(repo, 800, withoutReadme, [c.a as GitOid], "drop README");
    expect((await log(repo, { rev: del, path: "README.md" })).map((e) => e.oid)).toEqual([del, c.a]);
  });

  it("fails on an unknown revision, and on an unborn HEAD", async () => {
    await expect(log(repo, { rev: "nope" })).rejects.toSatisfy((e) => isTdvError(e, "UnknownRevisionError"));
    const fresh = await newRepo();
    await expect(log(fresh)).rejects.toThrow("unknown revision 'HEAD': no commits yet");
  });

  it("isAncestor follows all parents", async () => {
    const yes: [string, string][] = [["a", "m"], ["s1", "m"], ["b", "m"], ["m", "m"], ["a", "s2"]];
    const no: [string, string][] = [["m", "a"], ["b", "s2"], ["s2", "b"], ["s1", "b"]];
    for (const [x, y] of yes) expect(await isAncestor(repo, c[x] as GitOid, c[y] as GitOid), `${x} <= ${y}`).toBe(true);
    for (const [x, y] of no) expect(await isAncestor(repo, c[x] as GitOid, c[y] as GitOid), `${x} <= ${y}`).toBe(false);
  });

  it("treeEntryAt walks tree names", async () => {
    const root = (await repo.git.readCommit(c.a as GitOid)).tree;
    const era5 = await treeEntryAt(repo, root, "era5.zarr");
    expect(await repo.git.typeOf(era5 as GitOid)).toBe("tree");
    const meta = await treeEntryAt(repo, root, "era5.zarr/t2m/zarr.json");
    expect(Buffer.from(await repo.git.readBlob(meta as GitOid)).toString()).toBe("t2m v1");
    expect(await treeEntryAt(repo, root, "/era5.zarr//t2m/./zarr.json")).toBe(meta);
    expect(await treeEntryAt(repo, root, "")).toBe(root);
    expect(await treeEntryAt(repo, root, "era5.zarr/nope")).toBeNull();
    expect(await treeEntryAt(repo, root, "README.md/x")).toBeNull();
    expect(await treeEntryAt(repo, root, "era5.zarr/t2m/c/0/deeper")).toBeNull();
  });
});

describe("log ordering ties", () => {
  it("keeps parent order among commits with the same committer time", async () => {
    const repo = await newRepo();
    const a = await commit(repo, 100, { f: "a" });
    const x = await commit(repo, 200, { f: "x" }, [a]);
    const y = await commit(repo, 200, { f: "y" }, [a]);
    const m = await commit(repo, 300, { f: "m" }, [y, x]);
    await move(repo, "refs/heads/main", m, 300);
    expect((await log(repo)).map((e) => e.oid)).toEqual([m, y, x, a]);
    const gitdir = path.join(repo.tdvDir, "git");
    const want = execFileSync("git", ["--git-dir", gitdir, "log", "--format=%H"], { encoding: "utf8" }).trim().split("\n");
    expect([m, y, x, a]).toEqual(want);
  });

  it("walks a long history without recursion limits", async () => {
    const repo = await newRepo();
    let prev: GitOid[] = [];
    const ids: GitOid[] = [];
    for (let i = 0; i < 300; i++) {
      const id = await commit(repo, 1000 + i, { f: String(i) }, prev);
      ids.push(id);
      prev = [id];
    }
    await move(repo, "refs/heads/main", ids.at(-1) as GitOid, 2000);
    const entries = await log(repo);
    expect(entries.map((e) => e.oid)).toEqual([...ids].reverse());
    expect(await isAncestor(repo, ids[0] as GitOid, ids.at(-1) as GitOid)).toBe(true);
    expect(await isAncestor(repo, ids.at(-1) as GitOid, ids[0] as GitOid)).toBe(false);
  });
});
