/**
 * `tdv export` as a user runs it: a revision of v2, v3 and sharded v3 stores
 * exported to a folder holds exactly the files (names and bytes) a checkout of
 * that revision writes in another working copy, whole and for a subset of
 * paths (a sparse checkout of them); a zip of it is read by zarr-python's
 * ZipStore and zarrita's ZipFileStore with the checkout's values; refusals
 * write nothing; a killed export leaves nothing under the target's name, and
 * the next export removes what it left. ZIP64 archives (forced, and of more
 * than 65,535 entries) are read by Python's zipfile.
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync, promises as fsp, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import ZipFileStore from "@zarrita/storage/zip";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import { createZipFile } from "../../src/store/zip-file.js";
import { BIN, baseEnv, committed, tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { hasZarrPython, python, pythonJson } from "../helpers/zarr-python.js";

/** path → sha256 of every file under `dir` (not .tdv). */
async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [rel, bytes] of await listFiles(dir)) out.set(rel, createHash("sha256").update(bytes).digest("hex"));
  return out;
}

/** A file's bytes changed in place (a pipeline's rewrite of one chunk): not valid data, but export copies bytes. */
async function firstChunk(dir: string, store: string): Promise<string> {
  const files = [...(await listFiles(path.join(dir, store))).keys()];
  const chunk = files.find((f) => /\/(c\/)?\d+([./]\d+)*$/.test(f));
  if (!chunk) throw new Error(`no chunk in ${store}`);
  return path.join(store, chunk);
}

interface ExportJson {
  commit: string;
  paths: string[];
  target: string;
  format: string;
  root: string;
  files: number;
  bytes: number;
  size: number;
}

const CASES = [
  { fixture: "v2/weather.zarr", store: "weather.zarr", subset: ["weather.zarr/temperature", "weather.zarr/sub"] },
  { fixture: "v3/ocean.zarr", store: "ocean.zarr", subset: ["ocean.zarr/derived"] },
  { fixture: "v3/sharded.zarr", store: "sharded.zarr", subset: ["sharded.zarr/temperature"] },
];

