/**
 * Interrupted pushes, end to end with the built CLI: a push killed with
 * SIGKILL midway leaves its uploaded chunks on the remote, and the next push
 * does not send them again (counted in the S3 test server's request log, and
 * by inode on a folder remote); the temp files of the killed push are
 * removed. Also: the repair of a damaged S3 remote with `push --verify`,
 * `push origin :BRANCH`, and `--jobs` checked before anything runs.
 */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, BIN, tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { until } from "../helpers/time.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, s3Setup, writeArray } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => s3?.stop());

interface PushJson {
  uploaded: { objects: number; bytes: number; chunks: number };
  found: { objects: number; bytes: number };
  checked: number;
  temporariesRemoved: number;
  repaired: { objects: number; missing: string[]; damaged: string[] };
}

/** Start `tdv push ...` and SIGKILL it once `ready()` holds (polled); resolves when it has exited. */
async function killMidway(cwd: string, args: string[], extraEnv: Record<string, string>, ready: () => Promise<boolean> | boolean): Promise<{ killed: boolean }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(extraEnv), stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    if (await ready()) {
      child.kill("SIGKILL");
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const code = await exited;
  return { killed: code === null };
}

const chunkPuts = (since = 0) => s3.requests.slice(since).filter((r) => r.method === "PUT" && r.key.includes("/chunks/") && r.status === 200);

