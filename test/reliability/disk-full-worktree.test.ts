/**
 * A full disk while a command writes the working copy. Before: `tdv merge`
 * failed with ENOSPC saying "the repository is unchanged" while hundreds of
 * files were already written and the merge state was gone, and the next hint
 * (`tdv commit -a`) recorded a commit without the merge parent.
 *
 * Now, at every write point of the working-copy move (ENOSPC injected at the
 * n-th file write and every one after, as a full disk stays full):
 * - merge: exit 1 and either the working copy and index were put back as
 *   they were (no merge in progress), or the merge is kept in progress and
 *   cannot be concluded (`commit -a` refuses) until `merge --abort` puts
 *   everything back; then the same merge succeeds once space is back;
 * - switch: exit 1, HEAD and the index unchanged, and running it again once
 *   space is back finishes the switch exactly.
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixture.js";
import { committedGrid, hashTree, INJECT, lanes, mutate, rng, run, runOk, tdvFsckClean, treeDiff } from "./helpers.js";

/**
 * Everything in .tdv but objects (refs, HEAD, merge state), as path → hash.
 * The index is left out: any command may refresh its stat cache (a copied
 * repository has other inodes); `clean()` checks what it records. So is the
 * folder cache, which any scan may record.
 */
async function repoState(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (/^(chunks|git\/objects|tmp|locks|verified-trees)$/.test(r) || e.name.includes(".tmp-") || r === "git/logs" || r === "git/ORIG_HEAD" || r === "index" || r.startsWith("folder-cache")) continue; // ORIG_HEAD: set by every merge, as git does
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, createHash("sha256").update(await fsp.readFile(path.join(abs, e.name))).digest("hex"));
    }
  };
  await walk(path.join(dir, ".tdv"), "");
  return out;
}

/** Nothing staged, nothing changed: the index records HEAD and the working files match it. */
async function clean(dir: string, what: string): Promise<void> {
  const st = JSON.parse((await runOk(dir, ["status", "--json"])).stdout) as { staged: unknown[]; unstaged: unknown[] };
  expect({ staged: st.staged, unstaged: st.unstaged }, what).toEqual({ staged: [], unstaged: [] });
}

async function copyRepo(src: string): Promise<string> {
  const dir = path.join(await tempDir(), "wc");
  await fsp.cp(src, dir, { recursive: true, preserveTimestamps: true });
  return dir;
}

/** ENOSPC at the n-th write of a working file (written under .tdv/tmp, then renamed into place). */
const injectAt = (k: number) => ({ env: { TDV_INJECT_AT: String(k), TDV_INJECT_PATH: "[/\\\\]\\.tdv[/\\\\]tmp[/\\\\]" }, nodeArgs: ["--import", INJECT] });

async function countWrites(dir: string, args: string[]): Promise<number> {
  const countFile = path.join(os.tmpdir(), `tdv-inject-count-${process.pid}-${Math.random()}`);
  await runOk(dir, args, { env: { TDV_INJECT_COUNT: countFile, TDV_INJECT_PATH: "[/\\\\]\\.tdv[/\\\\]tmp[/\\\\]" }, nodeArgs: ["--import", INJECT] });
  return Number(await fsp.readFile(countFile, "utf8"));
}

