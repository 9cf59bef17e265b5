#!/usr/bin/env node
/**
 * Write sessions straight into an S3 remote (the test suite's S3-compatible
 * server on 127.0.0.1), two figures:
 *
 * 1. committers: N independent sessions, each in its own process
 *    (bench/session-committer.mjs, its own cache: nothing shared but the
 *    remote; `--in-process` runs them in this one instead) each write their
 *    own chunk of one array, then all commit to the same branch at once,
 *    uncooperatively. Every commit must land; prints the median, 90th
 *    percentile and worst commit latency (commit() called → returned) and
 *    the retries (automatic rebases) each needed.
 * 2. ingestion: W worker processes write disjoint time slabs of a float32
 *    array (MiB in all, 4 MiB chunks) through sessions forked from one
 *    token; the parent gathers each change set as its worker finishes and
 *    commits once. Compared with W processes PUTting the same chunk bytes straight to the server,
 *    one after another as each worker sends them (the floor), run before
 *    and after each of --rounds session runs: each round is held to the
 *    faster floor beside it, and the median of those ratios is printed.
 *    --inflight K: each worker (tdv's and the floor's) has K chunks in
 *    flight at once (default 1: one after another). --writer store
 *    (default: the chunk's encoded bytes, as the floor PUTs them, given to
 *    the session's own set: the same bytes on both sides, tdv's cost alone)
 *    or zarrita (each worker writes with zarr.set, which first copies the
 *    values into a chunk of its own in JavaScript: zarrita's cost as well).
 *
 *   npm run build && node bench/sessions.mjs [--committers 100] [--in-process] [--mib 1024] [--workers 16] [--rounds 2] [--inflight 1] [--writer store|zarrita] [--only committers|ingest] [--json]
 *
 * The server is one Node process on this machine: absolute figures say more
 * about it (and the machine's load) than about S3; the ratio is the figure.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as zarr from "zarrita";
import { startS3Server } from "../test/helpers/s3-server.mjs";

const { values } = parseArgs({
  options: {
    committers: { type: "string", default: "100" },
    mib: { type: "string", default: "1024" },
    workers: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
    inflight: { type: "string", default: "1" },
    writer: { type: "string", default: "store" },
    only: { type: "string" },
    "in-process": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const N = Number(values.committers);
const MIB = Number(values.mib);
const W = Number(values.workers);
const ROUNDS = Math.max(1, Number(values.rounds));
const INFLIGHT = Math.max(1, Number(values.inflight));
const WRITER = values.writer;
if (!["zarrita", "store"].includes(WRITER)) throw new Error(`--writer is store or zarrita, not ${WRITER}`);
const WORKER = fileURLToPath(new URL("../test/session/remote-write-worker.mjs", import.meta.url));
const COMMITTER = fileURLToPath(new URL("session-committer.mjs", import.meta.url));
process.env.TDV_AUTHOR_NAME ??= "bench";
process.env.TDV_AUTHOR_EMAIL ??= "bench@example.org";

const lib = await import("../dist/src/index.js");
const work = mkdtempSync(path.join(os.tmpdir(), "tdv-bench-sessions-"));
const s3 = await startS3Server({ buckets: ["bench"] });
const env = { ...s3.env(), HOME: work };
Object.assign(process.env, env);
const log = (...a) => values.json || console.error(...a);
const cache = () => mkdtempSync(path.join(work, "cache-"));
const BYTES = [{ name: "bytes", configuration: { endian: "little" } }];
const out = { load: os.loadavg().map((l) => Number(l.toFixed(2))) };

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Committer `k` in its own process: resolves once it has written (ready), then `go()` commits and resolves its figures. */
function committerProcess(url, k) {
  const child = spawn(process.execPath, [COMMITTER, url, String(k)], { env: { ...process.env, TDV_CACHE_DIR: cache() }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onLine = () => undefined;
  child.stdout.on("data", (d) => {
    out += d;
    onLine();
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  // "close", not "exit": a process's last output may still be on its way when "exit" comes
  const exited = new Promise((resolve) => child.on("close", resolve));
  const line = (n) =>
    new Promise((resolve, reject) => {
      onLine = () => {
        const lines = out.split("\n");
        if (lines.length > n) resolve(lines[n - 1]);
      };
      onLine();
      void exited.then((code) => {
        // the error's line and where it was thrown (Node prints a crash's stack, then its own version)
        const lines = err.trim().split("\n");
        const at = lines.findIndex((l) => /Error|error:/.test(l));
        reject(new Error(`committer ${k} exited ${code}: ${at >= 0 ? lines.slice(at, at + 4).map((l) => l.trim()).join(" ") : (lines.pop() ?? "")}`));
      });
    });
  const ready = line(1);
  return ready.then(() => ({
    go: () => {
      child.stdin.end("go\n");
      return line(2).then((l) => JSON.parse(l));
    },
  }));
}

async function committers() {
  const url = `s3://bench/committers`;
  const init = await lib.openRemoteWriteSession(url, "main", { cacheDir: cache() });
  await zarr.create(zarr.root(init).resolve("grid"), { shape: [4 * N, 16], chunkShape: [4, 16], dtype: "float32", fillValue: 0, codecs: BYTES });
  await init.commit("init");
  let t0 = performance.now();
  let results;
  if (values["in-process"]) {
    results = await Promise.allSettled(
      Array.from({ length: N }, async (_, k) => {
        const s = await lib.openRemoteWriteSession(url, "main", { cacheDir: cache() });
        const a = await zarr.open(zarr.root(s).resolve("grid"), { kind: "array" });
        await zarr.set(a, [zarr.slice(4 * k, 4 * k + 4), null], k + 1);
        const t = performance.now();
        const r = await s.commit(`committer ${k}`);
        return { ms: performance.now() - t, retries: r.rebased };
      }),
    );
  } else {
    // every process opens its session and writes first; then all commit at once
    const ready = await Promise.allSettled(Array.from({ length: N }, (_, k) => committerProcess(url, k)));
    log(`committers: ${N} processes written in ${((performance.now() - t0) / 1000).toFixed(1)} s; committing`);
    t0 = performance.now();
    results = await Promise.allSettled(ready.map((r) => (r.status === "fulfilled" ? r.value.go() : Promise.reject(r.reason))));
  }
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
  const failed = results.filter((r) => r.status === "rejected").map((r) => String(r.reason?.message ?? r.reason));
  const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
  const retries = ok.map((r) => r.retries).sort((a, b) => a - b);
  const res = {
    committers: N,
    landed: ok.length,
    failed: failed.length,
    failures: [...new Set(failed)].slice(0, 3),
    wallS: Number(wall.toFixed(1)),
    latencyMs: { median: Math.round(quantile(ms, 0.5)), p90: Math.round(quantile(ms, 0.9)), worst: Math.round(ms[ms.length - 1]) },
    retries: { median: quantile(retries, 0.5), p90: quantile(retries, 0.9), worst: retries[retries.length - 1], total: retries.reduce((a, b) => a + b, 0) },
  };
  log(`committers: ${res.landed}/${N} landed in ${res.wallS} s; commit latency median ${res.latencyMs.median} ms, p90 ${res.latencyMs.p90} ms, worst ${res.latencyMs.worst} ms; retries median ${res.retries.median}, p90 ${res.retries.p90}, worst ${res.retries.worst}${res.failed ? `; FAILED ${res.failed}: ${res.failures.join(" | ")}` : ""}`);
  return res;
}

function run(token, job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(token), JSON.stringify(job)], { env: { ...process.env, TDV_CACHE_DIR: cache() }, stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (d) => {
      text += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`worker exited ${code}`)))); // after its last output
  });
}

