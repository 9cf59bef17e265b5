/**
 * Issue 15, items 3-5: chunks left outside the merged grid, criss-cross
 * history (several merge bases), and strategies that would discard the other
 * side's edits of a chunk that cannot merge element by element.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isTdvError, merge, mergeContinue, resolveConflicts, status, switchBranch, type MergeResult } from "../../src/index.js";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, makeFixture } from "../helpers/fixture.js";
import { commitAll, diverge, editAttrs, editMeta, repoFrom, setBox, setPoints, values } from "./helpers.js";

function expectKind<K extends MergeResult["kind"]>(r: MergeResult, kind: K): asserts r is Extract<MergeResult, { kind: K }> {
  expect(r.kind).toBe(kind);
}

describe("merge: chunks outside the merged grid (issue 15.3)", () => {
  it("ours shrinks the array, theirs writes past the new end: theirs' chunk is dropped and reported; growing again shows the fill value", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const depth = `${store}/depth`; // int32 [10] in chunks of 4, fill -1
    await fsp.rm(path.join(dir, depth, "c/2")); // elements 8 and 9: the fill value, no chunk file
    await commitAll(repo, "clear the last chunk");
    await diverge(
      repo,
      dir,
      () => editMeta(dir, depth, (d) => {
        d.shape = [8];
      }),
      () => setPoints(dir, depth, { "9": 99 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "merged");
    expect(r.summary.dropped).toEqual([{ array: depth, chunk: [2], path: `${depth}/c/2`, from: "theirs" }]);
    expect((await listFiles(dir)).has(`${depth}/c/2`)).toBe(false);
    // the array grows again: the dropped values do not come back
    await editMeta(dir, depth, (d) => {
      d.shape = [10];
    });
    expect((await values(dir, depth)).slice(8)).toEqual([-1, -1]);
  });

  it("--strategy theirs on rows-vs-columns growth drops ours' new rows outside theirs' shape", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`; // [6,16,24] in [2,8,8]
    await diverge(
      repo,
      dir,
      async () => {
        await editMeta(dir, sst, (d) => {
          d.shape = [6, 24, 24];
        });
        await setBox(dir, sst, [[0, 6], [16, 24], [0, 24]], () => 1);
      },
      async () => {
        await editMeta(dir, sst, (d) => {
          d.shape = [6, 16, 32];
        });
        await setBox(dir, sst, [[0, 6], [0, 16], [24, 32]], () => 2);
      },
    );
    expectKind(await merge(repo, { rev: "feature", dryRun: true }), "conflicts");
    const r = await merge(repo, { rev: "feature", strategy: "theirs" });
    expectKind(r, "merged");
    const rows = [...(await listFiles(dir)).keys()].filter((p) => p.startsWith(`${sst}/c/`) && p.split("/").at(-2) === "2");
    expect(rows).toEqual([]);
    expect(r.summary.dropped.map((d) => d.chunk.join(","))).toEqual(["0,2,0", "0,2,1", "0,2,2", "1,2,0", "1,2,1", "1,2,2", "2,2,0", "2,2,1", "2,2,2"]);
    expect(r.summary.dropped.every((d) => d.from === "ours")).toBe(true);
    const doc = JSON.parse(await fsp.readFile(path.join(dir, sst, "zarr.json"), "utf8"));
    expect(doc.shape).toEqual([6, 16, 32]);
  });

  it("a shape conflict left open keeps both sides' chunks; tdv resolve --theirs drops those outside the settled shape", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      async () => {
        await editMeta(dir, sst, (d) => {
          d.shape = [6, 24, 24];
        });
        await setBox(dir, sst, [[0, 6], [16, 24], [0, 24]], () => 1);
      },
      async () => {
        await editMeta(dir, sst, (d) => {
          d.shape = [6, 16, 32];
        });
        await setBox(dir, sst, [[0, 6], [0, 16], [24, 32]], () => 2);
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect(r.summary.dropped).toEqual([]);
    const rowFiles = async () => [...(await listFiles(dir)).keys()].filter((p) => p.startsWith(`${sst}/c/`) && p.split("/").at(-2) === "2");
    expect(await rowFiles()).toHaveLength(9); // ours' rows stay while the shape is open
    const res = await resolveConflicts(repo, { path: sst, side: "theirs" });
    expect(res.remaining).toBe(0);
    expect(res.dropped).toHaveLength(9);
    expect(res.deleted).toEqual(expect.arrayContaining(res.dropped.map((d) => d.path)));
    expect(await rowFiles()).toEqual([]);
    await mergeContinue(repo);
    expect((await status(repo)).clean).toBe(true);
  });
});

/** A v2 array whose codec no one can decode: its chunks cannot merge element by element. */
async function opaqueArray(dir: string, name: string): Promise<void> {
  const a = path.join(dir, name);
  await fsp.mkdir(a, { recursive: true });
  const zarray = { zarr_format: 2, shape: [8], chunks: [4], dtype: "<i4", compressor: { id: "tdv-test-opaque" }, fill_value: 0, filters: null, order: "C" };
  await fsp.writeFile(path.join(a, ".zarray"), JSON.stringify(zarray));
  await fsp.writeFile(path.join(a, "0"), "base chunk 0");
  await fsp.writeFile(path.join(a, "1"), "base chunk 1");
}

