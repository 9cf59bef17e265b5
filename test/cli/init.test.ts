/** `tdv init`: what it reports, the store-root warning, --separate-repo, -b. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvOk } from "../helpers/cli.js";
import { listFiles, makeFixture, tempDir } from "../helpers/fixture.js";

describe.concurrent("tdv init", () => {
  it("counts arrays and groups and says what to do next", async () => {
    const dir = path.dirname(await makeFixture("v2/weather.zarr"));
    const r = await tdvOk(dir, ["init"]);
    expect(r.stdout).toBe(
      `Initialized empty tdv repository in ${dir}/.tdv\nFound 10 Zarr arrays and 2 groups, 1 other file. Next:\n  tdv add -A && tdv commit -m "Import dataset"\n`,
    );
    expect(r.stderr).toBe("");
    const again = await tdv(dir, ["init"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
  });

  it("in an empty folder given as DIR, with another initial branch", async () => {
    const parent = await tempDir();
    const r = await tdvOk(parent, ["init", "data", "-b", "production"]);
    expect(r.stdout).toContain(`Initialized empty tdv repository in ${parent}/data/.tdv`);
    expect(r.stdout).toContain("No Zarr arrays found yet");
    expect((await tdvOk(path.join(parent, "data"), ["status"])).stdout).toMatch(/^On branch production\n\nNo commits yet\n/);
  });

  it("warns in a store root and suggests --separate-repo (but still initializes)", async () => {
    const store = await makeFixture("v3/ocean.zarr");
    const r = await tdvOk(store, ["init"]);
    expect(r.stdout).toContain(`Initialized empty tdv repository in ${store}/.tdv`);
    expect(r.stderr).toMatch(/^warning: .* is itself a Zarr store root/m);
    expect(r.stderr).toContain('to_zarr(mode="w")');
    expect(r.stderr).toContain("tdv init --separate-repo ../ocean.tdv");
    expect((await fsp.stat(path.join(store, ".tdv"))).isDirectory()).toBe(true);
  });

  it("--separate-repo keeps the repository outside the store, which survives the store's deletion", async () => {
    const store = await makeFixture("v2/single.zarr");
    const original = await listFiles(store);
    const repoDir = path.join(path.dirname(store), "single.tdv");
    const r = await tdvOk(store, ["init", "--separate-repo", "../single.tdv"]);
    expect(r.stdout).toContain(`Initialized empty tdv repository in ${repoDir} (working tree ${store})`);
    expect(r.stderr).toBe("");
    expect((await fsp.readFile(path.join(store, ".tdv"), "utf8")).trim()).toBe(`tdvdir: ${repoDir}`);
    await tdvOk(store, ["add", "-A"]);
    await tdvOk(store, ["commit", "-m", "import"]);
    // a tool rewrites the store: everything, .tdv pointer included, is gone
    await fsp.rm(store, { recursive: true });
    await fsp.mkdir(store);
    await fsp.writeFile(path.join(store, ".tdv"), `tdvdir: ${repoDir}\n`);
    await tdvOk(store, ["reset", "--hard"]);
    expect(await listFiles(store)).toEqual(original);
  });
});
