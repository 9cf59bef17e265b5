/**
 * What the next `clone` finds in a folder an earlier clone left, through the
 * library, state by state (crash-clone reaches these by killing processes, at
 * random): an unfinished clone is resumed (its stale locks removed), an
 * interrupted removal is finished and the clone starts again, an init cut
 * short is cleared; a marker of another URL or of a clone still running is
 * refused, and so is anything else; other commands refuse an unfinished clone.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { addRemote, clone, isTdvError, log, push, Repository, status, type CloneMarker, type CloneResult } from "../../src/index.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { committedFixture } from "./dataset.js";

let src: string;
let remote: string;
let expectedLog: string[];

beforeAll(async () => {
  src = await committedFixture("v3");
  remote = path.join(await tempDir(), "remote");
  const repo = await Repository.open({ durability: "none", dir: src });
  await addRemote(repo, { name: "origin", url: remote });
  await push(repo, { remote: "origin" });
  expectedLog = (await log(repo, {})).map((e) => e.oid);
});

/** A pid no process has: one that exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.once("exit", r));
  return child.pid as number;
}

/**
 * A clone as one killed before its checkout leaves it: every object fetched
 * (a full clone, then) but no branch, no index, no working files, and its marker.
 */
async function unfinished(marker: Partial<CloneMarker> = {}): Promise<{ parent: string; dir: string }> {
  const parent = await tempDir();
  const dir = path.join(parent, "copy");
  await clone({ durability: "none", url: remote, dir });
  const repo = await Repository.open({ durability: "none", dir });
  await repo.refs.update("refs/heads/main", { expected: await repo.refs.read("refs/heads/main"), next: null, who: repo.identity(), message: "test: as before the checkout" });
  await fsp.rm(path.join(dir, ".tdv", "index"));
  await fsp.rm(path.join(dir, "v3"), { recursive: true });
  const file = path.join(dir, ".tdv", "tdv.json");
  const config = JSON.parse(await fsp.readFile(file, "utf8"));
  config.cloning = { url: remote, pid: await deadPid(), host: os.hostname(), startedAt: new Date().toISOString(), createdDir: true, ...marker };
  await fsp.writeFile(file, JSON.stringify(config));
  return { parent, dir };
}

async function expectComplete(res: CloneResult, dir: string): Promise<void> {
  expect(res.oid).not.toBeNull();
  const repo = await Repository.open({ durability: "none", dir }); // no marker left: an ordinary working copy
  expect(repo.config.cloning).toBeUndefined();
  expect((await log(repo, {})).map((e) => e.oid)).toEqual(expectedLog);
  const files = await listFiles(dir);
  files.delete(".tdv");
  expect(files).toEqual(await listFiles(src));
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error("expected a refusal");
  return err;
}

