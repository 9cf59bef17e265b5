/** `tdv diff` spawned as a user runs it (needs `npm run build`). */
import { promises as fsp } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import type { DiffResult } from "../../src/repo/diff/types.js";
import { committed, tdv, tdvJson, tdvOk } from "../helpers/cli.js";

/** A v2 store (zarr-python, blosc) with one committed change and one more in the working copy. */
let dir = "";

beforeAll(async () => {
  dir = await committed("v2/weather.zarr");
  const t = await zarr.open(new FileSystemStore(path.join(dir, "weather.zarr/temperature")), { kind: "array" });
  await zarr.set(t, [zarr.slice(0, 4), zarr.slice(0, 10), zarr.slice(0, 10)], 300);
  await tdvOk(dir, ["commit", "-a", "-m", "fix a tile"]);
  const e = await zarr.open(new FileSystemStore(path.join(dir, "weather.zarr/sub/elevation")), { kind: "array" });
  await zarr.set(e, [zarr.slice(10, 20), null], 42);
  const attrs = path.join(dir, "weather.zarr/sub/elevation/.zattrs");
  const doc = JSON.parse(await fsp.readFile(attrs, "utf8"));
  doc.history = "rescaled";
  await fsp.writeFile(attrs, JSON.stringify(doc));
});

describe.concurrent("tdv diff", () => {
  it("no REV: working copy vs HEAD, by array, with metadata and chunk ranges", async () => {
    const r = await tdvOk(dir, ["diff"]);
    expect(r.stdout).toMatch(/^diff HEAD \([0-9a-f]{7}\) → working copy$/m);
    expect(r.stdout).toContain("modified array weather.zarr/sub/elevation");
    expect(r.stdout).toMatch(/attributes\s+\+ history: "rescaled"/);
    expect(r.stdout).toMatch(/chunks\s+2 modified \[1, 0\.\.1\]/);
    expect(r.stdout).not.toContain("temperature");
    expect(r.stderr).toBe("");
  });

  it("two REVs: the committed change; one REV: working copy vs REV", async () => {
    const two = await tdvOk(dir, ["diff", "HEAD~1", "HEAD"]);
    expect(two.stdout).toContain("modified array weather.zarr/temperature");
    expect(two.stdout).toMatch(/chunks\s+1 modified \[0, 0, 0\]/);
    expect(two.stdout).not.toContain("elevation");
    const one = await tdvOk(dir, ["diff", "HEAD~1"]);
    expect(one.stdout).toContain("weather.zarr/temperature");
    expect(one.stdout).toContain("weather.zarr/sub/elevation");
  });

  it("--stat: one line per array and a summary", async () => {
    const r = await tdvOk(dir, ["diff", "--stat", "HEAD~1"]);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ weather\.zarr\/sub\/elevation\s+\| 2 chunks .*~+ \+metadata$/);
    expect(lines[1]).toMatch(/^ weather\.zarr\/temperature\s+\|\s+1 chunk .*~$/);
    expect(lines[2]).toBe(` 2 arrays changed; chunks: 3 modified (${lines[2]!.split("(")[1]}`);
  });

  it("--values: a table of value changes", async () => {
    const r = await tdvOk(dir, ["diff", "--values", "HEAD~1", "HEAD"]);
    expect(r.stdout).toContain("Values in the changed chunks:");
    const row = r.stdout.split("\n").find((l) => l.trim().startsWith("weather.zarr/temperature"))!;
    expect(row).toBeDefined();
    expect(row).toContain("[0..3, 0..9, 0..9]");
    expect(row).toContain("300..300");
  });

  it("--json: the documented schema", async () => {
    const res = await tdvJson<DiffResult>(dir, ["diff", "HEAD~1", "--values", "--json"]);
    expect(res.from.rev).toBe("HEAD~1");
    expect(res.to).toEqual({ rev: null, commit: null });
    expect(res.values).toBe(true);
    expect(res.different).toBe(true);
    expect(Object.keys(res).sort()).toEqual(["arrays", "different", "files", "from", "groups", "paths", "summary", "to", "values", "warnings"]);
    const p = res.arrays.find((a) => a.path === "weather.zarr/sub/elevation")!;
    expect(p.status).toBe("modified");
    expect(p.attributes).toEqual([{ key: "history", change: "added", after: "rescaled" }]);
    expect(p.chunks.modified.boxes).toEqual([[[1, 1], [0, 1]]]);
    expect(p.values).toMatchObject({ kind: "numeric", compared: 2 * 10 * 15, changed: expect.any(Number), after: { min: 42, max: 42 } });
    expect(p.before).toMatchObject({ zarrFormat: 2, dtype: "<i2", codecs: ["blosc"] });
    expect(res.summary.chunks).toEqual({ added: 0, removed: 0, modified: 3 });
  });

  it("-- PATH limits the diff", async () => {
    const r = await tdvJson<DiffResult>(dir, ["diff", "HEAD~1", "--json", "--", "weather.zarr/temperature"]);
    expect(r.arrays.map((a) => a.path)).toEqual(["weather.zarr/temperature"]);
    expect(r.paths).toEqual(["weather.zarr/temperature"]);
    // a path that exists works without --, relative to the current folder
    const sub = await tdvJson<DiffResult>(path.join(dir, "weather.zarr"), ["diff", "--json", "sub"]);
    expect(sub.arrays.map((a) => a.path)).toEqual(["weather.zarr/sub/elevation"]);
  });

  it("--exit-code: 1 with differences, 0 without; output unchanged", async () => {
    expect((await tdv(dir, ["diff", "--exit-code", "--stat"])).code).toBe(1);
    const same = await tdv(dir, ["diff", "--exit-code", "HEAD", "HEAD"]);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe("");
    expect((await tdv(dir, ["diff", "HEAD~1", "HEAD"])).code).toBe(0);
    expect((await tdv(dir, ["diff", "--exit-code", "--", "weather.zarr/lat"])).code).toBe(0);
  });

  it("errors: unknown revision exits 1, three revisions or an ambiguous operand exit 2", async () => {
    const unknown = await tdv(dir, ["diff", "nosuch", "--"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown revision 'nosuch'/);
    const three = await tdv(dir, ["diff", "HEAD", "HEAD", "HEAD"]);
    expect(three.code).toBe(2);
    expect(three.stderr).toMatch(/too many revisions/);
    const amb = await tdv(dir, ["diff", "nosuch"]);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toMatch(/ambiguous argument 'nosuch'/);
  });

  it("--help has examples", async () => {
    const r = await tdvOk(dir, ["diff", "--help"]);
    expect(r.stdout).toContain("Usage: tdv diff");
    expect(r.stdout).toContain("$ tdv diff --stat");
    expect(r.stdout).toContain("--exit-code");
  });
});

describe("tdv diff on values that cannot be decoded", () => {
  it("--stat works on a corrupt chunk; --values notes it and still exits 0", async () => {
    const d = await committed("v3/ocean.zarr");
    await fsp.writeFile(path.join(d, "ocean.zarr/sst/c/0/0/0"), Buffer.from("garbage"));
    const stat = await tdvOk(d, ["diff", "--stat"]);
    expect(stat.stdout).toMatch(/ocean\.zarr\/sst\s+\| 1 chunk/);
    const values = await tdvOk(d, ["diff", "--values"]);
    expect(values.stdout).toMatch(/values\s+1 chunk could not be compared: chunk \[0, 0, 0\] does not decode/);
  });
});