describe("resumable push", () => {
  it("S3: a push killed after part of its chunks; the next one sends none of them again and asks little", async () => {
    const src = await tempDir();
    await writeArray(src, "data.zarr", { chunks: 800, chunkBytes: 4000 });
    await commitAll(src);
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/resume`], { env });
    s3.resetLog();
    const { killed } = await killMidway(src, ["push", "-q", "--jobs", "2"], env, () => chunkPuts().length >= 300);
    expect(killed).toBe(true);
    const first = new Set(chunkPuts().map((r) => r.key));
    const firstBytes = chunkPuts().reduce((s, r) => s + r.bytesIn, 0);
    expect(first.size).toBeGreaterThanOrEqual(300);
    expect(first.size).toBeLessThan(800);
    expect(s3.requests.some((r) => r.method === "PUT" && r.key.includes("/git/refs/"))).toBe(false); // no ref moved

    const mark = s3.requests.length;
    const second = await tdvJson<PushJson>(src, ["push", "--json"], { env });
    const again = chunkPuts(mark).filter((r) => first.has(r.key));
    const resent = again.reduce((s, r) => s + r.bytesIn, 0);
    // what the killed push stored is found and skipped; at most the two requests in flight at the kill are sent again
    expect(again.length).toBeLessThanOrEqual(2);
    expect(resent).toBeLessThan(0.01 * firstBytes);
    expect(second.found.objects).toBeGreaterThanOrEqual(first.size - 2);
    expect(second.uploaded.chunks + second.found.objects).toBeGreaterThanOrEqual(800);
    // what push asks about objects (listing its refs, info/refs, the announcements under locks/ and the
    // server's conditional-writes check are not that)
    const asked = s3.requests
      .slice(mark)
      .filter((r) => (r.method === "HEAD" && !r.key.endsWith("info/refs") && !r.key.endsWith("git/conditional-writes")) || (r.query.includes("list-type") && !r.query.includes("git%2Frefs") && !r.query.includes("locks%2F")));
    expect(asked.length).toBeLessThan(50); // a few listing pages and HEADs, not one HEAD per chunk
    expect(second.checked).toBe(asked.length);

    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", `s3://${s3.bucket}/resume`, "copy"], { env });
    expect((await tdvOk(path.join(parent, "copy"), ["status", "--json"])).stdout).toMatch(/"clean": ?true/);
  });

  it("folder remote: chunks stored by the killed push are not written again, and its temp files are removed", async () => {
    const src = await tempDir();
    await writeArray(src, "data.zarr", { chunks: 1500, chunkBytes: 1000 });
    await commitAll(src);
    const remoteDir = path.join(await tempDir(), "remote.tdv");
    await tdvOk(src, ["remote", "add", "origin", remoteDir]);
    const chunkFiles = async () => {
      const out = new Map<string, number>();
      for (const fan of await fs.readdir(path.join(remoteDir, "chunks")).catch(() => [] as string[])) {
        for (const f of await fs.readdir(path.join(remoteDir, "chunks", fan))) out.set(`${fan}/${f}`, (await fs.stat(path.join(remoteDir, "chunks", fan, f))).ino);
      }
      return out;
    };
    let polls = 0;
    const { killed } = await killMidway(src, ["push", "-q", "--jobs", "1"], { TDV_FSYNC: "1" }, async () => {
      // count the fan-out folders that exist, cheaply, most polls; the files now and then
      if (++polls % 4 !== 0) return false;
      return (await chunkFiles()).size >= 300;
    });
    expect(killed).toBe(true);
    const before = await chunkFiles();
    expect(before.size).toBeLessThan(1500);
    // a temp file the killed push might have left, named as its own are (its pid is gone now)
    const tmp = path.join(remoteDir, ".tdv-tmp");
    await fs.mkdir(tmp, { recursive: true });

    const second = await tdvJson<PushJson>(src, ["push", "--json"]);
    expect(second.found.objects).toBeGreaterThanOrEqual(before.size);
    const after = await chunkFiles();
    expect(after.size).toBe(1500);
    for (const [name, ino] of before) expect(after.get(name), name).toBe(ino); // none rewritten
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

describe("an interrupted push (Ctrl-C)", () => {
  it("stops cooperatively: exit 130, no ref moved, no temp file left on the folder remote; the next push completes", async () => {
    const src = await tempDir();
    await writeArray(src, "data.zarr", { chunks: 1500, chunkBytes: 1000 });
    await commitAll(src);
    const remoteDir = path.join(await tempDir(), "remote.tdv");
    await tdvOk(src, ["remote", "add", "origin", remoteDir]);
    const child = spawn(process.execPath, [BIN, "push", "--jobs", "4"], { cwd: src, env: baseEnv({ TDV_FSYNC: "1" }), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const fans = async () => (await fs.readdir(path.join(remoteDir, "chunks")).catch(() => [] as string[])).length;
    let ended = false;
    void exited.then(() => (ended = true));
    await until(async () => ended || (await fans()) >= 64, "the push to fill 64 chunk folders", { detail: () => stderr });
    expect(ended, `the push ended before it was interrupted: ${stderr}`).toBe(false);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted: stopping the push/);
    expect(stderr).toMatch(/error: interrupted by SIGINT/);
    await expect(fs.stat(path.join(remoteDir, "git/refs/heads/main"))).rejects.toThrow();
    expect(await fs.readdir(path.join(remoteDir, ".tdv-tmp"))).toEqual([]);
    const again = await tdvJson<PushJson>(src, ["push", "--json"]);
    expect(again.found.objects).toBeGreaterThan(0);
    await fs.stat(path.join(remoteDir, "git/refs/heads/main"));
  });
});

describe("repair and deletion through the CLI", () => {
  it("S3: clone reports the damaged chunk with the fix, push --verify replaces it, the clone then works", async () => {
    const src = await tempDir();
    await writeArray(src, "data.zarr", { chunks: 20, chunkBytes: 2000 });
    await commitAll(src);
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/repair`], { env });
    await tdvOk(src, ["push", "-q"], { env });
    const key = s3.requests.find((r) => r.method === "PUT" && r.key.includes("repair/chunks/"))!.key.replace(/^\//, "");
    const file = s3.objectPath(key);
    const b = await fs.readFile(file);
    b[0] = (b[0] as number) ^ 0xff;
    await fs.writeFile(file, b);

    const parent = await tempDir();
    const broken = await tdv(parent, ["clone", `s3://${s3.bucket}/repair`, "broken"], { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/error: chunk [0-9a-f]{64} on remote origin \(s3:\/\/.*\/repair\) is damaged/);
    expect(broken.stderr).toMatch(/hint: .*tdv push --verify/);
    expect((await tdvOk(src, ["push"], { env })).stdout).toBe("Everything up-to-date\n");
    const fixed = await tdvJson<PushJson>(src, ["push", "--verify", "--json"], { env });
    expect(fixed.repaired.damaged).toHaveLength(1);
    expect((await tdvOk(src, ["push", "--verify"], { env })).stdout).toMatch(/^verified \d+ objects on the remote: all intact\n/);
    await tdvOk(parent, ["clone", "-q", `s3://${s3.bucket}/repair`, "ok"], { env });
  });

  it("push origin :BRANCH deletes it on S3; the default branch is refused; --jobs out of range is a usage error", async () => {
    const src = await tempDir();
    await writeArray(src, "data.zarr", { chunks: 3, chunkBytes: 100 });
    await commitAll(src);
    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/delete`], { env });
    await tdvOk(src, ["branch", "feature"]);
    await tdvOk(src, ["push", "-q", "origin", "main", "feature"], { env });
    const del = await tdvOk(src, ["push", "origin", ":feature"], { env });
    expect(del.stdout).toMatch(/ - \[deleted\] +feature/);
    expect(s3.requests.some((r) => r.method === "DELETE" && r.key.endsWith("delete/git/refs/heads/feature"))).toBe(true);
    const refused = await tdv(src, ["push", "--delete", "origin", "main"], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to delete main: it is the default branch/);
    const jobs = await tdv(src, ["push", "--jobs", "0"], { env });
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toMatch(/--jobs must be a whole number from 1 to 256 \(got 0\)/);
    const notNumber = await tdv(src, ["fetch", "-j", "many"], { env });
    expect(notNumber.code).toBe(2);
  });
});
