/**
 * Guarantee 3, hostile repositories: Git objects crafted by hand (raw trees
 * written with GitStore.writeRaw, so no check of tdv's writer applies) with
 * entries that would escape or shadow the working copy, manifests that lie,
 * objects whose bytes do not match their ids, refs to nothing. Each is offered
 * to `switch`, `checkout`, `restore --source` and `cat`; each must be refused
 * with a clear error (exit 1, "error: …", no "bug in tdv" hint), HEAD and the
 * index must not move, and nothing may change outside the working copy (a
 * canary folder beside it is watched, and so are the paths the attacks aim at).
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { add, cat, checkout, commit, diff, isTdvError, Repository, restore, switchBranch } from "../../src/index.js";
import { exitCodeForTag } from "../../cli/exit-codes.js";
import { sha256, type GitOid } from "../../src/format/hash.js";
import { encodeFileList, encodeShard } from "../../src/format/manifest.js";
import { tempDir } from "../helpers/fixture.js";
import { hashTree, run, runOk, treeDiff } from "./helpers.js";

type Raw = [mode: string, name: string, oid: string];

interface Case {
  name: string;
  /** the commit offered (a branch evil-<n> points to it), or a ref value that names nothing */
  commit: () => Promise<string>;
  /** what the error must say */
  error: RegExp;
  /** a path that exists in the snapshot, for restore and cat */
  path?: string;
  /** for cat, which reads only the folders on its path: a path through the hostile part (default: `path`) */
  catPath?: string;
  /** files other than the refused one may be written (inside the working copy) before the refusal */
  partial?: boolean;
  /** the damage is in an object diff never reads (a chunk of an added array is counted, not decoded): diff is not asked */
  diffReadsNot?: boolean;
}

let root: string;
let wc: string;
let repo: Repository;
let baseEntries: Raw[];
let base: GitOid;
const absTarget = `/tmp/tdv-hostile-${process.pid}-${Date.now()}`;

async function rawTree(entries: Raw[]): Promise<string> {
  const parts = entries.flatMap(([mode, name, oid]) => [Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, "hex")]);
  return repo.git.writeRaw("tree", Buffer.concat(parts));
}

const blob = (text: string | Uint8Array) => repo.git.writeBlob(typeof text === "string" ? Buffer.from(text) : text);

async function commitOf(tree: string): Promise<string> {
  const who = repo.identity();
  return repo.git.writeCommit({ tree: tree as GitOid, parents: [base], author: who, committer: who, message: "evil\n" });
}

/** The base snapshot plus `extra` entries at the root. */
async function withRoot(...extra: Raw[]): Promise<string> {
  return commitOf(await rawTree([...baseEntries, ...extra]));
}

const ZARRAY = JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: "|u1", compressor: null, fill_value: 0, filters: null, order: "C" });
const ZARR_JSON = JSON.stringify({ zarr_format: 3, node_type: "array", shape: [8], data_type: "uint8", chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } }, chunk_key_encoding: { name: "default", configuration: { separator: "/" } }, codecs: [{ name: "bytes" }], fill_value: 0 });

/** An array folder evil.zarr (v2, 1-D, 2 chunks) whose manifest holds `shards`. */
async function withArray(shards: [string, Uint8Array][], extra: Raw[] = [], meta: [string, string] = [".zarray", ZARRAY]): Promise<string> {
  const manifest = await rawTree(await Promise.all(shards.map(async ([name, bytes]): Promise<Raw> => ["100644", name, await blob(bytes)])));
  const folder = await rawTree([["100644", meta[0], await blob(meta[1])], ["40000", ".tdv-manifest", manifest], ...extra]);
  return withRoot(["40000", "evil.zarr", folder]);
}

let chunkId: ReturnType<typeof sha256>;
async function goodChunk() {
  const bytes = Buffer.from("abcd");
  chunkId = sha256(bytes);
  await repo.chunks.put(chunkId, bytes);
  return chunkId;
}

const shard = (ndim: number, entries: { index: number[]; size?: number }[]) =>
  encodeShard(ndim, entries.map((e) => ({ index: e.index, id: chunkId, size: e.size ?? 4 })));

const UNSAFE = /^error: refusing unsafe path/m;
const CORRUPT = /^error: object .* is corrupt/m;

