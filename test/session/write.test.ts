/**
 * Write sessions: zarrita writes straight into a branch; the commit is the
 * snapshot `add` + `commit` would make of the same files; a branch that
 * moved meanwhile is rebased onto (disjoint chunks kept, a chunk both
 * changed merged element by element, an element both changed a conflict that
 * leaves the session as it was); forks write their parts and are gathered.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import * as zarr from "zarrita";
import { beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { add, commit, isTdvError, openSession, openWriteSession, Repository, reset, resolveRevision, status, type WriteSession } from "../../src/index.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

let dir: string;
let repo: Repository;

async function newRepo(): Promise<{ dir: string; repo: Repository }> {
  const d = await tempDir();
  return { dir: d, repo: (await Repository.init({ durability: "none", dir: d })).repo };
}

/** A float32 array of 8×8 in chunks of 4×4 under `store` (no compressor), filled with `fill(i, j)`. */
async function makeArray(s: WriteSession | zarr.Mutable, store: string, fill: (i: number, j: number) => number): Promise<void> {
  const root = zarr.root(s as zarr.Mutable);
  await zarr.create(root.resolve(store), { attributes: { title: "test" } }).catch(() => undefined);
  const a = await zarr.create(root.resolve(`${store}/t2m`), { shape: [8, 8], chunkShape: [4, 4], dtype: "float32", fillValue: 0, codecs: [{ name: "bytes", configuration: { endian: "little" } }] });
  const data = new Float32Array(64);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) data[i * 8 + j] = fill(i, j);
  await zarr.set(a, null, { data, shape: [8, 8], stride: [8, 1] });
}

async function setPoint(s: WriteSession, store: string, i: number, j: number, v: number): Promise<void> {
  const a = await zarr.open(zarr.root(s).resolve(`${store}/t2m`), { kind: "array" });
  await zarr.set(a as zarr.Array<"float32", WriteSession>, [zarr.slice(i, i + 1), zarr.slice(j, j + 1)], v);
}

async function valuesAt(rev: string, store = "era.zarr"): Promise<number[]> {
  const s = await openSession(repo, rev);
  const a = await zarr.open(zarr.root(s).resolve(`${store}/t2m`), { kind: "array" });
  return Array.from((await zarr.get(a)).data as Float32Array);
}

beforeEach(async () => {
  ({ dir, repo } = await newRepo());
  const s = await openWriteSession(repo, "main");
  await makeArray(s, "era.zarr", (i, j) => i * 10 + j);
  await s.set("README.md", new TextEncoder().encode("written by a session\n"));
  await s.commit("first data");
});

