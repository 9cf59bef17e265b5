/**
 * Through the command line: once `status` has recorded the folders, every
 * change a user makes is still seen by `status` and committed by `commit -a`.
 */
import fs, { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { committed, tdvJson, tdvOk } from "../helpers/cli.js";

interface Status {
  clean: boolean;
  unstaged: { path: string; change: string }[];
  untracked: { path: string }[];
}

describe("the folder cache, through the CLI", () => {
  it("never hides a change from status or commit -a", async () => {
    const dir = await committed("v3/ocean.zarr");
    await new Promise((r) => setTimeout(r, 30)); // the tree's times older than the stamp of the next scan
    expect((await tdvJson<Status>(dir, ["status", "--json"])).clean).toBe(true);
    const cache = path.join(dir, ".tdv", "folder-cache");
    expect(fs.existsSync(cache)).toBe(true); // the listings are recorded
    const flags = path.join(dir, "ocean.zarr/depth/c");
    const names = fs.readdirSync(flags).sort();
    const [first, second] = names as [string, string];
    const before = fs.statSync(path.join(flags, first));
    const bytes = fs.readFileSync(path.join(flags, first));
    bytes[0] = (bytes[0]! + 1) & 0xff; // the same size, and the old mtime put back
    await fsp.writeFile(path.join(flags, first), bytes);
    await fsp.utimes(path.join(flags, first), before.atime, before.mtime);
    await fsp.rm(path.join(flags, second));
    await fsp.writeFile(path.join(flags, "9"), Buffer.from([1, 2, 3]));
    const st = await tdvJson<Status>(dir, ["status", "--json"]);
    const rel = "ocean.zarr/depth/c";
    expect(st.unstaged.map((c) => [c.path, c.change])).toEqual([
      [`${rel}/${first}`, "modified"],
      [`${rel}/${second}`, "deleted"],
    ]);
    expect(st.untracked.map((c) => c.path)).toEqual([`${rel}/9`]);
    // commit -a takes them all (a new chunk file of a tracked array too), and status is clean after
    await tdvOk(dir, ["commit", "-a", "-q", "-m", "edit"]);
    expect((await tdvJson<Status>(dir, ["status", "--json"])).clean).toBe(true);
    // a damaged cache is ignored
    fs.writeFileSync(cache, "damaged");
    await fsp.rm(path.join(flags, "9"));
    const gone = await tdvJson<Status>(dir, ["status", "--json"]);
    expect(gone.unstaged.map((c) => [c.path, c.change])).toEqual([[`${rel}/9`, "deleted"]]);
  });
});
