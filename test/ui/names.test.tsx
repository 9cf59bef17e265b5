/**
 * The terminal UI on a repository whose array path, commit message and author
 * hold terminal escape sequences: every frame shows them escaped ("\x1b[2J"
 * as the text `\x1b[2J`), never raw, in the history and in the review.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import { add, commit, Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { tempDir } from "../helpers/fixture.js";
import { KEYS, press, waitFor } from "./helpers.js";

const SIZE = { width: 160, height: 24 };
const ARRAY = "evil\x1b[2J.zarr";
let repo: Repository;

/** A raw control character (other than the frame's line feeds): what a terminal would act on. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

async function writeArray(dir: string, name: string, fill: number): Promise<void> {
  await fsp.mkdir(path.join(dir, name, "c"), { recursive: true });
  const meta = {
    zarr_format: 3,
    node_type: "array",
    shape: [8],
    data_type: "uint8",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "bytes" }],
  };
  await fsp.writeFile(path.join(dir, name, "zarr.json"), JSON.stringify(meta));
  await fsp.writeFile(path.join(dir, name, "c", "0"), Buffer.alloc(4, fill));
}

beforeAll(async () => {
  const dir = await tempDir();
  ({ repo } = await Repository.init({ dir }));
  await fsp.writeFile(path.join(dir, "README.md"), "base\n");
  await add(repo, { all: true });
  await commit(repo, { message: "base" });
  await writeArray(dir, ARRAY, 1);
  const name = process.env.TDV_AUTHOR_NAME;
  process.env.TDV_AUTHOR_NAME = "Mallory\x1b[31m";
  try {
    await add(repo, { all: true });
    await commit(repo, { message: "pwned \x1b]0;owned\x07 \u009b2J title" });
  } finally {
    if (name === undefined) delete process.env.TDV_AUTHOR_NAME;
    else process.env.TDV_AUTHOR_NAME = name;
  }
});

describe("hostile names in the terminal UI", () => {
  it("history and review show paths, messages and authors escaped, never raw", async () => {
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    const history = await waitFor(ui.lastFrame, (s) => s.includes("pwned"), "the history");
    expect(history).not.toMatch(RAW);
    expect(history).toContain("pwned \\x1b]0;owned\\x07 \\x9b2J title");
    expect(history).toContain("Mallory\\");
    await press(ui.stdin, KEYS.enter);
    const review = await waitFor(ui.lastFrame, (s) => s.includes("changed ("), "the review");
    expect(review).not.toMatch(RAW);
    expect(review).toContain("evil\\x1b[2J.zarr");
    ui.unmount();
  });
});