for (const { fixture, store, subset } of CASES) {
  describe(`tdv export of ${fixture}`, () => {
    let dir: string;
    let at: string; // a second working copy checked out at v1
    let v1: string;

    beforeAll(async () => {
      dir = await committed(fixture);
      writeFileSync(path.join(dir, "README.md"), "beside the store\n");
      await tdvOk(dir, ["add", "-A"]);
      await tdvOk(dir, ["commit", "-m", "readme"]);
      await tdvOk(dir, ["tag", "v1"]);
      v1 = (await tdvJson<{ oid: string }[]>(dir, ["log", "-n", "1", "--json"]))[0]?.oid as string;
      // the next commit changes a chunk, removes the readme, adds a file: v1 is no longer what is checked out
      const chunk = await firstChunk(dir, store);
      const bytes = readFileSync(path.join(dir, chunk));
      bytes[0] = (bytes[0] as number) ^ 0xff;
      writeFileSync(path.join(dir, chunk), bytes);
      await fsp.rm(path.join(dir, "README.md"));
      writeFileSync(path.join(dir, "later.txt"), "after v1\n");
      await tdvOk(dir, ["add", "-A"]);
      await tdvOk(dir, ["commit", "-m", "later"]);
      const parent = await tempDir();
      at = path.join(parent, "at-v1");
      await tdvOk(parent, ["clone", "-q", "-b", "v1", dir, at]);
    });

    it("--to DIR holds the files a checkout of the revision writes, byte for byte, and no .tdv", async () => {
      const out = path.join(await tempDir(), "export");
      const res = await tdvJson<ExportJson>(dir, ["export", "v1", "--to", out, "--json"]);
      expect(await hashTree(out)).toEqual(await hashTree(at));
      expect(existsSync(path.join(out, ".tdv"))).toBe(false);
      expect(existsSync(path.join(out, "later.txt"))).toBe(false);
      expect(res.format).toBe("folder");
      expect(res.files).toBe((await listFiles(at)).size);
      expect(res.commit).toBe(v1);
    });

    it(`PATHs export what a sparse checkout of them writes (${subset.join(", ")})`, async () => {
      const parent = await tempDir();
      const sparse = path.join(parent, "sparse");
      await tdvOk(parent, ["clone", "-q", "-b", "v1", "--no-checkout", dir, sparse]);
      await tdvOk(sparse, ["sparse", "set", "-q", ...subset]);
      const out = path.join(parent, "export");
      // paths are relative to the current folder, as in other commands
      await tdvOk(path.join(dir, store), ["export", "v1", ...subset.map((p) => path.relative(store, p)), "--to", out, "-q"]);
      const got = await hashTree(out);
      expect(got).toEqual(await hashTree(sparse));
      expect([...got.keys()].some((k) => k.startsWith(`${subset[0]}/`))).toBe(true);
      expect(got.size).toBeLessThan((await listFiles(at)).size);
    });

    it("--remote URL exports the revision from a pushed remote without a clone, from outside any repository, byte for byte", async () => {
      const parent = await tempDir();
      const remote = path.join(parent, "remote");
      await tdvOk(dir, ["push", "-q", remote, "main", "v1"]);
      const elsewhere = await tempDir();
      const out = path.join(elsewhere, "export");
      const env = { env: { TDV_CACHE_DIR: path.join(elsewhere, "cache") } };
      const res = await tdvJson<ExportJson>(elsewhere, ["export", "v1", "--remote", remote, "--to", out, "--json"], env);
      expect(res.commit).toBe(v1);
      expect(await hashTree(out)).toEqual(await hashTree(at));
      // a subset, paths from the remote's root: what the same export from the repository writes
      const sub = path.join(elsewhere, "sub");
      const local = path.join(elsewhere, "local");
      await tdvOk(elsewhere, ["export", "v1", ...subset, "--remote", remote, "--to", sub, "-q"], env);
      await tdvOk(dir, ["export", "v1", ...subset, "--to", local, "-q"]);
      const keys = [...(await hashTree(sub)).keys()];
      expect(keys.some((k) => k.startsWith(`${subset[0]}/`))).toBe(true);
      expect(await hashTree(sub)).toEqual(await hashTree(local));
      // a revision the remote lacks is refused, nothing written
      const none = path.join(elsewhere, "none");
      const bad = await tdv(elsewhere, ["export", "no-such-tag", "--remote", remote, "--to", none], env);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/no-such-tag/);
      expect(existsSync(none)).toBe(false);
    });

    it("--zip of the store opens at the zip's root in zarrita's ZipFileStore, values equal to the checkout's", async () => {
      const file = path.join(await tempDir(), "store.zip");
      const res = await tdvJson<ExportJson>(dir, ["export", "v1", store, "--zip", file, "--json"]);
      expect(res.root).toBe(store);
      const bytes = readFileSync(file);
      expect(res.size).toBe(bytes.length);
      const zipRoot = zarr.root(ZipFileStore.fromBlob(new Blob([bytes])));
      const fsRoot = zarr.root(new FileSystemStore(path.join(at, store)));
      let arrays = 0;
      for (const rel of (await listFiles(path.join(at, store))).keys()) {
        const m = /^(.*)\/(zarr\.json|\.zarray)$/.exec(rel);
        if (!m) continue;
        const doc = JSON.parse(readFileSync(path.join(at, store, rel), "utf8")) as { node_type?: string; zarr_format?: number };
        if (doc.zarr_format === 3 && doc.node_type !== "array") continue;
        const open = doc.zarr_format === 3 ? zarr.open.v3 : zarr.open.v2;
        const a = await open(zipRoot.resolve(m[1] as string), { kind: "array" });
        const b = await open(fsRoot.resolve(m[1] as string), { kind: "array" });
        const [x, y] = [await zarr.get(a), await zarr.get(b)];
        const vals = (v: unknown) => (typeof v === "object" && v !== null && "data" in v ? Array.from((v as { data: ArrayLike<unknown> }).data) : [v]);
        expect(vals(x), m[1]).toEqual(vals(y));
        arrays++;
      }
      expect(arrays).toBeGreaterThan(0);
    });
  });
}

