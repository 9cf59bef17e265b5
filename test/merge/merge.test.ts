import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  add,
  isTdvError,
  log,
  merge,
  mergeAbort,
  mergeContinue,
  reset,
  resolveConflicts,
  status,
  switchBranch,
  type ChunkBothChanged,
  type MergeResult,
} from "../../src/index.js";
import { listFiles } from "../helpers/fixture.js";
import { commitAll, diverge, editAttrs, editMeta, flat, repoFrom, setBox, setPoints, values } from "./helpers.js";

const SST = [6, 16, 24];
const at = (v: unknown[], coords: number[]) => v[flat(SST, coords)];

function expectKind<K extends MergeResult["kind"]>(r: MergeResult, kind: K): asserts r is Extract<MergeResult, { kind: K }> {
  expect(r.kind).toBe(kind);
}

describe("merge: chunks", () => {
  it("two branches editing different chunks merge cleanly into a commit with two parents", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,0,0": 1.5 }), // chunk c/0/0/0
      () => setPoints(dir, sst, { "5,15,23": 2.5 }), // chunk c/2/1/2
    );
    const head = (await repo.refs.head()).oid;
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "merged");
    expect(r.commit?.parents).toEqual([head, await repo.refs.read("refs/heads/feature")]);
    expect(r.summary.chunksMerged).toBe(0);
    const v = await values(dir, sst);
    expect(at(v, [0, 0, 0])).toBe(1.5);
    expect(at(v, [5, 15, 23])).toBe(2.5);
    expect((await status(repo)).clean).toBe(true);
    expect((await log(repo)).map((e) => e.message.split("\n")[0])).toEqual(["Merge branch 'feature'", "ours", "theirs", "import"]);
  });

  it("the same chunk edited in different elements merges element by element, re-encoded with the array's codecs", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    const before = await values(dir, sst);
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,0,0": 10, "1,7,7": Number.NaN }),
      () => setPoints(dir, sst, { "0,0,1": 20, "1,6,7": 30 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "merged");
    expect(r.summary.chunksMerged).toBe(1);
    const v = await values(dir, sst);
    expect(at(v, [0, 0, 0])).toBe(10);
    expect(at(v, [0, 0, 1])).toBe(20);
    expect(at(v, [1, 6, 7])).toBe(30);
    expect(Number.isNaN(at(v, [1, 7, 7]) as number)).toBe(true);
    // every other element is as before (NaN equals NaN)
    const changed = new Set([[0, 0, 0], [0, 0, 1], [1, 6, 7], [1, 7, 7]].map((c) => flat(SST, c)));
    for (let i = 0; i < v.length; i++) {
      if (changed.has(i)) continue;
      const [a, b] = [v[i] as number, before[i] as number];
      if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) throw new Error(`element ${i} changed: ${b} → ${a}`);
    }
    // a new chunk file, gzip-compressed (zarrita's own gzip decoder read it above)
    const chunk = await fsp.readFile(path.join(dir, sst, "c/0/0/0"));
    expect([...chunk.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect((await status(repo)).clean).toBe(true);
  });

  it("an element changed on both sides to different values is a conflict: status lists it, resolve settles it, --continue commits", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    const base = at(await values(dir, sst), [0, 3, 4]);
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,3,4": 11, "0,0,0": 1 }),
      () => setPoints(dir, sst, { "0,3,4": 22, "0,0,1": 2 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect(r.conflicts).toHaveLength(1);
    const [open] = r.conflicts;
    const c = open!.conflict as ChunkBothChanged;
    expect(c._tag).toBe("ChunkBothChanged");
    expect(c.chunk).toEqual([0, 0, 0]);
    expect(open!.elements).toEqual({ count: 1, examples: [{ coords: [0, 3, 4], values: { base, ours: 11, theirs: 22 } }] });

    // the working copy holds the clean part of the merge, ours for the conflicting element
    let v = await values(dir, sst);
    expect([at(v, [0, 3, 4]), at(v, [0, 0, 0]), at(v, [0, 0, 1])]).toEqual([11, 1, 2]);
    const st = await status(repo);
    expect(st.merge?.name).toBe("feature");
    expect(st.merge?.conflicts.map((x) => [x.conflict._tag, x.resolved])).toEqual([["ChunkBothChanged", false]]);
    await expect(mergeContinue(repo)).rejects.toSatisfy((e) => isTdvError(e, "UnresolvedConflictsError") && /chunk \[0,0,0\]/.test((e as Error).message));

    const res = await resolveConflicts(repo, { path: sst, chunk: [0, 0, 0], side: "theirs" });
    expect(res.remaining).toBe(0);
    v = await values(dir, sst);
    expect([at(v, [0, 3, 4]), at(v, [0, 0, 0]), at(v, [0, 0, 1])]).toEqual([22, 1, 2]);
    const done = await mergeContinue(repo);
    expect(done.parents).toHaveLength(2);
    expect((await status(repo)).merge).toBeUndefined();
    expect((await status(repo)).clean).toBe(true);
  });

  it("--strategy ours / theirs settles conflicting elements for that side and still merges the rest", async () => {
    for (const side of ["ours", "theirs"] as const) {
      const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
      const sst = `${store}/sst`;
      await diverge(
        repo,
        dir,
        () => setPoints(dir, sst, { "0,3,4": 11, "0,0,0": 1 }),
        () => setPoints(dir, sst, { "0,3,4": 22, "0,0,1": 2 }),
      );
      const r = await merge(repo, { rev: "feature", strategy: side });
      expectKind(r, "merged");
      const v = await values(dir, sst);
      expect([at(v, [0, 3, 4]), at(v, [0, 0, 0]), at(v, [0, 0, 1])]).toEqual([side === "ours" ? 11 : 22, 1, 2]);
    }
  });

  it("resolve a whole array with --ours", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,0,0": 1, "5,15,23": 3 }),
      () => setPoints(dir, sst, { "0,0,0": 2, "5,15,23": 4 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect(r.conflicts.map((c) => (c.conflict as ChunkBothChanged).chunk)).toEqual([[0, 0, 0], [2, 1, 2]]);
    const res = await resolveConflicts(repo, { path: sst, side: "ours" });
    expect(res.resolved).toHaveLength(2);
    await mergeContinue(repo);
    const v = await values(dir, sst);
    expect([at(v, [0, 0, 0]), at(v, [5, 15, 23])]).toEqual([1, 3]);
  });

  it("a conflict edited by hand in the working copy and staged with add counts as resolved", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,0,0": 1 }),
      () => setPoints(dir, sst, { "0,0,0": 2 }),
    );
    expectKind(await merge(repo, { rev: "feature" }), "conflicts");
    await setPoints(dir, sst, { "0,0,0": 1.5 });
    await add(repo, { paths: [sst] });
    expect((await status(repo)).merge?.conflicts.every((c) => c.resolved)).toBe(true);
    await mergeContinue(repo);
    expect(at(await values(dir, sst), [0, 0, 0])).toBe(1.5);
  });

  it("--abort restores the working files, the index and HEAD byte for byte", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,0,0": 1 }),
      async () => {
        await setPoints(dir, sst, { "0,0,0": 2, "3,3,3": 7 });
        await fsp.writeFile(path.join(dir, store, "NOTES.md"), "theirs' notes\n");
        await setPoints(dir, `${store}/depth`, { "1": 99 });
      },
    );
    await fsp.writeFile(path.join(dir, "untracked.txt"), "mine\n");
    const files = await listFiles(dir);
    const index = await fsp.readFile(repo.indexFile);
    const head = await repo.refs.head();
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect((await listFiles(dir)).has(`${store}/NOTES.md`)).toBe(true);
    await setPoints(dir, sst, { "2,2,2": 5 }); // a local edit during the merge is discarded too

    await mergeAbort(repo);
    const after = await listFiles(dir);
    expect([...after.keys()]).toEqual([...files.keys()]);
    for (const [p, bytes] of files) expect(after.get(p)!.equals(bytes), p).toBe(true);
    expect((await fsp.readFile(repo.indexFile)).equals(index)).toBe(true);
    expect(await repo.refs.head()).toEqual(head);
    const st = await status(repo);
    expect(st.merge).toBeUndefined();
    expect(st.staged).toEqual([]);
    expect(st.unstaged).toEqual([]);
    await expect(fsp.access(path.join(repo.git.gitdir, "MERGE_HEAD"))).rejects.toThrow();
  });
});

