/**
 * The S3 backend signs with its own SigV4 (signS3: aws4fetch's canonical
 * request, node:crypto's hashes, no web Headers): every signature and every
 * header sent must be aws4fetch's own, byte for byte, whatever the request
 * (keys that need encoding, queries, the conditional headers, a session
 * token, a new day, another region).
 */
import { AwsV4Signer } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { signS3 } from "../../src/remote/sigv4.js";

type Init = ConstructorParameters<typeof AwsV4Signer>[0];

const base = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", service: "s3", region: "us-east-1" };
const requests: Init[] = [
  { ...base, method: "GET", url: "http://127.0.0.1:9000/bucket/prefix/tdv.json", headers: { "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" } },
  {
    ...base,
    method: "PUT",
    url: "https://bucket.s3.eu-west-3.amazonaws.com/p/chunks/ab/cdef0123",
    region: "eu-west-3",
    headers: { "content-type": "application/octet-stream", "x-amz-content-sha256": "ab".repeat(32) },
    body: new Uint8Array([1, 2, 3]),
  },
  { ...base, method: "PUT", url: "http://localhost:4566/b/git/refs/heads/main", headers: { "if-match": '"9a0364b9e99bb480dd25e1f0284c8555"', "x-amz-content-sha256": "cd".repeat(32) }, body: new Uint8Array(5) },
  { ...base, method: "PUT", url: "http://localhost:4566/b/git/refs/tags/v1", headers: { "if-none-match": "*", "x-amz-content-sha256": "ef".repeat(32) }, sessionToken: "FwoGZXIvYXdzEJr//////////wEaDK+token=" },
  { ...base, method: "GET", url: "http://127.0.0.1:9000/b/?list-type=2&prefix=p%2Fgit%2Frefs%2F&max-keys=1000&continuation-token=1%2Fa%2Bb%3D%3D" },
  { ...base, method: "POST", url: "http://127.0.0.1:9000/b/p/big?uploads=", headers: { "content-type": "application/octet-stream" } },
  { ...base, method: "DELETE", url: "http://127.0.0.1:9000/b/p%20q/odd%2Bname%21%27%28%29%2A%7E/k%C3%A9y?uploadId=x%2By" },
  { ...base, method: "HEAD", url: "http://127.0.0.1:9000/b/p/locks/push-1.json", headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
];

/** signS3 on aws4fetch's input. */
const ours = (r: Init, datetime: string, keys = new Map<string, Buffer>()) =>
  signS3(
    {
      method: r.method as string,
      url: new URL(r.url as string),
      headers: (r.headers ?? {}) as Record<string, string>,
      accessKeyId: r.accessKeyId,
      secretAccessKey: r.secretAccessKey,
      ...(r.sessionToken ? { sessionToken: r.sessionToken } : {}),
      region: r.region as string,
      datetime,
    },
    keys,
  );

describe("signS3", () => {
  it.each(["20261204T130000Z", "20270101T000001Z"])("signs every request as aws4fetch does (at %s)", async (datetime) => {
    const keys = new Map<string, Buffer>();
    for (const r of requests) {
      const theirs = await new AwsV4Signer({ ...r, datetime }).sign();
      const mine = ours(r, datetime, keys);
      expect(mine.authorization, `${r.method} ${r.url}`).toBe(theirs.headers.get("authorization"));
      expect(mine.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
      // the same headers sent (a web Headers lists them by name)
      expect(Object.entries(mine).sort(([a], [b]) => (a < b ? -1 : 1))).toEqual([...theirs.headers]);
    }
    expect(keys.size).toBe(2); // one signing key per day and region, kept
  });

  it("signs differently when anything signed differs", async () => {
    const r = requests[2] as Init;
    const datetime = "20261204T130000Z";
    const sig = (x: Init) => ours(x, datetime).authorization;
    const a = sig(r);
    expect(sig({ ...r, secretAccessKey: "other" })).not.toBe(a);
    expect(sig({ ...r, url: r.url.replace("main", "mainx") })).not.toBe(a);
    expect(sig({ ...r, headers: { ...(r.headers as Record<string, string>), "if-match": '"x"' } })).not.toBe(a);
    expect(sig({ ...r, region: "eu-west-3" })).not.toBe(a);
  });
});
