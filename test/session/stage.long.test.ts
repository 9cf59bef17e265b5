/**
 * Staged write sessions end to end (long lane), on the S3 test server: four
 * workers, each a zarr-python process writing its slab of a v2 array into a
 * folder of its own, `tdv stage` each (three by URL outside any repository,
 * one by remote name inside one), one `tdv commit --session`, and a clone
 * reads numpy's values. A stage killed before its change set is written
 * leaves nothing on the branch, and `session drop` + remote gc removes what
 * it uploaded. A conflict with a commit that landed meanwhile is listed and
 * the session kept. Hostile input (a symlink out of the folder, `..` in a
 * session id) is refused before anything is written.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, BIN, tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { hasZarrPython, python, pythonJson } from "../helpers/zarr-python.js";
import { s3Setup } from "../remote/dataset.js";

const WORKERS = 4;
const ROWS = 4; // rows per worker: one chunk each
let s3: S3TestServer;
let env: Record<string, string>;
let url: string;
let seed: string;
let outside: string;

const sh = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A worker's folder: the store's metadata copied from the seed, then its slab written by zarr-python. */
async function worker(name: string, rows: [number, number], value: string): Promise<string> {
  const dir = path.join(outside, name);
  await fs.mkdir(path.join(dir, "data.zarr", "t"), { recursive: true });
  for (const f of [".zgroup", ".zattrs"]) await fs.copyFile(path.join(seed, "data.zarr", f), path.join(dir, "data.zarr", f)).catch(() => {});
  await fs.copyFile(path.join(seed, "data.zarr", "t", ".zarray"), path.join(dir, "data.zarr", "t", ".zarray"));
  await python(dir, `z = zarr.open('data.zarr/t', mode='r+')\nz[${rows[0]}:${rows[1]}] = ${value}`);
  return dir;
}

async function remoteKeyExists(key: string): Promise<boolean> {
  return fs.access(s3.objectPath(key)).then(
    () => true,
    () => false,
  );
}