describe("merge: ending a stopped merge otherwise", () => {
  it("reset ends it, as in git (MERGE_HEAD and the state go away)", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    await diverge(repo, dir, () => setPoints(dir, `${store}/sst`, { "0,0,0": 1 }), () => setPoints(dir, `${store}/sst`, { "0,0,0": 2 }));
    expectKind(await merge(repo, { rev: "feature" }), "conflicts");
    expect((await status(repo)).merge).toBeDefined();
    await reset(repo, { rev: "HEAD", mode: "hard" });
    expect((await status(repo)).merge).toBeUndefined();
    expect((await status(repo)).clean).toBe(true);
    await expect(fsp.access(path.join(repo.git.gitdir, "MERGE_HEAD"))).rejects.toThrow();
  });
});

describe("merge: fast-forward", () => {
  it("fast-forwards when HEAD is behind, refuses --ff-only when diverged, --no-ff makes a merge commit", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    const main0 = (await repo.refs.head()).oid;
    await switchBranch(repo, { name: "feature", create: true });
    await setPoints(dir, sst, { "0,0,0": 1 });
    const f1 = await commitAll(repo, "feature work");
    await switchBranch(repo, { name: "main" });

    const dry = await merge(repo, { rev: "feature", dryRun: true });
    expectKind(dry, "fast-forward");
    expect((await repo.refs.head()).oid).toBe(main0);

    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "fast-forward");
    expect(r.changes.arrays.map((a) => [a.path, a.chunks.modified])).toEqual([[sst, 1]]);
    expect((await repo.refs.head()).oid).toBe(f1.oid);
    expect(at(await values(dir, sst), [0, 0, 0])).toBe(1);
    expect((await status(repo)).clean).toBe(true);
    expectKind(await merge(repo, { rev: "feature" }), "up-to-date");

    // diverge: --ff-only refuses, nothing moves
    await switchBranch(repo, { name: "feature" });
    await setPoints(dir, sst, { "5,0,0": 2 });
    await commitAll(repo, "more feature work");
    await switchBranch(repo, { name: "main" });
    await setPoints(dir, sst, { "5,15,0": 3 });
    const m = await commitAll(repo, "main work");
    await expect(merge(repo, { rev: "feature", ff: "only" })).rejects.toSatisfy((e) => isTdvError(e, "NotFastForwardError"));
    expect((await repo.refs.head()).oid).toBe(m.oid);

    // --no-ff on a fast-forwardable merge
    await switchBranch(repo, { name: "behind", create: true, start: f1.oid });
    const nf = await merge(repo, { rev: "main", ff: "no" });
    expectKind(nf, "merged");
    expect(nf.commit?.parents).toEqual([f1.oid, m.oid]);
    expect(nf.commit?.tree).toBe((await repo.git.readCommit(m.oid)).tree);
  });

  it("refuses to start with local changes to tracked files, naming them", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    await diverge(repo, dir, () => setPoints(dir, `${store}/sst`, { "0,0,0": 1 }), () => setPoints(dir, `${store}/sst`, { "5,0,0": 1 }));
    await setPoints(dir, `${store}/depth`, { "0": 5 });
    const err = await merge(repo, { rev: "feature" }).catch((e: unknown) => e);
    expect(isTdvError(err, "LocalChangesError")).toBe(true);
    expect((err as Error).message).toContain(`${store}/depth/c/0`);
  });

  it("refuses when an untracked file is where the merge writes one, and changes nothing", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    await diverge(
      repo,
      dir,
      () => setPoints(dir, `${store}/sst`, { "0,0,0": 1 }),
      async () => {
        await setPoints(dir, `${store}/sst`, { "0,0,1": 2 });
        await fsp.writeFile(path.join(dir, "notes.txt"), "theirs\n");
      },
    );
    await fsp.writeFile(path.join(dir, "notes.txt"), "mine, untracked\n");
    const head = await repo.refs.head();
    const files = await listFiles(dir);
    const err = await merge(repo, { rev: "feature" }).catch((e: unknown) => e);
    expect(isTdvError(err, "LocalChangesError")).toBe(true);
    expect((err as Error).message).toMatch(/untracked files would be overwritten by the merge:\n {2}notes\.txt/);
    expect(await repo.refs.head()).toEqual(head);
    const after = await listFiles(dir);
    expect([...after.keys()]).toEqual([...files.keys()]);
    for (const [p, b] of files) expect(after.get(p)!.equals(b), p).toBe(true);
    expect((await status(repo)).merge).toBeUndefined();
  });
});