describe("write sessions", () => {
  it("commit the snapshot add + commit make of the same files, and the branch checks out clean", async () => {
    const head = await resolveRevision(repo, "main");
    expect(await valuesAt("main")).toEqual(Array.from({ length: 64 }, (_, k) => Math.floor(k / 8) * 10 + (k % 8)));
    // the working copy follows the branch: check it out, and it is clean
    await reset(repo, { mode: "hard", rev: "main" });
    const st = await status(repo);
    expect(st.clean).toBe(true);
    // now that main is checked out there, a session commit to it would leave the working copy behind
    const s = await openWriteSession(repo, "main");
    await s.set("other.txt", new Uint8Array([1]));
    await expect(s.commit("behind the working copy's back")).rejects.toThrow(/checked out in the working copy/);
    s.close();
    // the same files, added and committed in another repository, give the same tree
    const other = await newRepo();
    const files = await collect(dir);
    for (const [rel, bytes] of files) {
      await fsp.mkdir(path.dirname(path.join(other.dir, rel)), { recursive: true });
      await fsp.writeFile(path.join(other.dir, rel), bytes);
    }
    await add(other.repo, { all: true });
    const theirs = await commit(other.repo, { message: "same files" });
    expect(theirs.tree).toBe((await repo.git.readCommit(head)).tree);
  });

  it("see their own writes before the commit, and nothing reaches the branch until it", async () => {
    const before = await resolveRevision(repo, "main");
    const s = await openWriteSession(repo, "main");
    await setPoint(s, "era.zarr", 0, 0, 99);
    const a = await zarr.open(zarr.root(s).resolve("era.zarr/t2m"), { kind: "array" });
    expect(((await zarr.get(a)).data as Float32Array)[0]).toBe(99);
    expect(await resolveRevision(repo, "main")).toBe(before);
    expect(await s.delete("README.md")).toBe(true);
    expect(await s.get("README.md")).toBeUndefined();
    const r = await s.commit("one point, no readme");
    expect(r.parent).toBe(before);
    expect((await valuesAt("main"))[0]).toBe(99);
    expect(await (await openSession(repo, "main")).get("README.md")).toBeUndefined();
    await expect(s.set("x/y", new Uint8Array(1))).rejects.toSatisfy((e: unknown) => isTdvError(e, "SessionStateError"));
  });

  it("rebase onto a branch that moved when the chunks are disjoint, and merge a chunk both changed element by element", async () => {
    const a = await openWriteSession(repo, "main");
    const b = await openWriteSession(repo, "main");
    await setPoint(a, "era.zarr", 0, 0, -1); // chunk [0,0]
    await setPoint(b, "era.zarr", 7, 7, -2); // chunk [1,1]: disjoint
    await setPoint(b, "era.zarr", 1, 1, -3); // chunk [0,0] too, another element
    await a.commit("a");
    const r = await b.commit("b");
    expect(r.rebased).toBe(1);
    expect(r.merged).toEqual(["era.zarr/t2m/c/0/0"]);
    const v = await valuesAt("main");
    expect([v[0], v[63], v[9]]).toEqual([-1, -2, -3]);
    const log = await repo.git.readCommit(r.commit);
    expect(log.parents).toHaveLength(1); // rebased: a linear history, no merge commit
    expect((await repo.git.readCommit(log.parents[0]!)).message).toMatch(/^a\n/);
  });

  it("refuse an element both changed, naming the chunk, and keep the session for a decision", async () => {
    const a = await openWriteSession(repo, "main");
    const b = await openWriteSession(repo, "main");
    await setPoint(a, "era.zarr", 2, 2, 5);
    await setPoint(b, "era.zarr", 2, 2, 6);
    const landed = await a.commit("a");
    const err = await b.commit("b").catch((e: unknown) => e);
    expect(isTdvError(err, "SessionConflictError")).toBe(true);
    expect((err as Error).message).toContain("era.zarr/t2m/c/0/0");
    expect(await resolveRevision(repo, "main")).toBe(landed.commit);
    // the session is intact: its own write is still what it reads, and it can commit elsewhere
    const arr = await zarr.open(zarr.root(b).resolve("era.zarr/t2m"), { kind: "array" });
    expect(((await zarr.get(arr)).data as Float32Array)[2 * 8 + 2]).toBe(6);
    b.close();
  });

  it("fork into tokens that other repository handles write through, gathered into one commit", async () => {
    const parent = await openWriteSession(repo, "main");
    const token = JSON.parse(JSON.stringify(parent.fork()));
    const sets = [];
    for (const [i, j, v] of [
      [0, 0, 100],
      [4, 4, 200],
    ] as const) {
      const worker = await openWriteSession((await Repository.open({ dir, durability: "none" })) as Repository, token);
      await setPoint(worker, "era.zarr", i, j, v);
      sets.push(JSON.parse(JSON.stringify(worker.changeSet())));
      worker.close();
    }
    await parent.absorb(sets);
    const r = await parent.commit("two workers");
    const v = await valuesAt(r.commit);
    expect([v[0], v[4 * 8 + 4]]).toEqual([100, 200]);
    // a change set naming an object the repository lacks is refused
    const s = await openWriteSession(repo, "main");
    const bogus = { ...s.changeSet(), changes: [{ path: "era.zarr/t2m/c/1/0", store: "chunk" as const, id: "0".repeat(64), size: 4 }] };
    await expect(s.absorb([bogus])).rejects.toThrow(/lacks/);
    s.close();
  });

  it("gather change sets as each fork finishes, in calls that overlap, and refuse a path two of them wrote differently", async () => {
    const parent = await openWriteSession(repo, "main");
    const token = JSON.parse(JSON.stringify(parent.fork()));
    const setOf = async (i: number, j: number, v: number) => {
      const worker = await openWriteSession((await Repository.open({ dir, durability: "none" })) as Repository, token);
      await setPoint(worker, "era.zarr", i, j, v);
      const set = JSON.parse(JSON.stringify(worker.changeSet()));
      worker.close();
      return set;
    };
    const [a, b, c] = [await setOf(0, 0, 1), await setOf(4, 4, 2), await setOf(1, 1, 3)];
    // a and c write the same chunk ([0,0]) differently: whichever call's checks end second is refused, in calls at once
    const calls = await Promise.allSettled([parent.absorb([a]), parent.absorb([b]), parent.absorb([c])]);
    expect(calls.map((r) => r.status).sort()).toEqual(["fulfilled", "fulfilled", "rejected"]);
    const refused = calls.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(isTdvError(refused.reason, "SessionConflictError")).toBe(true);
    expect(String(refused.reason.message)).toContain("era.zarr/t2m/c/0/0");
    const r = await parent.commit("two of three");
    const v = await valuesAt(r.commit);
    expect(v[4 * 8 + 4]).toBe(2);
    // one of the two chunks, whole: a's (element [0,0] = 1) or c's (element [1,1] = 3), never both
    expect([v[0] === 1, v[9] === 3].filter(Boolean)).toHaveLength(1);
  });

  it("start a new branch and refuse keys that are not canonical or reserved", async () => {
    const s = await openWriteSession(repo, "pipelines/new");
    expect(s.base).toBeNull();
    await makeArray(s, "new.zarr", () => 1);
    const r = await s.commit("a new branch");
    expect(r.parent).toBeNull();
    expect(await valuesAt("pipelines/new", "new.zarr")).toEqual(new Array(64).fill(1));
    const t = await openWriteSession(repo, "main");
    for (const bad of ["../x", "a//b", ".tdv/config", "era.zarr/t2m/.tdv-manifest/0", "/"]) {
      const err = await t.set(bad, new Uint8Array(1)).catch((e: unknown) => e);
      expect(isTdvError(err), bad).toBe(true);
    }
    t.close();
  });
});

async function collect(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const visit = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      if (e.name === ".tdv") continue;
      const abs = path.join(d, e.name);
      if (e.isDirectory()) await visit(abs);
      else out.set(path.relative(root, abs), await fsp.readFile(abs));
    }
  };
  await visit(root);
  return out;
}
