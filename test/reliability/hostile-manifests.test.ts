/**
 * Guarantee 5, fsck checks what checkout relies on: manifest shards and file
 * lists crafted with the format's encoder (or byte by byte where the encoder
 * refuses) that lie about what they hold: an entry in another region's shard,
 * a shard of another dimensionality, entries out of order, an entry that is
 * also a tree entry, a size its chunk cannot have (2^53 - 1 bytes for a 4-byte
 * chunk), a size no varint can hold (2^56), file list names a checkout
 * refuses. Each is committed on a branch, then the built CLI's
 * `fsck --full --json` must exit 1 with a problem naming the array, the shard
 * (or file list) and the entry, and `tdv checkout` of every structural case
 * must refuse too (one check function serves both). A clean repository, and
 * one with a chunk outside its grid (data tdv keeps), stay ok.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { add, commit, Repository } from "../../src/index.js";
import { sha256, type ChunkId, type GitOid } from "../../src/format/hash.js";
import { encodeFileList, encodeShard } from "../../src/format/manifest.js";
import { encodeVarint } from "../../src/format/varint.js";
import { tempDir } from "../helpers/fixture.js";
import { gitFsck, hashTree, run, runOk } from "./helpers.js";

type Raw = [mode: string, name: string, oid: string];

const ZARRAY = JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: "|u1", compressor: null, fill_value: 0, filters: null, order: "C" });
const ZARR_JSON = JSON.stringify({ zarr_format: 3, node_type: "array", shape: [8], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } }, chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, codecs: [{ name: "bytes" }], fill_value: 0 });
const HUGE = Number.MAX_SAFE_INTEGER; // 2^53 - 1 bytes: "+8.0 PiB" in a diff

let wc: string;
let repo: Repository;
let base: GitOid;
let baseEntries: Raw[];
/** the committed 4-byte chunk data.zarr/a/0 ("good"): also named by the base commit with its true size */
let good: ChunkId;
/** a chunk only the crafted entries name */
let lonely: ChunkId;

/** A tree written as bytes (none of the writer's checks apply), its entries in git's order so that stock git fsck passes it. */
const rawTree = (entries: Raw[]) => {
  const order = (e: Raw) => Buffer.from(e[0] === "40000" ? `${e[1]}/` : e[1]);
  const sorted = [...entries].sort((a, b) => Buffer.compare(order(a), order(b)));
  return repo.git.writeRaw("tree", Buffer.concat(sorted.flatMap(([mode, name, oid]) => [Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, "hex")])));
};
const blob = (bytes: string | Uint8Array) => repo.git.writeBlob(typeof bytes === "string" ? Buffer.from(bytes) : bytes);

async function commitWith(...extra: Raw[]): Promise<GitOid> {
  const who = repo.identity();
  return repo.git.writeCommit({ tree: (await rawTree([...baseEntries, ...extra])) as GitOid, parents: [base], author: who, committer: who, message: "crafted\n" });
}

/** An array folder evil.zarr whose manifest holds `shards` (name → bytes), beside `extra` entries. */
async function withArray(shards: [string, Uint8Array][], extra: Raw[] = [], meta: [string, string] | null = [".zarray", ZARRAY]): Promise<GitOid> {
  const manifest = await rawTree(await Promise.all(shards.map(async ([name, bytes]): Promise<Raw> => ["100644", name, await blob(bytes)])));
  const folder = await rawTree([...(meta ? [["100644", meta[0], await blob(meta[1])] as Raw] : []), ["40000", ".tdv-manifest", manifest], ...extra]);
  return commitWith(["40000", "evil.zarr", folder]);
}

/** A folder big/ whose file list is `list` (bytes), beside `extra` entries. */
async function withFileList(list: Uint8Array, extra: Raw[] = []): Promise<GitOid> {
  return commitWith(["40000", "big", await rawTree([["100644", ".tdv-files", await blob(list)], ...extra])]);
}

const shard = (ndim: number, entries: { index: number[]; id?: ChunkId; size?: number }[]) => encodeShard(ndim, entries.map((e) => ({ index: e.index, id: e.id ?? good, size: e.size ?? 4 })));

