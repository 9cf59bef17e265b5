/** Failures a user meets on real data: dirty working copy, invalid metadata. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { committed, tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type * as lib from "../../src/index.js";
import * as api from "../../src/index.js";
import { exitCodeForTag } from "../../cli/exit-codes.js";

/** The `_tag` of every error class the library exports. */
type ExportedTag = {
  [K in keyof typeof lib]: (typeof lib)[K] extends abstract new (...args: never[]) => { readonly _tag: infer T extends string } ? (string extends T ? never : T) : never;
}[keyof typeof lib];
/** Compiles only while TdvErrorTag names every exported error class (the exit-code table is keyed by it). */
const everyTagKnown: [Exclude<ExportedTag, lib.TdvErrorTag>] extends [never] ? true : Exclude<ExportedTag, lib.TdvErrorTag> = true;

describe.concurrent("errors on real data", () => {
  it("switch refuses to overwrite local changes (exit 1, names the file); --force overrides", async () => {
    const dir = await committed("v2/weather.zarr");
    const chunk = "weather.zarr/precip/0/0/0";
    await tdvOk(dir, ["switch", "-c", "other"]);
    await fsp.writeFile(path.join(dir, chunk), "other branch bytes");
    await tdvOk(dir, ["commit", "-a", "-m", "change precip"]);
    const other = await listFiles(dir);
    await tdvOk(dir, ["switch", "main"]);
    await fsp.writeFile(path.join(dir, chunk), "local edit");

    const r = await tdv(dir, ["switch", "other"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: switching to 'other' would overwrite local changes in:\n  weather\.zarr\/precip\/0\/0\/0$/m);
    expect(r.stderr).toMatch(/^hint: .*--force/m);
    expect(await fsp.readFile(path.join(dir, chunk), "utf8")).toBe("local edit");
    expect((await tdvOk(dir, ["status"])).stdout).toMatch(/^On branch main$/m);

    const checkout = await tdv(dir, ["checkout", "other"]);
    expect(checkout.code).toBe(1);
    expect(checkout.stderr).toContain("weather.zarr/precip/0/0/0");

    const forced = await tdvOk(dir, ["switch", "--force", "other"]);
    expect(forced.stdout).toContain("Switched to branch 'other'");
    expect(await listFiles(dir)).toEqual(other);
  });

  it("invalid zarr.json: add fails with exit 1 and names the file; a zarr.json that is not JSON is carried as plain files", async () => {
    const dir = await committed("v3/consolidated.zarr");
    const bad = "consolidated.zarr/broken/zarr.json";
    await fsp.mkdir(path.join(dir, "consolidated.zarr/broken/c"), { recursive: true });
    await fsp.writeFile(path.join(dir, bad), '{"zarr_format": 3, "node_type": "array", "shape": "wide"}');
    await fsp.writeFile(path.join(dir, "consolidated.zarr/broken/c/0"), "chunk");

    const st = await tdvOk(dir, ["status"]);
    expect(st.stderr).toMatch(new RegExp(`^warning: invalid Zarr metadata in ${bad}`, "m"));

    const add = await tdv(dir, ["add", "-A"]);
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(new RegExp(`^error: invalid Zarr metadata in ${bad}: .*shape`, "m"));
    expect(add.stderr).toMatch(/^hint: /m);

    // commit -a stages tracked arrays and files only: the untracked broken folder is neither read nor refused
    await fsp.writeFile(path.join(dir, "consolidated.zarr/pressure/zarr.json"), "{ not json");
    const commit = await tdv(dir, ["commit", "-a", "-m", "x"]);
    expect(commit.code, commit.stderr).toBe(0);
    expect(commit.stderr).toMatch(/^warning: invalid Zarr metadata in consolidated\.zarr\/pressure\/zarr\.json: .*plain files/m);
    expect(commit.stderr).not.toContain(bad);
    expect((await tdvJson<{ untracked: { path: string }[] }>(dir, ["status", "--json"])).untracked.map((u) => u.path).join(" ")).toContain("consolidated.zarr/broken");
  });

  it("every error class the library exports has its tag in TdvErrorTag, and an exit code", () => {
    expect(everyTagKnown).toBe(true);
    const classes = Object.values(api).filter((v) => typeof v === "function" && (v as { prototype?: unknown }).prototype instanceof api.TdvError);
    expect(classes.length).toBeGreaterThan(50);
    // merge errors fail the command (1), as the repository's other refusals do; only a wrong command line is 2
    for (const tag of ["MergeFailedError", "OtherEditsDiscardedError", "MergeIncompleteError", "UnresolvedConflictsError", "ChunkEncodeError"]) expect(exitCodeForTag(tag)).toBe(1);
    expect(exitCodeForTag("UsageError")).toBe(2);
    // isTdvError narrows to the class: its fields type-check without a cast
    const codeOf = (e: unknown): string | null => (api.isTdvError(e, "FileAccessError") ? e.code : null);
    expect(codeOf(new api.FileAccessError("a/b", "EACCES"))).toBe("EACCES");
    expect(codeOf(new api.UsageError("x"))).toBe(null);
  });

  it("a revision that names no commit, an ambiguous path, a path outside the tree", async () => {
    const dir = await committed("v2/single.zarr");
    const outside = await tdv(path.join(dir, "single.zarr"), ["status", "../../elsewhere"]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("is outside the working tree");
    const nopath = await tdv(dir, ["log", "no-such-thing"]);
    expect(nopath.code).toBe(2);
    expect(nopath.stderr).toContain("ambiguous argument 'no-such-thing': unknown revision or path not in the working tree");
    expect(nopath.stderr).toContain("tdv log [REV] -- PATH");
    // a reflog date before the branch existed: the reason and the reflog's range, not "ambiguous argument"
    const early = await tdv(dir, ["log", "main@{2000-01-01}"]);
    expect(early.code).toBe(1);
    expect(early.stderr).not.toContain("ambiguous argument");
    expect(early.stderr).toMatch(
      /^error: unknown revision 'main@\{2000-01-01\}': branch main has no reflog entry at or before \S+: it did not exist yet then \(its reflog runs from \S+Z to \S+Z; a date alone means 00:00 local time that day\)$/m,
    );
    const norev = await tdv(dir, ["log", "no-such-rev", "--", "single.zarr"]);
    expect(norev.code).toBe(1);
    expect(norev.stderr).toContain("unknown revision 'no-such-rev'");
    // a path that is gone from the working tree: after --
    expect((await tdvOk(dir, ["log", "--oneline", "--", "gone.zarr"])).stdout).toBe("");
    const ls = await tdv(dir, ["ls", "no/such/path"]);
    expect(ls.code).toBe(1);
    expect(ls.stderr).toContain("'no/such/path' not found");
  });

  it("switch -c refuses an invalid branch name also before the first commit", async () => {
    const dir = await tempDir();
    await tdvOk(dir, ["init"]);
    const r = await tdv(dir, ["switch", "-c", "bad..name"]);
    expect(r.stderr).toContain("not a valid branch or tag name");
    expect(r.code).toBe(2);
  });
});