describe("tdv export --zip read by zarr-python", () => {
  let dir: string;
  const skip = !hasZarrPython();

  beforeAll(async () => {
    dir = await committed("v2/weather.zarr");
  });

  it.skipIf(skip)("ZipStore opens the store at the zip's root, and a whole-revision zip under the store's path, with the checkout's values", async () => {
    const parent = await tempDir();
    await tdvOk(dir, ["export", "HEAD", "weather.zarr", "--zip", path.join(parent, "one.zip"), "-q"]);
    await tdvOk(dir, ["export", "HEAD", "--zip", path.join(parent, "all.zip"), "-q"]);
    const got = await pythonJson<Record<string, { arrays: number; equal: boolean; stored: boolean; bad: string | null }>>(
      parent,
      `
import zipfile
out = {}
src = zarr.open_group(${JSON.stringify(path.join(dir, "weather.zarr"))}, mode="r")
for name, group_path in (("one.zip", ""), ("all.zip", "weather.zarr")):
    zf = zipfile.ZipFile(name)
    bad = zf.testzip()
    stored = all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    g = zarr.open_group(zarr.ZipStore(name, mode="r"), mode="r", path=group_path)
    equal = True
    n = 0
    def visit(sg, zg):
        global equal, n
        for k, a in sg.arrays():
            n += 1
            equal = equal and np.array_equal(a[...], zg[k][...], equal_nan=a.dtype.kind == "f") and dict(a.attrs) == dict(zg[k].attrs)
        for k, sub in sg.groups():
            visit(sub, zg[k])
    visit(src, g)
    out[name] = {"arrays": n, "equal": bool(equal), "stored": stored, "bad": bad}
try:
    import xarray as xr
except ImportError:
    xr = None
if xr is not None:
    ds = xr.open_zarr(zarr.ZipStore("one.zip", mode="r"))
    ref = xr.open_zarr(${JSON.stringify(path.join(dir, "weather.zarr"))})
    out["xarray"] = {"arrays": len(ds.data_vars), "equal": bool(ds.identical(ref)), "stored": True, "bad": None}
print(json.dumps(out))
`,
    );
    for (const name of ["one.zip", "all.zip", ...("xarray" in got ? ["xarray"] : [])]) {
      expect(got[name]?.bad, name).toBeNull();
      expect(got[name]?.stored, name).toBe(true);
      expect(got[name]?.arrays, name).toBeGreaterThan(3);
      expect(got[name]?.equal, name).toBe(true);
    }
  });

  it.skipIf(skip)("Python's zipfile reads ZIP64 archives: every record ZIP64, and more than 65,535 entries", async () => {
    const parent = await tempDir();
    const write = (name: string, n: number, forceZip64: boolean) => {
      const out = createZipFile(path.join(parent, name), path.join(parent, `${name}.cd`), { mtime: new Date(0), forceZip64 });
      try {
        for (let i = 0; i < n; i++) out.zip.add(`a.zarr/c/${i}`, Buffer.from(`chunk ${i}\n`));
        out.zip.finish();
      } finally {
        out.close();
      }
    };
    write("forced.zip", 3, true);
    write("many.zip", 70_000, false);
    const got = await pythonJson<Record<string, { n: number; last: string; bad: string | null }>>(
      parent,
      `
import zipfile
out = {}
for name, n in (("forced.zip", 3), ("many.zip", 70000)):
    zf = zipfile.ZipFile(name)
    out[name] = {"n": len(zf.namelist()), "last": zf.read("a.zarr/c/%d" % (n - 1)).decode(), "bad": zf.testzip()}
print(json.dumps(out))
`,
    );
    expect(got["forced.zip"]).toEqual({ n: 3, last: "chunk 2\n", bad: null });
    expect(got["many.zip"]).toEqual({ n: 70_000, last: "chunk 69999\n", bad: null });
    expect(readdirSync(parent).sort()).toEqual(["forced.zip", "many.zip"]);
  });
});

