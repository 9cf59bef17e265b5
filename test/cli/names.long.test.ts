/**
 * Hostile file names, through the built CLI as a user meets them: names that
 * hold terminal escape sequences ("\x1b]0;pwned\x07" retitles the terminal,
 * "\x1b[2J" clears it, U+009B is a CSI to some terminals) and names whose
 * bytes are not UTF-8, in the working copy and in a crafted repository.
 *
 * Every command's stdout and stderr must hold no raw control character (only
 * line feeds) and no U+FFFD (a non-UTF-8 byte printed raw); names with control
 * characters are tracked and checked out exactly; a non-UTF-8 name is listed
 * by `status` and refused by `add` / `commit -a` (exit 1, nothing staged),
 * and a folder so named no longer makes status/add/commit fail with ENOENT.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Repository, type StatusResult } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { tempDir } from "../helpers/fixture.js";
import { tdv, tdvOk, type RunResult } from "../helpers/cli.js";

const ESC_TITLE = "esc\x1b]0;pwned\x07.txt";
const ESC_CLEAR = "clear\x1b[2J.txt";
const C1 = "csi\u009b31m.txt";
const NEWLINE = "two\nlines.txt";
const HOSTILE = [ESC_TITLE, ESC_CLEAR, C1, NEWLINE];

/** A path whose last component is `name` with the byte `bad` (not UTF-8) inside it. */
const badPath = (dir: string, before: string, bad: number, after = "") => Buffer.concat([Buffer.from(`${dir}/${before}`), Buffer.from([bad]), Buffer.from(after)]);

/** Nothing a terminal acts on: no C0 control but line feed, no DEL, no C1, and no U+FFFD (a raw non-UTF-8 byte). */
function expectClean(r: RunResult, what: string): void {
  for (const [stream, text] of [["stdout", r.stdout], ["stderr", r.stderr]] as const) {
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\uFFFD]/.exec(text);
    if (raw) throw new Error(`${what}: ${stream} holds a raw U+${raw[0].charCodeAt(0).toString(16).padStart(4, "0")}:\n${JSON.stringify(text)}`);
  }
}

async function run(dir: string, args: string[]): Promise<RunResult> {
  const r = await tdv(dir, args);
  expectClean(r, `tdv ${JSON.stringify(args)}`);
  return r;
}

const ZARR_JSON = JSON.stringify({
  zarr_format: 3,
  node_type: "array",
  shape: [8],
  data_type: "uint8",
  chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } },
  chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
  fill_value: 0,
  codecs: [{ name: "bytes" }],
});

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  await tdvOk(dir, ["init"]);
  await fsp.writeFile(path.join(dir, "ok.txt"), "fine\n");
  for (const n of HOSTILE) await fsp.writeFile(path.join(dir, n), `bytes of ${JSON.stringify(n)}\n`);
  await fsp.mkdir(path.join(dir, "arr.zarr", "c"), { recursive: true });
  await fsp.writeFile(path.join(dir, "arr.zarr", "zarr.json"), ZARR_JSON);
  await fsp.writeFile(path.join(dir, "arr.zarr", "c", "0"), Buffer.alloc(4, 1));
  // not UTF-8: a file, and a folder with a file in it (a path Node cannot name with a string)
  await fsp.writeFile(badPath(dir, "bad", 0xff, ".txt"), "x");
  await fsp.mkdir(badPath(dir, "raw", 0xfe));
  await fsp.writeFile(Buffer.concat([badPath(dir, "raw", 0xfe), Buffer.from("/inside.txt")]), "y");
});

