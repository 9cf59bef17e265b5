import { spawnSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createBranch, deleteBranch, isTdvError, Repository, type TdvErrorTag } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import { ownerOf } from "../../src/store/owner.js";
import { tempDir } from "../helpers/fixture.js";

async function repoWithCommit(): Promise<{ repo: Repository; oid: GitOid }> {
  const { repo } = await Repository.init({ dir: await tempDir() });
  const who = { name: "t", email: "t@x", timestamp: 1_700_000_000, tzOffset: 0 };
  const tree = await repo.git.writeTree([]);
  const oid = await repo.git.writeCommit({ tree, parents: [], author: who, committer: who, message: "root\n" });
  await repo.refs.update("refs/heads/main", { expected: null, next: oid, who, message: "commit (initial): root" });
  return { repo, oid };
}

describe("refs", () => {
  it("compare-and-swap refuses a stale expected value and leaves the ref alone", async () => {
    const { repo, oid } = await repoWithCommit();
    const who = repo.identity();
    const err = await repo.refs.update("refs/heads/main", { expected: null, next: oid, who, message: "x" }).catch((e) => e);
    expect(isTdvError(err, "BranchMovedError")).toBe(true);
    expect(await repo.refs.read("refs/heads/main")).toBe(oid);
    expect((await repo.refs.reflog("refs/heads/main")).length).toBe(1);
  });

  it("a stale lock is reported with its file and a way out", async () => {
    const { repo, oid } = await repoWithCommit();
    const lock = path.join(repo.tdvDir, "git/refs/heads/main.lock");
    await fsp.writeFile(lock, "");
    const err = await repo.refs
      .update("refs/heads/main", { expected: oid, next: oid, who: repo.identity(), message: "x" })
      .catch((e) => e);
    expect(isTdvError(err, "RefLockedError")).toBe(true);
    expect(err.message).toContain(lock);
    expect(err.hint).toMatch(/delete the lock file|remove the stale lock/);
    await fsp.rm(lock);
    await repo.refs.update("refs/heads/main", { expected: oid, next: oid, who: repo.identity(), message: "x" });
  });

  it("a lock whose owner was killed is taken over; one whose owner runs, or that names no owner, is kept", async () => {
    const { repo, oid } = await repoWithCommit();
    const lock = path.join(repo.tdvDir, "git/refs/heads/main.lock");
    const update = () => repo.refs.update("refs/heads/main", { expected: oid, next: oid, who: repo.identity(), message: "x" });
    // a process that ran and is gone (its pid free): its lock is stale
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    await fsp.writeFile(lock, JSON.stringify({ ...ownerOf("refs/heads/main"), pid: Number(dead.stdout), start: null }));
    await update();
    await expect(fsp.access(lock)).rejects.toThrow();
    expect(await repo.refs.read("refs/heads/main")).toBe(oid);
    expect((await fsp.readdir(path.dirname(lock))).filter((n) => n.includes("tmp-stale"))).toEqual([]);
    // this very process holds it: kept
    await fsp.writeFile(lock, JSON.stringify(ownerOf("refs/heads/main")));
    expect(isTdvError(await update().catch((e) => e), "RefLockedError")).toBe(true);
    await fsp.rm(lock);
  });

  it("a ref update killed as its lock appears, while writing, just before or just after its rename: stock git fsck is clean, and the next update takes over the lock, leaving no temp file", async () => {
    for (const when of ["locked", "writing", "before", "after"] as const) {
      const { repo, oid } = await repoWithCommit();
      const who = { name: "t", email: "t@x", timestamp: 1_700_000_001, tzOffset: 0 };
      const next = await repo.git.writeCommit({ tree: await repo.git.writeTree([]), parents: [oid], author: who, committer: who, message: "second\n" });
      // the built library in a process of its own, killed with SIGKILL around the rename of the new content
      const script = `import fs from "node:fs";
        const open = fs.promises.open;
        fs.promises.open = async (p, ...rest) => {
          const fh = await open(p, ...rest);
          // the new content's file made, nothing written in it yet
          if (String(p).includes(".tmp-commit-") && ${JSON.stringify(when)} === "writing") process.kill(process.pid, "SIGKILL");
          // the lock file made by an open (as before 2026-12-05: then empty, naming no owner)
          if (String(p).endsWith(".lock") && ${JSON.stringify(when)} === "locked") process.kill(process.pid, "SIGKILL");
          return fh;
        };
        const link = fs.promises.link;
        fs.promises.link = async (a, b) => {
          await link(a, b);
          // the lock file made by its link
          if (String(b).endsWith(".lock") && ${JSON.stringify(when)} === "locked") process.kill(process.pid, "SIGKILL");
        };
        const rename = fs.promises.rename;
        fs.promises.rename = async (a, b) => {
          const mine = String(a).includes(".tmp-commit-");
          if (mine && ${JSON.stringify(when)} === "before") process.kill(process.pid, "SIGKILL");
          await rename(a, b);
          if (mine && ${JSON.stringify(when)} === "after") process.kill(process.pid, "SIGKILL");
        };
        const lib = await import(${JSON.stringify(new URL("../../dist/src/index.js", import.meta.url).href)});
        const repo = await lib.Repository.open({ dir: ${JSON.stringify(repo.root)} });
        await repo.refs.update("refs/heads/main", { expected: ${JSON.stringify(oid)}, next: ${JSON.stringify(next)}, who: repo.identity(), message: "moved" });`;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      expect(r.signal, r.stderr).toBe("SIGKILL");
      const heads = path.join(repo.tdvDir, "git/refs/heads");
      expect(await fsp.readdir(heads)).toContain("main.lock"); // left by the killed process, naming it
      // git passes over what the killed process left (its lock, and the new content not yet renamed)
      const fsckRun = spawnSync("git", ["--git-dir", path.join(repo.tdvDir, "git"), "fsck", "--no-progress"], { encoding: "utf8" });
      expect({ when, code: fsckRun.status, err: fsckRun.stderr.split("\n").filter((l) => l !== "" && !/^(dangling|Checking)/.test(l)) }).toEqual({ when, code: 0, err: [] });
      const now = when === "after" ? next : oid;
      expect(await repo.refs.read("refs/heads/main")).toBe(now);
      await repo.refs.update("refs/heads/main", { expected: now, next: oid, who: repo.identity(), message: "again" });
      expect(await repo.refs.read("refs/heads/main")).toBe(oid);
      expect(await fsp.readdir(heads)).toEqual(["main"]);
    }
  });

  it("deleting a/b leaves no folder behind, so a branch 'a' can be made", async () => {
    const { repo } = await repoWithCommit();
    await createBranch(repo, { name: "a/b" });
    expect(await repo.refs.read("refs/heads/a")).toBeNull();
    await deleteBranch(repo, { name: "a/b", force: true });
    await createBranch(repo, { name: "a" });
    expect(await repo.refs.read("refs/heads/a")).not.toBeNull();
  });

  it("a ref file that does not hold a commit id is reported as corrupt", async () => {
    const { repo } = await repoWithCommit();
    await fsp.writeFile(path.join(repo.tdvDir, "git/refs/heads/main"), "garbage\n");
    const err = await repo.refs.read("refs/heads/main").catch((e) => e);
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
  });
});