describe("tdv export refuses", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await committed("v2/weather.zarr");
  });

  it("a folder that is not empty, an existing zip (unless --force), an unknown revision, a path not in it, a path out of the tree, two targets", async () => {
    const parent = await tempDir();
    const full = path.join(parent, "full");
    await fsp.mkdir(full);
    writeFileSync(path.join(full, "mine.txt"), "keep\n");
    const zip = path.join(parent, "old.zip");
    writeFileSync(zip, "not yours\n");

    const cases: [string[], number, RegExp][] = [
      [["export", "HEAD", "--to", full], 1, /not empty/],
      [["export", "HEAD", "--zip", zip], 1, /exists[\s\S]*--force/],
      [["export", "nope", "--to", path.join(parent, "a")], 1, /unknown revision 'nope'/],
      [["export", "HEAD", "weather.zarr/nope", "--to", path.join(parent, "b")], 1, /path 'weather.zarr\/nope' not found in HEAD/],
      [["export", "HEAD", "../elsewhere", "--to", path.join(parent, "c")], 2, /outside the working tree/],
      [["export", "HEAD", "--to", path.join(parent, "d"), "--zip", path.join(parent, "d.zip")], 2, /one target/],
      [["export", "HEAD"], 2, /one target/],
    ];
    for (const [args, code, message] of cases) {
      const r = await tdv(dir, args);
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
    expect(readdirSync(parent).sort()).toEqual(["full", "old.zip"]);
    expect(readdirSync(full)).toEqual(["mine.txt"]);
    expect(readFileSync(zip, "utf8")).toBe("not yours\n");

    // an empty folder is fine, and --force replaces the zip
    const empty = path.join(parent, "empty");
    await fsp.mkdir(empty);
    await tdvOk(dir, ["export", "HEAD", "weather.zarr/lat", "--to", empty, "-q"]);
    expect(existsSync(path.join(empty, "weather.zarr/lat/.zarray"))).toBe(true);
    await tdvOk(dir, ["export", "HEAD", "weather.zarr/lat", "--zip", zip, "--force", "-q"]);
    expect(readFileSync(zip).subarray(0, 4).toString("hex")).toBe("504b0304");
    expect(readdirSync(parent).sort()).toEqual(["empty", "full", "old.zip"]);
  });

  it.skipIf(!existsSync("/usr/bin/script"))("shows progress on a terminal (files, bytes), none with --quiet", async () => {
    const parent = await tempDir();
    const onTerminal = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
        const child = spawn("/usr/bin/script", ["-qec", cmd, "/dev/null"], { cwd: dir, env: baseEnv(), stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.on("error", reject);
        child.on("close", () => resolve(Buffer.concat(out).toString("utf8")));
      });
    const shown = await onTerminal(["export", "HEAD", "--to", path.join(parent, "a")]);
    expect(shown).toMatch(/\r\x1b\[Kexporting +\d+ files +\d+(\.\d+)? k?B/);
    expect(shown).toMatch(/exported \d+ files/);
    const quiet = await onTerminal(["export", "HEAD", "--to", path.join(parent, "b"), "-q"]);
    expect(quiet).toBe("");
    expect(existsSync(path.join(parent, "b", "weather.zarr", ".zgroup"))).toBe(true);
  });

  it("--help shows examples", async () => {
    const r = await tdvOk(dir, ["export", "--help"]);
    expect(r.stdout).toMatch(/Examples:\n\s+\$ tdv export/);
    expect(r.stdout).toMatch(/ZipStore/);
  });
});

