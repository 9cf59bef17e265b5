/**
 * The working-tree scan on two threads lists exactly what the one-thread scan
 * lists: the same files with the same stat data, the same skipped entries,
 * in the same (path) order.
 */
import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scanWorktree, type Scan } from "../../src/worktree/scan.js";

/** 300 folders (more than the first levels hand to the threads), each with files, a subfolder and, here and there, what a scan must skip. */
async function wideTree(): Promise<string> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), "tdv-scan-"));
  await fsp.mkdir(path.join(root, ".tdv"));
  await fsp.writeFile(path.join(root, ".tdv", "index"), "not scanned");
  await fsp.writeFile(path.join(root, "top.txt"), "top");
  for (let i = 0; i < 300; i++) {
    const d = path.join(root, "arr", `d${String(i).padStart(3, "0")}`);
    await fsp.mkdir(path.join(d, "sub"), { recursive: true });
    await fsp.writeFile(path.join(d, "f"), `file ${i}`);
    await fsp.writeFile(path.join(d, "sub", "g"), Buffer.alloc(i));
    if (i % 50 === 1) await fsp.symlink("../../top.txt", path.join(d, "link"));
    if (i % 50 === 2) await fsp.writeFile(path.join(d, ".tdv-manifest"), "reserved");
    if (i % 50 === 3) {
      await fsp.mkdir(path.join(d, ".git"));
      await fsp.writeFile(path.join(d, ".git", "HEAD"), "not scanned");
    }
    if (i % 50 === 4) execFileSync("mkfifo", [path.join(d, "pipe")]);
    if (i % 50 === 5) await fsp.writeFile(path.join(d, "sub", ".git"), "a file named .git");
    // names that are not UTF-8 (a file; a folder, whose content is not scanned), and one that is U+FFFD itself
    if (i % 50 === 6) await fsp.writeFile(Buffer.from(`${d}/bad\xff`, "latin1"), "x");
    if (i % 50 === 7) {
      await fsp.mkdir(Buffer.from(`${d}/raw\xfe`, "latin1"));
      await fsp.writeFile(Buffer.from(`${d}/raw\xfe/inside`, "latin1"), "y");
    }
    if (i % 50 === 8) await fsp.writeFile(path.join(d, "ok\uFFFD"), "a valid name");
  }
  return root;
}

const sorted = (s: Scan) => [...s.files].sort(([a], [b]) => (a < b ? -1 : 1));

describe("scanWorktree", () => {
  it("on two threads finds what one thread finds, in the same order", async () => {
    const root = await wideTree();
    const one = await scanWorktree(root, { threads: false });
    const two = await scanWorktree(root, { threads: true, mainShares: false });
    expect(two.byWorker).toBe(300); // the worker walked every folder below the first levels
    expect(one.files.size).toBe(607);
    expect(one.files.has("arr/d008/ok\uFFFD")).toBe(true);
    expect(one.files.has(".tdv/index")).toBe(false);
    expect(one.files.has("arr/d003/.git/HEAD")).toBe(false);
    expect(one.byWorker).toBe(0);
    expect(sorted(two)).toEqual(sorted(one));
    const shared = await scanWorktree(root, { threads: true }); // both threads take folders as they come
    expect(sorted(shared)).toEqual(sorted(one));
    expect(shared.skipped).toEqual(one.skipped);
    expect(two.skipped).toEqual(one.skipped);
    // each thread reports the names that are not UTF-8 and never enters such a folder
    expect(shared.badNames).toEqual(one.badNames);
    expect(two.badNames).toEqual(one.badNames);
    expect(one.badNames.slice(0, 2)).toEqual([
      { path: "arr/d006/bad\\xff", dir: "arr/d006", hex: "626164ff", folder: false },
      { path: "arr/d007/raw\\xfe", dir: "arr/d007", hex: "726177fe", folder: true },
    ]);
    expect(one.badNames).toHaveLength(12);
    expect([...one.files.keys()].some((p) => p.includes("inside"))).toBe(false);
    expect(one.skipped.map((s) => s.path)).toEqual([
      "arr/d001/link",
      "arr/d002/.tdv-manifest",
      "arr/d004/pipe",
      "arr/d005/sub/.git",
      "arr/d051/link",
      "arr/d052/.tdv-manifest",
      "arr/d054/pipe",
      "arr/d055/sub/.git",
      "arr/d101/link",
      "arr/d102/.tdv-manifest",
      "arr/d104/pipe",
      "arr/d105/sub/.git",
      "arr/d151/link",
      "arr/d152/.tdv-manifest",
      "arr/d154/pipe",
      "arr/d155/sub/.git",
      "arr/d201/link",
      "arr/d202/.tdv-manifest",
      "arr/d204/pipe",
      "arr/d205/sub/.git",
      "arr/d251/link",
      "arr/d252/.tdv-manifest",
      "arr/d254/pipe",
      "arr/d255/sub/.git",
    ]);

    // one file changes: the scan lists its new stat data, in path order on both threads
    const changed = path.join(root, "arr", "d299", "sub", "g");
    await fsp.writeFile(changed, "other bytes");
    const again = await scanWorktree(root, { threads: true, mainShares: false });
    expect(again.files.get("arr/d299/sub/g")).toMatchObject({ size: 11 });
    expect(again.files.get("arr/d298/sub/g")).toEqual(one.files.get("arr/d298/sub/g"));
    expect(again.files.get("arr/d299/nothing")).toBeUndefined();
    for (const s of [one, two, shared, again]) expect([...s.files.keys()]).toEqual([...s.files.keys()].sort());
    await fsp.rm(root, { recursive: true, force: true });
  });

  it("lists files in the index's path order, where a folder's name sorts as the name and '/'", async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), "tdv-scan-order-"));
    // beside folder "b": "b.txt" ('.' < '/') comes before its files, "b0" and "b~" ('0', '~' > '/') after
    const names = ["b/x", "b/y/z", "b.txt", "b0", "b~", "b-c/d", "a", "\u00e9t\u00e9/f", "Z/q", "b/y.z", "b/y0"];
    for (let k = 0; k < 300; k++) names.push(`wide/f${k}/v/${k % 7}`, `wide/f${k}.meta`);
    for (const n of names) {
      await fsp.mkdir(path.dirname(path.join(root, n)), { recursive: true });
      await fsp.writeFile(path.join(root, n), n);
    }
    const want = [...names].sort();
    for (const threads of [false, true]) {
      const s = await scanWorktree(root, { threads });
      expect([...s.files.keys()]).toEqual(want);
      expect(s.files.get("b~")).toMatchObject({ size: 2 });
    }
    expect((await scanWorktree(root, { threads: true, mainShares: false })).byWorker).toBeGreaterThan(0);
    // paths given one by one, overlapping, come out sorted and once each
    const some = await scanWorktree(root, { under: ["b0", "b", "b/y", "a", "b/x"] });
    expect([...some.files.keys()]).toEqual(["a", "b/x", "b/y.z", "b/y/z", "b/y0", "b0"]);
    await fsp.rm(root, { recursive: true, force: true });
  });
});
