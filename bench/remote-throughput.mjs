#!/usr/bin/env node
/**
 * Remote throughput against the floor, on two S3 implementations on
 * 127.0.0.1 (the test suite's server: s3rver behind its proxy; and moto's
 * server, Python) and on a folder remote: tdv push / fetch / clone of an
 * array of N chunks versus plain parallel PUT/GET (S3: signed requests;
 * folder: write temp + rename / read) of the same bytes with the same number
 * in flight; then a resumed push: a push stopped at half its chunks, and the
 * next push, counting what it sends again.
 *
 *   npm run build && node bench/remote-throughput.mjs [--chunks 400] [--size 100000] [--jobs 16] [--rounds 2]
 *       [--server s3rver|moto|all] [--proxy-here] [--only s3|file] [--json]
 *
 * --server picks the S3 servers (default s3rver; moto needs `python3` with
 * moto, flask and flask_cors, or TDV_MOTO_PYTHON). s3rver and the test
 * suite's proxy in front of it run in a process of their own, as any
 * server does; --proxy-here runs the proxy in the bench's process, as
 * the figures before the seventh session of 2026-12-04 were taken (its
 * work then shared the event loop of the client measured, tdv's or the
 * floor's). --only s3 skips the
 * folder remote, --only file the S3 servers. Every repository on the tdv
 * side is made with durability "none" (TDV_FSYNC=0), as the floors never
 * fsync either.
 *
 * Two floors for each direction, both printed, on the same keys as tdv's
 * (chunks/ab/cdef…; on a folder, in the same fan-out folders, each made
 * once):
 * - plain: the bytes kept in memory (PUT from memory, GET into memory);
 * - stored: what the operation must do besides the transfer itself, done
 *   the plainest way: push reads each object from a file before its PUT;
 *   fetch writes each object it GETs to a file (temp + rename); clone writes
 *   it twice (the object under its key, and the working file). No hashing
 *   on this side.
 * tdv also hashes every byte it sends or receives (SHA-256); clone's
 * checkout copies the objects its fetch has just verified without reading
 * them again (a reflink, or a copy in the kernel).
 *
 * The servers run on this machine: absolute MB/s say more about it than
 * about S3; the ratios (tdv / floor) are the figures to watch. Besides the
 * ratio of bests, each round's ratio (tdv against the floor run beside it:
 * even rounds run the floor first, odd rounds tdv first) and their median are
 * printed, with the CPU seconds of each (the whole process; with --proxy-here
 * that includes the proxy), as a shared machine moves a floor between rounds
 * by up to 2x. Every measure starts after a `sync` (untimed), so none pays
 * for the writeback of the one before.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AwsClient } from "aws4fetch";
import { startS3Server } from "../test/helpers/s3-server.mjs";

const { values } = parseArgs({
  options: {
    chunks: { type: "string", default: "400" },
    size: { type: "string", default: "100000" },
    jobs: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
    only: { type: "string" },
    server: { type: "string", default: "s3rver" },
    "proxy-here": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const N = Number(values.chunks);
const SIZE = Number(values.size);
const JOBS = Number(values.jobs);
const ROUNDS = Math.max(1, Number(values.rounds));
process.env.TDV_FSYNC ??= "0"; // neither side fsyncs: measure the transfer path, not the disk

const SERVERS = values.server === "all" ? ["s3rver", "moto"] : values.server.split(",");
for (const s of SERVERS) if (s !== "s3rver" && s !== "moto") throw new Error(`--server: s3rver, moto or all, not ${s}`);
const DURABILITY = { durability: "none" }; // the library does not read TDV_FSYNC: say it

const lib = await import("../dist/src/index.js");
const work = mkdtempSync(path.join(os.tmpdir(), "tdv-bench-throughput-"));
const log = (...a) => values.json || console.error(...a);

/** moto's S3 server (Python) on a free port of 127.0.0.1, with bucket `bench` (as test/helpers/moto-server.ts). */
async function startMoto() {
  const python = process.env.TDV_MOTO_PYTHON ?? "python3";
  const version = execFileSync(python, ["-c", "import moto, moto.server, flask, flask_cors; print(moto.__version__)"], { encoding: "utf8" }).trim();
  const port = await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
  const child = spawn(python, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((r) => child.once("exit", r));
  const endpoint = `http://127.0.0.1:${port}`;
  const creds = { AWS_ACCESS_KEY_ID: "moto-bench", AWS_SECRET_ACCESS_KEY: "moto-bench", AWS_REGION: "us-east-1" };
  const aws = new AwsClient({ accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY, region: "us-east-1", service: "s3", retries: 0 });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`moto's server exited: ${stderr}`);
    if (await aws.fetch(`${endpoint}/`).then((r) => r.ok, () => false)) break;
    if (i > 300) throw new Error(`moto's server did not answer within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const made = await aws.fetch(`${endpoint}/bench`, { method: "PUT" });
  if (!made.ok) throw new Error(`moto: cannot create the bucket: ${made.status}`);
  return {
    name: `moto ${version}`,
    endpoint,
    aws,
    requests: null, // moto keeps no log the bench can read: the resumed push counts bytes from tdv's own report
    env: () => ({ AWS_ENDPOINT_URL: endpoint, ...creds }),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startS3rver() {
  const aws = new AwsClient({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1", service: "s3", retries: 0 });
  if (values["proxy-here"]) {
    const s3 = await startS3Server({ buckets: ["bench"] });
    return { name: "s3rver behind the test proxy (in this process)", endpoint: s3.endpoint, aws, requests: s3.requests, env: () => s3.env(), stop: () => s3.stop() };
  }
  // the test server (its proxy and s3rver) in a process of its own, as a server is: the proxy's work then never
  // shares an event loop with the client measured (tdv, or the floor)
  const script = `const { startS3Server } = await import(${JSON.stringify(new URL("../test/helpers/s3-server.mjs", import.meta.url).href)});
    const s3 = await startS3Server({ buckets: ["bench"] });
    process.stdout.write(JSON.stringify({ endpoint: s3.endpoint, env: s3.env() }) + "\\n");
    process.stdin.resume();
    process.stdin.on("end", async () => { await s3.stop(); process.exit(0); });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  const closed = new Promise((r) => child.once("close", r));
  const info = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.once("close", (code) => reject(new Error(`the S3 test server's process exited ${code} before it was ready`)));
  });
  return {
    name: "s3rver behind the test proxy, in a process of its own",
    endpoint: info.endpoint,
    aws,
    requests: null, // its log is in the other process: the resumed push counts bytes from tdv's own report
    env: () => info.env,
    async stop() {
      child.stdin.end();
      await closed;
    },
  };
}

