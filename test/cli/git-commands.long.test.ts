/**
 * git's everyday commands and options: log --all / -N, diff --cached,
 * reset PATH, restore --staged, reflog dates, and who commits (git's and
 * tdv's config, `tdv config`). Plain files keep each repository small.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";

interface Entry {
  oid: string;
  refs: string[];
  message: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
}

/** A repository with README.md and notes.txt committed ("one"), at `dir`. */
async function repoWithFiles(): Promise<string> {
  const dir = await tempDir();
  await fsp.writeFile(path.join(dir, "README.md"), "readme v1\n");
  await fsp.mkdir(path.join(dir, "docs"));
  await fsp.writeFile(path.join(dir, "docs", "notes.txt"), "notes v1\n");
  await tdvOk(dir, ["init"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-m", "one"]);
  return dir;
}

describe.concurrent("git's everyday commands", () => {
  it("log --all lists every branch's and tag's commits once, newest first, decorated; -1 and --max-count limit it", async () => {
    const dir = await repoWithFiles();
    await tdvOk(dir, ["switch", "-c", "qc"]);
    await fsp.writeFile(path.join(dir, "README.md"), "readme qc\n");
    await tdvOk(dir, ["commit", "-a", "-m", "qc fix"]);
    await tdvOk(dir, ["tag", "v-qc"]);
    await tdvOk(dir, ["switch", "main"]);
    await fsp.writeFile(path.join(dir, "docs", "notes.txt"), "notes v2\n");
    await tdvOk(dir, ["commit", "-a", "-m", "main work"], { env: { TDV_AUTHOR_DATE: "2099-01-01T00:00:00Z" } });

    const onMain = await tdvJson<Entry[]>(dir, ["log", "--json"]);
    expect(onMain.map((e) => e.message.split("\n")[0])).toEqual(["main work", "one"]);
    const all = await tdvJson<Entry[]>(dir, ["log", "--all", "--json"]);
    expect(all.map((e) => e.message.split("\n")[0])).toEqual(["main work", "qc fix", "one"]);
    expect(new Set(all.map((e) => e.oid)).size).toBe(3);
    expect(all[1]?.refs).toEqual(["qc", "v-qc"]);

    const oneline = await tdvOk(dir, ["log", "--all", "--oneline"]);
    expect(oneline.stdout).toMatch(/^[0-9a-f]{7} \(HEAD -> main\) main work$/m);
    expect(oneline.stdout).toMatch(/^[0-9a-f]{7} \(qc, tag: v-qc\) qc fix$/m);
    const last = await tdvJson<Entry[]>(dir, ["log", "-1", "--all", "--json"]);
    expect(last.map((e) => e.oid)).toEqual([all[0]?.oid]);
    expect((await tdvJson<Entry[]>(dir, ["log", "--max-count", "2", "--all", "--json"])).length).toBe(2);
    const both = await tdv(dir, ["log", "--all", "qc"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--all and a revision \('qc'\) cannot be used together/);
  });

  it("diff --cached / --staged compare the index with HEAD; plain diff is the working copy", async () => {
    const dir = await repoWithFiles();
    await fsp.writeFile(path.join(dir, "README.md"), "readme staged\n");
    await tdvOk(dir, ["add", "README.md"]);
    await fsp.writeFile(path.join(dir, "docs", "notes.txt"), "notes not staged\n");

    type D = { to: { rev: string | null; index?: boolean }; files: { path: string }[] };
    const cached = await tdvJson<D>(dir, ["diff", "--cached", "--json"]);
    expect(cached.files.map((f) => f.path)).toEqual(["README.md"]);
    expect(cached.to).toEqual({ rev: null, commit: null, index: true });
    const work = await tdvJson<D>(dir, ["diff", "--json"]);
    expect(work.files.map((f) => f.path)).toEqual(["README.md", "docs/notes.txt"]);

    const stat = await tdvOk(dir, ["diff", "--staged", "--stat"]);
    expect(stat.stdout).toMatch(/README\.md/);
    expect(stat.stdout).not.toMatch(/notes\.txt/);
    const full = await tdvOk(dir, ["diff", "--cached"]);
    expect(full.stdout).toMatch(/^diff HEAD \([0-9a-f]{7}\) → index$/m);
    const two = await tdv(dir, ["diff", "--cached", "HEAD", "HEAD"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--cached compares the index with one revision/);
  });

  it("reset PATH and restore --staged unstage without touching the files; --staged --worktree also restores them", async () => {
    const dir = await repoWithFiles();
    const readme = path.join(dir, "README.md");
    const notes = path.join(dir, "docs", "notes.txt");
    await fsp.writeFile(readme, "readme edited\n");
    await fsp.writeFile(notes, "notes edited\n");
    await tdvOk(dir, ["add", "-A"]);

    // from a subfolder: the path is taken relative to it, and printed so
    const r = await tdvOk(path.join(dir, "docs"), ["reset", "notes.txt"]);
    expect(r.stdout.trim()).toBe("unstaged 1 path: notes.txt");
    expect(await fsp.readFile(notes, "utf8")).toBe("notes edited\n");
    const cached = await tdvJson<D2>(dir, ["diff", "--cached", "--json"]);
    expect(cached.files.map((f) => f.path)).toEqual(["README.md"]);

    await tdvOk(dir, ["restore", "--staged", "README.md"]);
    expect(await fsp.readFile(readme, "utf8")).toBe("readme edited\n");
    expect((await tdvJson<D2>(dir, ["diff", "--cached", "--json"])).files).toEqual([]);
    expect((await tdvJson<D2>(dir, ["diff", "--json"])).files.map((f) => f.path)).toEqual(["README.md", "docs/notes.txt"]);

    // REV -- PATH stages the path as REV has it; --staged --worktree brings HEAD's back to both
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "two"]);
    await tdvOk(dir, ["reset", "HEAD~1", "--", "README.md"]);
    expect(await fsp.readFile(readme, "utf8")).toBe("readme edited\n");
    expect((await tdvJson<D2>(dir, ["diff", "--cached", "--json"])).files.map((f) => f.path)).toEqual(["README.md"]);
    await tdvOk(dir, ["restore", "--staged", "--worktree", "README.md"]);
    expect(await fsp.readFile(readme, "utf8")).toBe("readme edited\n"); // HEAD ("two") has the edit
    expect((await tdvJson<D2>(dir, ["diff", "--cached", "--json"])).files).toEqual([]);

    const bad = await tdv(dir, ["reset", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ambiguous argument 'nope'/);
    const hard = await tdv(dir, ["reset", "--hard", "--", "README.md"]);
    expect(hard.code).toBe(2);
    expect(hard.stderr).toMatch(/cannot do a hard reset with paths/);
  });

  it("in a subfolder, status, diff --stat and add print paths relative to it, and take paths relative to it", async () => {
    const dir = await repoWithFiles();
    const docs = path.join(dir, "docs");
    await fsp.writeFile(path.join(dir, "README.md"), "readme v2\n");
    await fsp.writeFile(path.join(docs, "notes.txt"), "notes v2\n");
    await fsp.writeFile(path.join(docs, "new.txt"), "new\n");
    const short = await tdvOk(docs, ["status", "-s"]);
    expect(short.stdout).toBe(" M ../README.md\n M notes.txt\n?? new.txt\n");
    const long = await tdvOk(docs, ["status"]);
    expect(long.stdout).toMatch(/^  modified {6}\.\.\/README\.md$/m);
    expect(long.stdout).toMatch(/^  modified {6}notes\.txt$/m);
    const stat = await tdvOk(docs, ["diff", "--stat"]);
    expect(stat.stdout).toMatch(/^ \.\.\/README\.md \|/m);
    expect(stat.stdout).toMatch(/^ notes\.txt {4}\|/m);
    await tdvOk(docs, ["add", "new.txt"]);
    const cached = await tdvJson<D2>(dir, ["diff", "--cached", "--json"]);
    expect(cached.files.map((f) => f.path)).toEqual(["docs/new.txt"]);
  });

  it("reflog shows each move's date: iso by default, --date=relative|unix, --json with timestamp and zone", async () => {
    const dir = await repoWithFiles();
    const iso = await tdvOk(dir, ["reflog"]);
    expect(iso.stdout).toMatch(/^[0-9a-f]{7} HEAD@\{0\} \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\): commit \(initial\): one$/m);
    const rel = await tdvOk(dir, ["reflog", "--date=relative"]);
    expect(rel.stdout).toMatch(/^[0-9a-f]{7} HEAD@\{0\} \(\d+ (second|minute)s? ago\): commit \(initial\): one$/m);
    const [entry] = await tdvJson<{ timestamp: number; tzOffset: number }[]>(dir, ["reflog", "--json"]);
    const unix = await tdvOk(dir, ["reflog", "--date", "unix", "-1"]);
    expect(unix.stdout.trim()).toMatch(new RegExp(`HEAD@\\{0\\} \\(${entry?.timestamp}\\): commit`));
    expect(typeof entry?.tzOffset).toBe("number");
    const bad = await tdv(dir, ["reflog", "--date=rfc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'rfc' is not a date format: use iso, relative, unix/);
  });
});

type D2 = { files: { path: string }[] };

describe.concurrent("who commits", () => {
  /** An environment with no identity but what the test writes: its own HOME, no TDV_/GIT_ variables. */
  async function isolatedEnv(): Promise<Record<string, string | undefined>> {
    const home = await tempDir();
    return { HOME: home, XDG_CONFIG_HOME: undefined, GIT_CONFIG_GLOBAL: undefined, TDV_AUTHOR_NAME: undefined, TDV_AUTHOR_EMAIL: undefined, EMAIL: undefined, GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined };
  }

  it("takes user.name/user.email from git's global config, GIT_COMMITTER_* for the committer, and tdv config over git's", async () => {
    const env = await isolatedEnv();
    await fsp.writeFile(path.join(env.HOME as string, ".gitconfig"), '[user]\n\tname = "Grace Hopper" # from git\n\temail = grace@navy.example\n[core]\n\teditor = vi\n');
    const dir = await tempDir();
    await fsp.writeFile(path.join(dir, "a.txt"), "a\n");
    await tdvOk(dir, ["init"], { env });
    await tdvOk(dir, ["add", "-A"], { env });
    const c1 = await tdvOk(dir, ["commit", "-m", "by git's identity"], { env: { ...env, GIT_COMMITTER_NAME: "Build Bot", GIT_COMMITTER_EMAIL: "bot@ci.example" } });
    expect(c1.stderr).toBe("");
    const [e1] = await tdvJson<Entry[]>(dir, ["log", "-1", "--json"], { env });
    expect(e1?.author).toMatchObject({ name: "Grace Hopper", email: "grace@navy.example" });
    expect(e1?.committer).toMatchObject({ name: "Build Bot", email: "bot@ci.example" });

    // tdv's global config wins over git's; the repository's over both
    await tdvOk(dir, ["config", "--global", "user.name", "Ada Lovelace"], { env });
    await tdvOk(dir, ["config", "user.email", "ada@lab.example"], { env });
    expect(await fsp.readFile(path.join(env.HOME as string, ".config", "tdv", "config"), "utf8")).toBe("[user]\n\tname = Ada Lovelace\n");
    expect((await tdvOk(dir, ["config", "user.name"], { env })).stdout).toBe("Ada Lovelace\n");
    expect((await tdvOk(dir, ["config", "--list"], { env })).stdout).toBe("user.name=Ada Lovelace\nuser.email=ada@lab.example\n");
    await fsp.writeFile(path.join(dir, "a.txt"), "b\n");
    await tdvOk(dir, ["commit", "-a", "-m", "by tdv's identity"], { env });
    const [e2] = await tdvJson<Entry[]>(dir, ["log", "-1", "--json"], { env });
    expect(e2?.author).toMatchObject({ name: "Ada Lovelace", email: "ada@lab.example" });
    expect(e2?.committer).toMatchObject({ name: "Ada Lovelace", email: "ada@lab.example" });

    await tdvOk(dir, ["config", "--unset", "user.email"], { env });
    expect((await tdvOk(dir, ["config", "user.email"], { env })).stdout).toBe("grace@navy.example\n");
    const unknown = await tdv(dir, ["config", "user.nmae", "x"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown setting 'user.nmae'/);
    const unset = await tdv(dir, ["config", "--unset", "user.email"], { env });
    expect(unset.code).toBe(1);
  });

  it("with no identity set anywhere, commits as the OS user and warns how to set one", async () => {
    const env = await isolatedEnv();
    const dir = await tempDir();
    await fsp.writeFile(path.join(dir, "a.txt"), "a\n");
    await tdvOk(dir, ["init"], { env });
    await tdvOk(dir, ["add", "-A"], { env });
    const r = await tdvOk(dir, ["commit", "-m", "who?"], { env });
    expect(r.stderr).toMatch(/^warning: no user\.name or user\.email is set: the commit records .+ <.+@.+>, guessed from the user and host names; set them with `tdv config --global user\.name "Your Name"`/m);
    expect((await tdv(dir, ["config", "user.name"], { env })).code).toBe(1);
  });
});
