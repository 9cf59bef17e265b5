/** The setting pull.rebase: accepted by `tdv config` in both scopes, read as git reads booleans, the repository's over the global one. */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkConfigKey, isTdvError, pullRebaseSetting, Repository, setGlobalConfig, setRepoSetting } from "../../src/index.js";
import { tempDir } from "../helpers/fixture.js";

describe("pull.rebase", () => {
  it("is off by default, set globally or per repository (the repository's wins), and only to a boolean", async () => {
    const home = await tempDir();
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, ".config") };
    const { repo } = await Repository.init({ durability: "none", dir: await tempDir() });
    expect(checkConfigKey("pull.rebase", "global")).toBe("pull.rebase");
    expect(pullRebaseSetting(repo.config, env)).toBe(false);

    await setGlobalConfig("pull.rebase", "yes", env);
    expect(await fsp.readFile(path.join(home, ".config/tdv/config"), "utf8")).toMatch(/\[pull\]\s+rebase = true/);
    expect(pullRebaseSetting(repo.config, env)).toBe(true);

    expect(await setRepoSetting(repo, "pull.rebase", "false")).toBe(false);
    expect(repo.config.pull).toEqual({ rebase: false });
    expect(pullRebaseSetting(repo.config, env)).toBe(false);
    expect(await setRepoSetting(repo, "pull.rebase", null)).toBe(true);
    expect(pullRebaseSetting(repo.config, env)).toBe(true);

    const bad = await setRepoSetting(repo, "pull.rebase", "maybe").catch((e: unknown) => e);
    expect(isTdvError(bad, "UsageError") && bad.message).toMatch(/pull\.rebase is true or false, not 'maybe'/);
    expect(repo.config.pull).toBeUndefined();
  });
});