/** Shard bytes written field by field, with no check of the encoder's (order, size range). */
function rawShard(ndim: number, entries: { index: number[]; id: ChunkId; size: number }[]): Uint8Array {
  const out: number[] = [0x54, 0x44, 0x56, 1, 1];
  encodeVarint(ndim, out);
  encodeVarint(entries.length, out);
  for (const e of entries) {
    for (const i of e.index) encodeVarint(i, out);
    out.push(...Buffer.from(e.id, "hex"));
    // LEB128 of any size, 2^56 included (encodeVarint stops at 2^53 - 1)
    let n = BigInt(e.size);
    while (n >= 0x80n) {
      out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(Number(n));
  }
  return Uint8Array.from(out);
}

interface Case {
  name: string;
  commit: () => Promise<GitOid>;
  /** the problem fsck --full must report (a subset of its fields; message as a pattern) */
  problem: { kind: string; type: string; path?: string; message: RegExp };
  /** tdv checkout of the commit must refuse it too (a reader relies on the same invariant) */
  checkoutRefuses: boolean;
}

const cases: Case[] = [
  {
    name: "an entry of another region's shard",
    commit: () => withArray([["0", shard(1, [{ index: [0] }, { index: [5000] }])]]),
    problem: { kind: "corrupt", type: "manifest shard", path: "evil.zarr/.tdv-manifest/0", message: /entry \[5000\] of array evil\.zarr lies in region 1, not in the region of shard 0/ },
    checkoutRefuses: true,
  },
  {
    name: "a shard of another dimensionality than its array",
    commit: () => withArray([["0.0", shard(2, [{ index: [0, 0] }])]]),
    problem: { kind: "unsafe", type: "manifest shard", path: "evil.zarr/.tdv-manifest/0.0", message: /manifest shard 0\.0 of array evil\.zarr has 2 dimensions, the array 1/ },
    checkoutRefuses: true,
  },
  {
    name: "entries out of order",
    commit: () => withArray([["0", rawShard(1, [{ index: [1], id: good, size: 4 }, { index: [0], id: good, size: 4 }])]]),
    problem: { kind: "corrupt", type: "manifest shard", path: "evil.zarr/.tdv-manifest/0", message: /entries out of order or duplicated: \[1\] then \[0\]/ },
    checkoutRefuses: true,
  },
  {
    name: "a duplicated entry",
    commit: () => withArray([["0", rawShard(1, [{ index: [1], id: good, size: 4 }, { index: [1], id: good, size: 4 }])]]),
    problem: { kind: "corrupt", type: "manifest shard", message: /entries out of order or duplicated: \[1\] then \[1\]/ },
    checkoutRefuses: true,
  },
  {
    name: "an entry whose chunk is also a file of the array's folder",
    commit: async () => withArray([["0", shard(1, [{ index: [0] }])]], [["100644", "0", await blob("shadow")]]),
    problem: { kind: "unsafe", type: "manifest shard", message: /entry \[0\] of array evil\.zarr \(shard 0\) and the tree entry '0' name the same file/ },
    checkoutRefuses: true,
  },
  {
    name: "a v3 entry that needs a folder 'c' where the tree holds a file 'c'",
    commit: async () => withArray([["0", shard(1, [{ index: [0] }])]], [["100644", "c", await blob("shadow")]], ["zarr.json", ZARR_JSON]),
    problem: { kind: "unsafe", type: "manifest shard", message: /entry \[0\] of array evil\.zarr \(shard 0\) needs a folder where the tree holds the file 'c'/ },
    checkoutRefuses: true,
  },
  {
    name: "a manifest in a folder without array metadata",
    commit: () => withArray([["0", shard(1, [{ index: [0] }])]], [], null),
    problem: { kind: "unsafe", type: "tree", path: "evil.zarr/.tdv-manifest", message: /a manifest in a folder that holds no array metadata/ },
    checkoutRefuses: true,
  },
  {
    name: "invalid array metadata beside a manifest",
    commit: () => withArray([["0", shard(1, [{ index: [0] }])]], [], [".zarray", '{"zarr_format": 2, "shape": [-1]']),
    problem: { kind: "corrupt", type: "metadata", path: "evil.zarr/.zarray", message: /invalid Zarr metadata in evil\.zarr\/\.zarray/ },
    checkoutRefuses: true,
  },
  {
    name: "an entry recording 2^53 - 1 bytes for a 4-byte chunk another entry records truly",
    commit: () => withArray([["0", shard(1, [{ index: [1], size: HUGE }])]]),
    problem: {
      kind: "corrupt",
      type: "manifest shard",
      path: "evil.zarr/.tdv-manifest/0",
      message: new RegExp(`^entry \\[1\\] of manifest shard evil\\.zarr/\\.tdv-manifest/0 \\(array evil\\.zarr\\) records ${HUGE} bytes for chunk [0-9a-f]{64}, which has 4$`),
    },
    checkoutRefuses: false,
  },
  {
    name: "an entry recording 2^53 - 1 bytes for a chunk only it names",
    commit: () => withArray([["0", shard(1, [{ index: [1], id: lonely, size: HUGE }])]]),
    problem: { kind: "corrupt", type: "chunk", path: "evil.zarr/1", message: new RegExp(`has 14 bytes, its manifest says ${HUGE} \\(entry \\[1\\] of manifest shard evil\\.zarr/\\.tdv-manifest/0 \\(array evil\\.zarr\\)\\)`) },
    checkoutRefuses: false,
  },
  {
    name: "an entry recording 2^56 bytes (no varint of the format holds it)",
    commit: () => withArray([["0", rawShard(1, [{ index: [1], id: good, size: 2 ** 56 }])]]),
    problem: { kind: "corrupt", type: "manifest shard", path: "evil.zarr/.tdv-manifest/0", message: /exceeds 2\^53-1|longer than 8 bytes/ },
    checkoutRefuses: true,
  },
  {
    name: "a file list entry recording 2^53 - 1 bytes for a chunk recorded truly elsewhere",
    commit: () => withFileList(encodeFileList([{ name: "big.bin", id: good, size: HUGE }])),
    problem: { kind: "corrupt", type: "file list", path: "big/.tdv-files", message: new RegExp(`^entry 'big\\.bin' of file list big/\\.tdv-files records ${HUGE} bytes for chunk`) },
    checkoutRefuses: false,
  },
  {
    name: "a file list naming .tdv",
    commit: () => withFileList(encodeFileList([{ name: ".tdv", id: good, size: 4 }])),
    problem: { kind: "unsafe", type: "file list", path: "big/.tdv-files", message: /'\.tdv' is reserved/ },
    checkoutRefuses: true,
  },
  {
    name: "a file list name that is also a tree entry but for case",
    commit: async () => withFileList(encodeFileList([{ name: "Big.bin", id: good, size: 4 }]), [["100644", "big.bin", await blob("small")]]),
    problem: { kind: "unsafe", type: "file list", path: "big/.tdv-files", message: /file list entry 'Big\.bin' of big\/\.tdv-files and the tree entry 'big\.bin' name the same file/ },
    checkoutRefuses: true,
  },
  {
    name: "file list names out of order",
    commit: async () => {
      const list = Buffer.from(encodeFileList([{ name: "a.bin", id: good, size: 4 }, { name: "b.bin", id: good, size: 4 }]));
      const a = list.indexOf(Buffer.from("a.bin"));
      const b = list.indexOf(Buffer.from("b.bin"));
      list[a] = 0x62; // "b.bin" then "b.bin": a duplicate
      list[b] = 0x61;
      return withFileList(list);
    },
    problem: { kind: "corrupt", type: "file list", message: /file names out of order or duplicated at entry 1/ },
    checkoutRefuses: true,
  },
];

interface FsckDoc {
  ok: boolean;
  problems: { kind: string; type: string; id: string; path: string | null; message: string; commit: string | null; neededBy: string[] }[];
  warnings: string[];
}

async function fsckJson(args: string[]): Promise<{ code: number; doc: FsckDoc }> {
  const r = await run(wc, ["fsck", ...args, "--json"]);
  return { code: r.code, doc: JSON.parse(r.stdout) as FsckDoc };
}

describe("fsck checks what checkout relies on", () => {
  beforeAll(async () => {
    const root = await tempDir();
    wc = path.join(root, "wc");
    await fsp.mkdir(path.join(wc, "data.zarr/a"), { recursive: true });
    await fsp.writeFile(path.join(wc, "data.zarr/a/.zarray"), ZARRAY);
    await fsp.writeFile(path.join(wc, "data.zarr/a/0"), "good");
    await fsp.writeFile(path.join(wc, "README"), "base\n");
    repo = (await Repository.init({ durability: "none", dir: wc })).repo;
    await add(repo, { all: true });
    base = (await commit(repo, { message: "base" })).oid;
    good = sha256(Buffer.from("good"));
    const bytes = Buffer.from("only evil names");
    lonely = sha256(bytes.subarray(0, 14));
    await repo.chunks.put(lonely, bytes.subarray(0, 14));
    baseEntries = (await repo.git.readTree((await repo.git.readCommit(base)).tree)).map((e) => [e.mode === "040000" ? "40000" : e.mode, e.name, e.oid]);
  });

  it("a clean repository is ok, with no warning, and fsck writes nothing", async () => {
    const before = await hashTree(path.dirname(wc));
    const { code, doc } = await fsckJson(["--full"]);
    expect({ code, ok: doc.ok, problems: doc.problems, warnings: doc.warnings.filter((w) => !/unreachable|lock file/.test(w)) }).toEqual({ code: 0, ok: true, problems: [], warnings: [] });
    expect(await hashTree(path.dirname(wc))).toEqual(before);
  });

  it(`reports each of ${cases.length} lying manifests and file lists, naming the array, the shard and the entry; checkout refuses what fsck calls unsafe or corrupt`, { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    for (const [n, c] of cases.entries()) {
      const oid = await c.commit();
      const branch = `evil-${n}`;
      await fsp.writeFile(path.join(wc, ".tdv/git/refs/heads", branch), `${oid}\n`);
      for (const args of [["--full"], []]) {
        const { code, doc } = await fsckJson(args);
        const found = doc.problems.filter((p) => p.kind === c.problem.kind && p.type === c.problem.type && c.problem.message.test(p.message) && (c.problem.path === undefined || p.path === c.problem.path));
        if (code !== 1 || found.length !== 1 || doc.problems.length !== 1) failures.push(`${c.name} (fsck ${args.join(" ")}): exit ${code}, problems ${JSON.stringify(doc.problems, null, 1)}`);
        else if (found[0]?.commit !== oid || !found[0]?.neededBy.includes(`refs/heads/${branch}`)) failures.push(`${c.name}: the problem does not name the commit and the branch: ${JSON.stringify(found[0])}`);
      }
      // the human output names it too
      const text = await run(wc, ["fsck", "--full"]);
      if (text.code !== 1 || !text.stdout.split("\n").some((l) => l.startsWith(`${c.problem.kind}: `) && c.problem.message.test(l.slice(c.problem.kind.length + 2).replace(/ at \S+ in commit .*$/, "")))) {
        failures.push(`${c.name}: tdv fsck --full printed\n${text.stdout}${text.stderr}`);
      }
      if (c.checkoutRefuses) {
        const before = await hashTree(wc);
        const r = await run(wc, ["checkout", oid]);
        if (r.code !== 1 || !/^error: /m.test(r.stderr)) failures.push(`${c.name}: checkout was not refused (exit ${r.code})\n${r.stderr}`);
        expect(await hashTree(wc), `${c.name}: checkout wrote files`).toEqual(before);
      }
      await fsp.rm(path.join(wc, ".tdv/git/refs/heads", branch));
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
    // nothing left that a checkout would refuse: ok again
    const { code, doc } = await fsckJson(["--full"]);
    expect({ code, problems: doc.problems }).toEqual({ code: 0, problems: [] });
    await gitFsck(path.join(wc, ".tdv/git"));
  });

  it("a manifest entry outside the array's chunk grid is data tdv keeps: ok, and --full says where it is", async () => {
    const oid = await withArray([["0", shard(1, [{ index: [0] }, { index: [7] }])]]);
    await fsp.writeFile(path.join(wc, ".tdv/git/refs/heads/out-of-grid"), `${oid}\n`);
    const full = await fsckJson(["--full"]);
    expect({ code: full.code, problems: full.doc.problems }).toEqual({ code: 0, problems: [] });
    expect(full.doc.warnings).toContain("array evil.zarr: 1 manifest entry lies outside its chunk grid [2], e.g. entry [7] of shard 0: chunk files tdv stores as they are (a Zarr reader ignores them)");
    expect((await fsckJson([])).doc.warnings.filter((w) => /chunk grid/.test(w))).toEqual([]);
    expect((await runOk(wc, ["fsck", "--full"])).stderr).toMatch(/^warning: array evil\.zarr: 1 manifest entry lies outside its chunk grid/m);
    await fsp.rm(path.join(wc, ".tdv/git/refs/heads/out-of-grid"));
  });
});