const cases: Case[] = [
  { name: "a '..' folder", commit: async () => withRoot(["40000", "..", await rawTree([["100644", "escaped.txt", await blob("x")]])]), error: UNSAFE },
  { name: "a '.' folder", commit: async () => withRoot(["40000", ".", await rawTree([["100644", "dot.txt", await blob("x")]])]), error: UNSAFE },
  { name: "an empty name", commit: async () => withRoot(["100644", "", await blob("x")]), error: UNSAFE },
  { name: "a name with '../' (relative escape)", commit: async () => withRoot(["100644", "../canary/pwned", await blob("x")]), error: UNSAFE },
  { name: "an absolute-looking name", commit: async () => withRoot(["100644", absTarget, await blob("x")]), error: UNSAFE },
  { name: "a name with a backslash", commit: async () => withRoot(["100644", "..\\..\\canary\\pwned", await blob("x")]), error: UNSAFE },
  { name: "a .tdv folder (would overwrite the repository)", commit: async () => withRoot(["40000", ".tdv", await rawTree([["100644", "index", await blob("pwned")]])]), error: UNSAFE },
  { name: "a .git folder", commit: async () => withRoot(["40000", ".git", await rawTree([["100644", "config", await blob("[core]\n\tfsmonitor = evil\n")]])]), error: UNSAFE },
  { name: "a .TDV folder (case variant)", commit: async () => withRoot(["40000", ".TDV", await rawTree([["100644", "tdv.json", await blob("{}")]])]), error: UNSAFE },
  { name: "a nested .Git folder", catPath: "sub/.Git/HEAD", commit: async () => withRoot(["40000", "sub", await rawTree([["40000", ".Git", await rawTree([["100644", "HEAD", await blob("x")]])]])]), error: UNSAFE },
  { name: "a symbolic link (mode 120000)", commit: async () => withRoot(["120000", "link", await blob("../canary")]), error: /^error: refusing unsafe path 'link': tree entry mode 120000/m },
  { name: "a symbolic link folder with a file behind it", commit: async () => withRoot(["120000", "out", await blob("../canary")], ["40000", "out2", await rawTree([["100644", "f", await blob("x")]])]), error: UNSAFE },
  { name: "a submodule (mode 160000)", commit: async () => withRoot(["160000", "sub", "d".repeat(40)]), error: /^error: refusing unsafe path 'sub': tree entry mode 160000/m },
  { name: "two entries with the same name", commit: async () => withRoot(["100644", "dup.txt", await blob("one")], ["100644", "dup.txt", await blob("two")]), error: UNSAFE },
  { name: "a file and a folder with the same name", commit: async () => withRoot(["100644", "both", await blob("one")], ["40000", "both", await rawTree([["100644", "x", await blob("two")]])]), error: UNSAFE },
  { name: "names that differ only by case", commit: async () => withRoot(["100644", "README", await blob("one")], ["100644", "readme", await blob("two")]), error: UNSAFE },
  { name: "a manifest shard that is truncated", catPath: "evil.zarr/0", commit: async () => withArray([["0", shard(1, [{ index: [0] }]).slice(0, -5)]]), error: CORRUPT },
  { name: "a manifest shard claiming a million entries", catPath: "evil.zarr/0", commit: async () => withArray([["0", Uint8Array.from([0x54, 0x44, 0x56, 1, 1, 1, 0xc0, 0x84, 0x3d, ...shard(1, [{ index: [0] }]).slice(7)])]]), error: CORRUPT },
  { name: "a manifest shard with trailing bytes", catPath: "evil.zarr/0", commit: async () => withArray([["0", Buffer.concat([shard(1, [{ index: [0] }]), Buffer.from("trailing")])]]), error: CORRUPT },
  { name: "a manifest entry in the wrong shard", catPath: "evil.zarr/0", commit: async () => withArray([["0", shard(1, [{ index: [5000] }])]]), error: CORRUPT },
  { name: "a manifest shard of another dimensionality", catPath: "evil.zarr/0", commit: async () => withArray([["0.0", shard(2, [{ index: [0, 0] }])]]), error: UNSAFE },
  { name: "a manifest shard named like a path", catPath: "evil.zarr/0", commit: async () => withArray([["../0", shard(1, [{ index: [0] }])]]), error: UNSAFE },
  { name: "a manifest entry and a file for the same chunk", catPath: "evil.zarr/0", commit: async () => withArray([["0", shard(1, [{ index: [0] }])]], [["100644", "0", await blob("shadow")]]), error: UNSAFE },
  {
    name: "a chunk folder that is also a file (v3 'c')",
    catPath: "evil.zarr/c/0",
    commit: async () => withArray([["0", shard(1, [{ index: [0] }])]], [["100644", "c", await blob("shadow")]], ["zarr.json", ZARR_JSON]),
    error: UNSAFE,
  },
  { name: "a manifest in a folder without array metadata", catPath: "plain/x", commit: async () => withRoot(["40000", "plain", await rawTree([["40000", ".tdv-manifest", await rawTree([["100644", "0", await blob(shard(1, [{ index: [0] }]))]])]])]), error: UNSAFE },
  { name: "a .tdv-manifest that is a file", catPath: "plain/x", commit: async () => withRoot(["40000", "plain", await rawTree([["100644", ".tdv-manifest", await blob("x")]])]), error: UNSAFE },
  { name: "invalid array metadata beside a manifest", catPath: "evil.zarr/0", commit: async () => withArray([["0", shard(1, [{ index: [0] }])]], [], [".zarray", '{"zarr_format": 2, "shape": [-1]']), error: /^error: invalid Zarr metadata in evil\.zarr\/\.zarray/m },
  {
    name: "a file list naming '..'",
    commit: async () => {
      const list = Buffer.from(encodeFileList([{ name: "ok.bin", id: await goodChunk(), size: 4 }]));
      const i = list.indexOf(Buffer.from("ok.bin"));
      list[i - 1] = 2; // the name length: "ok" -> and then patch the bytes to ".."
      const bad = Buffer.concat([list.subarray(0, i), Buffer.from(".."), list.subarray(i + 6)]);
      return withRoot(["100644", ".tdv-files", await blob(bad)]);
    },
    error: CORRUPT,
  },
  { name: "a file list naming .tdv", commit: async () => withRoot(["100644", ".tdv-files", await blob(encodeFileList([{ name: ".tdv", id: await goodChunk(), size: 4 }]))]), error: UNSAFE },
  { name: "a file list and a file with the same name", commit: async () => withRoot(["100644", ".tdv-files", await blob(encodeFileList([{ name: "big.bin", id: await goodChunk(), size: 4 }]))], ["100644", "big.bin", await blob("small")]), error: UNSAFE },
  { name: "a file list name differing only by case from a file", commit: async () => withRoot(["100644", ".tdv-files", await blob(encodeFileList([{ name: "Big.bin", id: await goodChunk(), size: 4 }]))], ["100644", "big.bin", await blob("small")]), error: UNSAFE },
  {
    name: "a chunk object whose bytes do not match its id",
    commit: async () => {
      const id = sha256(Buffer.from("the real bytes"));
      await fsp.mkdir(path.dirname(repo.chunks.pathOf(id)), { recursive: true });
      await fsp.writeFile(repo.chunks.pathOf(id), "forged bytes!!");
      const folder = await rawTree([
        ["100644", ".zarray", await blob(ZARRAY)],
        ["40000", ".tdv-manifest", await rawTree([["100644", "0", await blob(encodeShard(1, [{ index: [1], id, size: 14 }]))]])],
      ]);
      return withRoot(["40000", "forged.zarr", folder]);
    },
    error: CORRUPT,
    path: "forged.zarr/1",
    partial: true,
    diffReadsNot: true,
  },
  {
    name: "a Git blob whose bytes do not match its id",
    commit: async () => {
      const oid = createHash("sha1").update("blob 4\0real").digest("hex");
      const file = path.join(repo.git.gitdir, "objects", oid.slice(0, 2), oid.slice(2));
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, deflateSync(Buffer.from("blob 6\0forged")));
      return withRoot(["100644", "forged.txt", oid]);
    },
    error: CORRUPT,
    path: "forged.txt",
  },
  { name: "a ref to a missing commit", commit: async () => "e".repeat(40), error: /^error: (.*e{40}.* is missing|unknown revision)/m },
  { name: "a commit whose tree is missing", commit: async () => commitOf("f".repeat(40)), error: /^error: (root tree|tree) f{40} is missing/m },
  { name: "a tree naming a missing blob", commit: async () => withRoot(["100644", "gone.txt", "a".repeat(40)]), error: /^error: .*a{40} is missing/m, path: "gone.txt" },
  {
    name: "a tag that names a tree, not a commit",
    commit: async () => {
      const who = repo.identity();
      return repo.git.writeTag({ object: (await repo.git.readCommit(base)).tree, type: "tree", tag: "t", tagger: who, message: "x\n" });
    },
    error: /^error: (unknown revision .*names a tree|object .* is corrupt: .*expected a commit)/m,
  },
];

