/**
 * A write session's chunk uploads to S3 (the test server): the first new
 * chunk is asked for (HEAD) and sent; once one turned out new, the next are
 * sent at once with If-None-Match: * (no round trip before each); a chunk the
 * remote has is never sent twice in a row (a 412 goes back to asking), and a
 * session rewriting what the remote holds sends no chunk bytes after the first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRemoteWriteSession } from "../../src/index.js";
import { startS3Server, type S3TestServer } from "../helpers/s3-server.mjs";
import { tempDir } from "../helpers/fixture.js";

let s3: S3TestServer;
const saved = { ...process.env };

beforeAll(async () => {
  s3 = await startS3Server();
  Object.assign(process.env, s3.env());
});

afterAll(async () => {
  process.env = saved;
  await s3.stop();
});

const chunk = (n: number) => new Uint8Array(4096).fill(n);

/** the chunk requests since the log was reset: "HEAD", "PUT", "PUT if-none-match", with the status */
function chunkRequests(): string[] {
  return s3.requests.filter((r) => r.key.includes("/chunks/")).map((r) => `${r.method}${r.ifNoneMatch ? " if-none-match" : ""} ${r.status}`);
}

describe("a write session's chunk uploads on S3", () => {
  it("asks for the first chunk, sends the next new ones at once; asks again after one the remote had", async () => {
    const url = `s3://${s3.bucket}/at-once`;
    const cacheDir = await tempDir();
    const a = await openRemoteWriteSession(url, "main", { cacheDir });
    s3.resetLog();
    for (const n of [1, 2, 3]) await a.set(`d.zarr/c/${n}`, chunk(n));
    expect(chunkRequests()).toEqual(["HEAD 404", "PUT 200", "PUT if-none-match 200", "PUT if-none-match 200"]);
    s3.resetLog();
    await a.set("d.zarr/c/9", chunk(2)); // the bytes of chunk 2: the remote has them
    await a.set("d.zarr/c/10", chunk(3)); // and these
    await a.set("d.zarr/c/11", chunk(4)); // new
    expect(chunkRequests()).toEqual(["PUT if-none-match 412", "HEAD 200", "HEAD 404", "PUT 200"]);
    await a.commit("chunks");

    // another session rewriting the same bytes: asks for each, sends none
    const b = await openRemoteWriteSession(url, "main", { cacheDir: await tempDir() });
    s3.resetLog();
    for (const n of [1, 2, 3, 4]) await b.set(`e.zarr/c/${n}`, chunk(n));
    expect(chunkRequests()).toEqual(["HEAD 200", "HEAD 200", "HEAD 200", "HEAD 200"]);
    await b.close();
  });
});