describe("merge: metadata and structure", () => {
  it("an array grown on one side (appended time steps) merges with chunk edits on the other", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const depth = `${store}/depth`; // int32, 10 in chunks of 4: chunk 2 holds 2 values
    const before = (await values(dir, depth)) as number[];
    await diverge(
      repo,
      dir,
      () => setPoints(dir, depth, { "0": 100, "8": 108 }),
      async () => {
        await editMeta(dir, depth, (d) => {
          d.shape = [14];
        });
        await setBox(dir, depth, [[10, 14]], ([i]) => 1000 + i!);
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "merged");
    const v = (await values(dir, depth)) as number[];
    expect(v).toEqual([100, ...before.slice(1, 8), 108, before[9], 1010, 1011, 1012, 1013]);
  });

  it("attributes merge key by key; the same key changed differently conflicts and resolves", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      () => editAttrs(dir, sst, (a) => Object.assign(a, { comment: "ours", units: "K" })),
      () => editAttrs(dir, sst, (a) => Object.assign(a, { source: "theirs", units: "Celsius" })),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect(r.conflicts.map((c) => c.conflict)).toEqual([
      { _tag: "AttrBothChanged", node: sst, path: `${sst}/zarr.json`, key: "units", values: { base: "degC", ours: "K", theirs: "Celsius" } },
    ]);
    const doc = JSON.parse(await fsp.readFile(path.join(dir, sst, "zarr.json"), "utf8"));
    expect(doc.attributes).toMatchObject({ comment: "ours", source: "theirs", units: "K" });
    await resolveConflicts(repo, { path: sst, side: "theirs" });
    await mergeContinue(repo);
    const merged = JSON.parse(await fsp.readFile(path.join(dir, sst, "zarr.json"), "utf8"));
    expect(merged.attributes).toMatchObject({ comment: "ours", source: "theirs", units: "Celsius", standard_name: "sea_surface_temperature" });
  });

  it("a data type changed differently on both sides is a conflict that says what each side did", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const depth = `${store}/depth`;
    await diverge(
      repo,
      dir,
      () => editMeta(dir, depth, (d) => {
        d.data_type = "int64";
      }),
      () => editMeta(dir, depth, (d) => {
        d.data_type = "float64";
      }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    const c = r.conflicts[0]!.conflict;
    expect(c._tag).toBe("MetaBothChanged");
    if (c._tag !== "MetaBothChanged") return;
    expect(c.key).toBe("data_type");
    expect(c.scope).toBe("array");
    expect(c.ours).toBe('data_type "int32" → "int64"');
    expect(c.theirs).toBe('data_type "int32" → "float64"');
    expect(c.message).toContain("changed differently on both sides");
    await resolveConflicts(repo, { path: depth, side: "theirs" });
    await mergeContinue(repo);
    expect(JSON.parse(await fsp.readFile(path.join(dir, depth, "zarr.json"), "utf8")).data_type).toBe("float64");
  });

  it("codecs changed on one side while the other changed chunks is a whole-array conflict saying what each did", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const depth = `${store}/depth`;
    await diverge(
      repo,
      dir,
      () => editMeta(dir, depth, (d) => {
        d.codecs = [{ name: "bytes", configuration: { endian: "little" } }, { name: "zstd", configuration: { level: 3 } }];
      }),
      () => setPoints(dir, depth, { "5": 1 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    const c = r.conflicts[0]!.conflict;
    expect(c).toMatchObject({ _tag: "MetaBothChanged", array: depth, key: "codecs", scope: "array" });
    if (c._tag !== "MetaBothChanged") return;
    expect(c.message).toBe(`${depth}: ours re-encoded the array (codecs bytes(endian=little) → bytes(endian=little), zstd(level=3)) while theirs changed 1 chunk`);
    await resolveConflicts(repo, { path: depth, side: "theirs" });
    await mergeContinue(repo);
    expect((await values(dir, depth))[5]).toBe(1);
  });

  it("deleting an array the other side changed is a conflict; the changed version stays in the working copy", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const depth = `${store}/depth`;
    await diverge(
      repo,
      dir,
      () => fsp.rm(path.join(dir, depth), { recursive: true }),
      () => setPoints(dir, depth, { "1": 42 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect(r.conflicts.map((c) => c.conflict)).toEqual([{ _tag: "DeleteOfChanged", path: depth, array: true, deletedBy: "ours", changed: [`${depth}/c/0`] }]);
    expect((await values(dir, depth))[1]).toBe(42);
    await resolveConflicts(repo, { path: depth, side: "ours" });
    await mergeContinue(repo);
    await expect(fsp.access(path.join(dir, depth))).rejects.toThrow();
  });

  it("arrays and files added on one side and plain files changed on the other merge as expected", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    await diverge(
      repo,
      dir,
      () => fsp.writeFile(path.join(dir, "README.md"), "ours\n"),
      async () => {
        await fsp.cp(path.join(dir, store, "depth"), path.join(dir, store, "depth2"), { recursive: true });
        await fsp.writeFile(path.join(dir, "notes.txt"), "theirs\n");
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "merged");
    const files = await listFiles(dir);
    expect(files.get("README.md")?.toString()).toBe("ours\n");
    expect(files.get("notes.txt")?.toString()).toBe("theirs\n");
    expect(await values(dir, `${store}/depth2`)).toEqual(await values(dir, `${store}/depth`));
  });
});

describe("merge: Zarr v2 (zarr-python fixtures)", () => {
  it("merges a blosc float32 chunk with NaNs and a gzip int64 chunk element by element", async () => {
    const { repo, dir, store } = await repoFrom("v2/weather.zarr");
    const t = `${store}/temperature`; // 12×20×30 in 4×10×10, blosc lz4, NaN fill
    const s = `${store}/station_id`; // int64, 20 in 8, gzip
    const tBefore = await values(dir, t);
    await diverge(
      repo,
      dir,
      async () => {
        await setPoints(dir, t, { "0,0,0": -5 });
        await setPoints(dir, s, { "0": 7n });
      },
      async () => {
        await setPoints(dir, t, { "3,9,9": -6 });
        await setPoints(dir, s, { "7": 9n });
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "merged");
    expect(r.summary.chunksMerged).toBe(2);
    const tv = await values(dir, t);
    const T = [12, 20, 30];
    expect(tv[flat(T, [0, 0, 0])]).toBe(-5);
    expect(tv[flat(T, [3, 9, 9])]).toBe(-6);
    let nans = 0;
    for (let i = 0; i < tv.length; i++) {
      if (i === flat(T, [0, 0, 0]) || i === flat(T, [3, 9, 9])) continue;
      const [a, b] = [tv[i] as number, tBefore[i] as number];
      if (Number.isNaN(b)) nans++;
      expect(a === b || (Number.isNaN(a) && Number.isNaN(b))).toBe(true);
    }
    expect(nans).toBeGreaterThan(0);
    const sv = await values(dir, s);
    expect([sv[0], sv[7]]).toEqual([7n, 9n]);
  });
});
