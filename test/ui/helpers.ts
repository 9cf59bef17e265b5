/**
 * Real repositories for the UI tests, made with the library as a user would:
 * the v3 ocean fixture imported, a branch that edits values with zarrita, a
 * merge, a tag; or two branches that change the same element (a conflict).
 * And small helpers to drive an Ink app: wait for a frame, press keys.
 */
import { act } from "react";
import { createTag, merge, type Repository, switchBranch } from "../../src/index.js";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { commitAll, editAttrs, editMeta, repoFrom, setBox, setPoints, values } from "../merge/helpers.js";

export { repoFrom, setPoints, commitAll };

export const KEYS = {
  up: "\u001B[A",
  down: "\u001B[B",
  right: "\u001B[C",
  left: "\u001B[D",
  enter: "\r",
  escape: "\u001B",
  backspace: "\u007F",
} as const;

/** main: import (tag v1) → feature edits sst chunk [0,0,0] and [1,1,2] → main edits [2,1,2] and depth → merge feature. */
export async function historyRepo(): Promise<{ repo: Repository; dir: string; store: string }> {
  at(0);
  const r = await repoFrom("v3/ocean.zarr");
  const { repo, dir, store } = r;
  await createTag(repo, { name: "v1" });
  await switchBranch(repo, { name: "feature", create: true });
  await setPoints(dir, `${store}/sst`, { "0,3,4": 11.5, "3,10,20": 5 });
  at(1);
  await commitAll(repo, "feature: fix two sst tiles");
  await switchBranch(repo, { name: "main" });
  await setPoints(dir, `${store}/sst`, { "5,15,23": -1 });
  await setPoints(dir, `${store}/depth`, { "9": 99 });
  await editAttrs(dir, `${store}/depth`, (a) => {
    a.comment = "recalibrated";
  });
  at(2);
  await commitAll(repo, "main: recalibrate the last sst tile");
  at(3);
  const m = await merge(repo, { rev: "feature", message: "Merge branch 'feature'" });
  delete process.env.TDV_AUTHOR_DATE;
  if (m.kind !== "merged") throw new Error(`expected a clean merge, got ${m.kind}`);
  return r;
}

/**
 * The three data changes of a pipeline's life, one commit each on main:
 * "append": sst grows by two time steps (new chunks [3,*,*]);
 * "rechunk": sst rewritten with chunks of 3×4×4 (every value kept, one changed);
 * "nan": sst element [0,0,0] becomes NaN.
 */
