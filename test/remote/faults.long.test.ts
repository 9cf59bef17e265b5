/**
 * What goes wrong, and what the user is told: damaged objects on the remote
 * (detected, named, nothing half-written referenced), a server failing then
 * recovering, a remote written by a newer tdv, and the usual set-up mistakes.
 */
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetch, isTdvError, openBackend, push, Repository, addRemote } from "../../src/index.js";
import { tdv, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { startS3Server, type S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, committedFixture, s3Setup } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => s3?.stop());

/** A committed fixture pushed to `prefix`; returns the working copy and one of its chunk ids. */
async function pushed(prefix: string): Promise<{ src: string; chunk: string }> {
  const src = await committedFixture("v2/weather.zarr");
  const repo = await Repository.open({ durability: "none", dir: src });
  await push(repo, { remote: `s3://${s3.bucket}/${prefix}`, backend: { env } });
  const fan = (await fs.readdir(path.join(src, ".tdv", "chunks"))).sort()[0]!;
  const rest = (await fs.readdir(path.join(src, ".tdv", "chunks", fan))).sort()[0]!;
  return { src, chunk: fan + rest };
}

async function flipByte(file: string): Promise<void> {
  await fs.chmod(file, 0o644).catch(() => {});
  const b = await fs.readFile(file);
  b[Math.floor(b.length / 2)] ^= 0x40;
  await fs.writeFile(file, b);
}

describe("damaged objects on the remote", () => {
  it("a flipped byte in a chunk fails the clone, names the chunk, and leaves nothing behind", async () => {
    const { chunk } = await pushed("bitrot");
    await flipByte(s3.objectPath(`bitrot/chunks/${chunk.slice(0, 2)}/${chunk.slice(2)}`));
    const parent = await tempDir();
    const r = await tdv(parent, ["clone", `s3://${s3.bucket}/bitrot`, "copy"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`chunk ${chunk} on remote origin \\(s3://${s3.bucket}/bitrot\\) is damaged: its bytes hash to [0-9a-f]{64}`));
    await expect(fs.stat(path.join(parent, "copy"))).rejects.toThrow();

    // fetch into an existing repository: no ref moves, no commit or tree is stored
    const dir = await tempDir();
    const { repo } = await Repository.init({ durability: "none", dir });
    await addRemote(repo, { name: "origin", url: `s3://${s3.bucket}/bitrot` });
    const err = await fetch(repo, { backend: { env } }).catch((e) => e);
    expect(isTdvError(err, "RemoteObjectCorruptError")).toBe(true);
    expect(await repo.refs.list("refs/")).toEqual(new Map());
    const remoteMain = (await (await openBackend(`s3://${s3.bucket}/bitrot`, { env })).get("git/refs/heads/main"))!;
    const commitOid = new TextDecoder().decode(remoteMain.bytes).trim();
    expect(await repo.git.typeOf(commitOid as never)).toBeNull();
  });

  it("a damaged Git object is refused by its SHA-1", async () => {
    const { src } = await pushed("gitrot");
    const repo = await Repository.open({ durability: "none", dir: src });
    const commitOid = (await repo.refs.head()).oid!;
    const tree = (await repo.git.readCommit(commitOid)).tree;
    await flipByte(s3.objectPath(`gitrot/git/objects/${tree.slice(0, 2)}/${tree.slice(2)}`));
    const r = await tdv(await tempDir(), ["clone", `s3://${s3.bucket}/gitrot`, "copy"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`object ${tree} is corrupt`));
  });
});

describe("a server that fails, then recovers", () => {
  it("push retries 500s and SlowDown and completes; clone retries dropped connections", async () => {
    const src = await committedFixture("v2/weather.zarr");
    s3.resetLog();
    s3.fault({ method: "PUT", match: /\/chunks\//, status: 500, times: 3 });
    s3.fault({ method: "PUT", match: /\/git\/objects\//, status: 503, code: "SlowDown", times: 2 });
    s3.fault({ method: "PUT", match: /\/git\/refs\//, status: 500, times: 1 });
    await tdvOk(src, ["push", `s3://${s3.bucket}/flaky`], { env });
    expect(s3.requests.filter((r) => r.fault)).toHaveLength(6);
    s3.fault({ method: "GET", match: /\/chunks\//, kind: "reset", times: 2 });
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", `s3://${s3.bucket}/flaky`, "copy"], { env });
    expect(await listFiles(path.join(parent, "copy"))).toEqual(await listFiles(src));
    expect(s3.state.faults.every((f) => f.times === 0)).toBe(true);
  });
});

describe("errors that name the cause and the fix", () => {
  it("a remote written by a newer tdv is refused", async () => {
    await pushed("future");
    const b = await openBackend(`s3://${s3.bucket}/future`, { env });
    await b.put("tdv.json", new TextEncoder().encode('{"formatVersion": 99}'));
    const r = await tdv(await tempDir(), ["clone", `s3://${s3.bucket}/future`], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/remote s3:\/\/.*future has format version 99; this tdv understands up to 1/);
    expect(r.stderr).toMatch(/hint: upgrade tdv/);
  });

  it("unknown remote, no credentials, access denied, missing bucket, network down", async () => {
    const src = await committedFixture("v2/single.zarr");
    const unknown = await tdv(src, ["push", "upstream"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no remote named 'upstream' \(this repository has no remotes\)/);
    expect(unknown.stderr).toMatch(/hint: add it with `tdv remote add upstream URL`/);

    await tdvOk(src, ["remote", "add", "origin", `s3://${s3.bucket}/errors`]);
    const noCreds = await tdv(src, ["push"], { env: { ...env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined } });
    expect(noCreds.stderr).toMatch(/error: no credentials for s3:\/\//);
    expect(noCreds.stderr).toMatch(/hint: set AWS_ACCESS_KEY_ID/);

    const denied = await tdv(src, ["push"], { env: { ...env, AWS_ACCESS_KEY_ID: "NOT-A-KEY" } });
    expect(denied.stderr).toMatch(/error: access denied to s3:\/\/.*InvalidAccessKeyId/);

    const bucket = await tdv(src, ["push", "s3://no-such-bucket/x"], { env });
    expect(bucket.stderr).toMatch(/error: bucket 'no-such-bucket' does not exist/);

    const down = await tdv(src, ["push"], { env: { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`, TDV_REMOTE_MAX_ATTEMPTS: "2" } });
    expect(down.stderr).toMatch(/error: cannot reach s3:\/\/.* after 2 attempts: ECONNREFUSED/);
    for (const r of [noCreds, denied, bucket, down]) expect(r.code).toBe(1);
  });

  it("works with a server that serves unquoted ETags and wants them back verbatim", async () => {
    const s3u = await startS3Server({ etagStyle: "unquoted" });
    try {
      const e = { ...env, ...s3u.env() };
      const src = await committedFixture("v2/single.zarr");
      await tdvOk(src, ["remote", "add", "origin", `s3://${s3u.bucket}/unquoted`]);
      await tdvOk(src, ["push"], { env: e });
      await fs.writeFile(path.join(src, "NOTES.md"), "more\n");
      await commitAll(src, "notes");
      s3u.resetLog();
      await tdvOk(src, ["push"], { env: e }); // moves the ref with If-Match: <unquoted etag>
      const refPut = s3u.requests.find((r) => r.method === "PUT" && r.key.endsWith("git/refs/heads/main"))!;
      expect(refPut.status).toBe(200);
    } finally {
      await s3u.stop();
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
