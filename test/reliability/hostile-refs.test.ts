/**
 * Guarantee 3, hostile refs: refs crafted by hand that lead outside the
 * repository (`ref: refs/heads/../../../../canary/pwned` in HEAD, in a
 * branch, in packed-refs, in a remote's HEAD or info/refs), that loop or nest
 * too deep (symbolic refs), a ref file whose name git refuses, and annotated
 * tag chains deeper than any fixed limit. Each is offered to the built CLI as
 * a user would meet it. Whatever cannot be followed must be refused with an
 * error that names the ref (exit 1, never a stack overflow), nothing may be
 * written through it (the canary path never exists, every file under the
 * temp folder keeps its bytes), and fsck and gc must treat it as a problem:
 * gc deletes nothing while it cannot follow something. What can be followed
 * (a tag chain of 70 tags) must be, so that gc keeps all it reaches.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { add, commit, push, Repository } from "../../src/index.js";
import { sha256, type GitOid } from "../../src/format/hash.js";
import { encodeShard } from "../../src/format/manifest.js";
import type { RunResult } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { backdate, gitFsck, run, runOk } from "./helpers.js";

const sh = promisify(execFile);
const ZARRAY = JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: "|u1", compressor: null, fill_value: 0, filters: null, order: "C" });

interface Setup {
  /** the temp folder: wc/ (the working copy) and canary/ beside it */
  root: string;
  wc: string;
  gitdir: string;
  repo: Repository;
  base: GitOid;
}

/** A working copy with one committed array and a README, and a canary folder beside it. */
async function setup(): Promise<Setup> {
  const root = await tempDir();
  const wc = path.join(root, "wc");
  await fsp.mkdir(path.join(root, "canary"), { recursive: true });
  await fsp.writeFile(path.join(root, "canary/secret.txt"), "do not touch");
  await fsp.mkdir(path.join(wc, "data.zarr/a"), { recursive: true });
  await fsp.writeFile(path.join(wc, "data.zarr/a/.zarray"), ZARRAY);
  await fsp.writeFile(path.join(wc, "data.zarr/a/0"), "good");
  await fsp.writeFile(path.join(wc, "README"), "base\n");
  const repo = (await Repository.init({ durability: "none", dir: wc })).repo;
  await add(repo, { all: true });
  const base = (await commit(repo, { message: "base" })).oid;
  return { root, wc, gitdir: path.join(wc, ".tdv/git"), repo, base };
}