describe("hostile repositories", () => {
  beforeAll(async () => {
    root = await tempDir();
    wc = path.join(root, "wc");
    await fsp.mkdir(path.join(root, "canary"), { recursive: true });
    await fsp.writeFile(path.join(root, "canary/secret.txt"), "do not touch");
    await fsp.mkdir(path.join(wc, "data.zarr/a"), { recursive: true });
    await fsp.writeFile(path.join(wc, "data.zarr/a/.zarray"), ZARRAY);
    await fsp.writeFile(path.join(wc, "data.zarr/a/0"), "good");
    await fsp.writeFile(path.join(wc, "README"), "base\n");
    repo = (await Repository.init({ durability: "none", dir: wc })).repo;
    await add(repo, { all: true });
    base = (await commit(repo, { message: "base" })).oid;
    await goodChunk();
    baseEntries = (await repo.git.readTree((await repo.git.readCommit(base)).tree)).map((e) => [e.mode === "040000" ? "40000" : e.mode, e.name, e.oid]);
  });

  it(`refuses each of ${cases.length} crafted repositories in switch, checkout, restore, cat and diff (and tdv switch), writing nothing outside the working copy`, { timeout: 120_000 }, async () => {
    const outside = async () => {
      const all = await hashTree(root);
      for (const k of [...all.keys()]) if (k.startsWith("wc/")) all.delete(k);
      return all;
    };
    const before = await outside();
    const indexBefore = await fsp.readFile(path.join(wc, ".tdv/index"));
    const wcBefore = await hashTree(wc);
    let tried = 0;
    const failures: string[] = [];
    for (const [n, c] of cases.entries()) {
      const oid = await c.commit();
      const branch = `evil-${n}`;
      await fsp.writeFile(path.join(wc, ".tdv/git/refs/heads", branch), `${oid}\n`);
      const p = c.path ?? "README";
      // every command through the library (the CLI prints the same error and maps it to exit 1),
      // and `tdv switch` through the CLI itself
      const commands: [string, () => Promise<unknown>][] = [
        [`switch ${branch}`, () => switchBranch(repo, { name: branch })],
        [`checkout ${oid}`, () => checkout(repo, { rev: oid })],
        [`restore --source ${branch} ${p}`, () => restore(repo, { source: branch, paths: [p] })],
        [`cat ${branch} ${c.catPath ?? p}`, () => cat(repo, { rev: branch, path: c.catPath ?? p })],
        // diff reads the folders that differ through the same reader as cat (repo/folder-read.ts); values read the chunks
        ...(c.diffReadsNot ? [] : [[`diff --values main ${branch}`, () => diff(repo, { from: "main", to: branch, values: true })] as [string, () => Promise<unknown>]]),
        // the CLI for every third case (each spawn costs a process start)
        ...(n % 3 === 0 ? [[`(CLI) tdv switch ${branch}`, async () => run(wc, ["switch", branch])] as [string, () => Promise<unknown>]] : []),
      ];
      for (const [label, go] of commands) {
        tried++;
        const what = `${c.name}: ${label}`;
        const out = await go().then(
          (v) => v,
          (e: unknown) => e,
        );
        let message: string;
        if (label.startsWith("(CLI)")) {
          const r = out as Awaited<ReturnType<typeof run>>;
          message = r.code === 1 && !/bug in tdv/.test(r.stderr) ? r.stderr : `exit ${r.code}: ${r.stderr}`;
        } else {
          message = isTdvError(out) && exitCodeForTag(out._tag) === 1 ? `error: ${out.message}\nhint: ${out.hint}` : `not refused: ${String(out).slice(0, 200)}`;
        }
        const fail = (why: string) => failures.push(`${what}: ${why}\n  ${message.trim().replace(/\n/g, "\n  ")}`);
        if (!c.error.test(message)) fail("not refused as expected");
        // nothing outside the working copy changes, ever
        expect(await outside(), `${what}: something outside the working copy changed`).toEqual(before);
        expect(await fsp.stat(absTarget).then(() => true, () => false), what).toBe(false);
        if ((await fsp.readFile(path.join(wc, ".tdv/git/HEAD"), "utf8")) !== "ref: refs/heads/main\n") fail("HEAD moved");
        if (!(await fsp.readFile(path.join(wc, ".tdv/index"))).equals(indexBefore)) fail("the index changed");
        const now = await hashTree(wc);
        for (const [f, h] of now) if (h === sha256(Buffer.from("forged bytes!!"))) fail(`${f} holds forged bytes`);
        // refused before writing anything, the working copy is as it was; a refusal while writing
        // (the forged chunk) may have written other files of the target: put everything back
        const changed = treeDiff(now, wcBefore);
        if (!c.partial && changed.length > 0) fail(`the working copy changed: ${changed.join(", ")}`);
        if (changed.length > 0 || !/^error: /.test(message)) {
          await fsp.writeFile(path.join(wc, ".tdv/git/HEAD"), "ref: refs/heads/main\n");
          await fsp.writeFile(path.join(wc, ".tdv/index"), indexBefore);
          for (const f of now.keys()) if (!wcBefore.has(f)) await fsp.rm(path.join(wc, f));
          for (const d of ["forged.zarr", "evil.zarr", "plain", "sub", "out2", "both"]) await fsp.rm(path.join(wc, d), { recursive: true, force: true });
          await restore(repo, { paths: [""] });
          expect(await hashTree(wc), `${what}: cleanup`).toEqual(wcBefore);
        }
      }
      await fsp.rm(path.join(wc, ".tdv/git/refs/heads", branch));
    }
    process.stderr.write(`[reliability] hostile: ${JSON.stringify({ cases: cases.length, commandsTried: tried, refusedCorrectly: tried - failures.length })}\n`);
    expect(failures, failures.join("\n")).toEqual([]);
  });

  it("a symbolic link in the working copy is never followed by a checkout", async () => {
    const outsideFile = path.join(root, "canary/secret.txt");
    await fsp.symlink(path.join(root, "canary"), path.join(wc, "linked"));
    const inside = await rawTree([["100644", "secret.txt", await blob("overwritten through a link")]]);
    const oid = await withRoot(["40000", "linked", inside]);
    await fsp.writeFile(path.join(wc, ".tdv/git/refs/heads/through-link"), `${oid}\n`);
    for (const args of [["switch", "through-link"], ["checkout", "--force", oid], ["restore", "--source", "through-link", "linked"]]) {
      const r = await run(wc, args);
      expect(r.code, `tdv ${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^error: refusing unsafe path 'linked': a folder on the path is a symbolic link/m);
      expect(await fsp.readFile(outsideFile, "utf8")).toBe("do not touch");
    }
    await fsp.rm(path.join(wc, "linked"));
    await fsp.rm(path.join(wc, ".tdv/git/refs/heads/through-link"));
  });

  it("a manifest entry outside the array's grid is data tdv keeps: it is checked out inside the array's folder", async () => {
    // (tdv commits out-of-grid chunk files, warning about them, and never drops a user's file)
    const oid = await withArray([["0", shard(1, [{ index: [7] }])]]);
    await fsp.writeFile(path.join(wc, ".tdv/git/refs/heads/out-of-grid"), `${oid}\n`);
    const before = await hashTree(root);
    await runOk(wc, ["checkout", oid]);
    const after = await hashTree(root);
    // (the tree passed every check: tdv marks it verified in its own folder)
    const added = [...after.keys()].filter((k) => !before.has(k) && !k.startsWith("wc/.tdv/verified-trees/"));
    expect(added).toEqual(["wc/evil.zarr/.zarray", "wc/evil.zarr/7"]);
    await runOk(wc, ["switch", "main"]);
    await fsp.rm(path.join(wc, ".tdv/git/refs/heads/out-of-grid"));
  });
});
