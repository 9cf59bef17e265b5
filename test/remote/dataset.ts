/** Generated datasets and shared set-up for the remote tests. */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { add, commit, Repository } from "../../src/index.js";
import { makeFixture, tempDir } from "../helpers/fixture.js";
import { startS3Server, type S3TestServer } from "../helpers/s3-server.mjs";

// throwaway repositories: no fsync (as the spawned CLI gets from test/helpers/cli.ts). Repositories
// opened here pass `durability: "none"`; a file remote's backend (remote/file.ts) reads this:
process.env.TDV_FSYNC = "0";

/** Commit everything in `dir` through the library (init first if needed): set-up without spawning the CLI. */
export async function commitAll(dir: string, message = "import"): Promise<Repository> {
  const repo = await Repository.open({ durability: "none", dir }).catch(async () => (await Repository.init({ durability: "none", dir })).repo);
  await add(repo, { all: true });
  await commit(repo, { message });
  return repo;
}

/** A fixture copied to a temp dir and committed (library); returns the working dir. */
export async function committedFixture(name: string): Promise<string> {
  const dir = path.dirname(await makeFixture(name));
  await commitAll(dir);
  return dir;
}

/**
 * A Zarr v3 array of `chunks` uncompressed chunks of `chunkBytes` random
 * bytes each, at `dir/name` (1-D uint8, "bytes" codec): every chunk is
 * distinct, so byte counts of a transfer are exact.
 */
export async function writeArray(dir: string, name: string, { chunks, chunkBytes }: { chunks: number; chunkBytes: number }): Promise<string> {
  const root = path.join(dir, name);
  await fs.mkdir(path.join(root, "c"), { recursive: true });
  const meta = {
    zarr_format: 3,
    node_type: "array",
    shape: [chunks * chunkBytes],
    data_type: "uint8",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [chunkBytes] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "bytes" }],
  };
  await fs.writeFile(path.join(root, "zarr.json"), JSON.stringify(meta, null, 2));
  for (let i = 0; i < chunks; i++) await fs.writeFile(path.join(root, "c", String(i)), randomBytes(chunkBytes));
  return root;
}

/** Overwrite chunk `i` of an array written by writeArray with new random bytes. */
export async function rewriteChunk(arrayDir: string, i: number): Promise<void> {
  const file = path.join(arrayDir, "c", String(i));
  const size = (await fs.stat(file)).size;
  await fs.writeFile(file, randomBytes(size));
}

/** An S3 test server and the environment a spawned tdv needs to reach it (HOME isolated from ~/.aws). */
export async function s3Setup(opts?: Parameters<typeof startS3Server>[0]): Promise<{ s3: S3TestServer; env: Record<string, string> }> {
  const s3 = await startS3Server(opts);
  const home = await tempDir();
  return { s3, env: { ...s3.env(), HOME: home, TDV_REMOTE_RETRY_MS: "5" } };
}

/** Count of chunk objects in a repository (.tdv/chunks/ab/...). */
export async function countChunkObjects(workdir: string): Promise<number> {
  const dir = path.join(workdir, ".tdv", "chunks");
  let n = 0;
  for (const fan of await fs.readdir(dir).catch(() => [] as string[])) {
    n += (await fs.readdir(path.join(dir, fan))).filter((f) => !f.includes(".tmp-")).length;
  }
  return n;
}
