/**
 * diff with no base (`from: null`): a commit against the empty snapshot, as a
 * root commit's review shows it. Every array, group and file is added, with
 * the chunks `ls` counts for that revision.
 */
import { describe, expect, it } from "vitest";
import { diff, isTdvError, ls, resolveRevision } from "../../src/index.js";
import { repoFrom } from "../merge/helpers.js";

describe("diff from no base", () => {
  it("adds everything the revision holds; a revision must still be named when from is a string", async () => {
    const { repo, store } = await repoFrom("v3/ocean.zarr");
    const head = await resolveRevision(repo, "HEAD");
    const d = await diff(repo, { from: null, to: "HEAD" });
    expect(d.from).toEqual({ rev: null, commit: null });
    expect(d.to).toEqual({ rev: "HEAD", commit: head });
    const infos = await ls(repo, { rev: "HEAD" });
    expect(d.arrays.map((a) => [a.path, a.status, a.chunks.added.count, a.chunks.added.bytes])).toEqual(infos.map((i) => [i.path, "added", i.chunks, i.bytes]));
    expect(d.arrays.every((a) => a.before === null && a.chunks.removed.count === 0 && a.chunks.modified.count === 0)).toBe(true);
    expect(d.groups.map((g) => [g.path, g.status])).toEqual([
      [store, "added"],
      [`${store}/derived`, "added"],
    ]);
    expect(d.summary.arrays).toEqual({ added: infos.length, removed: 0, modified: 0, renamed: 0 });
    expect(d.different).toBe(true);
    const err = await diff(repo, { from: "", to: "HEAD" }).catch((e: unknown) => e);
    expect(isTdvError(err, "UsageError")).toBe(true);
  });
});
