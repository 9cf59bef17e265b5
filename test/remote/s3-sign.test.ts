/**
 * The S3 backend signs with aws4fetch's canonical request and node:crypto's
 * hashes (NodeCryptoSigner): every signature must be aws4fetch's own, byte
 * for byte, whatever the request (keys that need encoding, queries, the
 * conditional headers, a session token, a new day, another region).
 */
import { AwsV4Signer } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { NodeCryptoSigner } from "../../src/remote/s3.js";

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

describe("NodeCryptoSigner", () => {
  it.each(["20261204T130000Z", "20270101T000001Z"])("signs every request as aws4fetch does (at %s)", async (datetime) => {
    const keys = new Map<string, Buffer>();
    for (const r of requests) {
      const theirs = await new AwsV4Signer({ ...r, datetime }).sign();
      const ours = await new NodeCryptoSigner({ ...r, datetime }, keys).sign();
      const auth = ours.headers.get("authorization");
      expect(auth, `${r.method} ${r.url}`).toBe(theirs.headers.get("authorization"));
      expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
      expect([...ours.headers]).toEqual([...theirs.headers]);
      expect(ours.url.toString()).toBe(theirs.url.toString());
    }
    expect(keys.size).toBe(2); // one signing key per day and region, kept
  });

  it("signs differently when anything signed differs", async () => {
    const r = requests[2] as Init;
    const datetime = "20261204T130000Z";
    const sig = async (x: Init) => (await new NodeCryptoSigner({ ...x, datetime }).sign()).headers.get("authorization");
    const a = await sig(r);
    expect(await sig({ ...r, secretAccessKey: "other" })).not.toBe(a);
    expect(await sig({ ...r, url: r.url.replace("main", "mainx") })).not.toBe(a);
    expect(await sig({ ...r, headers: { ...(r.headers as Record<string, string>), "if-match": '"x"' } })).not.toBe(a);
  });
});
