#!/usr/bin/env node
/**
 * Push and clone throughput against a local S3-compatible server (the test
 * suite's: s3rver behind a proxy with conditional writes, on 127.0.0.1),
 * compared with plain parallel PUTs and GETs of the same bytes to the same
 * server (16 in flight, SigV4 with an unsigned payload: the floor).
 *
 *   npm run build && node bench/remote.mjs [--chunks 1000] [--size 100000] [--rounds 2] [--json]
 *
 * Prints MB/s for each (best of the rounds) and the ratio tdv / plain. The
 * server is one Node process on this machine: absolute figures say more
 * about it than about S3; the ratio is the figure to watch.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AwsClient } from "aws4fetch";
import { startS3Server } from "../test/helpers/s3-server.mjs";

const { values } = parseArgs({
  options: {
    chunks: { type: "string", default: "1000" },
    size: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(values.chunks);
const SIZE = Number(values.size);
const CONC = Number(values.concurrency);
const ROUNDS = Math.max(1, Number(values.rounds));
process.env.TDV_FSYNC ??= "0"; // local set-up and the clone's writes: measure the network path, not the disk

const lib = await import("../dist/src/index.js");
const work = mkdtempSync(path.join(os.tmpdir(), "tdv-bench-remote-"));
const s3 = await startS3Server({ buckets: ["bench"] });
Object.assign(process.env, s3.env());

const log = (...a) => values.json || console.error(...a);

async function pool(n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

try {
  // a Zarr v3 array of N uncompressed chunks of SIZE random bytes
  const src = path.join(work, "src");
  const arr = path.join(src, "data.zarr");
  mkdirSync(path.join(arr, "c"), { recursive: true });
  writeFileSync(path.join(arr, "zarr.json"), JSON.stringify({
    zarr_format: 3, node_type: "array", shape: [N * SIZE], data_type: "uint8",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [SIZE] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0, codecs: [{ name: "bytes" }],
  }));
  const chunks = [];
  for (let i = 0; i < N; i++) {
    const b = randomBytes(SIZE);
    chunks.push(b);
    writeFileSync(path.join(arr, "c", String(i)), b);
  }
  const { repo } = await lib.Repository.init({ dir: src });
  await lib.add(repo, { all: true });
  await lib.commit(repo, { message: "bench" });
  const mb = (N * SIZE) / 1e6;
  log(`dataset: ${N} chunks x ${SIZE} B = ${mb.toFixed(1)} MB; server ${s3.endpoint}`);

  // Each round: plain parallel PUTs of the same bytes, a tdv push to a fresh
  // prefix, plain GETs, a fetch into an empty repository, a clone. Rounds
  // alternate the two sides so that neither gets a warm server alone; the
  // best time of each is kept.
  const aws = new AwsClient({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1", service: "s3", retries: 0 });
  const best = { plainPut: Infinity, push: Infinity, again: Infinity, plainGet: Infinity, fetch: Infinity, clone: Infinity };
  let pushed;
  let fetched;
  let cloned;
  for (let r = 0; r < ROUNDS; r++) {
    const url = (i) => `${s3.endpoint}/bench/plain${r}/${i}`;
    best.plainPut = Math.min(best.plainPut, await timed(() => pool(N, async (i) => {
      const res = await aws.fetch(url(i), { method: "PUT", body: chunks[i] });
      if (!res.ok) throw new Error(`PUT ${res.status}`);
      await res.arrayBuffer();
    })));
    const remote = `s3://bench/tdv${r}`;
    best.push = Math.min(best.push, await timed(async () => {
      pushed = await lib.push(repo, { remote, concurrency: CONC });
    }));
    best.again = Math.min(best.again, await timed(() => lib.push(repo, { remote })));
    best.plainGet = Math.min(best.plainGet, await timed(() => pool(N, async (i) => {
      const res = await aws.fetch(url(i));
      if (!res.ok) throw new Error(`GET ${res.status}`);
      await res.arrayBuffer();
    })));
    const { repo: empty } = await lib.Repository.init({ dir: path.join(work, `fetch${r}`) });
    best.fetch = Math.min(best.fetch, await timed(async () => {
      fetched = await lib.fetch(empty, { remote, concurrency: CONC });
    }));
    best.clone = Math.min(best.clone, await timed(async () => {
      cloned = await lib.clone({ url: remote, dir: path.join(work, `clone${r}`), concurrency: CONC });
    }));
  }
  const { plainPut, push, again, plainGet, fetch: fetchOnly, clone } = best;

  const rate = (secs) => mb / secs;
  const result = {
    chunks: N,
    chunkBytes: SIZE,
    megabytes: mb,
    concurrency: CONC,
    push: { seconds: push, mbPerSec: rate(push), objects: pushed.uploaded.objects, bytes: pushed.uploaded.bytes },
    plainPut: { seconds: plainPut, mbPerSec: rate(plainPut) },
    pushRatio: plainPut / push,
    secondPush: { seconds: again },
    fetch: { seconds: fetchOnly, mbPerSec: rate(fetchOnly), objects: fetched.downloaded.objects },
    fetchRatio: plainGet / fetchOnly,
    clone: { seconds: clone, mbPerSec: rate(clone), objects: cloned.fetch.downloaded.objects, filesWritten: cloned.written },
    plainGet: { seconds: plainGet, mbPerSec: rate(plainGet) },
    cloneRatio: plainGet / clone,
  };
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    const f = (x) => x.toFixed(1).padStart(7);
    console.log(`remote (s3rver on 127.0.0.1, ${N} x ${(SIZE / 1000).toFixed(0)} kB, ${CONC} in flight)`);
    console.log(`  tdv push     ${f(result.push.mbPerSec)} MB/s  (${push.toFixed(2)} s, ${pushed.uploaded.objects} objects)`);
    console.log(`  plain PUTs   ${f(result.plainPut.mbPerSec)} MB/s  (${plainPut.toFixed(2)} s)   tdv/plain ${(result.pushRatio * 100).toFixed(0)}%`);
    console.log(`  push again   ${again.toFixed(2)} s (nothing to upload)`);
    console.log(`  plain GETs   ${f(result.plainGet.mbPerSec)} MB/s  (${plainGet.toFixed(2)} s)`);
    console.log(`  tdv fetch    ${f(result.fetch.mbPerSec)} MB/s  (${fetchOnly.toFixed(2)} s, each object verified and stored)   tdv/plain ${(result.fetchRatio * 100).toFixed(0)}%`);
    console.log(`  tdv clone    ${f(result.clone.mbPerSec)} MB/s  (${clone.toFixed(2)} s, fetch + checkout of ${cloned.written} files)   tdv/plain ${(result.cloneRatio * 100).toFixed(0)}%`);
  }
} finally {
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
}
