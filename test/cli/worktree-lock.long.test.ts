/**
 * The working-copy lock (`.tdv/worktree.lock`, git's index.lock): commands
 * that write the index or the working tree run one at a time. Before it,
 * 16 parallel `tdv add noteN.txt` all said "staged 1 file" and 3 were staged,
 * and a commit racing a switch recorded the other branch's data on main.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { until } from "../helpers/time.js";

interface Status {
  staged: { path: string }[];
  unstaged: { path: string }[];
  untracked: { path: string }[];
}

const LOCKED = /^error: another tdv command is running in this working copy: `tdv \S+` \(pid \d+/m;

async function smallRepo(): Promise<string> {
  const dir = await tempDir();
  await fsp.writeFile(path.join(dir, "README.md"), "base\n");
  await tdvOk(dir, ["init", "-q"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-q", "-m", "base"]);
  return dir;
}

/** A process that runs until killed, and one that has exited: a live and a dead owner. */
async function pids(): Promise<{ live: number; stop: () => void; dead: number }> {
  const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  const done = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await new Promise((r) => done.on("close", r));
  return { live: sleeper.pid as number, stop: () => sleeper.kill("SIGKILL"), dead: done.pid as number };
}

const owner = (pid: number, command: string) => JSON.stringify({ pid, host: os.hostname(), start: null, command, since: "2026-12-01T10:00:00.000Z" });