async function ingest() {
  // T = 4 time steps per worker; each step is MiB/(4W) MiB: Y rows of 1024 float32
  const T = 4 * W;
  const Y = Math.max(512, Math.round((MIB * 2 ** 20) / (T * 1024 * 4) / 512) * 512);
  const X = 1024;
  const shape = [T, Y, X];
  const chunks = [4, 512, 512];
  const mib = (T * Y * X * 4) / 2 ** 20;
  const per = T / W;
  const enc = (v) => new TextEncoder().encode(JSON.stringify(v));

  // floor, tdv, floor, tdv, …, floor: the machine's load drifts, so each tdv round is held to the faster of the
  // floors run just before and just after it; each round writes to a remote of its own (the same values: a
  // remote that had them would let the session skip its uploads)
  const floor = async (round) => {
    const t = performance.now();
    await Promise.all(Array.from({ length: W }, (_, i) => run({}, { mode: "raw", url: `s3://bench/raw-${round}`, shape, chunks, t0: i * per, t1: (i + 1) * per, inflight: INFLIGHT })));
    return (performance.now() - t) / 1000;
  };
  const session = async (round) => {
    const url = `s3://bench/ingest-${round}`;
    const init = await lib.openRemoteWriteSession(url, "main", { cacheDir: cache() });
    await init.set("big.zarr/.zgroup", enc({ zarr_format: 2 }));
    await init.set("big.zarr/t/.zarray", enc({ zarr_format: 2, shape, chunks, dtype: "<f4", compressor: null, fill_value: 0, order: "C", filters: null }));
    await init.commit("an empty array");
    const t = performance.now();
    const s = await lib.openRemoteWriteSession(url, "main", { cacheDir: cache() });
    const token = s.fork();
    // each change set gathered as its worker finishes (its checks overlap the others' writing)
    let wrote = 0;
    await Promise.all(
      Array.from({ length: W }, (_, i) =>
        run(token, { mode: "slab", array: "big.zarr/t", t0: i * per, t1: (i + 1) * per, inflight: INFLIGHT, writer: WRITER }).then((set) => {
          wrote = performance.now();
          return s.absorb([set]);
        }),
      ),
    );
    const r = await s.commit(`${W} workers`);
    return { s: (performance.now() - t) / 1000, commitS: (performance.now() - wrote) / 1000, changed: r.changed };
  };
  const floors = [await floor(0)];
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(await session(r));
    floors.push(await floor(r + 1));
  }
  const ratios = rounds.map((x, r) => Math.min(floors[r], floors[r + 1]) / x.s);
  const best = rounds.reduce((a, b) => (b.s < a.s ? b : a));
  const raw = Math.min(...floors);
  const res = {
    mib,
    workers: W,
    inflight: INFLIGHT,
    writer: WRITER,
    chunks: best.changed,
    tdvS: rounds.map((x) => Number(x.s.toFixed(1))),
    gatherAndCommitS: rounds.map((x) => Number(x.commitS.toFixed(2))),
    tdvMiBs: Number((mib / best.s).toFixed(1)),
    rawS: floors.map((f) => Number(f.toFixed(1))),
    rawMiBs: Number((mib / raw).toFixed(1)),
    ratio: Number((raw / best.s).toFixed(2)),
    perRound: ratios.map((x) => Number(x.toFixed(2))),
    medianRatio: Number(median(ratios).toFixed(2)),
  };
  log(`ingest: ${mib} MiB by ${W} workers (${INFLIGHT} chunk${INFLIGHT === 1 ? "" : "s"} in flight each, writing with ${WRITER === "store" ? "the session's set" : "zarrita"}), one commit of ${res.chunks} chunks: ${res.tdvS.join(" / ")} s (best ${res.tdvMiBs} MiB/s; gather + commit ${res.gatherAndCommitS.join(" / ")} s); raw parallel PUT ${res.rawS.join(" / ")} s (${res.rawMiBs} MiB/s, best); tdv best = ${Math.round(res.ratio * 100)}% of the best raw; each round against the faster floor beside it: ${res.perRound.map((x) => `${Math.round(x * 100)}%`).join(" ")} (median ${Math.round(res.medianRatio * 100)}%)`);
  return res;
}

try {
  if (!values.only || values.only === "committers") out.committers = await committers();
  if (!values.only || values.only === "ingest") out.ingest = await ingest();
  out.loadAfter = os.loadavg().map((l) => Number(l.toFixed(2)));
  log(`load average before ${out.load.join(" ")}, after ${out.loadAfter.join(" ")}`);
  if (values.json) console.log(JSON.stringify(out, null, 2));
} finally {
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
}