describe("merge: chunks that cannot merge element by element (issue 15.5)", () => {
  it("--strategy refuses to discard the other side's edits without --discard-other-edits; with it, lists them", async () => {
    const { repo, dir } = await repoFrom("v3/ocean.zarr");
    await opaqueArray(dir, "opaque");
    await commitAll(repo, "opaque array");
    await diverge(
      repo,
      dir,
      () => fsp.writeFile(path.join(dir, "opaque/0"), "ours chunk 0"),
      async () => {
        await fsp.writeFile(path.join(dir, "opaque/0"), "theirs chunk 0");
        await fsp.writeFile(path.join(dir, "opaque/1"), "theirs chunk 1");
      },
    );
    const before = await listFiles(dir);
    const head = await repo.refs.head();
    const err = await merge(repo, { rev: "feature", strategy: "ours" }).catch((e: unknown) => e);
    expect(isTdvError(err, "OtherEditsDiscardedError")).toBe(true);
    expect((err as { chunks: { path: string; kept: string }[] }).chunks).toEqual([expect.objectContaining({ path: "opaque/0", kept: "ours", array: "opaque", chunk: [0] })]);
    expect((err as { hint: string }).hint).toContain("--discard-other-edits");
    expect(await repo.refs.head()).toEqual(head);
    const after = await listFiles(dir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [p, b] of before) expect(after.get(p)!.equals(b), p).toBe(true);
    await expect(fsp.access(path.join(dir, ".tdv/MERGE_STATE.json"))).rejects.toThrow();

    const r = await merge(repo, { rev: "feature", strategy: "ours", discardOtherEdits: true });
    expectKind(r, "merged");
    expect(r.summary.discarded).toEqual([expect.objectContaining({ path: "opaque/0", kept: "ours", discarded: "theirs" })]);
    const files = await listFiles(dir);
    expect(files.get("opaque/0")?.toString()).toBe("ours chunk 0");
    expect(files.get("opaque/1")?.toString()).toBe("theirs chunk 1");
  });

  it("tdv resolve lists what it discards and needs --discard-other-edits too", async () => {
    const { repo, dir } = await repoFrom("v3/ocean.zarr");
    await opaqueArray(dir, "opaque");
    await commitAll(repo, "opaque array");
    await diverge(
      repo,
      dir,
      () => fsp.writeFile(path.join(dir, "opaque/0"), "ours chunk 0"),
      () => fsp.writeFile(path.join(dir, "opaque/0"), "theirs chunk 0"),
    );
    const r = await merge(repo, { rev: "feature" });
    expectKind(r, "conflicts");
    expect(r.conflicts[0]!.reasons.join(" ")).toContain("cannot merge element by element");
    const err = await resolveConflicts(repo, { path: "opaque", side: "theirs" }).catch((e: unknown) => e);
    expect(isTdvError(err, "OtherEditsDiscardedError")).toBe(true);
    expect((await listFiles(dir)).get("opaque/0")?.toString()).toBe("ours chunk 0");
    const res = await resolveConflicts(repo, { path: "opaque", side: "theirs", discardOtherEdits: true });
    expect(res.discarded).toEqual([expect.objectContaining({ path: "opaque/0", kept: "theirs", discarded: "ours" })]);
    await mergeContinue(repo);
    expect((await listFiles(dir)).get("opaque/0")?.toString()).toBe("theirs chunk 0");
  });

  it("CLI: refuses with exit 1 naming the chunk; --discard-other-edits lists it in the summary and --json", async () => {
    const dir = path.dirname(await makeFixture("v3/ocean.zarr"));
    await opaqueArray(dir, "opaque");
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "import"]);
    await tdvOk(dir, ["switch", "-c", "feature"]);
    await fsp.writeFile(path.join(dir, "opaque/0"), "theirs chunk 0");
    await tdvOk(dir, ["commit", "-a", "-m", "theirs"]);
    await tdvOk(dir, ["switch", "main"]);
    await fsp.writeFile(path.join(dir, "opaque/0"), "ours chunk 0");
    await tdvOk(dir, ["commit", "-a", "-m", "ours"]);
    const no = await tdv(dir, ["merge", "--strategy", "theirs", "feature"]);
    expect(no.code).toBe(1);
    expect(no.stderr).toContain("opaque chunk [0]");
    expect(no.stderr).toContain("--discard-other-edits");
    const json = await tdvJson<{ kind: string; summary: { discarded: { path: string; kept: string }[] } }>(dir, ["merge", "--dry-run", "--json", "--strategy", "theirs", "--discard-other-edits", "feature"]);
    expect(json.summary.discarded.map((d) => [d.path, d.kept])).toEqual([["opaque/0", "theirs"]]);
    const yes = await tdvOk(dir, ["merge", "--strategy", "theirs", "--discard-other-edits", "feature"]);
    expect(yes.stdout).toMatch(/discarded ours' edits of opaque chunk \[0\]/);
    expect((await tdvOk(dir, ["merge", "--help"])).stdout).toContain("--discard-other-edits");
  });
});