describe("refs on disk that cannot be followed", () => {
  const bad = async (p: Promise<unknown>, tag: TdvErrorTag, message: RegExp) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isTdvError(err, tag), String(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  };

  it("a symbolic ref is followed only to a valid name inside refs/, through at most 5 refs (git's SYMREF_MAXDEPTH)", async () => {
    const { repo, oid } = await repoWithCommit();
    const heads = path.join(repo.tdvDir, "git/refs/heads");
    for (const [name, target] of [
      ["up", "refs/heads/../../../../x"],
      ["abs", "/etc/passwd"],
      ["outside", "HEAD"],
      ["tilde", "refs/heads/a~1"],
    ] as const) {
      await fsp.writeFile(path.join(heads, name), `ref: ${target}\n`);
      await bad(repo.refs.read(`refs/heads/${name}`), "BadRefError", new RegExp(`^bad ref refs/heads/${name}: it is a symbolic ref to '`));
      await fsp.rm(path.join(heads, name));
    }
    await fsp.writeFile(path.join(heads, "self"), "ref: refs/heads/self\n");
    await bad(repo.refs.read("refs/heads/self"), "BadRefError", /^bad ref refs\/heads\/self: symbolic refs loop: refs\/heads\/self → refs\/heads\/self$/);
    for (let i = 1; i <= 5; i++) await fsp.writeFile(path.join(heads, `s${i}`), `ref: refs/heads/${i < 5 ? `s${i + 1}` : "main"}\n`);
    expect(await repo.refs.read("refs/heads/s2")).toBe(oid); // s2 s3 s4 s5 main: 5 refs read
    await bad(repo.refs.read("refs/heads/s1"), "BadRefError", /nest deeper than 5/);
    const scan = await repo.refs.scan("refs/heads/");
    expect([...scan.refs.keys()]).toEqual(["refs/heads/main"]);
    expect([...scan.symbolic.keys()]).toEqual(["refs/heads/s2", "refs/heads/s3", "refs/heads/s4", "refs/heads/s5"]);
    expect(scan.broken.map((b) => b.ref)).toEqual(["refs/heads/s1", "refs/heads/self"]);
  });

  it("HEAD naming no valid ref inside refs/ is refused before anything is written; so is any update of such a name", async () => {
    const { repo, oid } = await repoWithCommit();
    const headFile = path.join(repo.tdvDir, "git/HEAD");
    await fsp.writeFile(headFile, "ref: refs/heads/../../../../pwned\n");
    await bad(repo.refs.head(), "BadRefError", /^bad ref HEAD: it is a symbolic ref to 'refs\/heads\/\.\.\/\.\.\/\.\.\/\.\.\/pwned'/);
    // a ref update reads HEAD to decide whether HEAD's reflog moves too: refused, nothing written
    await bad(repo.refs.update("refs/heads/main", { expected: oid, next: oid, who: repo.identity(), message: "x" }), "BadRefError", /bad ref HEAD/);
    expect((await repo.refs.reflog("refs/heads/main")).length).toBe(1);
    await fsp.writeFile(headFile, "ref: refs/heads/main\n");
    const who = repo.identity();
    for (const name of ["refs/heads/../../../pwned", "refs/heads/a/../../b", "logs/x", "config", "refs/heads/x.lock"]) {
      await bad(repo.refs.update(name, { expected: undefined, next: oid, who, message: "x" }), "InvalidRefNameError", /is not a valid branch or tag name/);
      await bad(repo.refs.read(name), "InvalidRefNameError", /is not a valid branch or tag name/);
    }
    await bad(repo.refs.setHead({ branch: "refs/heads/../../x" }, who, "x"), "InvalidRefNameError", /contains '\.\.'/);
    expect(await fsp.readFile(headFile, "utf8")).toBe("ref: refs/heads/main\n");
    for (const f of ["pwned", "b", "x", "../pwned"]) expect(await fsp.stat(path.join(repo.tdvDir, f)).then(() => true, () => false), f).toBe(false);
  });
});
