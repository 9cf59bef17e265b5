/**
 * Export in process: the zip writer's archives read back by unzipit (what
 * zarrita's ZipFileStore reads with), entries stored at the offsets the
 * central directory names, with and without ZIP64 records; a sharded v3
 * store exported to a folder (the working copy's files, byte for byte) and to
 * a zip that zarrita opens at its root with range reads; refusals that write
 * nothing. CLI spawns and zarr-python are in export.long.test.ts.
 */
import { promises as fsp, readFileSync, writeFileSync, readdirSync } from "node:fs";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import ZipFileStore from "@zarrita/storage/zip";
import { unzip, type Reader } from "unzipit";
import * as zarr from "zarrita";
import { beforeAll, describe, expect, it } from "vitest";
import { exportRevision, isTdvError, repositorySource, type RevisionSource } from "../../src/index.js";
import { createZipFile } from "../../src/store/zip-file.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { repoFrom } from "../merge/helpers.js";

/** A reader of a file on disk that counts its reads (zarrita's ZipFileStore reads a zip through one). */
function fileReader(file: string): Reader & { reads: number } {
  const bytes = readFileSync(file);
  return {
    reads: 0,
    async getLength() {
      return bytes.length;
    },
    async read(offset: number, length: number) {
      this.reads++;
      return new Uint8Array(bytes.subarray(offset, offset + length));
    },
  };
}

function writeZip(file: string, entries: [string, Uint8Array][], forceZip64: boolean): void {
  const out = createZipFile(file, `${file}.cd`, { mtime: new Date(Date.UTC(2026, 2, 31, 12, 30, 4)), forceZip64 });
  try {
    for (const [name, b] of entries) out.zip.add(name, b);
    out.zip.finish();
  } finally {
    out.close();
  }
}

describe("the zip writer", () => {
  const entries: [string, Uint8Array][] = [
    ["a.zarr/zarr.json", new TextEncoder().encode('{"zarr_format":3,"node_type":"group"}')],
    ["a.zarr/t/c/0/0", Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)],
    ["a.zarr/empty", new Uint8Array(0)],
    ["a.zarr/tempé/ünï.txt", new TextEncoder().encode("utf-8 names\n")],
  ];

  for (const forceZip64 of [false, true]) {
    it(`writes stored entries that unzipit reads back exactly${forceZip64 ? " (every record ZIP64)" : ""}`, async () => {
      const dir = await tempDir();
      const file = path.join(dir, "x.zip");
      writeZip(file, entries, forceZip64);
      expect(readdirSync(dir)).toEqual(["x.zip"]); // the central directory's side file is gone
      const { entries: got } = await unzip(fileReader(file));
      expect(Object.keys(got).sort()).toEqual(entries.map(([n]) => n).sort());
      const raw = readFileSync(file);
      for (const [name, bytes] of entries) {
        const e = got[name];
        expect(e?.compressionMethod).toBe(0);
        expect(e?.size).toBe(bytes.length);
        expect(Buffer.from(await (e as NonNullable<typeof e>).arrayBuffer()).equals(bytes), name).toBe(true);
        expect(e?.lastModDate.getUTCFullYear()).toBe(2026);
        // stored: the bytes sit in the file as they are
        if (bytes.length > 1000) expect(raw.indexOf(Buffer.from(bytes))).toBeGreaterThan(0);
      }
      // ZIP64 end records exactly when asked for (4 entries need none)
      expect(raw.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(forceZip64);
    });
  }
});

describe("exportRevision over a sharded v3 store", () => {
  let dir: string;
  let source: RevisionSource;

  beforeAll(async () => {
    const made = await repoFrom("v3/sharded.zarr");
    dir = made.dir;
    source = repositorySource(made.repo, dir);
  });

  it("writes the revision's files to a folder, byte for byte, and nothing else", async () => {
    const out = path.join(await tempDir(), "copy");
    const res = await exportRevision(source, { rev: "main", to: out });
    const want = await listFiles(dir);
    const got = await listFiles(out);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [k, b] of want) expect(got.get(k)?.equals(b), k).toBe(true);
    expect(res.files).toBe(want.size);
    expect(res.bytes).toBe([...want.values()].reduce((n, b) => n + b.length, 0));
    expect(readdirSync(path.dirname(out))).toEqual(["copy"]);
  });

  it("writes a zip of one store that zarrita opens at its root, reading shards by range", async () => {
    const file = path.join(await tempDir(), "s.zip");
    const res = await exportRevision(source, { rev: "main", paths: ["sharded.zarr"], zip: file });
    expect(res.root).toBe("sharded.zarr");
    const reader = fileReader(file);
    const zipRoot = zarr.root(new ZipFileStore(reader));
    const fsRoot = zarr.root(new FileSystemStore(path.join(dir, "sharded.zarr")));
    const group = await zarr.open.v3(zipRoot, { kind: "group" });
    expect(group.attrs).toEqual((await zarr.open.v3(fsRoot, { kind: "group" })).attrs);
    for (const name of ["temperature", "counts"]) {
      const a = await zarr.open.v3(zipRoot.resolve(name), { kind: "array" });
      const b = await zarr.open.v3(fsRoot.resolve(name), { kind: "array" });
      const before = reader.reads;
      const one = await zarr.get(a, a.shape.map(() => 0));
      expect(one).toEqual(await zarr.get(b, b.shape.map(() => 0)));
      expect(reader.reads - before).toBeLessThanOrEqual(6); // a shard's index and one inner chunk, not the array
      expect(Array.from((await zarr.get(a)).data as ArrayLike<number>)).toEqual(Array.from((await zarr.get(b)).data as ArrayLike<number>));
    }
  });

  it("refuses a folder that is not empty, a path not in the revision and a path out of the tree, writing nothing", async () => {
    const parent = await tempDir();
    const full = path.join(parent, "full");
    await fsp.mkdir(full);
    writeFileSync(path.join(full, "keep.txt"), "mine\n");
    const refusals: [Parameters<typeof exportRevision>[1], string][] = [
      [{ rev: "main", to: full }, "ExportTargetExistsError"],
      [{ rev: "main", paths: ["sharded.zarr/nope"], to: path.join(parent, "a") }, "PathNotFoundError"],
      [{ rev: "main", paths: ["../etc"], zip: path.join(parent, "b.zip") }, "UnsafePathError"],
      [{ rev: "no-such-branch", zip: path.join(parent, "c.zip") }, "UnknownRevisionError"],
    ];
    for (const [opts, tag] of refusals) {
      const e = await exportRevision(source, opts).catch((x: unknown) => x);
      expect(isTdvError(e) && e._tag, tag).toBe(tag);
    }
    expect(readdirSync(parent)).toEqual(["full"]);
    expect(readdirSync(full)).toEqual(["keep.txt"]);
  });
});