async function pool(n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: JOBS }, async () => {
    while (next < n) await fn(next++);
  }));
}
/** CPU seconds (user + system, every thread of this process) of the last `timed` call */
let lastCpu = 0;
async function timed(fn) {
  // what the measure before left for the disk is written first (untimed): each measure starts with none queued
  execFileSync("sync");
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const used = process.cpuUsage(c);
  lastCpu = (used.user + used.system) / 1e6;
  return (performance.now() - t) / 1000;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
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
  /** each chunk's key in a remote's layout, "chunks/ab/cdef…": the floors use the same keys (on a folder, the same fan-out folders) */
  const keys = [];
  for (let i = 0; i < N; i++) {
    const b = randomBytes(SIZE);
    chunks.push(b);
    const id = createHash("sha256").update(b).digest("hex");
    keys.push(`chunks/${id.slice(0, 2)}/${id.slice(2)}`);
    writeFileSync(path.join(arr, "c", String(i)), b);
  }
  const { repo } = await lib.Repository.init({ dir: src, ...DURABILITY });
  await lib.add(repo, { all: true });
  await lib.commit(repo, { message: "bench" });
  const mb = (N * SIZE) / 1e6;
  log(`dataset: ${N} chunks x ${SIZE} B = ${mb.toFixed(1)} MB, ${JOBS} in flight`);

  /** folders made by the floors: one mkdir each, as any store does */
  const made = new Set();
  /** write `bytes` to `dir/name` via a temp file and a rename, as any store does (its folder made first) */
  const writeFile = async (dir, name, bytes) => {
    const f = path.join(dir, name);
    const parent = path.dirname(f);
    if (!made.has(parent)) {
      await fsp.mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await fsp.writeFile(`${f}.tmp`, bytes);
    await fsp.rename(`${f}.tmp`, f);
  };
  const stored = (get, kind) => ({
    // the object under its key (a fan-out folder), and for a clone the working file (one flat folder)
    getStored: (r, copies) => {
      const dirs = Array.from({ length: copies }, (_, k) => path.join(work, `${kind}-stored${r}-${k}`));
      return pool(N, async (i) => {
        const b = await get(r, i);
        for (let k = 0; k < dirs.length; k++) await writeFile(dirs[k], k === 0 ? keys[i] : String(i), b);
      });
    },
  });
  const readChunk = (i) => fsp.readFile(path.join(arr, "c", String(i)));

  /** the floors and tdv URLs of one S3 server */
  const s3Target = (start) => {
    let srv;
    const s3Put = async (key, body) => {
      const res = await srv.aws.fetch(`${srv.endpoint}/bench/${key}`, { method: "PUT", body });
      if (!res.ok) throw new Error(`PUT ${res.status}`);
      await res.arrayBuffer();
    };
    const s3Get = async (r, i) => {
      const res = await srv.aws.fetch(`${srv.endpoint}/bench/plain${r}/${keys[i]}`);
      if (!res.ok) throw new Error(`GET ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    return {
      s3: true,
      async start() {
        srv = await start();
        Object.assign(process.env, srv.env());
        return srv;
      },
      stop: () => srv?.stop(),
      put: (r) => pool(N, (i) => s3Put(`plain${r}/${keys[i]}`, chunks[i])),
      putStored: (r) => pool(N, async (i) => s3Put(`stored${r}/${keys[i]}`, await readChunk(i))),
      get: (r) => pool(N, async (i) => void (await s3Get(r, i))),
      ...stored(s3Get, "s3"),
      url: (r) => `s3://bench/tdv${r}`,
    };
  };
  const fileGet = (r, i) => fsp.readFile(path.join(work, `plain${r}`, keys[i]));
  const plain = {
    ...(SERVERS.includes("s3rver") ? { s3rver: s3Target(startS3rver) } : {}),
    ...(SERVERS.includes("moto") ? { moto: s3Target(startMoto) } : {}),
    file: {
      start: async () => ({ name: "folder remote", requests: null }),
      stop: async () => {},
      put: (r) => pool(N, (i) => writeFile(path.join(work, `plain${r}`), keys[i], chunks[i])),
      putStored: (r) => pool(N, async (i) => writeFile(path.join(work, `plain-stored${r}`), keys[i], await readChunk(i))),
      get: (r) => pool(N, async (i) => void (await fileGet(r, i))),
      ...stored(fileGet, "file"),
      url: (r) => path.join(work, `remote${r}.tdv`),
    },
  };

  const results = {};
  for (const [kind, p] of Object.entries(plain)) {
    if (values.only && values.only !== (p.s3 ? "s3" : "file")) continue;
    const srv = await p.start();
    try {
      const best = { plainPut: Infinity, storedPut: Infinity, push: Infinity, plainGet: Infinity, storedGet: Infinity, storedGet2: Infinity, fetch: Infinity, clone: Infinity };
      /** each round's seconds and CPU seconds, by measure: on a shared machine a round's ratio (tdv / the floor run beside it) moves less than a ratio of bests */
      const per = Object.fromEntries(Object.keys(best).map((k) => [k, { s: [], cpu: [] }]));
      const min = (k, t) => {
        best[k] = Math.min(best[k], t);
        per[k].s.push(t);
        per[k].cpu.push(lastCpu);
      };
      for (let r = 0; r < ROUNDS; r++) {
        // odd rounds run tdv before its floors: neither side always follows the other (a warmer cache, the other's writeback)
        const tdvFirst = r % 2 === 1;
        const push = async () => min("push", await timed(() => lib.push(repo, { remote: p.url(r), concurrency: JOBS })));
        const fetchClone = async () => {
          const { repo: empty } = await lib.Repository.init({ dir: path.join(work, `${kind}-fetch${r}`), ...DURABILITY });
          min("fetch", await timed(() => lib.fetch(empty, { remote: p.url(r), concurrency: JOBS })));
          min("clone", await timed(() => lib.clone({ url: p.url(r), dir: path.join(work, `${kind}-clone${r}`), concurrency: JOBS, ...DURABILITY })));
        };
        min("plainPut", await timed(() => p.put(r)));
        if (tdvFirst) await push();
        min("storedPut", await timed(() => p.putStored(r)));
        if (!tdvFirst) await push();
        min("plainGet", await timed(() => p.get(r)));
        if (tdvFirst) await fetchClone();
        min("storedGet", await timed(() => p.getStored(r, 1)));
        min("storedGet2", await timed(() => p.getStored(r, 2)));
        if (!tdvFirst) await fetchClone();
      }
      /** per round: the stored floor's time / tdv's, and the median of those */
      const roundRatios = (op, floor) => {
        const ratios = per[op].s.map((t, i) => per[floor].s[i] / t);
        return { ratios, median: median(ratios), cpu: per[op].cpu, floorCpu: per[floor].cpu };
      };

      // resumed push: stop the first at half its chunks, then push again
      const url = p.s3 ? "s3://bench/resume" : path.join(work, "resume.tdv");
      const stop = new AbortController();
      const reqs = srv.requests;
      const mark = reqs?.length ?? 0;
      let firstBytes = 0;
      await lib.push(repo, {
        remote: url,
        concurrency: JOBS,
        signal: stop.signal,
        onProgress: (ev) => {
          firstBytes = ev.bytes;
          if (ev.phase === "uploading" && ev.done >= N / 2) stop.abort(new Error("stopped"));
        },
      }).catch((e) => {
        if (e.message !== "stopped") throw e;
      });
      const firstKeys = new Set((reqs ?? []).slice(mark).filter((q) => q.method === "PUT" && q.status === 200).map((q) => q.key));
      const mark2 = reqs?.length ?? 0;
      const again = await lib.push(repo, { remote: url, concurrency: JOBS });
      const resent = reqs
        ? reqs.slice(mark2).filter((q) => q.method === "PUT" && firstKeys.has(q.key)).reduce((s, q) => s + q.bytesIn, 0)
        : null;
      const rate = (s) => mb / s;
      results[kind] = {
        server: srv.name,
        push: { mbPerSec: rate(best.push), ofPlain: best.plainPut / best.push, ofStored: best.storedPut / best.push },
        fetch: { mbPerSec: rate(best.fetch), ofPlain: best.plainGet / best.fetch, ofStored: best.storedGet / best.fetch },
        clone: { mbPerSec: rate(best.clone), ofPlain: best.plainGet / best.clone, ofStored: best.storedGet2 / best.clone },
        perRound: { push: roundRatios("push", "storedPut"), fetch: roundRatios("fetch", "storedGet"), clone: roundRatios("clone", "storedGet2") },
        plainPut: { mbPerSec: rate(best.plainPut) },
        storedPut: { mbPerSec: rate(best.storedPut) },
        plainGet: { mbPerSec: rate(best.plainGet) },
        storedGet: { mbPerSec: rate(best.storedGet) },
        storedGet2: { mbPerSec: rate(best.storedGet2) },
        resumed: {
          firstBytes,
          secondBytes: again.uploaded.bytes,
          found: again.found.objects,
          checkRequests: again.checked,
          resentBytes: resent,
          resentOfFirst: resent === null ? null : resent / firstBytes,
        },
      };
    } finally {
      await p.stop();
    }
  }
  if (values.json) console.log(JSON.stringify({ chunks: N, chunkBytes: SIZE, jobs: JOBS, results }, null, 2));
  else {
    const f = (x) => x.toFixed(1).padStart(7);
    const pc = (x) => `${(x * 100).toFixed(0)}%`.padStart(5);
    for (const [kind, r] of Object.entries(results)) {
      console.log(`${kind === "file" ? "folder remote" : `S3 (${r.server} on 127.0.0.1)`}: ${N} x ${(SIZE / 1000).toFixed(0)} kB, ${JOBS} in flight`);
      console.log(`  floors: plain PUT ${f(r.plainPut.mbPerSec)} MB/s, read file + PUT ${f(r.storedPut.mbPerSec)} MB/s; plain GET ${f(r.plainGet.mbPerSec)} MB/s, GET + write ${f(r.storedGet.mbPerSec)} MB/s, GET + write twice ${f(r.storedGet2.mbPerSec)} MB/s`);
      console.log(`  tdv push  ${f(r.push.mbPerSec)} MB/s  ${pc(r.push.ofPlain)} of plain PUT, ${pc(r.push.ofStored)} of read + PUT`);
      console.log(`  tdv fetch ${f(r.fetch.mbPerSec)} MB/s  ${pc(r.fetch.ofPlain)} of plain GET, ${pc(r.fetch.ofStored)} of GET + write`);
      console.log(`  tdv clone ${f(r.clone.mbPerSec)} MB/s  ${pc(r.clone.ofPlain)} of plain GET, ${pc(r.clone.ofStored)} of GET + write twice`);
      const pr = (op) => `${op} ${r.perRound[op].ratios.map((x) => pc(x).trim()).join(" ")} (median ${pc(r.perRound[op].median).trim()}; CPU s ${r.perRound[op].cpu.map((x) => x.toFixed(2)).join(" ")} vs floor ${r.perRound[op].floorCpu.map((x) => x.toFixed(2)).join(" ")})`;
      console.log(`  each round, % of the stored floor run beside it (odd rounds: tdv first): ${pr("push")}; ${pr("fetch")}; ${pr("clone")}`);
      const z = r.resumed;
      console.log(`  resumed push: first stopped after ${(z.firstBytes / 1e6).toFixed(1)} MB; the next sent ${(z.secondBytes / 1e6).toFixed(1)} MB, found ${z.found} objects already there with ${z.checkRequests} requests${z.resentBytes === null ? "" : `, re-sent ${(z.resentBytes / 1e6).toFixed(2)} MB (${(z.resentOfFirst * 100).toFixed(2)}% of the first)`}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
