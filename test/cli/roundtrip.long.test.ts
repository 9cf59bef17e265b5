/** Every fixture goes through the CLI and comes back byte for byte. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdvJson, tdvOk } from "../helpers/cli.js";
import { listFiles, makeFixture } from "../helpers/fixture.js";

async function removeAllButTdv(dir: string): Promise<void> {
  for (const n of await fsp.readdir(dir)) if (n !== ".tdv") await fsp.rm(path.join(dir, n), { recursive: true });
}

describe.concurrent("every fixture round-trips byte for byte through the CLI", () => {
  const fixtures: [string, number][] = [
    ["v2/weather.zarr", 10],
    ["v2/single.zarr", 1],
    ["v3/ocean.zarr", 9],
    ["v3/sharded.zarr", 2],
    ["v3/consolidated.zarr", 2],
  ];
  it.each(fixtures)("%s", async (name, arrays) => {
    const dir = path.dirname(await makeFixture(name));
    const original = await listFiles(dir);
    await tdvOk(dir, ["init"]);
    expect((await tdvOk(dir, ["add", "-A"])).stdout).toMatch(new RegExp(`^staged ${original.size} files \\(${arrays} arrays?\\)`, "m"));
    await tdvOk(dir, ["commit", "-m", `import ${name}`]);
    expect((await tdvJson<unknown[]>(dir, ["ls", "--json"])).length).toBe(arrays);

    // delete everything; `restore .` brings it back
    await removeAllButTdv(dir);
    const gone = await tdvJson<{ unstaged: unknown[] }>(dir, ["status", "--json"]);
    expect(gone.unstaged).toHaveLength(original.size);
    await tdvOk(dir, ["restore", "."]);
    expect(await listFiles(dir)).toEqual(original);

    // and again with `reset --hard HEAD`
    await removeAllButTdv(dir);
    await tdvOk(dir, ["reset", "--hard", "HEAD"]);
    expect(await listFiles(dir)).toEqual(original);
    expect((await tdvOk(dir, ["status"])).stdout).toContain("nothing to commit, working tree clean");
  });
});
