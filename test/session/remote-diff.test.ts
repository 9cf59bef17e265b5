/**
 * diff over a remote's stores, read in place (remoteRepository): the diff of
 * two revisions of a file remote is the local diff, and it fetches only what
 * it needs (no chunk without values). And a hostile tree is refused by diff
 * with the error cat (the read session) gives: both read folders through
 * repo/folder-read.ts.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { addRemote, cat, createTag, diff, isTdvError, openSession, push, remoteRepository, resolveRevision, type FileAt, type Repository } from "../../src/index.js";
import { sha256, type GitOid } from "../../src/format/hash.js";
import { encodeShard } from "../../src/format/manifest.js";
import { counting } from "../helpers/counting-backend.js";
import { tempDir } from "../helpers/fixture.js";
import { commitAll, editAttrs, repoFrom, setPoints } from "../merge/helpers.js";

let repo: Repository;
let dir: string;
let store: string;
let remote: string;

beforeAll(async () => {
  ({ repo, dir, store } = await repoFrom("v3/ocean.zarr"));
  await createTag(repo, { name: "v1" });
  await setPoints(dir, `${store}/sst`, { "0,0,0": 42.5 });
  await editAttrs(dir, `${store}/sst`, (a) => {
    a.reviewed = true;
  });
  await commitAll(repo, "fix one sst value");
  remote = path.join(await tempDir(), "remote");
  await addRemote(repo, { name: "origin", url: remote });
  await push(repo, { remote: "origin", refs: ["main"], tags: true });
});

describe("diff of a remote's revisions, without a clone", () => {
  it("equals the local diff; without values it fetches no chunk, with values only the changed chunks", async () => {
    const log: string[] = [];
    const r = await remoteRepository(remote, { cacheDir: await tempDir(), wrapBackend: counting(log) });
    const local = await diff(repo, { from: "v1", to: "main" });
    const there = await diff(r, { from: "v1", to: "main" });
    expect(there).toEqual(local);
    expect(there.arrays.map((a) => a.path)).toEqual([`${store}/sst`]);
    expect(there.arrays[0]?.chunks.modified.count).toBe(1);
    expect(there.arrays[0]?.attributes.map((a) => a.key)).toEqual(["reviewed"]);
    expect(log.filter((k) => k.startsWith("chunks/"))).toEqual([]);

    log.length = 0;
    const localValues = await diff(repo, { from: "v1", to: "main", values: true });
    const thereValues = await diff(r, { from: "v1", to: "main", values: true });
    expect(thereValues).toEqual(localValues);
    expect(thereValues.arrays[0]?.values?.changed).toBe(1);
    // the changed chunk on each side, and the chunks of sst's coordinate arrays (time, lat, lon: the changed region in values)
    const want = new Set<string>();
    for (const rev of ["v1", "main"]) want.add(((await (await openSession(repo, rev)).file(`${store}/sst/c/0/0/0`)) as FileAt).id);
    const s = await openSession(repo, "main");
    for (const coord of ["time", "lat", "lon"]) for await (const f of s.walk(`${store}/${coord}`)) if (f.kind === "chunk") want.add(f.id);
    expect(new Set(log.filter((k) => k.startsWith("chunks/")).map((k) => k.slice("chunks/".length).replace("/", "")))).toEqual(want);
  });

  it("refuses a working-copy or index side: a remote has neither (name both revisions)", async () => {
    const r = await remoteRepository(remote, { cacheDir: await tempDir() });
    for (const opts of [{}, { from: "v1" }, { staged: true }]) {
      const err = await diff(r, opts).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isTdvError(err, "UsageError"), String(err)).toBe(true);
      expect(String((err as Error).message)).toMatch(/a remote has no (working copy|index).*name both revisions/);
    }
  });
});

describe("a hostile tree is refused by diff as by cat", () => {
  type Raw = [mode: string, name: string, oid: string];
  const rawTree = (entries: Raw[]) => repo.git.writeRaw("tree", Buffer.concat(entries.flatMap(([m, n, o]) => [Buffer.from(`${m} ${n}\0`), Buffer.from(o, "hex")])));
  const blob = (b: string | Uint8Array) => repo.git.writeBlob(typeof b === "string" ? Buffer.from(b) : b);
  const ZARRAY = JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: "|u1", compressor: null, fill_value: 0, filters: null, order: "C" });
  const id = sha256(Buffer.from("abcd"));
  const shard = (ndim: number, index: number[][]) => encodeShard(ndim, index.map((i) => ({ index: i, id, size: 4 })));

  /** A commit on top of main whose root adds `extra`. */
  async function evil(...extra: Raw[]): Promise<GitOid> {
    const base = await resolveRevision(repo, "main");
    const root = await repo.git.readTree((await repo.git.readCommit(base)).tree);
    const tree = await rawTree([...root.map((e): Raw => [e.mode === "040000" ? "40000" : e.mode, e.name, e.oid]), ...extra]);
    const who = repo.identity();
    return repo.git.writeCommit({ tree: tree as GitOid, parents: [base], author: who, committer: who, message: "evil\n" });
  }
  async function array(shards: [string, Uint8Array][], extra: Raw[] = []): Promise<Raw> {
    const manifest = await rawTree(await Promise.all(shards.map(async ([n, b]): Promise<Raw> => ["100644", n, await blob(b)])));
    return ["40000", "evil.zarr", await rawTree([["100644", ".zarray", await blob(ZARRAY)], ["40000", ".tdv-manifest", manifest], ...extra])];
  }

  const cases: { name: string; make: () => Promise<GitOid>; catPath: string; tag: string }[] = [
    { name: "names that differ only by case", make: async () => evil(["100644", "README", await blob("a")], ["100644", "readme", await blob("b")]), catPath: "README", tag: "UnsafePathError" },
    { name: "a symbolic link", make: async () => evil(["120000", "link", await blob("../x")]), catPath: "link", tag: "UnsafePathError" },
    { name: "a manifest entry and a file for the same chunk", make: async () => evil(await array([["0", shard(1, [[0]])]], [["100644", "0", await blob("shadow")]])), catPath: "evil.zarr/0", tag: "UnsafePathError" },
    { name: "a manifest entry in the wrong shard", make: async () => evil(await array([["0", shard(1, [[5000]])]])), catPath: "evil.zarr/0", tag: "CorruptObjectError" },
    { name: "a manifest shard named like a path", make: async () => evil(await array([["../0", shard(1, [[0]])]])), catPath: "evil.zarr/0", tag: "UnsafePathError" },
    {
      name: "a manifest in a folder without array metadata",
      make: async () => evil(["40000", "plain", await rawTree([["40000", ".tdv-manifest", await rawTree([["100644", "0", await blob(shard(1, [[0]]))]])]])]),
      catPath: "plain/x",
      tag: "UnsafePathError",
    },
  ];

  it.each(cases)("$name", async (c) => {
    const oid = await c.make();
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => "not refused",
        (e: unknown) => (isTdvError(e) ? e._tag : String(e)),
      );
    const byCat = await refused(cat(repo, { rev: oid, path: c.catPath }));
    expect(byCat).toBe(c.tag);
    expect(await refused(diff(repo, { from: "main", to: oid }))).toBe(byCat);
    expect(await refused(diff(repo, { from: oid, to: "main", values: true }))).toBe(byCat);
  });
});