export async function dataRepo(): Promise<{ repo: Repository; dir: string; store: string }> {
  const r = await repoFrom("v3/ocean.zarr");
  const { repo, dir, store } = r;
  const sst = `${store}/sst`;
  await editMeta(dir, sst, (m) => {
    m.shape = [8, 16, 24];
  });
  await setBox(dir, sst, [[6, 8], [0, 16], [0, 24]], (c) => 100 + c[1]! + c[2]! / 100);
  await commitAll(repo, "append two time steps");
  const all = (await values(dir, sst)) as number[];
  await fsp.rm(path.join(dir, sst, "c"), { recursive: true, force: true });
  await editMeta(dir, sst, (m) => {
    (m.chunk_grid as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape = [3, 4, 4];
  });
  await setBox(dir, sst, [[0, 8], [0, 16], [0, 24]], (c) => (c[0] === 7 && c[1] === 15 && c[2] === 23 ? -5 : all[(c[0]! * 16 + c[1]!) * 24 + c[2]!]!));
  await commitAll(repo, "rechunk sst");
  await setPoints(dir, sst, { "0,0,0": Number.NaN, "4,8,12": 1000 });
  await commitAll(repo, "nan and a spike");
  return r;
}

/** Both branches change sst element [0,3,4] to different values: a merge stopped on one chunk conflict. */
export async function conflictRepo(): Promise<{ repo: Repository; dir: string; store: string }> {
  const r = await repoFrom("v3/ocean.zarr");
  const { repo, dir, store } = r;
  await switchBranch(repo, { name: "feature", create: true });
  await setPoints(dir, `${store}/sst`, { "0,3,4": 22, "0,0,1": 2 });
  await commitAll(repo, "theirs");
  await switchBranch(repo, { name: "main" });
  await setPoints(dir, `${store}/sst`, { "0,3,4": 11, "0,0,0": 1 });
  await commitAll(repo, "ours");
  const m = await merge(repo, { rev: "feature" });
  if (m.kind !== "conflicts") throw new Error(`expected conflicts, got ${m.kind}`);
  return r;
}

/** The next commits' date: day `n` of March 2026, so history order is fixed. */
function at(n: number): void {
  process.env.TDV_AUTHOR_DATE = new Date(Date.UTC(2026, 2, 1 + n, 10)).toISOString();
}

/** Two chunks of sst and its `units` attribute changed differently on both sides: three conflicts in one array. */
export async function threeConflictsRepo(): Promise<{ repo: Repository; dir: string; store: string }> {
  const r = await repoFrom("v3/ocean.zarr");
  const { repo, dir, store } = r;
  await switchBranch(repo, { name: "feature", create: true });
  await setPoints(dir, `${store}/sst`, { "0,3,4": 22, "5,15,23": 222 });
  await editAttrs(dir, `${store}/sst`, (a) => {
    a.units = "K";
  });
  await commitAll(repo, "theirs");
  await switchBranch(repo, { name: "main" });
  await setPoints(dir, `${store}/sst`, { "0,3,4": 11, "5,15,23": 111 });
  await editAttrs(dir, `${store}/sst`, (a) => {
    a.units = "degF";
  });
  await commitAll(repo, "ours");
  const m = await merge(repo, { rev: "feature" });
  if (m.kind !== "conflicts") throw new Error(`expected conflicts, got ${m.kind}`);
  return r;
}

/** Wait until `frame()` satisfies `ok` (returns the frame), or fail with the last frame. */
export async function waitFor(frame: () => string | undefined, ok: (f: string) => boolean, what = "the expected screen", ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const f = frame() ?? "";
    if (ok(f)) return f;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last frame:\n${f}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Write keys one by one, each handled completely before the next: inside
 * React's act(), which returns once the key's state updates have rendered and
 * their effects have run (a lone Escape waits one turn of the event loop in
 * Ink, as it could start a sequence). No clock is involved.
 */
export async function press(stdin: { write(s: string): void }, ...keys: string[]): Promise<void> {
  const g = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
  for (const k of keys) {
    const was = g.IS_REACT_ACT_ENVIRONMENT;
    g.IS_REACT_ACT_ENVIRONMENT = true; // only while the key is handled: the app's own async loads are not wrapped
    try {
      await act(async () => {
        stdin.write(k);
        await new Promise((r) => setImmediate(r));
      });
    } finally {
      g.IS_REACT_ACT_ENVIRONMENT = was;
    }
  }
}

const SGR = /\u001B\[[0-9;]*m/g;

/** The history row under the cursor (colour codes removed). */
export function selectedLine(frame: string | undefined): string {
  return (frame ?? "").replace(SGR, "").split("\n").find((l) => l.startsWith(">")) ?? "";
}

/** Press j until the commit whose row contains `subject` is selected (one key at a time, each one seen). */
export async function selectCommit(ui: { stdin: { write(s: string): void }; lastFrame(): string | undefined }, subject: string): Promise<void> {
  for (let i = 0; i < 10 && !selectedLine(ui.lastFrame()).includes(subject); i++) {
    const before = selectedLine(ui.lastFrame());
    await press(ui.stdin, "j");
    await waitFor(ui.lastFrame, (f) => selectedLine(f) !== before, "the cursor to move", 5000);
  }
  if (!selectedLine(ui.lastFrame()).includes(subject)) throw new Error(`no commit '${subject}' in\n${ui.lastFrame()}`);
}