describe("clone into what an earlier clone left", () => {
  it("an unfinished clone: other commands refuse it; the same clone resumes it, its stale locks removed", async () => {
    const { dir } = await unfinished();
    const err = await refusal(Repository.open({ durability: "none", dir }));
    expect(isTdvError(err, "UnfinishedCloneError")).toBe(true);
    expect(err.message).toBe(`this clone did not finish: run \`tdv clone ${remote} ${dir}\` again`);
    for (const lock of ["tdv.json.lock", "git/refs/heads/main.lock", "git/HEAD.lock"]) await fsp.writeFile(path.join(dir, ".tdv", lock), "");
    const starts: string[] = [];
    const res = await clone({ durability: "none", url: remote, dir, onStart: (how) => starts.push(how) });
    expect(starts).toEqual(["resumed"]);
    expect(res.start).toBe("resumed");
    expect(res.fetch.downloaded.objects).toBe(0); // everything was here
    await expectComplete(res, dir);
    for (const lock of ["tdv.json.lock", "git/refs/heads/main.lock", "git/HEAD.lock"]) expect(await fsp.stat(path.join(dir, ".tdv", lock)).catch(() => null)).toBeNull();
  });

  it("a resumed clone verifies the chunks an earlier run stored: one damaged since is refused and never reaches the tree", async () => {
    const { dir } = await unfinished();
    const srcRepo = await Repository.open({ durability: "none", dir: src });
    const [rel, entry] = [...(await srcRepo.readIndex()).entries].find(([, e]) => e.store === "chunk" && e.size > 0)!;
    const object = path.join(dir, ".tdv", "chunks", entry.id.slice(0, 2), entry.id.slice(2));
    await fsp.chmod(object, 0o644);
    const bytes = await fsp.readFile(object);
    bytes[0]! ^= 0x40;
    await fsp.writeFile(object, bytes);
    // only the chunks this run hashed on the way in are copied unread: this one was here before it began
    const err = await refusal(clone({ durability: "none", url: remote, dir }));
    expect(isTdvError(err, "CorruptObjectError")).toBe(true);
    expect(err.message).toContain(entry.id);
    expect(await fsp.stat(path.join(dir, ...rel.split("/"))).catch(() => null)).toBeNull();
  });

  it("a fresh clone's working files are copies of the objects it fetched, writable, not links to the store", async () => {
    const dir = path.join(await tempDir(), "copy");
    await clone({ durability: "none", url: remote, dir });
    const srcRepo = await Repository.open({ durability: "none", dir: src });
    const chunks = [...(await srcRepo.readIndex()).entries].filter(([, e]) => e.store === "chunk");
    expect(chunks.length).toBeGreaterThan(0);
    for (const [rel, e] of chunks) {
      const file = path.join(dir, ...rel.split("/"));
      const st = await fsp.stat(file);
      const object = await fsp.stat(path.join(dir, ".tdv", "chunks", e.id.slice(0, 2), e.id.slice(2)));
      expect(st.ino).not.toBe(object.ino);
      expect(st.nlink).toBe(1);
      expect(st.mode & 0o200).toBe(0o200); // the object is read-only; its working copy is not
      expect(st.size).toBe(e.size);
    }
    const repo = await Repository.open({ durability: "none", dir });
    expect((await status(repo, {})).clean).toBe(true);
  });

  it("an interrupted removal is finished, then the clone starts again", async () => {
    const { dir } = await unfinished({ removing: true });
    await fsp.writeFile(path.join(dir, "half-removed.bin"), "x");
    const res = await clone({ durability: "none", url: remote, dir });
    expect(res.start).toBe("restarted");
    expect(res.fetch.downloaded.objects).toBeGreaterThan(0);
    await expectComplete(res, dir);
    expect(await fsp.stat(path.join(dir, "half-removed.bin")).catch(() => null)).toBeNull();
  });

  it("a .tdv left by an init cut short (no tdv.json) is cleared; with anything else beside it, refused", async () => {
    const parent = await tempDir();
    const dir = path.join(parent, "copy");
    await fsp.mkdir(path.join(dir, ".tdv", "git", "refs", "heads"), { recursive: true });
    await fsp.mkdir(path.join(dir, ".tdv", "chunks"));
    await fsp.writeFile(path.join(dir, ".tdv", "git", "HEAD"), "ref: refs/heads/main\n");
    await fsp.writeFile(path.join(dir, ".tdv", "git", "config.tmp-1-2"), "[core]\n");
    const res = await clone({ durability: "none", url: remote, dir });
    expect(res.start).toBe("restarted");
    await expectComplete(res, dir);

    const other = path.join(parent, "other");
    await fsp.mkdir(path.join(other, ".tdv", "git"), { recursive: true });
    await fsp.writeFile(path.join(other, ".tdv", "git", "HEAD"), "ref: refs/heads/main\n");
    await fsp.writeFile(path.join(other, "mine.txt"), "the user's");
    const err = await refusal(clone({ durability: "none", url: remote, dir: other }));
    expect(err.message).toContain("already exists and is not empty");
    expect(await fsp.readFile(path.join(other, "mine.txt"), "utf8")).toBe("the user's");
  });

  it("refuses an unfinished clone of another URL, and one whose clone process still runs", async () => {
    const { dir } = await unfinished({ url: "file:///elsewhere" });
    const err = await refusal(clone({ durability: "none", url: remote, dir }));
    expect(err.message).toBe(`${dir} holds an unfinished clone of file:///elsewhere, not of ${remote}`);

    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      const running = await unfinished({ pid: sleeper.pid as number });
      const busy = await refusal(clone({ durability: "none", url: remote, dir: running.dir }));
      expect(busy.message).toMatch(/^another tdv clone \(process \d+, started .*\) is cloning into /);
      expect(JSON.parse(await fsp.readFile(path.join(running.dir, ".tdv", "tdv.json"), "utf8")).cloning.pid).toBe(sleeper.pid);
    } finally {
      sleeper.kill();
    }
  });

  it("a failed clone into a folder that existed empties it and keeps it; into a new one removes it", async () => {
    const parent = await tempDir();
    const existing = path.join(parent, "existing");
    await fsp.mkdir(existing);
    const err = await refusal(clone({ durability: "none", url: remote, dir: existing, branch: "no-such-branch" }));
    expect(isTdvError(err, "RefNotFoundError")).toBe(true);
    expect(await fsp.readdir(existing)).toEqual([]);
    await refusal(clone({ durability: "none", url: remote, dir: path.join(parent, "fresh"), branch: "no-such-branch" }));
    expect(await fsp.readdir(parent)).toEqual(["existing"]);
  });

  it("an aborted clone removes what it made and says so; aborting a resumed one keeps it", async () => {
    const parent = await tempDir();
    const dir = path.join(parent, "copy");
    const stop = new AbortController();
    const { InterruptedError } = await import("../../src/index.js");
    const err = await refusal(
      clone({
        url: remote,
        dir,
        onProgress: (p) => {
          if (p.phase === "receiving chunks" && p.done > 2) stop.abort(new InterruptedError("SIGINT"));
        },
        signal: stop.signal,
      }),
    );
    expect(isTdvError(err, "InterruptedError")).toBe(true);
    expect(err.message).toBe("interrupted by SIGINT");
    expect((err as InstanceType<typeof InterruptedError>).hint).toContain("the unfinished clone was removed");
    expect(await fsp.readdir(parent)).toEqual([]);

    const left = await unfinished();
    const again = new AbortController();
    again.abort(new InterruptedError("SIGTERM"));
    const kept = await refusal(clone({ durability: "none", url: remote, dir: left.dir, signal: again.signal }));
    expect((kept as InstanceType<typeof InterruptedError>).hint).toContain("the unfinished clone is kept");
    expect(JSON.parse(await fsp.readFile(path.join(left.dir, ".tdv", "tdv.json"), "utf8")).cloning.url).toBe(remote);
  });
});