describe("a killed export", () => {
  let dir: string;
  const skip = !hasZarrPython();

  beforeAll(async () => {
    if (skip) return;
    const parent = await tempDir();
    dir = path.join(parent, "big");
    await fsp.mkdir(dir);
    // 6,400 chunks: an export long enough to be killed half-way
    await python(
      dir,
      "z = zarr.open('big.zarr/a', mode='w', shape=(800, 800), chunks=(10, 10), dtype='f8', compressor=None)\nz[:] = np.random.default_rng(1).random((800, 800))",
    );
    await tdvOk(dir, ["init", "-q"]);
    await tdvOk(dir, ["add", "-A", "-q"]);
    await tdvOk(dir, ["commit", "-q", "-m", "big"]);
  }, 120_000);

  /** Start an export, SIGKILL it once its temporary holds some bytes; what is left in `parent`. */
  async function killMidway(args: string[], parent: string, grown: () => boolean): Promise<string[]> {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: baseEnv(), stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let done: number | null | undefined;
    void exited.then((c) => {
      done = c;
    });
    while (done === undefined && !grown()) await new Promise((r) => setTimeout(r, 5));
    expect(done, "the export finished before it could be killed").toBeUndefined();
    child.kill("SIGKILL");
    await exited;
    return readdirSync(parent);
  }

  const sizeOf = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0; // renamed or removed meanwhile
    }
  };
  const temps = (parent: string) => readdirSync(parent).filter((n) => n.includes(".tdv-export-"));

  it.skipIf(skip)("--zip: leaves no FILE; the next export replaces what it left", async () => {
    const parent = await tempDir();
    const file = path.join(parent, "big.zip");
    const left = await killMidway(["export", "HEAD", "--zip", file, "-q"], parent, () => temps(parent).some((n) => n.endsWith(".tmp") && sizeOf(path.join(parent, n)) > 200_000));
    expect(left).not.toContain("big.zip");
    expect(temps(parent).length).toBeGreaterThan(0);
    const res = await tdvJson<ExportJson>(dir, ["export", "HEAD", "--zip", file, "--json"]);
    expect(res.files).toBe(6401);
    expect(readdirSync(parent)).toEqual(["big.zip"]);
  }, 120_000);

  it.skipIf(skip)("SIGTERM: stops, exits 143 and removes what it wrote", async () => {
    const parent = await tempDir();
    const file = path.join(parent, "big.zip");
    const child = spawn(process.execPath, [BIN, "export", "HEAD", "--zip", file], { cwd: dir, env: baseEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    let closed = false;
    const exited = new Promise<number | null>((resolve) =>
      child.on("close", (code) => {
        closed = true;
        resolve(code);
      }),
    );
    while (!closed && !temps(parent).some((n) => n.endsWith(".tmp") && sizeOf(path.join(parent, n)) > 200_000)) await new Promise((r) => setTimeout(r, 5));
    expect(closed, "the export finished before it could be stopped").toBe(false);
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/interrupted by SIGTERM/);
    expect(readdirSync(parent)).toEqual([]);
  }, 120_000);

  it.skipIf(skip)("--to: leaves no DIR; the next export replaces what it left", async () => {
    const parent = await tempDir();
    const out = path.join(parent, "big-copy");
    const count = (n: string) => {
      const c = path.join(parent, n, "big.zarr", "a");
      try {
        return readdirSync(c).length;
      } catch {
        return 0;
      }
    };
    const left = await killMidway(["export", "HEAD", "--to", out, "-q"], parent, () => temps(parent).some((n) => count(n) > 200));
    expect(left).not.toContain("big-copy");
    expect(temps(parent).length).toBeGreaterThan(0);
    await tdvOk(dir, ["export", "HEAD", "--to", out, "-q"]);
    expect(readdirSync(parent)).toEqual(["big-copy"]);
    expect(await hashTree(out)).toEqual(await hashTree(dir));
  }, 120_000);
});