describe("disk full while the working copy is written", () => {
  it("merge: put back, or kept in progress for --abort; never half-merged and unexplained", { timeout: 300_000 }, async () => {
    const next = rng(41);
    const { dir: template, grid } = await committedGrid(200, next);
    await runOk(template, ["switch", "-q", "-c", "fat"]);
    await mutate(template, grid, 120, next);
    await runOk(template, ["commit", "-q", "-a", "-m", "fat"]);
    await runOk(template, ["switch", "-q", "main"]);
    await fsp.writeFile(path.join(template, "data.zarr/notes.txt"), "main's own change\n");
    await runOk(template, ["add", "-A"]);
    await runOk(template, ["commit", "-q", "-m", "main moves on"]);
    const writes = await countWrites(await copyRepo(template), ["merge", "fat", "-m", "probe"]);
    expect(writes).toBeGreaterThan(20);
    const outcomes = { points: 0, landed: 0, rolledBack: 0, kept: 0 };
    const points = [...new Set([1, 2, 3, Math.floor(writes / 4), Math.floor(writes / 2), writes - 1, writes].filter((k) => k >= 1))];
    await lanes(2, async (lane) => {
      for (const k of points.filter((_, i) => i % 2 === lane)) {
        const dir = await copyRepo(template);
        const before = await repoState(dir);
        const files = await hashTree(dir);
        const what = `ENOSPC at working-file write ${k} of ${writes}`;
        const r = await run(dir, ["merge", "fat", "-m", "merge fat"], injectAt(k));
        outcomes.points++;
        if (r.code === 0) {
          outcomes.landed++;
        } else {
          expect(r.code, `${what}: ${r.stderr}`).toBe(1);
          expect(r.stderr, what).not.toMatch(/the repository is unchanged/);
          if (/put back as they were before the merge/.test(r.stderr)) {
            outcomes.rolledBack++;
            expect(r.stderr, what).toMatch(/^error: merging 'fat' failed: .*ENOSPC/m);
            expect(r.stderr, what).toMatch(/^hint: free space and merge again \(`tdv gc --prune=now` deletes/m);
            expect(await repoState(dir), what).toEqual(before);
            expect(treeDiff(await hashTree(dir), files), what).toEqual([]);
            await clean(dir, what);
          } else {
            outcomes.kept++;
            expect(r.stderr, what).toMatch(/^error: merging 'fat' stopped half-way: .*ENOSPC.*; the merge stays in progress/m);
            expect(r.stderr, what).toMatch(/^hint: free space, then `tdv merge --abort` puts the working copy and index back/m);
            // what the old hint led to: a commit without the merge parent. Now refused, naming the way out
            const c = await run(dir, ["commit", "-a", "-m", "after a failed merge"]);
            expect(c.code, what).toBe(1);
            expect(c.stderr, what).toMatch(/did not finish updating the working copy/);
            expect(c.stderr, what).toMatch(/`tdv merge --abort`/);
            await runOk(dir, ["merge", "--abort"]);
            expect(await repoState(dir), `${what}, after --abort`).toEqual(before);
            expect(treeDiff(await hashTree(dir), files), `${what}, after --abort`).toEqual([]);
            await clean(dir, `${what}, after --abort`);
          }
          // space is back: the same merge goes through
          await runOk(dir, ["merge", "fat", "-m", "merge fat"]);
        }
        const log = JSON.parse((await runOk(dir, ["log", "--json", "-n", "1"])).stdout) as { parents: string[] }[];
        expect(log[0]?.parents, what).toHaveLength(2);
        await tdvFsckClean(dir);
        await fsp.rm(path.dirname(dir), { recursive: true, force: true });
      }
    });
    process.stderr.write(`[reliability] disk full in merge (injected): ${JSON.stringify({ writePoints: writes, ...outcomes })}\n`);
    expect(outcomes.rolledBack + outcomes.kept).toBeGreaterThan(0);
  });

  it("switch: HEAD and the index unchanged, and running it again finishes it", { timeout: 300_000 }, async () => {
    const next = rng(42);
    const { dir: template, grid } = await committedGrid(150, next);
    await runOk(template, ["switch", "-q", "-c", "other"]);
    await mutate(template, grid, 100, next);
    await runOk(template, ["commit", "-q", "-a", "-m", "other"]);
    const target = await hashTree(template);
    await runOk(template, ["switch", "-q", "main"]);
    const writes = await countWrites(await copyRepo(template), ["switch", "other"]);
    for (const k of [1, Math.floor(writes / 2), writes]) {
      const dir = await copyRepo(template);
      const before = await repoState(dir);
      const what = `ENOSPC at working-file write ${k} of ${writes}`;
      const r = await run(dir, ["switch", "other"], injectAt(k));
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(/^error: switching to 'other' stopped before it finished: .*ENOSPC/m);
      expect(r.stderr, what).toMatch(/^hint: HEAD and the index are unchanged and some working files are already updated\. Free space/m);
      expect(await repoState(dir), what).toEqual(before);
      await runOk(dir, ["switch", "other"]);
      await clean(dir, `${what}, switched again`);
      expect(treeDiff(await hashTree(dir), target), what).toEqual([]);
      await tdvFsckClean(dir);
      await fsp.rm(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