describe("merge: criss-cross history (issue 15.4)", () => {
  it("two merge bases that disagree on an element: the element conflicts; the rest merges", async () => {
    const dir = path.dirname(await makeFixture("v3/ocean.zarr"));
    const D = "ocean.zarr/depth"; // int32 [10] in chunks of 4
    await tdvOk(dir, ["init"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "import"]);
    await tdvOk(dir, ["branch", "B"]);
    await setPoints(dir, D, { "1": 1 });
    await tdvOk(dir, ["commit", "-a", "-m", "a1"]);
    await tdvOk(dir, ["tag", "a1"]);
    await tdvOk(dir, ["switch", "B"]);
    await setPoints(dir, D, { "1": 2 });
    await tdvOk(dir, ["commit", "-a", "-m", "b1"]);
    // each side merges the other's earlier work, resolving the element its own way
    await tdvOk(dir, ["switch", "main"]);
    await tdvOk(dir, ["merge", "--strategy", "ours", "B"]);
    await tdvOk(dir, ["switch", "B"]);
    await tdvOk(dir, ["merge", "--strategy", "ours", "a1"]);
    await setPoints(dir, D, { "3": 7, "5": 55 }); // more work on B, in the disputed chunk and another
    await tdvOk(dir, ["commit", "-a", "-m", "b2"]);
    await tdvOk(dir, ["switch", "main"]);
    expect((await values(dir, D))[1]).toBe(1);

    const m = await tdv(dir, ["merge", "B"]);
    expect(m.code, m.stdout + m.stderr).toBe(1);
    expect(m.stdout).toContain("CONFLICT (chunk): ocean.zarr/depth chunk [0]");
    expect(m.stdout).toMatch(/merge bases/);
    expect((await values(dir, D))[5]).toBe(55); // merged cleanly
    const r = await tdvOk(dir, ["resolve", D, "--chunk", "0", "--theirs"]);
    expect(r.stdout).toContain("Resolved 1 conflict");
    await tdvOk(dir, ["merge", "--continue"]);
    const v = await values(dir, D);
    expect([v[1], v[3], v[5]]).toEqual([2, 7, 55]);

    // same history, --strategy ours: the element takes ours, B's other edits stay
    await tdvOk(dir, ["reset", "--hard", "HEAD~1"]);
    await tdvOk(dir, ["merge", "--strategy", "ours", "B"]);
    const w = await values(dir, D);
    expect([w[1], w[3], w[5]]).toEqual([1, 7, 55]);
  });

  it("a metadata document the merge bases disagree on merges key by key: only the disputed key conflicts", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    await switchBranch(repo, { name: "B", create: true });
    await switchBranch(repo, { name: "main" });
    await editAttrs(dir, store, (a) => {
      a.title = "main's";
    });
    const a1 = await commitAll(repo, "a1");
    await switchBranch(repo, { name: "B" });
    await editAttrs(dir, store, (a) => {
      a.title = "B's";
    });
    await commitAll(repo, "b1");
    // each side merges the other's earlier work, keeping its own title
    expectKind(await merge(repo, { rev: a1.oid, strategy: "ours" }), "merged");
    await switchBranch(repo, { name: "main" });
    expectKind(await merge(repo, { rev: "B~1", strategy: "ours" }), "merged");
    await switchBranch(repo, { name: "B" });
    await editAttrs(dir, store, (a) => {
      a.history = "b2";
    }); // a key the bases agree on
    await commitAll(repo, "b2");
    await switchBranch(repo, { name: "main" });
    await editAttrs(dir, store, (a) => {
      a.comment = "a2";
    });
    await commitAll(repo, "a2");

    const r = await merge(repo, { rev: "B" });
    expectKind(r, "conflicts");
    expect(r.conflicts.map((o) => o.conflict)).toEqual([
      expect.objectContaining({ _tag: "AttrBothChanged", path: `${store}/zarr.json`, key: "title", values: { base: null, ours: "main's", theirs: "B's" } }),
    ]);
    const attrs = JSON.parse(await fsp.readFile(path.join(dir, store, "zarr.json"), "utf8")).attributes;
    expect([attrs.title, attrs.history, attrs.comment]).toEqual(["main's", "b2", "a2"]);
  });

  it("criss-cross history whose bases merge cleanly: a virtual base, no conflict", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const depth = `${store}/depth`;
    const base = (await values(dir, depth)) as number[];
    await switchBranch(repo, { name: "B", create: true });
    await switchBranch(repo, { name: "main" });
    await setPoints(dir, depth, { "0": 100 });
    const a1 = await commitAll(repo, "a1");
    await switchBranch(repo, { name: "B" });
    await setPoints(dir, depth, { "2": 102 });
    await commitAll(repo, "b1");
    expectKind(await merge(repo, { rev: a1.oid }), "merged");
    await switchBranch(repo, { name: "main" });
    expectKind(await merge(repo, { rev: "B~1" }), "merged");
    await switchBranch(repo, { name: "B" });
    await setPoints(dir, depth, { "3": 103 });
    await commitAll(repo, "b2");
    await switchBranch(repo, { name: "main" });
    const r = await merge(repo, { rev: "B" });
    expectKind(r, "merged");
    expect(r.summary.bases).toHaveLength(2);
    expect(((await values(dir, depth)) as number[]).slice(0, 5)).toEqual([100, base[1], 102, 103, base[4]]);
  });
});

