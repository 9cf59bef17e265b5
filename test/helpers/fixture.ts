/**
 * Test helpers for the Zarr fixtures in `fixtures/` (see fixtures/README.md).
 *
 * - `makeFixture("v2/weather.zarr")` copies a fixture into a fresh temp dir so a
 *   test can modify it freely; the committed fixtures are never touched.
 * - `tempDir()` makes an empty temp dir.
 * - `listFiles(dir)` snapshots a tree as relative path -> bytes, for
 *   byte-for-byte comparisons (e.g. checkout == what was committed).
 *
 * Temp dirs are made under os.tmpdir() with the prefix "tdv-test-" and removed
 * after the test file has run (vitest `afterAll`). Set TDV_KEEP_TEST_DIRS=1 to
 * keep them for debugging.
 */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

/** Absolute path of the repository's `fixtures/` folder. */
export const FIXTURES_DIR = fileURLToPath(new URL("../../fixtures/", import.meta.url));

const TEMP_PREFIX = "tdv-test-";
const created = new Set<string>();

try {
  // Registered when a test file imports this module (collection time), so it
  // runs once that file's tests are done. Outside a vitest run afterAll throws:
  // then temp dirs are simply left behind.
  afterAll(async () => {
    if (process.env.TDV_KEEP_TEST_DIRS === "1") return;
    const dirs = [...created];
    created.clear();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true, maxRetries: 3 })));
  });
} catch {
  // not collecting a vitest suite: no automatic cleanup
}

/** A fresh, empty directory under os.tmpdir() (real path, symlinks resolved). */
export async function tempDir(): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX)));
  created.add(dir);
  return dir;
}

/**
 * Copy `fixtures/<name>` into a fresh temp dir and return the path of the copy,
 * which keeps the fixture's base name: `makeFixture("v2/weather.zarr")` returns
 * `<tmp>/weather.zarr`, `makeFixture("v3")` returns `<tmp>/v3` (a folder holding
 * ocean.zarr, sharded.zarr, consolidated.zarr). `name` uses "/" separators and
 * must stay inside `fixtures/`.
 */
export async function makeFixture(name: string): Promise<string> {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..") || path.isAbsolute(name) || name.includes("\\")) {
    throw new Error(`makeFixture: invalid fixture name ${JSON.stringify(name)}`);
  }
  const source = path.join(FIXTURES_DIR, ...parts);
  const stat = await fs.stat(source).catch(() => undefined);
  if (!stat) throw new Error(`makeFixture: no fixture ${JSON.stringify(name)} in ${FIXTURES_DIR}`);
  const dest = path.join(await tempDir(), parts[parts.length - 1]!);
  await copyTree(source, dest);
  return dest;
}

async function copyTree(source: string, dest: string): Promise<void> {
  const stat = await fs.lstat(source);
  if (stat.isDirectory()) {
    await fs.mkdir(dest, { recursive: true });
    const entries = await fs.readdir(source);
    entries.sort();
    for (const entry of entries) await copyTree(path.join(source, entry), path.join(dest, entry));
  } else if (stat.isFile()) {
    await fs.copyFile(source, dest);
  }
  // anything else (symlinks, sockets) is not part of a fixture: skipped
}

/**
 * Every regular file under `dir`, recursively, as relative posix path -> bytes,
 * in sorted path order. A `.tdv` entry (folder or pointer file) directly in
 * `dir` is skipped; symlinks and other non-regular files are skipped too.
 */
export async function listFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await fs.readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (rel === "" && entry.name === ".tdv") continue;
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(childAbs, childRel);
      else if (entry.isFile()) out.set(childRel, await fs.readFile(childAbs));
    }
  };
  await walk(dir, "");
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