describe("the working-copy lock", () => {
  it("16 parallel adds: each either stages its file or refuses saying who holds the lock", { timeout: 60_000 }, async () => {
    const dir = await smallRepo();
    const names = Array.from({ length: 16 }, (_, i) => `note${i}.txt`);
    await Promise.all(names.map((n) => fsp.writeFile(path.join(dir, n), `${n}\n`)));
    const results = await Promise.all(names.map((n) => tdv(dir, ["add", n])));
    const said = new Set<string>();
    for (const [i, r] of results.entries()) {
      if (r.code === 0) {
        expect(r.stdout).toMatch(/staged 1 file/);
        said.add(names[i] as string);
      } else {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(LOCKED);
        expect(r.stderr).toMatch(/^hint: wait for it to finish and run your command again; nothing was changed/m);
      }
    }
    expect(said.size).toBeGreaterThan(0);
    const st = await tdvJson<Status>(dir, ["status", "--json"]);
    // exactly the adds that said so are staged; the refused ones are untracked, as before
    expect(new Set(st.staged.map((e) => e.path))).toEqual(said);
    expect(new Set(st.untracked.map((e) => e.path))).toEqual(new Set(names.filter((n) => !said.has(n))));
    await expect(fsp.stat(path.join(dir, ".tdv/worktree.lock"))).rejects.toThrow();
  });

  it("a commit racing a switch never records the other branch's data on main", { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    await fsp.mkdir(path.join(dir, "d"), { recursive: true });
    const files = Array.from({ length: 1500 }, (_, i) => `d/f${i}`);
    await Promise.all(files.map((f) => fsp.writeFile(path.join(dir, f), `main ${f}\n`)));
    await tdvOk(dir, ["init", "-q"]);
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-q", "-m", "main"]);
    await tdvOk(dir, ["switch", "-q", "-c", "other"]);
    await Promise.all(files.map((f) => fsp.writeFile(path.join(dir, f), `other ${f}\n`)));
    await tdvOk(dir, ["commit", "-q", "-a", "-m", "other"]);
    await tdvOk(dir, ["switch", "-q", "main"]);
    const mainTip = (await tdvJson<{ oid: string }[]>(dir, ["log", "--json", "-n", "1"]))[0]?.oid;
    let refused = 0;
    for (let round = 0; round < 4; round++) {
      let switched = false;
      const sw = tdv(dir, ["switch", round % 2 === 0 ? "other" : "main"]).finally(() => (switched = true));
      // the commit starts while the switch holds the working copy (or, on a fast machine, just after it)
      const lock = path.join(dir, ".tdv/worktree.lock");
      await until(async () => switched || (await fsp.stat(lock).then(() => true, () => false)), "the switch to take the working-copy lock");
      const c = await tdv(dir, ["commit", "-a", "-m", `racing ${round}`]);
      const s = await sw;
      // on a busy machine the commit may start first: then the switch is the one refused
      if (s.code !== 0) expect(s.stderr).toMatch(LOCKED);
      if (c.code !== 0) {
        expect(c.stderr).toMatch(new RegExp(`${LOCKED.source}|^error: nothing to commit`, "m"));
        if (LOCKED.test(c.stderr)) refused++;
      }
      // whatever ran when, the branches hold only their own data and the working copy is clean
      expect((await tdvJson<Status>(dir, ["status", "--json"])).unstaged).toEqual([]);
    }
    const log = await tdvJson<{ oid: string; message: string }[]>(dir, ["log", "--json", "main"]);
    expect(log.map((e) => e.message.split("\n")[0])).toEqual(["main"]);
    expect(log[0]?.oid).toBe(mainTip);
    const fsck = await tdv(dir, ["fsck", "--full"]);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    expect(refused).toBeGreaterThanOrEqual(0);
  });

  it("a lock held by a running command refuses at once and is left in place", async () => {
    const dir = await smallRepo();
    const { live, stop } = await pids();
    try {
      const lock = path.join(dir, ".tdv/worktree.lock");
      await fsp.writeFile(lock, owner(live, "switch"));
      await fsp.writeFile(path.join(dir, "a.txt"), "a\n");
      for (const args of [["add", "a.txt"], ["commit", "-a", "-m", "x"], ["switch", "-c", "b"], ["reset", "--hard"], ["restore", "README.md"]]) {
        const r = await tdv(dir, args);
        expect(r.code, `tdv ${args.join(" ")}`).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^error: another tdv command is running in this working copy: \`tdv switch\` \\(pid ${live}, since 2026-12-01T10:00:00.000Z\\)`, "m"));
        expect(r.stderr).toContain(`rm '${lock}'`);
      }
      expect(await fsp.readFile(lock, "utf8")).toBe(owner(live, "switch"));
      // reading commands do not take the lock
      await tdvOk(dir, ["status"]);
      await tdvOk(dir, ["log", "--oneline"]);
      const fsck = await tdvOk(dir, ["fsck"]);
      expect(fsck.stdout + fsck.stderr).toMatch(new RegExp(`locked by \`tdv switch\` \\(pid ${live}`));
    } finally {
      stop();
    }
  });

  it("a lock left by a killed command is replaced, with a note naming it", async () => {
    const dir = await smallRepo();
    const { dead, stop } = await pids();
    stop();
    const lock = path.join(dir, ".tdv/worktree.lock");
    await fsp.writeFile(lock, owner(dead, "commit"));
    const fsck = await tdvOk(dir, ["fsck"]);
    expect(fsck.stdout + fsck.stderr).toMatch(new RegExp(`\`tdv commit\` \\(pid ${dead}, since [^)]+\\) was killed while it held the working-copy lock`));
    await fsp.writeFile(path.join(dir, "a.txt"), "a\n");
    const r = await tdvOk(dir, ["add", "a.txt"]);
    expect(r.stderr).toMatch(new RegExp(`^note: \`tdv commit\` \\(pid ${dead}, since 2026-12-01T10:00:00.000Z\\) was killed before it finished and left its lock; replaced it`, "m"));
    await tdvOk(dir, ["commit", "-m", "a"]);
    await expect(fsp.stat(lock)).rejects.toThrow();
    // an empty lock file (a command killed while writing it) is replaced once it is old
    await fsp.writeFile(lock, "");
    const old = new Date(Date.now() - 60_000);
    await fsp.utimes(lock, old, old);
    await fsp.writeFile(path.join(dir, "b.txt"), "b\n");
    await tdvOk(dir, ["add", "b.txt"]);
  });
});
