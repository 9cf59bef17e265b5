/** tdv-rules.toml: what parses, and every bad input named with its key and fix. */
import { describe, expect, it } from "vitest";
import { isTdvError, parseRules } from "../../src/index.js";
import { RULES } from "./dataset.js";

async function error(text: string): Promise<{ message: string; hint: string }> {
  try {
    await parseRules(text, "0".repeat(40));
  } catch (err) {
    if (!isTdvError(err, "RulesFileError")) throw err;
    return { message: err.message, hint: err.hint ?? "" };
  }
  throw new Error("parsed");
}

describe("parseRules", () => {
  it("reads the issue's keys and the rest", async () => {
    const r = await parseRules(`${RULES}\n[[arrays]]\npath = "**/lat"\nshape = [2]\nchunk_shape = [2]\ndimension_names = ["lat"]\n`, "1".repeat(40));
    expect(r.branches.map((b) => [b.name, b.protected, b.checkOn])).toEqual([["main", true, ["commit", "merge", "push"]]]);
    expect(r.arrays[0]).toMatchObject({ path: "fc.zarr/t2m", maxNanFraction: 0, range: [180, 340], attrs: { units: "K" }, dtype: "float32", completeAlong: "time" });
    expect(r.arrays[2]).toMatchObject({ shape: [2], chunkShape: [2], dimensionNames: ["lat"] });
    expect(r.groups[0]).toMatchObject({ path: "fc.zarr", sharedDimensions: true });
    expect(r.consolidated).toBe(false);
  });

  it("globs: * within a name, ** across folders, {a,b}, [ab], ?", async () => {
    const r = await parseRules(`[[arrays]]\npath = "*.zarr/t?m"\n[[arrays]]\npath = "**/{u,v}10"\n[[arrays]]\npath = "era.zarr/[tq]"\n`, "1".repeat(40));
    const [a, b, c] = r.arrays.map((x) => x.match);
    expect([a!("era.zarr/t2m"), a!("x/era.zarr/t2m"), a!("era.zarr/t22m")]).toEqual([true, false, false]);
    expect([b!("u10"), b!("a/b/v10"), b!("w10")]).toEqual([true, true, false]);
    expect([c!("era.zarr/q"), c!("era.zarr/u")]).toEqual([true, false]);
  });

  it("refuses bad input, naming file, key and fix", async () => {
    expect((await error("a = [1,\n")).message).toMatch(/^tdv-rules\.toml: not valid TOML at line \d+, column \d+/);
    expect(await error(`colour = 1`)).toMatchObject({ message: "tdv-rules.toml: colour: is not a key tdv knows" });
    expect((await error(`[[arrays]]\npath = "a"\nmax_nan_fractoin = 0`)).hint).toContain("did you mean `max_nan_fraction`?");
    expect((await error(`[[arrays]]\nmax_nan_fraction = 0`)).message).toBe("tdv-rules.toml: arrays[0].path: is missing");
    expect((await error(`[[arrays]]\npath = "a"\nmax_nan_fraction = 2`)).message).toBe("tdv-rules.toml: arrays[0].max_nan_fraction: must be a number from 0 to 1, not 2");
    expect((await error(`[[arrays]]\npath = "a"\nrange = [3, 1]`)).message).toContain("arrays[0].range: must be [low, high] with low <= high, not [3,1]");
    expect((await error(`[[arrays]]\npath = "a"\ndtype = "float33"`)).hint).toContain('dtype = "float32"');
    expect((await error(`[[arrays]]\npath = "a"\nmonotonic = "up"`)).message).toContain('arrays[0].monotonic: must be "increasing" or "decreasing", not "up"');
    expect((await error(`[[arrays]]\npath = "a"\nshape = [1.5]`)).message).toContain("arrays[0].shape: must be a list of whole numbers");
    expect((await error(`[[arrays]]\npath = "a{b"`)).message).toBe('tdv-rules.toml: arrays[0].path: bad glob "a{b": a `{` without its `}`');
    expect((await error(`[[arrays]]\npath = "a[b"`)).message).toContain("a `[` without its `]`");
    expect((await error(`[branches.main]\nprotected = "yes"`)).message).toBe('tdv-rules.toml: branches.main.protected: must be true or false, not "yes"');
    expect((await error(`[branches.main]\ncheck_on = ["commit", "deploy"]`)).message).toContain('branches.main.check_on: must be a list of "commit", "merge", "push"');
    expect((await error(`[branches.main]\nprotect = true`)).hint).toContain("did you mean `protected`?");
    expect((await error(`consolidated = "yes"`)).message).toContain("consolidated: must be true or false");
    expect((await error(`[[groups]]\npath = "g"\nshared = true`)).message).toBe("tdv-rules.toml: groups[0].shared: is not a key tdv knows");
  });
});

describe("globs against hostile patterns", () => {
  it("match in time linear in the pattern and the path (no backtracking)", async () => {
    const stars = Array.from({ length: 30 }, () => "*a").join("");
    const r = await parseRules(`[[arrays]]\npath = "${stars}b"\n[[arrays]]\npath = "${Array.from({ length: 7 }, () => "**/a").join("/")}/b"\n`, "1".repeat(40));
    const t0 = Date.now();
    expect(r.arrays[0]!.match("a".repeat(200))).toBe(false);
    expect(r.arrays[1]!.match(Array.from({ length: 60 }, () => "a").join("/"))).toBe(false);
    expect(r.arrays[1]!.match(`${Array.from({ length: 7 }, () => "a").join("/")}/b`)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.arrays[1]!.match("xa/a/a/a/a/a/a/b")).toBe(false);
  });
});
