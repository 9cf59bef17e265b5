import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import FileSystemStore from "@zarrita/storage/fs";
import { describe, expect, it, vi } from "vitest";
import * as zarr from "zarrita";
import { chunksCovering, editRegion, HEATWAVE, writeClimateDataset } from "../../src/demo/dataset.js";
import { ARCTIC_MESSAGE, DEMO_BRANCH, FIX_MESSAGE, IMPORT_MESSAGE, runDemo } from "../../src/demo/run.js";
import { checkout, isTdvError, listBranches, log, Repository, status, switchBranch } from "../../src/index.js";
import { listFiles, tempDir } from "../helpers/fixture.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

/**
 * The chunks the demo's box covers, from its geometry: June-August 2021 is
 * time 17..19 (time chunks of 6: chunks 2 and 3); 36-60°N is lat rows 31..37
 * at 4° from -88 (lat chunks of 15: chunk 2); 10°W-30°E is lon columns 42..52
 * at 4° from -178 (lon chunks of 15: chunks 2 and 3). 2 × 1 × 2 = 4 chunks.
 */
const HEATWAVE_CHUNKS = ["c/2/2/2", "c/2/2/3", "c/3/2/2", "c/3/2/3"];

async function openArray(store: string, name: string) {
  return zarr.open.v3(zarr.root(new FileSystemStore(store)).resolve(name), { kind: "array" });
}

async function readFloat(store: string, name: string): Promise<{ data: Float32Array; shape: number[] }> {
  const got = (await zarr.get(await openArray(store, name))) as { data: Float32Array; shape: number[] };
  return { data: got.data, shape: got.shape };
}

function changedPaths(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): string[] {
  const out = new Set<string>();
  for (const [p, bytes] of a) if (!b.get(p)?.equals(bytes)) out.add(p);
  for (const p of b.keys()) if (!a.has(p)) out.add(p);
  return [...out].sort();
}