describe.skipIf(!hasZarrPython())("tdv stage and tdv commit --session", () => {
  beforeAll(async () => {
    ({ s3, env } = await s3Setup());
    url = `s3://${s3.bucket}/stage`;
    seed = await tempDir();
    outside = await tempDir();
    await tdvOk(seed, ["init"]);
    await python(seed, `g = zarr.open_group('data.zarr', mode='w')\nz = g.zeros('t', shape=(${WORKERS * ROWS}, 6), chunks=(${ROWS}, 6), dtype='i4')\nz[:] = -1`);
    await tdvOk(seed, ["add", "-A"]);
    await tdvOk(seed, ["commit", "-m", "seed"]);
    await tdvOk(seed, ["remote", "add", "origin", url]);
    await tdvOk(seed, ["push", "-q", "origin", "main"], { env });
  }, 120_000);
  afterAll(async () => {
    await s3?.stop();
  });

  it("four zarr-python workers stage their slabs; one commit gathers them; a clone reads numpy's values", async () => {
    const dirs = await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(`w${i}`, [i * ROWS, (i + 1) * ROWS], `np.arange(${ROWS * 6}, dtype='i4').reshape(${ROWS}, 6) + ${100 * (i + 1)}`)));
    const staged = await Promise.all(
      dirs.map((d, i) =>
        i === 0
          ? tdvJson<{ files: { chunks: number; metadata: number }; uploaded: { objects: number }; worker: string }>(seed, ["stage", "--remote", "origin", "--session", "run-1", "--worker", "w0", "--json", d], { env })
          : tdvJson<{ files: { chunks: number; metadata: number }; uploaded: { objects: number }; worker: string }>(outside, ["stage", "--remote", url, "--session", "run-1", "--worker", `w${i}`, "--json", d], { env }),
      ),
    );
    for (const s of staged) expect(s.files).toMatchObject({ chunks: 1 });
    // the metadata documents are the seed's: already on the remote, never uploaded again
    for (const s of staged) expect(s.uploaded.objects).toBe(1);

    const listed = await tdvJson<{ sessions: { id: string; changeSets: number; workers: string[]; base: string }[] }>(outside, ["session", "list", "--remote", url, "--json"], { env });
    expect(listed.sessions).toHaveLength(1);
    expect(listed.sessions[0]).toMatchObject({ id: "run-1", changeSets: WORKERS, workers: ["w0", "w1", "w2", "w3"] });
    const tipBefore = (await tdvOk(outside, ["ls-remote", url, "--heads"], { env })).stdout.split("\t")[0];
    expect(listed.sessions[0]?.base).toBe(tipBefore);

    const committed = await tdvJson<{ commit: string; parent: string; changeSets: number }>(outside, ["commit", "--remote", url, "--session", "run-1", "-m", "four workers", "--json"], { env });
    expect(committed).toMatchObject({ parent: tipBefore, changeSets: WORKERS });
    expect((await tdvOk(outside, ["ls-remote", url, "--heads"], { env })).stdout).toContain(`${committed.commit}\trefs/heads/main`);
    expect((await tdvJson<{ sessions: unknown[] }>(outside, ["session", "list", "--remote", url, "--json"], { env })).sessions).toEqual([]);

    const clone = path.join(await tempDir(), "c");
    await tdvOk(outside, ["clone", "-q", url, clone], { env });
    const ok = await pythonJson<{ equal: boolean }>(
      clone,
      `want = np.concatenate([np.arange(${ROWS * 6}, dtype='i4').reshape(${ROWS}, 6) + 100 * (i + 1) for i in range(${WORKERS})])\nprint(json.dumps({'equal': bool(np.array_equal(zarr.open('data.zarr/t')[:], want))}))`,
    );
    expect(ok.equal).toBe(true);

    // a session that does not exist, or is empty, is refused with a non-zero exit
    const none = await tdv(outside, ["commit", "--remote", url, "--session", "run-1", "-m", "again"], { env });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/no staged session 'run-1'/);
  }, 240_000);

  it("a commit that conflicts with what landed meanwhile lists the conflict and keeps the session", async () => {
    const a = await worker("ca", [0, ROWS], "7");
    const b = await worker("cb", [0, ROWS], "9");
    await tdvOk(outside, ["stage", "-q", "--remote", url, "--session", "late", a], { env });
    await tdvOk(outside, ["stage", "-q", "--remote", url, "--session", "early", b], { env });
    await tdvOk(outside, ["commit", "-q", "--remote", url, "--session", "early", "-m", "early"], { env });
    const r = await tdv(outside, ["commit", "--remote", url, "--session", "late", "-m", "late"], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("data.zarr/t/0.0");
    const listed = await tdvJson<{ sessions: { id: string }[] }>(outside, ["session", "list", "--remote", url, "--json"], { env });
    expect(listed.sessions.map((s) => s.id)).toEqual(["late"]);
    await tdvOk(outside, ["session", "drop", "--remote", url, "late"], { env });
  }, 120_000);

  it("a killed stage leaves nothing on the branch; session drop + remote gc remove what it uploaded", async () => {
    const dir = await worker("killed", [ROWS, 2 * ROWS], "12345");
    const chunk = sh(await fs.readFile(path.join(dir, "data.zarr", "t", "1.0")));
    const tip = (await tdvOk(outside, ["ls-remote", url, "--heads"], { env })).stdout;
    // the stage is killed by the server's hook when it writes its change set: after every upload, before the record
    const child = spawn(process.execPath, [BIN, "stage", "-q", "--remote", url, "--session", "killed", dir], { cwd: outside, env: baseEnv(env), stdio: "ignore" });
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    s3.state.beforeConditionalPut = async (key) => {
      if (!key.includes("sessions/killed/sets/")) return;
      child.kill("SIGKILL");
      await exited;
      throw new Error("the stage was killed");
    };
    try {
      expect(await exited).toBeNull(); // killed by a signal
    } finally {
      s3.state.beforeConditionalPut = undefined;
    }
    expect(await remoteKeyExists(`stage/chunks/${chunk.slice(0, 2)}/${chunk.slice(2)}`)).toBe(true);
    expect((await tdvOk(outside, ["ls-remote", url, "--heads"], { env })).stdout).toBe(tip);
    const listed = await tdvJson<{ sessions: { id: string; changeSets: number }[] }>(outside, ["session", "list", "--remote", url, "--json"], { env });
    expect(listed.sessions).toEqual([expect.objectContaining({ id: "killed", changeSets: 0 })]);
    // a session with no change set cannot be committed
    const empty = await tdv(outside, ["commit", "--remote", url, "--session", "killed", "-m", "x"], { env });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/no change sets/);

    await tdvOk(outside, ["session", "drop", "--remote", url, "killed"], { env });
    // the killed process's announcement lapses after the (shortened) lease; gc then runs
    const gc = await tdvJson<{ removedKeys: string[] }>(seed, ["remote", "gc", url, "--prune=now", "--json"], { env: { ...env, TDV_REMOTE_LEASE_MS: "1000", TDV_WRITERS_WAIT_MS: "30000" } });
    expect(gc.removedKeys).toContain(`chunks/${chunk.slice(0, 2)}/${chunk.slice(2)}`);
    expect(await remoteKeyExists(`stage/chunks/${chunk.slice(0, 2)}/${chunk.slice(2)}`)).toBe(false);
    // what the branch needs is all there
    await tdvOk(seed, ["remote", "fsck", url], { env });
  }, 120_000);

  it("refuses a symlink out of the folder and '..' in a session id, writing nothing", async () => {
    const dir = await worker("hostile", [0, ROWS], "1");
    await fs.symlink("/etc/hostname", path.join(dir, "data.zarr", "escape"));
    const link = await tdv(outside, ["stage", "--remote", url, "--session", "hostile", dir], { env });
    expect(link.code).not.toBe(0);
    expect(link.stderr).toMatch(/outside the staged folder/);
    const dots = await tdv(outside, ["stage", "--remote", url, "--session", "../x", dir], { env });
    expect(dots.code).toBe(2);
    expect(dots.stderr).toMatch(/not a valid session id/);
    const listed = await tdvJson<{ sessions: unknown[] }>(outside, ["session", "list", "--remote", url, "--json"], { env });
    expect(listed.sessions).toEqual([]);
  }, 60_000);
});
