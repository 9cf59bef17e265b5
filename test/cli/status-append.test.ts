/** New chunk files in a tracked array (an append, a filled missing chunk) are not a new array. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { committed, tdvOk } from "../helpers/cli.js";

describe("status of new chunks in a tracked array", () => {
  it("says 'new chunks', and 'new array' only for an array whose metadata is new", async () => {
    const dir = await committed("v3/ocean.zarr");
    await fsp.writeFile(path.join(dir, "ocean.zarr/flags/c/0/0/1"), Buffer.from([1, 2, 3]));
    await fsp.cp(path.join(dir, "ocean.zarr/depth"), path.join(dir, "ocean.zarr/depth2"), { recursive: true });
    const st = (await tdvOk(dir, ["status"])).stdout;
    expect(st).toMatch(/new chunks\s+ocean\.zarr\/flags\s+\(1 chunk, 3 B\)/);
    expect(st).toMatch(/new array\s+ocean\.zarr\/depth2\s+\(3 chunks/);
    expect(st).not.toMatch(/new array\s+ocean\.zarr\/flags/);
  });
});
