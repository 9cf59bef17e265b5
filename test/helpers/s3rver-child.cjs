// Runs s3rver (a fake S3 server) on 127.0.0.1 for the tests and the benchmark.
// Started by s3-server.mjs with NODE_OPTIONS=--openssl-legacy-provider (s3rver's
// ListObjectsV2 continuation tokens use DES). Prints {"port": N} when ready and
// exits when its parent closes stdin.
"use strict";
const S3rver = require("s3rver");

const [directory, bucketsJson] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: JSON.parse(bucketsJson).map((name) => ({ name })),
});
server.run().then(
  (addr) => process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`),
  (err) => {
    process.stderr.write(`s3rver failed to start: ${err?.stack}\n`);
    process.exit(1);
  },
);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