describe("writeClimateDataset", () => {
  it("writes the same bytes for the same seed, other bytes for another seed", async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    const ra = await writeClimateDataset(path.join(a, "climate.zarr"));
    const rb = await writeClimateDataset(path.join(b, "climate.zarr"));
    await writeClimateDataset(path.join(c, "climate.zarr"), { seed: 7 });
    const [fa, fb, fc] = [await listFiles(a), await listFiles(b), await listFiles(c)];
    expect(ra).toEqual(rb);
    expect([...fa.keys()]).toEqual([...fb.keys()]);
    for (const [p, bytes] of fa) expect(bytes.equals(fb.get(p)!), p).toBe(true);
    expect(ra.files).toBe(fa.size);
    expect(ra.bytes).toBe([...fa.values()].reduce((n, x) => n + x.length, 0));
    expect(ra.bytes).toBeLessThan(2_000_000);
    expect(fa.get("climate.zarr/temperature/c/0/0/0")!.equals(fc.get("climate.zarr/temperature/c/0/0/0")!)).toBe(false);
    // gzip chunks carry a zero mtime (bytes 4..7 of the header)
    expect([...fa.get("climate.zarr/temperature/c/0/0/0")!.subarray(0, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
  });

  it("is read back by zarrita (with its own gzip decoder) as plausible CF data", async () => {
    const gzipBefore = zarr.registry.get("gzip");
    const store = path.join(await tempDir(), "climate.zarr");
    const res = await writeClimateDataset(store);
    expect(zarr.registry.get("gzip")).toBe(gzipBefore);
    expect(res.arrays).toEqual(["time", "lat", "lon", "temperature", "precipitation"]);

    const group = await zarr.open.v3(zarr.root(new FileSystemStore(store)), { kind: "group" });
    expect(group.attrs).toMatchObject({ Conventions: "CF-1.8", title: expect.any(String), institution: expect.any(String), history: expect.any(String) });

    const temp = await openArray(store, "temperature");
    expect(temp.shape).toEqual([24, 45, 90]);
    expect(temp.chunks).toEqual([6, 15, 15]);
    expect(temp.dtype).toBe("float32");
    expect(temp.attrs).toMatchObject({ units: "K", standard_name: "air_temperature", long_name: expect.any(String) });
    const meta = JSON.parse(await fsp.readFile(path.join(store, "temperature/zarr.json"), "utf8"));
    expect(meta.dimension_names).toEqual(["time", "lat", "lon"]);
    expect(meta.codecs.map((c: { name: string }) => c.name)).toEqual(["bytes", "gzip"]);

    const t = await readFloat(store, "temperature");
    expect(t.shape).toEqual([24, 45, 90]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of t.data) {
      expect(Number.isFinite(v)).toBe(true);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThan(200);
    expect(max).toBeLessThan(320);
    // warmer at the equator than at the poles; northern July warmer than northern January
    const at = (ti: number, j: number, i: number) => t.data[ti * 45 * 90 + j * 90 + i]!;
    expect(at(0, 22, 45)).toBeGreaterThan(at(0, 44, 45) + 20);
    expect(at(6, 40, 45)).toBeGreaterThan(at(0, 40, 45) + 10);

    const p = await readFloat(store, "precipitation");
    expect((await openArray(store, "precipitation")).attrs).toMatchObject({ units: "mm/day" });
    expect(p.data.every((v) => v >= 0)).toBe(true);
    expect(p.data.some((v) => v === 0)).toBe(true);
    expect(p.data.some((v) => v > 5)).toBe(true);

    const time = (await zarr.get(await openArray(store, "time"))) as { data: Int32Array };
    expect([...time.data.slice(0, 3)]).toEqual([14, 45, 74]); // mid-month, days since 2020-01-01 (2020 is a leap year)
    expect((await openArray(store, "time")).attrs).toMatchObject({ units: "days since 2020-01-01" });
  });

  it("refuses a folder that is not empty", async () => {
    const dir = await tempDir();
    await fsp.writeFile(path.join(dir, "keep.txt"), "mine");
    await expect(writeClimateDataset(dir)).rejects.toSatisfy((e) => isTdvError(e, "UsageError"));
    expect(await fsp.readFile(path.join(dir, "keep.txt"), "utf8")).toBe("mine");
  });
});

describe("editRegion", () => {
  it("computes covered chunks from the box geometry", () => {
    expect(chunksCovering([[17, 20], [31, 38], [42, 53]], [6, 15, 15])).toEqual(HEATWAVE_CHUNKS);
    expect(chunksCovering([[0, 6], [0, 15], [0, 15]], [6, 15, 15])).toEqual(["c/0/0/0"]);
    expect(chunksCovering([[0, 0], [0, 15]], [6, 15])).toEqual([]);
  });

  it("adds the anomaly inside the box and rewrites only the chunks covering it", async () => {
    const store = path.join(await tempDir(), "climate.zarr");
    await writeClimateDataset(store);
    const before = await listFiles(store);
    const t0 = await readFloat(store, "temperature");
    const res = await editRegion(store);
    expect(res.box).toEqual([[17, 20], [31, 38], [42, 53]]);
    expect(res.elements).toBe(3 * 7 * 11);
    expect(res.chunks).toEqual(HEATWAVE_CHUNKS);
    const after = await listFiles(store);
    expect(changedPaths(before, after)).toEqual(HEATWAVE_CHUNKS.map((k) => `temperature/${k}`));

    const t1 = await readFloat(store, "temperature");
    const inBox = (ti: number, j: number, i: number) => ti >= 17 && ti < 20 && j >= 31 && j < 38 && i >= 42 && i < 53;
    let changed = 0;
    for (let ti = 0; ti < 24; ti++)
      for (let j = 0; j < 45; j++)
        for (let i = 0; i < 90; i++) {
          const k = ti * 4050 + j * 90 + i;
          if (inBox(ti, j, i)) {
            expect(t1.data[k]! - t0.data[k]!).toBeCloseTo(HEATWAVE.delta, 4);
            changed++;
          } else if (t1.data[k] !== t0.data[k]) throw new Error(`value outside the box changed at ${ti},${j},${i}`);
        }
    expect(changed).toBe(res.elements);
  });
});

describe("runDemo", () => {
  it("runs the whole story and leaves a repository a user can explore", async () => {
    const dir = path.join(await tempDir(), "tdv-demo");
    const lines: string[] = [];
    const res = await runDemo({ dir, log: (l) => lines.push(l) });
    const text = lines.join("\n");

    expect(res.mainIdentical).toBe(true);
    expect(res.mismatched).toEqual([]);
    expect(res.branches).toEqual([DEMO_BRANCH, "main"]);
    expect(res.branch).toBe("main");
    for (const c of ["$ tdv init", "$ tdv add -A", `$ tdv commit -m "${IMPORT_MESSAGE}"`, `$ tdv switch -c ${DEMO_BRANCH}`, "$ tdv status", `$ tdv commit -a -m "${FIX_MESSAGE}"`, "$ tdv switch main", "Try next:"]) {
      expect(text).toContain(c);
    }
    expect(text).toMatch(/modified +climate\.zarr\/temperature +chunks: 4 modified \(/);
    expect(text).toContain("byte-identical");
    expect(text).toContain(`tdv cat main climate.zarr/temperature/zarr.json`);

    const repo = await Repository.open({ dir });
    expect((await listBranches(repo)).map((b) => [b.name, b.current])).toEqual([
      [DEMO_BRANCH, false],
      ["main", true],
    ]);
    const history = await log(repo, { rev: DEMO_BRANCH });
    expect(history.map((e) => e.message.split("\n")[0])).toEqual([FIX_MESSAGE, IMPORT_MESSAGE]);
    expect(history.map((e) => e.oid)).toEqual([res.commits.fix, res.commits.import]);
    // main: the import, a second team's edit, and the merge of the fix (two parents)
    const mainLog = await log(repo, { rev: "main" });
    expect(mainLog.map((e) => e.oid)).toEqual([res.commits.merge, res.commits.recalibration, res.commits.fix, res.commits.import]);
    expect(mainLog[0]!.parents).toEqual([res.commits.recalibration, res.commits.fix]);
    expect(mainLog[1]!.message.split("\n")[0]).toBe(ARCTIC_MESSAGE);
    expect(res.merge.sharedChunks).toEqual(["c/3/2/3"]);
    expect(res.merge.chunksMerged).toBe(1);
    expect(res.merge.verified).toBe(true);
    expect(text).toContain("$ tdv merge heatwave-fix");
    expect(text).toContain("1 chunk changed on both sides, merged element by element");
    expect(text).toMatch(/\* [0-9a-f]{7} \(HEAD -> main\) Merge branch 'heatwave-fix'\n {2}\|\\\n/);
    expect((await status(repo)).clean).toBe(true);

    // the merged temperature: the original with both corrections, read back with zarrita
    const merged = await readFloat(path.join(dir, "climate.zarr"), "temperature");
    const fresh = await tempDir();
    await writeClimateDataset(path.join(fresh, "climate.zarr"));
    const original = await readFloat(path.join(fresh, "climate.zarr"), "temperature");
    const inBox = (box: [number, number][], c: number[]) => box.every(([a, b], d) => c[d]! >= a && c[d]! < b);
    for (let t = 0; t < 24; t++)
      for (let j = 0; j < 45; j++)
        for (let i = 0; i < 90; i++) {
          const k = t * 4050 + j * 90 + i;
          const delta = inBox(res.edit.box, [t, j, i]) ? HEATWAVE.delta : inBox(res.merge.arctic.box, [t, j, i]) ? -1.2 : 0;
          if (merged.data[k] !== Math.fround(original.data[k]! + delta)) throw new Error(`merged value at ${t},${j},${i}`);
        }

    // the import commit is byte for byte a fresh write of the sample
    await checkout(repo, { rev: res.commits.import });
    const freshFiles = await listFiles(fresh);
    const mainFiles = await listFiles(dir);
    expect(changedPaths(freshFiles, mainFiles)).toEqual([]);

    // the fix branch differs from the import only in the 4 chunks covering the box
    expect(res.diff.chunksChanged).toBe(HEATWAVE_CHUNKS.length);
    expect(res.diff.chunksTotal).toBe(72);
    expect(res.diff.arrays.map((a) => [a.path, a.chunks])).toEqual([["climate.zarr/temperature", { added: 0, modified: 4, deleted: 0 }]]);
    await switchBranch(repo, { name: DEMO_BRANCH });
    const fixFiles = await listFiles(dir);
    expect(changedPaths(mainFiles, fixFiles)).toEqual(HEATWAVE_CHUNKS.map((k) => `climate.zarr/temperature/${k}`));
    expect(res.diff.bytesChanged).toBe(HEATWAVE_CHUNKS.reduce((n, k) => n + fixFiles.get(`climate.zarr/temperature/${k}`)!.length, 0));
  });

  it("refuses a folder that exists and is not empty, with a hint", async () => {
    const dir = await tempDir();
    await fsp.writeFile(path.join(dir, "notes.txt"), "keep me");
    const err = await runDemo({ dir, log: () => {} }).catch((e: unknown) => e);
    expect(isTdvError(err, "UsageError")).toBe(true);
    expect((err as Error).message).toContain("not empty");
    expect((err as { hint?: string }).hint).toMatch(/new or empty folder/);
    expect(await fsp.readdir(dir)).toEqual(["notes.txt"]);
  });

  it("accepts an existing empty folder", async () => {
    const dir = await tempDir();
    const res = await runDemo({ dir, log: () => {} });
    expect(res.mainIdentical).toBe(true);
    expect(existsSync(path.join(dir, ".tdv"))).toBe(true);
  });
});

// ---- the built CLI ----------------------------------------------------------------

const CLI = fileURLToPath(new URL("../../dist/bin/tdv.js", import.meta.url));

/** Why the CLI test cannot run, or null when `dist/bin/tdv.js` exists and registers `demo`. */
function cliMissing(): string | null {
  if (!existsSync(CLI)) return "dist/bin/tdv.js is not built (run `npm run build`)";
  const help = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" });
  if (!/\bdemo\b/.test(`${help.stdout}${help.stderr}`)) return "dist/bin/tdv.js does not register the `demo` command";
  return null;
}
const skipReason = cliMissing();

describe("tdv demo (built CLI)", () => {
  it.skipIf(skipReason !== null)(`runs the demo and leaves a repository the CLI reads${skipReason ? ` [skipped: ${skipReason}]` : ""}`, async () => {
    // no DIR: a new temporary folder (under TMPDIR), named on the first line; no `tdv` on PATH: the
    // commands to try next start by defining it
    const tmp = await tempDir();
    const env = { ...process.env, TDV_AUTHOR_NAME: "Test", TDV_AUTHOR_EMAIL: "test@example.org", TMPDIR: tmp, PATH: path.dirname(process.execPath) };
    const stdout = execFileSync(process.execPath, [CLI, "demo"], { encoding: "utf8", env, cwd: tmp });
    const made = await fsp.readdir(tmp);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^tdv-demo-/);
    const dir = path.join(tmp, made[0] as string);
    expect(stdout.split("\n")[0]).toBe(`tdv demo: version control for a Zarr dataset, in ./${made[0]}`);
    expect(stdout).toContain("$ tdv init");
    expect(stdout).toContain("byte-identical");
    expect(stdout).toContain("Try next (`tdv` is not on your PATH: `npm link` in tdv's folder puts it there; the first line defines it for this shell):");
    expect(stdout).toContain(`  $ tdv() { node ${await fsp.realpath(CLI)} "$@"; }\n  $ cd ./${made[0]}\n`);

    const again = spawnSync(process.execPath, [CLI, "demo", dir], { encoding: "utf8", env });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("not empty");

    const help = execFileSync(process.execPath, [CLI, "demo", "--help"], { encoding: "utf8" });
    expect(help).toContain("Examples:");

    const repo = await Repository.open({ dir });
    expect((await listBranches(repo)).map((b) => b.name)).toEqual([DEMO_BRANCH, "main"]);
  });
});

describe("cli/commands/demo.ts (in process)", () => {
  it("registers `demo [dir]`, prints the narrative, and --json prints the result", async () => {
    const { Command } = await import("commander");
    const { register } = await import("../../cli/commands/demo.js");
    const program = new Command("tdv").exitOverride();
    register(program);
    const demo = program.commands.find((c) => c.name() === "demo")!;
    expect(demo.registeredArguments.map((a) => [a.name(), a.required, a.defaultValue])).toEqual([["dir", false, undefined]]);

    const out: string[] = [];
    const err: string[] = [];
    const spyOut = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const spyErr = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const exitCode = process.exitCode;
    try {
      const a = path.join(await tempDir(), "a");
      await program.parseAsync(["demo", a], { from: "user" });
      expect(out.join("")).toContain("$ tdv commit -a -m");
      expect(process.exitCode ?? 0).toBe(0);

      out.length = 0;
      const b = path.join(await tempDir(), "b");
      await program.parseAsync(["demo", "--json", b], { from: "user" });
      const result = JSON.parse(out.join(""));
      expect(result).toMatchObject({ dir: b, mainIdentical: true, branches: [DEMO_BRANCH, "main"] });
      expect(err.join("")).toContain("$ tdv init");
    } finally {
      spyOut.mockRestore();
      spyErr.mockRestore();
      process.exitCode = exitCode;
    }
  });
});
