/**
 * The conflict values themselves (detectConflicts, solve), the history graph,
 * and merges of the less common shapes: consolidated metadata, arrays added
 * on both sides, plain files, sharded arrays, a zstd-compressed v2 array.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  detectConflicts,
  historyGraph,
  merge,
  mergeContinue,
  resolveConflicts,
  solve,
  status,
  type ChunkBothChanged,
  type Repository,
} from "../../src/index.js";
import { readEntry } from "../../src/repo/snapshot.js";
import { readCommitSnapshot } from "../../src/repo/snapshot.js";
import { listFiles } from "../helpers/fixture.js";
import { commitAll, diverge, editAttrs, flat, repoFrom, setPoints, values } from "./helpers.js";

async function inputs(repo: Repository) {
  const ours = (await repo.refs.head()).oid!;
  const theirs = (await repo.refs.read("refs/heads/feature"))!;
  const [base] = await repo.git.mergeBase(ours, theirs);
  return {
    base: await readCommitSnapshot(repo, base!),
    ours: await readCommitSnapshot(repo, ours),
    theirs: await readCommitSnapshot(repo, theirs),
    read: (p: string, e: Parameters<typeof readEntry>[2]) => readEntry(repo, p, e),
  };
}

describe("detectConflicts and solve", () => {
  it("return conflict values: a chunk changed on both sides, settled element-wise, with nothing else open", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const sst = `${store}/sst`;
    await diverge(
      repo,
      dir,
      () => setPoints(dir, sst, { "0,0,0": 1 }),
      () => setPoints(dir, sst, { "0,0,1": 2 }),
    );
    const input = await inputs(repo);
    const detection = await detectConflicts(input);
    expect(detection.conflicts).toHaveLength(1);
    const c = detection.conflicts[0] as ChunkBothChanged;
    expect(c).toMatchObject({ _tag: "ChunkBothChanged", array: sst, chunk: [0, 0, 0], path: `${sst}/c/0/0/0` });
    expect(c.entries.base?.id).not.toBe(c.entries.ours?.id);
    expect(detection.files.get(`${sst}/c/0/0/0`)?.id).toBe(c.entries.ours?.id); // provisional: ours

    const out = await solve({ ...input, detection }, { conflicts: detection.conflicts, policy: "elementwise" });
    expect(out.unsolvable).toEqual([]);
    expect(out.solved).toEqual([c]);
    const patch = out.patched.get(`${sst}/c/0/0/0`);
    expect(patch?.kind).toBe("bytes");
    // JSON round trip: conflict values are plain data (MERGE_STATE.json, a UI)
    expect(JSON.parse(JSON.stringify(detection.conflicts))).toEqual(detection.conflicts);
  });

  it("rebuilds consolidated metadata (.zmetadata) from the merged documents when both sides changed it", async () => {
    const { repo, dir, store } = await repoFrom("v2/weather.zarr");
    const consolidate = async () => {
      const zm = JSON.parse(await fsp.readFile(path.join(dir, store, ".zmetadata"), "utf8"));
      for (const k of Object.keys(zm.metadata)) zm.metadata[k] = JSON.parse(await fsp.readFile(path.join(dir, store, k), "utf8"));
      await fsp.writeFile(path.join(dir, store, ".zmetadata"), JSON.stringify(zm, null, 4));
    };
    await diverge(
      repo,
      dir,
      async () => {
        await editAttrs(dir, `${store}/temperature`, (a) => {
          a.units = "degC";
        });
        await consolidate();
      },
      async () => {
        await editAttrs(dir, `${store}/precip`, (a) => {
          a.comment = "gauge-corrected";
        });
        await editAttrs(dir, store, (a) => {
          a.history = "reprocessed";
        });
        await consolidate();
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("merged");
    const zm = JSON.parse(await fsp.readFile(path.join(dir, store, ".zmetadata"), "utf8"));
    expect(zm.metadata["temperature/.zattrs"].units).toBe("degC");
    expect(zm.metadata["precip/.zattrs"].comment).toBe("gauge-corrected");
    expect(zm.metadata[".zattrs"].history).toBe("reprocessed");
    expect(zm.zarr_consolidated_format).toBe(1);
    expect(JSON.parse(await fsp.readFile(path.join(dir, store, "temperature/.zattrs"), "utf8")).units).toBe("degC");
    // written as zarr-python writes it: 4-space indent
    expect(await fsp.readFile(path.join(dir, store, ".zmetadata"), "utf8")).toMatch(/^\{\n {4}"metadata": \{/);
  });

  it("rebuilds v3 consolidated metadata (zarr-python 3) from the merged documents, again after resolve", async () => {
    const { repo, dir, store } = await repoFrom("v3/consolidated.zarr");
    const root = path.join(dir, store, "zarr.json");
    const consolidate = async () => {
      const doc = JSON.parse(await fsp.readFile(root, "utf8"));
      for (const k of Object.keys(doc.consolidated_metadata.metadata)) {
        const child = JSON.parse(await fsp.readFile(path.join(dir, store, k, "zarr.json"), "utf8"));
        doc.consolidated_metadata.metadata[k] = { ...child, ...("consolidated_metadata" in doc.consolidated_metadata.metadata[k] ? { consolidated_metadata: doc.consolidated_metadata.metadata[k].consolidated_metadata } : {}) };
      }
      await fsp.writeFile(root, JSON.stringify(doc, null, 2));
    };
    await diverge(
      repo,
      dir,
      async () => {
        await editAttrs(dir, `${store}/pressure`, (a) => Object.assign(a, { units: "Pa", note: "ours" }));
        await consolidate();
      },
      async () => {
        await editAttrs(dir, `${store}/pressure`, (a) => {
          a.units = "bar";
        });
        await editAttrs(dir, `${store}/nested/humidity`, (a) => {
          a.units = "%";
        });
        await consolidate();
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("conflicts");
    if (r.kind !== "conflicts") return;
    expect(r.conflicts.map((c) => c.conflict._tag)).toEqual(["AttrBothChanged"]); // pressure's units, not the root document
    const listing = async () => JSON.parse(await fsp.readFile(root, "utf8")).consolidated_metadata.metadata;
    expect((await listing())["nested/humidity"].attributes.units).toBe("%");
    expect((await listing()).pressure.attributes).toMatchObject({ units: "Pa", note: "ours" });
    expect((await listing()).nested.consolidated_metadata).toEqual({ kind: "inline", must_understand: false, metadata: {} });
    await resolveConflicts(repo, { path: `${store}/pressure`, side: "theirs" });
    expect((await listing()).pressure.attributes).toMatchObject({ units: "bar", note: "ours" });
    await mergeContinue(repo);
    expect((await status(repo)).clean).toBe(true);
  });

  it("a merged .zattrs keeps each number's spelling (1.0, 1e-05, -0.0), whichever side it came from", async () => {
    const { repo, dir, store } = await repoFrom("v2/weather.zarr");
    const file = path.join(dir, store, ".zattrs");
    const py = (entries: string[]) => fsp.writeFile(file, `{\n${entries.map((e) => `    ${e}`).join(",\n")}\n}`);
    await py(['"a": 1.0', '"b": 1e-05', '"c": 3', '"z": [0.0, 2.50]']);
    await commitAll(repo, "python-style attributes");
    await diverge(
      repo,
      dir,
      () => py(['"a": 1.0', '"b": 1e-05', '"c": 3', '"d": -0.0', '"z": [0.0, 2.50]']),
      () => py(['"a": 1.0', '"b": 1e-05', '"c": 4', '"e": 7.0', '"z": [0.0, 2.50]']),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("merged");
    const text = await fsp.readFile(file, "utf8");
    expect(text).toBe('{\n    "a": 1.0,\n    "b": 1e-05,\n    "c": 4,\n    "d": -0.0,\n    "z": [\n        0.0,\n        2.50\n    ],\n    "e": 7.0\n}');
  });

  it("arrays added on both sides with different content, and plain files changed on both, are conflicts", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    const copy = (to: string) => fsp.cp(path.join(dir, store, "depth"), path.join(dir, store, to), { recursive: true });
    await diverge(
      repo,
      dir,
      async () => {
        await copy("extra");
        await setPoints(dir, `${store}/extra`, { "0": 1 });
        await fsp.writeFile(path.join(dir, "README.md"), "ours\n");
      },
      async () => {
        await copy("extra");
        await setPoints(dir, `${store}/extra`, { "0": 2 });
        await fsp.writeFile(path.join(dir, "README.md"), "theirs\n");
      },
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("conflicts");
    if (r.kind !== "conflicts") return;
    expect(r.conflicts.map((c) => c.conflict)).toEqual([
      { _tag: "ArrayAddedBoth", array: `${store}/extra`, differing: [`${store}/extra/c/0`] },
      expect.objectContaining({ _tag: "FileBothChanged", path: "README.md" }),
    ]);
    expect(await fsp.readFile(path.join(dir, "README.md"), "utf8")).toBe("ours\n");
    await resolveConflicts(repo, { path: "README.md", side: "theirs" });
    await resolveConflicts(repo, { path: `${store}/extra`, side: "theirs" });
    await mergeContinue(repo);
    expect(await fsp.readFile(path.join(dir, "README.md"), "utf8")).toBe("theirs\n");
    expect((await values(dir, `${store}/extra`))[0]).toBe(2);
    expect((await status(repo)).clean).toBe(true);
  });

  it("a shard changed on both sides conflicts element by element; resolve takes one side's shard", async () => {
    const { repo, dir, store } = await repoFrom("v3/sharded.zarr");
    const t = `${store}/temperature`; // 16×16, shards 8×8
    const shard = (k: string) => path.join(dir, t, ...k.split("/"));
    const bytes = { c10: await fsp.readFile(shard("c/1/0")), c01: await fsp.readFile(shard("c/0/1")) };
    await diverge(
      repo,
      dir,
      () => fsp.writeFile(shard("c/0/0"), bytes.c10),
      () => fsp.writeFile(shard("c/0/0"), bytes.c01),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("conflicts");
    if (r.kind !== "conflicts") return;
    const [open] = r.conflicts;
    expect(open!.conflict).toMatchObject({ _tag: "ChunkBothChanged", array: t, chunk: [0, 0] });
    expect(open!.elements!.count).toBeGreaterThan(0);
    expect((await listFiles(dir)).get(`${t}/c/0/0`)!.equals(bytes.c10)).toBe(true); // ours, provisionally
    await resolveConflicts(repo, { path: t, chunk: [0, 0], side: "theirs" });
    await mergeContinue(repo);
    expect((await listFiles(dir)).get(`${t}/c/0/0`)!.equals(bytes.c01)).toBe(true);
  });

  it("merges a blosc-zstd int16 v2 array (zarr-python) element by element", async () => {
    const { repo, dir, store } = await repoFrom("v2/weather.zarr");
    const e = `${store}/sub/elevation`; // 20×30 in 10×15, int16, blosc zstd bitshuffle
    await diverge(
      repo,
      dir,
      () => setPoints(dir, e, { "0,0": 1234 }),
      () => setPoints(dir, e, { "9,14": -321 }),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("merged");
    const v = await values(dir, e);
    expect([v[flat([20, 30], [0, 0])], v[flat([20, 30], [9, 14])]]).toEqual([1234, -321]);
  });
});

describe("historyGraph", () => {
  const rows = (commits: { oid: string; parents: string[] }[]) =>
    historyGraph(commits).map((r) => (r.kind === "commit" ? `${r.graph} ${commits[r.index]!.oid}` : r.graph));

  it("draws a merge, its two lines of history and where they join", () => {
    expect(
      rows([
        { oid: "M", parents: ["O", "T"] },
        { oid: "O", parents: ["B"] },
        { oid: "T", parents: ["B"] },
        { oid: "B", parents: [] },
      ]),
    ).toEqual(["* M", "|\\", "* | O", "| * T", "|/", "* B"]);
  });

  it("draws a linear history as a column of stars, and two merges in a row", () => {
    expect(rows([{ oid: "C", parents: ["B"] }, { oid: "B", parents: ["A"] }, { oid: "A", parents: [] }])).toEqual(["* C", "* B", "* A"]);
    expect(
      rows([
        { oid: "M2", parents: ["M1", "X"] },
        { oid: "X", parents: ["B"] },
        { oid: "M1", parents: ["A", "Y"] },
        { oid: "Y", parents: ["B"] },
        { oid: "A", parents: ["B"] },
        { oid: "B", parents: [] },
      ]),
    ).toEqual(["* M2", "|\\", "| * X", "* | M1", "|\\ \\", "| * | Y", "* | | A", "| |/", "|/", "* B"]);
  });
});
