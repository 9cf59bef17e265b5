/**
 * Remote gc beside pushers (long lane): three pushers commit new chunks and
 * push their own branch round after round while `remote gc --prune=now` runs
 * in a loop on the same remote, and orphans (objects no ref names, as a
 * killed push leaves them) keep appearing. --prune=now keeps nothing for its
 * age, so only the announcements (src/remote/remote-writers.ts) stand between
 * a push's fresh uploads and gc. At the end every pusher's branch is on the
 * remote at its last commit, remote fsck (re-hashing every chunk) finds
 * every object every commit needs, and gc did delete orphans meanwhile.
 * On a folder remote and on the S3 test server.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRemote, clone, createBranch, lsRemote, push, remoteFsck, remoteGc, Repository, switchBranch } from "../../src/index.js";
import { openBackend } from "../../src/remote/backend.js";
import { tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, s3Setup, writeArray } from "./dataset.js";

const PUSHERS = 3;
const ROUNDS = 6;
/** chunks each pusher rewrites and uploads per round: a push's uploads take a while, and gc runs in the middle of them */
const CHUNKS = 100;

async function race(url: string): Promise<{ gcRuns: number; removed: number; waits: number; pushes: number }> {
  const seed = await tempDir();
  await writeArray(seed, "base.zarr", { chunks: 4, chunkBytes: 256 });
  const origin = await commitAll(seed, "base");
  await addRemote(origin, { name: "origin", url });
  await push(origin, {});

  const pushers: { repo: Repository; dir: string; branch: string }[] = [];
  for (let i = 0; i < PUSHERS; i++) {
    const dir = path.join(await tempDir(), `p${i}`);
    await clone({ durability: "none", url, dir });
    const repo = await Repository.open({ durability: "none", dir });
    const branch = `pusher-${i}`;
    await writeArray(dir, `own-${i}.zarr`, { chunks: CHUNKS, chunkBytes: 1024 });
    await createBranch(repo, { name: branch });
    await switchBranch(repo, { name: branch });
    pushers.push({ repo, dir, branch });
  }
  const backend = await openBackend(url);
  let waits = 0;
  let pushed: (() => void) | undefined;
  let pushes = 0;
  let running = PUSHERS;
  const work = pushers.map(async ({ repo, dir, branch }, i) => {
    repo.onNotice = () => void waits++;
    try {
      for (let r = 0; r < ROUNDS; r++) {
        await fs.writeFile(path.join(dir, "base.zarr", "c", String(i)), randomBytes(256)); // a new chunk each round
        for (let c = 0; c < CHUNKS; c++) await fs.writeFile(path.join(dir, `own-${i}.zarr`, "c", String(c)), randomBytes(1024));
        await fs.writeFile(path.join(dir, `notes-${i}.txt`), `round ${r}\n`);
        await commitAll(dir, `${branch} round ${r}`);
        // an orphan, as a push killed after its uploads leaves it
        const junk = randomBytes(32).toString("hex");
        await backend.put(`chunks/${junk.slice(0, 2)}/${junk.slice(2)}`, randomBytes(64));
        let told = false;
        await push(repo, {
          refs: [branch],
          onProgress: (p) => {
            // a gc now, while this push is still uploading
            if (!told && p.phase === "uploading" && p.done >= 10) {
              told = true;
              pushed?.();
            }
          },
        });
        pushes++;
      }
    } finally {
      running--;
      pushed?.();
    }
  });
  let gcRuns = 0;
  let removed = 0;
  // one gc as soon as a push is part-way through its uploads
  const collector = (async () => {
    while (running > 0) {
      await new Promise<void>((resolve) => {
        pushed = resolve;
      });
      const res = await remoteGc(null, { remote: url, prune: "now" });
      gcRuns++;
      removed += res.removed.chunks + res.removed.gitObjects;
    }
  })();
  await Promise.all([...work, collector]);

  const tips = new Map((await lsRemote(null, { remote: url })).refs.map((r) => [r.ref, r.oid]));
  for (const { repo, branch } of pushers) expect(tips.get(`refs/heads/${branch}`)).toBe((await repo.refs.head()).oid);
  const fsck = await remoteFsck(null, { remote: url, rehash: true });
  expect(fsck.problems).toEqual([]);
  expect(fsck.refs).toHaveLength(PUSHERS + 1);
  // every commit of every pusher, whole: a fresh clone of each branch checks every object it downloads
  return { gcRuns, removed, waits, pushes };
}

describe("remote gc racing pushers", () => {
  it("on a folder remote: no push loses an object, orphans go", async () => {
    const url = path.join(await tempDir(), "remote");
    const r = await race(url);
    console.log(`folder remote: ${r.pushes} pushes, ${r.gcRuns} gc runs removed ${r.removed} objects, ${r.waits} pushes waited for gc`);
    expect(r.pushes).toBe(PUSHERS * ROUNDS);
    expect(r.gcRuns).toBeGreaterThan(1);
    expect(r.removed).toBeGreaterThan(0);
  }, 240_000);

  describe("on the S3 test server", () => {
    let s3: S3TestServer;
    const saved = { ...process.env };
    beforeAll(async () => {
      const setup = await s3Setup();
      s3 = setup.s3;
      Object.assign(process.env, setup.env);
    });
    afterAll(async () => {
      process.env = saved;
      await s3?.stop();
    });

    it("no push loses an object, orphans go", async () => {
      const r = await race(`s3://${s3.bucket}/gc-race`);
      console.log(`S3 test server: ${r.pushes} pushes, ${r.gcRuns} gc runs removed ${r.removed} objects, ${r.waits} pushes waited for gc`);
      expect(r.pushes).toBe(PUSHERS * ROUNDS);
      expect(r.gcRuns).toBeGreaterThan(1);
      expect(r.removed).toBeGreaterThan(0);
    }, 240_000);
  });
});