describe("file names a terminal would act on, and names that are not UTF-8", () => {
  it("status lists everything escaped and reports the non-UTF-8 names (human, short and JSON); no ENOENT", async () => {
    const long = await run(dir, ["status"]);
    expect(long.code).toBe(0);
    expect(long.stdout).toContain('"esc\\x1b]0;pwned\\x07.txt"');
    expect(long.stdout).toContain('"clear\\x1b[2J.txt"');
    expect(long.stdout).toContain('"csi\\x9b31m.txt"');
    expect(long.stdout).toContain('"two\\nlines.txt"');
    expect(long.stdout).toMatch(/^Names that are not UTF-8/m);
    expect(long.stdout).toContain('  "bad\\xff.txt"\n');
    expect(long.stdout).toContain('  "raw\\xfe/"  (a folder: nothing in it can be tracked)');
    expect(long.stdout).not.toContain("working tree clean");

    const short = await run(dir, ["status", "-s"]);
    expect(short.stdout).toContain('?? "esc\\x1b]0;pwned\\x07.txt"\n');
    expect(short.stdout).toContain('!! "bad\\xff.txt"\n!! "raw\\xfe/"\n');

    const json = await run(dir, ["status", "--json"]);
    expect(json.code).toBe(0);
    const st = JSON.parse(json.stdout) as StatusResult;
    expect(st.clean).toBe(false);
    expect(st.badNames).toEqual([
      { path: "bad\\xff.txt", dir: "", hex: Buffer.from("bad\xff.txt", "latin1").toString("hex"), folder: false },
      { path: "raw\\xfe", dir: "", hex: Buffer.from("raw\xfe", "latin1").toString("hex"), folder: true },
    ]);
    // JSON carries the exact names
    for (const n of HOSTILE) expect(st.untracked.map((c) => c.path)).toContain(n);
  });

  it("add -A and add of a folder holding one refuse the non-UTF-8 names, naming them escaped, and stage nothing", async () => {
    const index = path.join(dir, ".tdv", "index");
    const before = await fsp.readFile(index).catch(() => null);
    const all = await run(dir, ["add", "-A"]);
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/^error: cannot track 2 files or folders whose names are not valid UTF-8 \(bytes shown as \\xHH\):\n {2}"bad\\xff\.txt"\n {2}"raw\\xfe\/"\n/);
    expect(all.stderr).toContain("hint: rename them (in bash: mv $'bad\\xff.txt' NEW_NAME)");
    expect(all.stderr).toContain("Nothing was staged");
    expect(all.stderr).not.toContain("bug in tdv");
    expect(await fsp.readFile(index).catch(() => null)).toEqual(before);
    // a folder named on the command line that holds one: refused, though its other file is fine
    await fsp.mkdir(path.join(dir, "sub"));
    await fsp.writeFile(path.join(dir, "sub", "fine.txt"), "fine");
    await fsp.writeFile(badPath(dir, "sub/latin", 0xe9), "z");
    const sub = await run(dir, ["add", "sub"]);
    expect(sub.code).toBe(1);
    expect(sub.stderr).toContain('error: cannot track "sub/latin\\xe9": its name is not valid UTF-8');
    expect(await fsp.readFile(index).catch(() => null)).toEqual(before);
    await fsp.rm(path.join(dir, "sub"), { recursive: true });
    const st = JSON.parse((await run(dir, ["status", "--json"])).stdout) as StatusResult;
    expect(st.staged).toEqual([]);
  });

  it("names with control characters are staged, committed, listed and diffed escaped; the others commit fine", async () => {
    const add = await run(dir, ["add", "ok.txt", "arr.zarr", ...HOSTILE]);
    expect(add.code).toBe(0);
    const commit = await run(dir, ["commit", "-m", "import \x1b]0;pwned\x07 data"]);
    expect(commit.code).toBe(0);
    expect(commit.stdout).toContain('new file "clear\\x1b[2J.txt"');
    expect(commit.stdout).toContain("import \\x1b]0;pwned\\x07 data");
    const log = await run(dir, ["log"]);
    expect(log.stdout).toContain("    import \\x1b]0;pwned\\x07 data");
    expect((await run(dir, ["log", "--oneline"])).code).toBe(0);
    const show = await run(dir, ["show"]);
    expect(show.stdout).toContain('new file "esc\\x1b]0;pwned\\x07.txt"');
    expect((await run(dir, ["ls"])).stdout).toContain("arr.zarr");

    // the exact names are in the snapshot
    const repo = await Repository.open({ dir });
    const head = await repo.refs.head();
    const st = JSON.parse((await run(dir, ["status", "--json"])).stdout) as StatusResult;
    expect(st.untracked).toEqual([]);
    expect(st.badNames).toHaveLength(2);
    expect(head.oid).not.toBeNull();

    for (const n of HOSTILE) await fsp.appendFile(path.join(dir, n), "more\n");
    const diff = await run(dir, ["diff"]);
    expect(diff.stdout).toContain('modified file "two\\nlines.txt"');
    expect((await run(dir, ["diff", "--stat"])).stdout).toContain('"csi\\x9b31m.txt"');
    const commitAll = await run(dir, ["commit", "-a", "-m", "more"]);
    expect(commitAll.code).toBe(0); // the non-UTF-8 names are outside every tracked array: nothing to refuse
    expect(commitAll.stdout).toMatch(/4 files modified \(.*\)|modified "/);
    const changes = await run(dir, ["diff", "HEAD~1", "HEAD"]);
    expect(changes.stdout).toContain('modified file "esc\\x1b]0;pwned\\x07.txt"');
  });

  it("commit -a refuses a non-UTF-8 name inside a tracked array, and leaves HEAD and the index as they were", async () => {
    const repo = await Repository.open({ dir });
    const head = (await repo.refs.head()).oid;
    const index = await fsp.readFile(path.join(dir, ".tdv", "index"));
    await fsp.writeFile(path.join(dir, "arr.zarr", "c", "1"), Buffer.alloc(4, 2));
    await fsp.writeFile(Buffer.from(`${dir}/arr.zarr/c/\xfe1`, "latin1"), Buffer.alloc(4, 3));
    const r = await run(dir, ["commit", "-a", "-m", "append"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: cannot track "arr.zarr/c/\\xfe1": its name is not valid UTF-8');
    expect(r.stderr).toContain("hint: rename it (in bash: mv $'arr.zarr/c/\\xfe1' NEW_NAME)");
    expect((await repo.refs.head()).oid).toBe(head);
    expect(await fsp.readFile(path.join(dir, ".tdv", "index"))).toEqual(index);

    // renamed, everything goes in
    await fsp.rename(Buffer.from(`${dir}/arr.zarr/c/\xfe1`, "latin1"), path.join(dir, "arr.zarr", "c", "renamed"));
    expect((await run(dir, ["commit", "-a", "-m", "append"])).code).toBe(0);
    await fsp.rename(badPath(dir, "bad", 0xff, ".txt"), path.join(dir, "bad.txt"));
    await fsp.rename(badPath(dir, "raw", 0xfe), path.join(dir, "raw"));
    expect((await run(dir, ["add", "-A"])).code).toBe(0);
    expect((await run(dir, ["commit", "-m", "renamed"])).code).toBe(0);
    const st = JSON.parse((await run(dir, ["status", "--json"])).stdout) as StatusResult;
    expect(st.clean).toBe(true);
    expect(st.badNames).toEqual([]);
  });

  it("errors that quote what the user typed or a path are escaped", async () => {
    const add = await run(dir, ["add", "missing\x1b[2J.txt"]);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain("missing\\x1b[2J.txt");
    const sw = await run(dir, ["switch", "br\x1b]0;x\x07"]);
    expect(sw.code).not.toBe(0);
    expect(sw.stderr).toContain("br\\x1b]0;x\\x07");
    const opt = await run(dir, ["status", "--\x1b[2J"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("--\\x1b[2J");
  });
});

describe("a repository whose trees hold such names", () => {
  let repo: Repository;
  let base: GitOid;

  async function branchWith(name: string, entryName: Buffer): Promise<void> {
    const blob = await repo.git.writeBlob(Buffer.from("evil bytes\n"));
    const headTree = (await repo.git.readCommit(base)).tree;
    const raw = (await repo.git.readObject(headTree, "tree")).content;
    const tree = await repo.git.writeRaw("tree", Buffer.concat([raw, Buffer.from("100644 "), entryName, Buffer.from([0]), Buffer.from(blob, "hex")]));
    const who = repo.identity();
    const commit = await repo.git.writeCommit({ tree, parents: [base], author: who, committer: who, message: "crafted\n" });
    await repo.refs.update(`refs/heads/${name}`, { expected: null, next: commit, who, message: "crafted" });
  }

  beforeAll(async () => {
    repo = await Repository.open({ dir });
    base = (await repo.refs.head()).oid as GitOid;
    // names sort after every base entry ("~" > letters), so the raw tree stays in Git's order
    await branchWith("evil", Buffer.from("~bad\xff.txt", "latin1"));
    await branchWith("ctl", Buffer.from("~title\x1b]0;pwned\x07.txt"));
  });

  it("a tree entry that is not UTF-8 is refused at checkout (never written under a lossy name); fsck names it escaped", async () => {
    const before = await fsp.readdir(dir);
    const r = await run(dir, ["switch", "evil"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: refusing unsafe path '/~bad\\xff.txt': the name is not valid UTF-8");
    expect(await fsp.readdir(dir)).toEqual(before);
    expect((await repo.refs.head()).branch).toBe("refs/heads/main");
    const fsck = await run(dir, ["fsck"]);
    expect(fsck.code).toBe(1);
    expect(fsck.stdout + fsck.stderr).toMatch(/unsafe.*~bad\\xff\.txt.*not valid UTF-8/);
    await repo.refs.update("refs/heads/evil", { expected: await repo.refs.read("refs/heads/evil"), next: null, who: repo.identity(), message: "drop" });
  });

  it("a name with control characters checks out exactly (as it commits) and is printed escaped", async () => {
    const r = await run(dir, ["switch", "ctl"]);
    expect(r.code).toBe(0);
    expect(await fsp.readFile(path.join(dir, "~title\x1b]0;pwned\x07.txt"), "utf8")).toBe("evil bytes\n");
    expect((await run(dir, ["status"])).stdout).toContain("nothing to commit, working tree clean");
    const diff = await run(dir, ["diff", "main", "ctl"]);
    expect(diff.stdout).toContain('new file "~title\\x1b]0;pwned\\x07.txt"');
    expect((await run(dir, ["fsck"])).code).toBe(0);
  });
});
