/**
 * Write dist/bin/main.cache: V8's code cache of the bundle, taken after the
 * everyday commands ran in this one process on a small Zarr v3 dataset in a
 * temporary folder, so that it holds the functions those commands compile.
 * Run by scripts/bundle.mjs after the bundle is built; a command that fails
 * here fails the build.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../dist/bin/", import.meta.url));
const { load } = createRequire(import.meta.url)(path.join(bin, "tdv.js"));
const { script, exports } = load(undefined);

const dir = mkdtempSync(path.join(os.tmpdir(), "tdv-warm-"));
try {
  const array = path.join(dir, "data.zarr/t");
  const chunk = (i, seed) => Buffer.alloc(32, i * 7 + seed);
  mkdirSync(array, { recursive: true });
  writeFileSync(path.join(dir, "data.zarr/zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }));
  writeFileSync(
    path.join(array, "zarr.json"),
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape: [4, 8],
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [2, 2] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: 0,
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      attributes: {},
    }),
  );
  const writeChunks = (seed) => {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 4; j++) {
        mkdirSync(path.join(array, `c/${i}`), { recursive: true });
        if (seed === 0 || (i + j) % 3 === 0) writeFileSync(path.join(array, `c/${i}/${j}`), chunk(i * 4 + j, seed));
      }
    }
  };
  writeChunks(0);
  writeFileSync(path.join(dir, "README.md"), "warm-up\n");

  process.chdir(dir);
  Object.assign(process.env, { TDV_AUTHOR_NAME: "warm", TDV_AUTHOR_EMAIL: "warm@localhost", TDV_FSYNC: "0" });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true; // the commands' output is not wanted here
  const tdv = async (...args) => {
    await exports.main(["node", "tdv", ...args]);
    if (process.exitCode) throw new Error(`tdv ${args.join(" ")} exited ${process.exitCode}`);
  };
  await tdv("init", "-q");
  await tdv("status");
  await tdv("add", "-A");
  await tdv("commit", "-q", "-m", "first");
  await tdv("branch", "edit");
  await tdv("switch", "edit");
  writeChunks(1);
  await tdv("status");
  await tdv("diff", "--stat");
  await tdv("commit", "-a", "-q", "-m", "second");
  await tdv("log", "--oneline");
  await tdv("log");
  await tdv("diff", "--stat", "main", "edit");
  await tdv("switch", "main");
  await tdv("checkout", "-q", "HEAD~0");
  await tdv("restore", "-s", "edit", "data.zarr");
  await tdv("status", "--short");
  await tdv("restore", "data.zarr");
  await tdv("switch", "main");
  await tdv("branch");
  await tdv("tag", "v1");
  await tdv("show", "edit");
  await tdv("ls", "edit");
  await tdv("merge", "-m", "merge", "edit");
  await tdv("log", "--graph", "--oneline");
  await tdv("reflog");
  process.stdout.write = write;
  writeFileSync(path.join(bin, "main.cache"), script.createCachedData());
} finally {
  process.chdir(os.tmpdir());
  rmSync(dir, { recursive: true, force: true });
}