/** Every file under `dir`, .tdv included: path → SHA-256. A refused command changes none of them. */
async function allFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, createHash("sha256").update(await fsp.readFile(path.join(abs, e.name))).digest("hex"));
    }
  };
  await walk(dir, "");
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Paths anywhere under `dir` (and its parent's canary) that an attack aimed at. */
async function canaries(dir: string): Promise<string[]> {
  return [...(await allFiles(dir)).keys()].filter((k) => /pwned/.test(k));
}

/** Exit 1 with `error: …` naming what `named` matches; no stack overflow, no "bug in tdv". */
function expectRefused(r: RunResult, named: RegExp, what: string): void {
  const all = `${r.stdout}\n${r.stderr}`;
  expect(all, what).not.toMatch(/Maximum call stack|RangeError|bug in tdv|PromiseRejectCallback/);
  expect(r.code, `${what}: exit code\n${all}`).toBe(1);
  expect(all, what).toMatch(named);
}

/** The loose Git objects and chunk objects on disk. */
async function objectFiles(wc: string): Promise<string[]> {
  const files = await allFiles(path.join(wc, ".tdv"));
  return [...files.keys()].filter((k) => /^(git\/objects\/[0-9a-f]{2}\/|chunks\/[0-9a-f]{2}\/)/.test(k)).sort();
}

/** Run `commands`; each must be refused as `expectRefused` says, and leave every file under `root` as it was. */
async function expectAllRefused(s: Setup, commands: string[][], named: RegExp): Promise<void> {
  const before = await allFiles(s.root);
  for (const args of commands) {
    const r = await run(s.wc, args);
    expectRefused(r, named, `tdv ${args.join(" ")}`);
    expect(await allFiles(s.root), `tdv ${args.join(" ")} changed a file`).toEqual(before);
  }
  expect(await canaries(s.root)).toEqual([]);
}

const READERS = (ref: string): string[][] => [
  ["log", ref],
  ["switch", ref],
  ["reflog", ref],
  ["tag", "t-new", ref],
  ["branch", "b-new", ref],
  ["fsck"],
  ["gc", "--prune=now"],
];

describe("hostile refs", () => {
  for (const target of ["refs/heads/../../../../canary/pwned", "refs/heads/../../../../../canary/pwned", "/tmp/tdv-hostile-pwned", "refs/heads/ok/../../../x-pwned"]) {
    it(`HEAD naming '${target}': every command refuses, naming HEAD; nothing is written; the hint's fix works`, { timeout: 60_000 }, async () => {
      const s = await setup();
      await fsp.writeFile(path.join(s.gitdir, "HEAD"), `ref: ${target}\n`);
      await fsp.writeFile(path.join(s.wc, "README"), "changed\n");
      const named = new RegExp(`bad ref HEAD: it is a symbolic ref to '${target.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}'`);
      await expectAllRefused(s, [["commit", "-a", "-m", "through HEAD"], ["status"], ["log"], ["switch", "main"], ["branch"], ["branch", "new"], ["tag", "t"], ["fsck"], ["gc", "--prune=now"]], named);
      expect(await fsp.stat("/tmp/tdv-hostile-pwned").then(() => true, () => false)).toBe(false);
      // HEAD's own reflog needs no target: it still lists where HEAD was
      const before = await allFiles(s.root);
      expect((await runOk(s.wc, ["reflog"])).stdout).toMatch(/HEAD@\{0\} \([^)]*\): commit \(initial\): base/);
      expect(await allFiles(s.root)).toEqual(before);
      // the hint says how to repair HEAD: do exactly that
      const r = await run(s.wc, ["status"]);
      const fix = /^hint: .*e\.g\. (printf .*)$/m.exec(r.stderr)?.[1];
      expect(fix, r.stderr).toBeDefined();
      await sh("sh", ["-c", fix as string]);
      expect((await runOk(s.wc, ["status"])).stdout).toMatch(/On branch main/);
      await runOk(s.wc, ["commit", "-a", "-m", "after the fix"]);
      expect((await runOk(s.wc, ["fsck", "--full"])).code).toBe(0);
      await gitFsck(s.gitdir);
      expect(await canaries(s.root)).toEqual([]);
    });
  }

  it("a branch that is a symbolic ref to '../../…': refused when read or committed through, reported by branch --list, fsck and gc", { timeout: 60_000 }, async () => {
    const s = await setup();
    const evil = path.join(s.gitdir, "refs/heads/evil");
    await fsp.writeFile(evil, "ref: refs/heads/../../../../../canary/pwned\n");
    const named = /bad ref refs\/heads\/evil: it is a symbolic ref to 'refs\/heads\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned', which git refuses as a ref name \(contains '\.\.'\)/;
    await expectAllRefused(s, [...READERS("evil"), ["branch", "-d", "evil"]], named);
    // listing shows the others and reports it, with the fix
    const list = await runOk(s.wc, ["branch", "--list"]);
    expect(list.stdout).toBe("* main\n");
    expect(list.stderr).toMatch(/^warning: ignoring broken ref refs\/heads\/evil: it is a symbolic ref to 'refs\/heads\/\.\.\//m);
    expect(list.stderr).toContain(`hint: remove it (rm '${evil}')`);
    // committing on it (HEAD → evil → outside) writes nothing anywhere
    await fsp.writeFile(path.join(s.gitdir, "HEAD"), "ref: refs/heads/evil\n");
    await fsp.writeFile(path.join(s.wc, "README"), "changed\n");
    await expectAllRefused(s, [["commit", "-a", "-m", "through evil"], ["status"], ["log"]], named);
    await fsp.writeFile(path.join(s.gitdir, "HEAD"), "ref: refs/heads/main\n");
    // the fix the hint names
    await fsp.rm(evil);
    await runOk(s.wc, ["fsck"]);
    await gitFsck(s.gitdir);
  });

  it("symbolic refs that loop or nest deeper than git's 5: an error naming the ref, never a stack overflow; a chain of 5 works", { timeout: 60_000 }, async () => {
    const s = await setup();
    const heads = path.join(s.gitdir, "refs/heads");
    await fsp.writeFile(path.join(heads, "loop"), "ref: refs/heads/loop\n");
    const loop = /bad ref refs\/heads\/loop: symbolic refs loop: (HEAD → )?refs\/heads\/loop → refs\/heads\/loop/;
    await expectAllRefused(s, [...READERS("loop"), ["branch", "-d", "loop"]], loop);
    const list = await runOk(s.wc, ["branch", "--list"]);
    expect(list.stdout).toBe("* main\n");
    expect(list.stderr).toMatch(/^warning: ignoring broken ref refs\/heads\/loop: symbolic refs loop/m);
    expect(list.stderr).toContain(`hint: remove it (rm '${path.join(heads, "loop")}')`);
    // HEAD on the loop
    await fsp.writeFile(path.join(s.gitdir, "HEAD"), "ref: refs/heads/loop\n");
    await fsp.writeFile(path.join(s.wc, "README"), "changed\n");
    await expectAllRefused(s, [["status"], ["log"], ["commit", "-a", "-m", "on the loop"], ["switch", "main"]], loop);
    await fsp.writeFile(path.join(s.gitdir, "HEAD"), "ref: refs/heads/main\n");
    await fsp.writeFile(path.join(s.wc, "README"), "base\n");
    await fsp.rm(path.join(heads, "loop"));
    // a tag that loops: tag --list reports it too; log (which decorates with every tag) works
    await fsp.writeFile(path.join(s.gitdir, "refs/tags/tloop"), "ref: refs/tags/tloop\n");
    const tags = await runOk(s.wc, ["tag", "--list"]);
    expect(tags.stdout).toBe("");
    expect(tags.stderr).toMatch(/^warning: ignoring broken ref refs\/tags\/tloop: symbolic refs loop/m);
    await runOk(s.wc, ["log"]);
    await expectAllRefused(s, [["log", "tloop"], ["fsck"], ["gc", "--prune=now"]], /refs\/tags\/tloop: symbolic refs loop/);
    await fsp.rm(path.join(s.gitdir, "refs/tags/tloop"));

    // a → b → a
    await fsp.writeFile(path.join(heads, "a"), "ref: refs/heads/b\n");
    await fsp.writeFile(path.join(heads, "b"), "ref: refs/heads/a\n");
    await expectAllRefused(s, [["log", "a"], ["fsck"], ["gc", "--prune=now"]], /bad ref refs\/heads\/a: symbolic refs loop: refs\/heads\/a → refs\/heads\/b → refs\/heads\/a/);
    await fsp.rm(path.join(heads, "a"));
    await fsp.rm(path.join(heads, "b"));

    // d1 → d2 → … → d6 → main: reading d3 reads 5 refs (git's SYMREF_MAXDEPTH), d2 would read 6
    for (let i = 1; i <= 6; i++) await fsp.writeFile(path.join(heads, `d${i}`), `ref: refs/heads/${i < 6 ? `d${i + 1}` : "main"}\n`);
    await expectAllRefused(s, [["log", "d2"], ["fsck"]], /bad ref refs\/heads\/d2: symbolic refs nest deeper than 5: refs\/heads\/d2 → refs\/heads\/d3 → refs\/heads\/d4 → refs\/heads\/d5 → refs\/heads\/d6 → refs\/heads\/main/);
    await expectAllRefused(s, [["gc", "--prune=now"]], /^error: gc deleted nothing: refs\/heads\/d1 cannot be followed: bad ref refs\/heads\/d1: symbolic refs nest deeper than 5/m);
    expect((await runOk(s.wc, ["log", "--oneline", "d3"])).stdout).toMatch(/ base$/m);
    const deep = await runOk(s.wc, ["branch", "--list"]);
    expect(deep.stdout).toBe("  d3 -> d4\n  d4 -> d5\n  d5 -> d6\n  d6 -> main\n* main\n");
    expect(deep.stderr).toMatch(/ignoring broken ref refs\/heads\/d1: symbolic refs nest deeper than 5/);
    expect(deep.stderr).toMatch(/ignoring broken ref refs\/heads\/d2: symbolic refs nest deeper than 5/);
    for (const d of ["d1", "d2"]) await fsp.rm(path.join(heads, d));
    await runOk(s.wc, ["fsck"]);
    await gitFsck(s.gitdir);
  });

  it("packed-refs naming '../../…', and a ref file whose name git refuses: listed nowhere, reported by fsck, gc deletes nothing", { timeout: 60_000 }, async () => {
    const s = await setup();
    // old unreachable garbage that gc --prune=now would delete if it ran
    await s.repo.git.writeBlob(Buffer.from("garbage"));
    await backdate(path.join(s.wc, ".tdv/git/objects"), new Date(Date.now() - 86_400_000));
    const packed = path.join(s.gitdir, "packed-refs");
    await fsp.writeFile(packed, `# pack-refs with: peeled fully-peeled sorted \n${s.base} refs/heads/../../../../../canary/pwned\n`);
    const objects = await objectFiles(s.wc);
    const before = await allFiles(s.root);
    const fsck = await run(s.wc, ["fsck"]);
    expectRefused(fsck, /^bad-ref: packed-refs names 'refs\/heads\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned', which git refuses as a ref name \(contains '\.\.'\): delete its line from /m, "tdv fsck");
    expectRefused(await run(s.wc, ["gc", "--prune=now"]), /packed-refs names 'refs\/heads\/\.\.\//, "tdv gc");
    expect(await objectFiles(s.wc)).toEqual(objects);
    const list = await runOk(s.wc, ["branch", "--list"]);
    expect(list.stdout).toBe("* main\n");
    expect(list.stderr).toMatch(/^warning: ignoring broken ref refs\/heads\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned: packed-refs names/m);
    expect(list.stderr).toContain(`hint: delete its line from '${packed}'`);
    await runOk(s.wc, ["log"]);
    expect((await run(s.wc, ["switch", "../../../../../canary/pwned"])).code).not.toBe(0);
    expect(await allFiles(s.root)).toEqual(before);
    await fsp.rm(packed);

    // a loose ref file named as git never names one
    await fsp.writeFile(path.join(s.gitdir, "refs/heads/bad..name"), `${s.base}\n`);
    expectRefused(await run(s.wc, ["fsck"]), /^bad-ref: ref refs\/heads\/bad\.\.name: git refuses its name \(contains '\.\.'\); rename or remove /m, "tdv fsck");
    expectRefused(await run(s.wc, ["gc", "--prune=now"]), /refs\/heads\/bad\.\.name/, "tdv gc");
    expect(await objectFiles(s.wc)).toEqual(objects);
    expect((await runOk(s.wc, ["branch", "--list"])).stderr).toMatch(/^warning: ignoring broken ref refs\/heads\/bad\.\.name: git refuses its name/m);
    await fsp.rm(path.join(s.gitdir, "refs/heads/bad..name"));
    const gc = JSON.parse((await runOk(s.wc, ["gc", "--prune=now", "--json"])).stdout) as { removed: { gitObjects: number } };
    expect(gc.removed.gitObjects).toBe(1); // with the refs repaired, gc runs again
    expect(await canaries(s.root)).toEqual([]);
  });

  it("an annotated tag chain of 70 tags: fsck follows it, gc --prune=now keeps the commit, tree and chunk it reaches, log works", { timeout: 60_000 }, async () => {
    const s = await setup();
    const who = s.repo.identity();
    // a commit only the tag chain reaches, with an array whose chunk nothing else names
    const bytes = Buffer.from("only the deep tag reaches me");
    const chunk = sha256(bytes);
    await s.repo.chunks.put(chunk, bytes);
    const manifest = await s.repo.git.writeTree([{ mode: "100644", name: "0", oid: await s.repo.git.writeBlob(encodeShard(1, [{ index: [1], id: chunk, size: bytes.length }])) }]);
    const array = await s.repo.git.writeTree([
      { mode: "100644", name: ".zarray", oid: await s.repo.git.writeBlob(Buffer.from(ZARRAY)) },
      { mode: "040000", name: ".tdv-manifest", oid: manifest },
    ]);
    const tree = await s.repo.git.writeTree([{ mode: "040000", name: "deep.zarr", oid: array }]);
    const deepCommit = await s.repo.git.writeCommit({ tree, parents: [], author: who, committer: who, message: "reached through 70 tags\n" });
    let tip: GitOid = deepCommit;
    for (let i = 0; i < 70; i++) tip = await s.repo.git.writeTag({ object: tip, type: i === 0 ? "commit" : "tag", tag: `t${i}`, tagger: who, message: `level ${i}\n` });
    await fsp.writeFile(path.join(s.gitdir, "refs/tags/deep"), `${tip}\n`);
    // a tag chain whose bottom is missing: it cannot be followed
    let broken: GitOid = await s.repo.git.writeTag({ object: "e".repeat(40) as GitOid, type: "commit", tag: "gone", tagger: who, message: "names nothing\n" });
    for (let i = 0; i < 69; i++) broken = await s.repo.git.writeTag({ object: broken, type: "tag", tag: `b${i}`, tagger: who, message: `level ${i}\n` });
    await fsp.writeFile(path.join(s.gitdir, "refs/tags/broken"), `${broken}\n`);
    await backdate(path.join(s.wc, ".tdv"), new Date(Date.now() - 86_400_000));
    const objects = await objectFiles(s.wc);

    // what cannot be followed: a problem that stops gc
    const fsckBroken = await run(s.wc, ["fsck", "--json"]);
    expect(fsckBroken.code).toBe(1);
    const doc = JSON.parse(fsckBroken.stdout) as { problems: { kind: string; id: string; neededBy: string[] }[] };
    expect(doc.problems).toEqual([expect.objectContaining({ kind: "missing", id: "e".repeat(40), neededBy: ["refs/tags/broken"] })]);
    expectRefused(await run(s.wc, ["gc", "--prune=now"]), /e{40}/, "tdv gc with a broken tag chain");
    expect(await objectFiles(s.wc)).toEqual(objects);
    await fsp.rm(path.join(s.gitdir, "refs/tags/broken"));

    // what can be followed is followed
    const res = JSON.parse((await runOk(s.wc, ["fsck", "--json"])).stdout) as { ok: boolean; reachable: { tags: number; commits: number; chunks: number } };
    expect(res.ok).toBe(true);
    expect(res.reachable).toMatchObject({ tags: 70, commits: 2, chunks: 2 });
    const gc = JSON.parse((await runOk(s.wc, ["gc", "--prune=now", "--json"])).stdout) as { removedIds: { git: string[]; chunks: string[] } };
    expect(gc.removedIds.chunks).not.toContain(chunk);
    for (const oid of [deepCommit, tree, array, manifest, tip]) expect(gc.removedIds.git, oid).not.toContain(oid);
    expect(await s.repo.chunks.has(chunk)).toBe(true);
    expect((await runOk(s.wc, ["log", "--oneline", "deep"])).stdout).toMatch(/ reached through 70 tags$/m);
    expect((await runOk(s.wc, ["log", "--oneline"])).stdout).toMatch(/ base$/m);
    expect((await runOk(s.wc, ["tag", "--list"])).stdout).toMatch(/^deep$/m);
    await runOk(s.wc, ["fsck", "--full"]);
    await gitFsck(s.gitdir);
    await runOk(s.wc, ["checkout", "deep"]);
    expect(await fsp.readFile(path.join(s.wc, "deep.zarr/1"), "utf8")).toBe("only the deep tag reaches me");
  });

  it("a remote whose HEAD, refs and info/refs name '../../…': clone takes none of them, says so, and writes nothing outside", { timeout: 60_000 }, async () => {
    const s = await setup();
    const remote = path.join(s.root, "remote", "shared.tdv");
    await push(s.repo, { remote });
    const main = (await fsp.readFile(path.join(remote, "git/refs/heads/main"), "utf8")).trim();
    await fsp.writeFile(path.join(remote, "git/HEAD"), "ref: refs/heads/../../../../canary/pwned\n");
    await fsp.writeFile(path.join(remote, "git/refs/heads/x~1"), `${main}\n`);
    await fsp.writeFile(path.join(remote, "git/info/refs"), `${main}\trefs/heads/main\n${main}\trefs/heads/../../../../canary/pwned\n${main}\trefs/tags/../../../../../canary/pwned-tag\n`);
    const before = await allFiles(s.root);

    // a folder remote lists its refs
    const folder = await runOk(s.root, ["clone", remote, "viafolder"]);
    expect(folder.stderr).toMatch(/^warning: ignoring HEAD of the remote \(.*git\/HEAD\): it is a symbolic ref to 'refs\/heads\/\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned': git refuses it as a ref name \(contains '\.\.'\)$/m);
    expect(folder.stderr).toMatch(/^warning: ignoring ref 'refs\/heads\/x~1' of the remote .*: git refuses it as a ref name/m);
    // an http remote is read through info/refs
    const { startStaticServer } = await import("../helpers/static-server.js");
    const web = await startStaticServer(path.dirname(remote));
    try {
      const http = await runOk(s.root, ["clone", `${web.url}/shared.tdv`, "viahttp"]);
      expect(http.stderr).toMatch(/^warning: ignoring ref 'refs\/heads\/\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned' of the remote \(.*git\/info\/refs\): git refuses it/m);
      expect(http.stderr).toMatch(/^warning: ignoring ref 'refs\/tags\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned-tag' of the remote/m);
      const fetch = await runOk(path.join(s.root, "viahttp"), ["fetch", "--json"]);
      expect((JSON.parse(fetch.stdout) as { ignored: { ref: string }[] }).ignored.map((i) => i.ref)).toEqual(["HEAD", "refs/heads/../../../../canary/pwned", "refs/tags/../../../../../canary/pwned-tag"]);
    } finally {
      await web.stop();
    }
    for (const dir of ["viafolder", "viahttp"]) {
      expect((await runOk(path.join(s.root, dir), ["branch", "--list"])).stdout).toBe("* main\n");
      await runOk(path.join(s.root, dir), ["fsck"]);
      await gitFsck(path.join(s.root, dir, ".tdv/git"));
    }
    // nothing changed outside the two clones
    const after = await allFiles(s.root);
    for (const k of [...after.keys()]) if (/^via(folder|http)\//.test(k)) after.delete(k);
    expect(after).toEqual(before);
    expect(await canaries(s.root)).toEqual([]);
  });
});
