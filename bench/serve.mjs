#!/usr/bin/env node
/**
 * `tdv serve` against a static file server on a checkout of the same
 * revision: the same client (Node's fetch, N requests in flight, keep-alive)
 * reads every chunk of one array from each, rounds interleaved; the medians
 * and the ratio are printed. Both servers run as their own process; the
 * static one reads each file whole and sends it (as the test suite's static
 * server does). Then the peak memory (VmHWM) of the `tdv serve` process, which
 * has served the whole array once per round. Each row also gives the median
 * CPU time (user + system) its server process used per round.
 *
 *   npm run build && node bench/serve.mjs [--chunks 400] [--size 1000000] [--jobs 8] [--rounds 3] [--json]
 *
 * The array: a v3 array of `chunks` chunks of `size` random bytes (no codec
 * but bytes: the served bytes are the stored bytes), committed with tdv.
 * URLs: a commit id (immutable: resolved once) and the branch (resolved per
 * request, as a live URL must be).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    chunks: { type: "string", default: "400" },
    size: { type: "string", default: "1000000" },
    jobs: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(values.chunks);
const SIZE = Number(values.size);
const JOBS = Number(values.jobs);
const ROUNDS = Math.max(1, Number(values.rounds));
const BIN = fileURLToPath(new URL("../dist/bin/tdv.js", import.meta.url));
const log = (...a) => values.json || console.error(...a);
const env = { ...process.env, TDV_AUTHOR_NAME: "Bench", TDV_AUTHOR_EMAIL: "bench@example.org", TDV_FSYNC: "0", TDV_NO_PROGRESS: "1" };

function run(cwd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`tdv ${args.join(" ")}: exit ${code}\n${err}`))));
  });
}

/** Start a server process that prints one JSON line with its port; returns {port, pid, stop}. */
function startServer(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b) => {
      out += b;
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        const { port } = JSON.parse(out.slice(0, nl));
        resolve({
          port,
          pid: child.pid,
          stop: () =>
            new Promise((r) => {
              child.on("exit", (code) => r(code));
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
}

// a static file server: GET reads the file whole and sends it (404 when missing)
const STATIC = `
import http from "node:http"; import { promises as fs } from "node:fs"; import path from "node:path";
const root = process.cwd();
const server = http.createServer(async (req, res) => {
  const p = decodeURIComponent(new URL(req.url, "http://x").pathname);
  try {
    const bytes = await fs.readFile(path.join(root, ...p.split("/").filter((s) => s && s !== "..")));
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
    res.end(bytes);
  } catch { res.writeHead(404).end(); }
});
server.keepAliveTimeout = 5000;
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
process.on("SIGTERM", () => { server.close(); server.closeAllConnections(); });
`;

/** Read every chunk from `base` (JOBS in flight); seconds and bytes. */
async function readAll(base) {
  let next = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: JOBS }, async () => {
      while (next < N) {
        const i = next++;
        const res = await fetch(`${base}/big.zarr/a/c/${i}`);
        if (res.status !== 200) throw new Error(`${base}/big.zarr/a/c/${i}: ${res.status}`);
        const got = (await res.arrayBuffer()).byteLength;
        bytes += got;
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes !== N * SIZE) throw new Error(`read ${bytes} bytes, expected ${N * SIZE}`);
  return s;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** CPU seconds (user + system) a process has used, from /proc: on a shared machine it swings less than wall time. */
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ, 100 on Linux
};
const rssOf = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
};

const work = mkdtempSync(path.join(os.tmpdir(), "tdv-bench-serve-"));
const servers = [];
try {
  log(`array: ${N} chunks of ${(SIZE / 1e6).toFixed(2)} MB (${((N * SIZE) / 1e9).toFixed(2)} GB), ${JOBS} requests in flight, ${ROUNDS} rounds`);
  const dir = path.join(work, "repo");
  mkdirSync(path.join(dir, "big.zarr/a/c"), { recursive: true });
  writeFileSync(path.join(dir, "big.zarr/zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }));
  writeFileSync(
    path.join(dir, "big.zarr/a/zarr.json"),
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape: [N * SIZE],
      data_type: "uint8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [SIZE] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: 0,
      codecs: [{ name: "bytes" }],
      attributes: {},
    }),
  );
  for (let i = 0; i < N; i++) writeFileSync(path.join(dir, `big.zarr/a/c/${i}`), randomBytes(SIZE));
  await run(dir, ["init"]);
  await run(dir, ["add", "-A"]);
  await run(dir, ["commit", "-m", "bench"]);
  const commit = JSON.parse(await run(dir, ["log", "--json", "-n", "1"]))[0].oid;

  const tdv = await startServer(process.execPath, [BIN, "serve", "--port", "0", "--json"], dir);
  servers.push(tdv);
  const stat = await startServer(process.execPath, ["--input-type=module", "-e", STATIC], dir);
  servers.push(stat);
  const idle = rssOf(tdv.pid);
  const rows = { static: [], "tdv serve (commit id URL)": [], "tdv serve (branch URL)": [] };
  const cpu = { static: [], "tdv serve (commit id URL)": [], "tdv serve (branch URL)": [] };
  const pidOf = (name) => (name === "static" ? stat.pid : tdv.pid);
  const bases = {
    static: `http://127.0.0.1:${stat.port}`,
    "tdv serve (commit id URL)": `http://127.0.0.1:${tdv.port}/${commit}`,
    "tdv serve (branch URL)": `http://127.0.0.1:${tdv.port}/main`,
  };
  // warm the page cache and both servers once
  for (const b of Object.values(bases)) await readAll(b);
  for (let r = 0; r < ROUNDS; r++) {
    const order = Object.keys(rows);
    for (let k = 0; k < r % order.length; k++) order.push(order.shift());
    for (const name of order) {
      const c0 = cpuOf(pidOf(name));
      rows[name].push(await readAll(bases[name]));
      cpu[name].push(cpuOf(pidOf(name)) - c0);
    }
  }
  const after = rssOf(tdv.pid);
  await Promise.all(servers.splice(0).map((s) => s.stop()));

  const base = median(rows.static);
  const result = {
    chunks: N,
    chunkBytes: SIZE,
    totalBytes: N * SIZE,
    jobs: JOBS,
    rounds: ROUNDS,
    rows: Object.entries(rows).map(([name, secs]) => ({
      name,
      seconds: median(secs),
      mbPerSecond: (N * SIZE) / 1e6 / median(secs),
      ratioOfStatic: base / median(secs),
      serverCpuSeconds: median(cpu[name]),
    })),
    tdvServeMemory: { idleRss: idle.rss, rssAfter: after.rss, peakRss: after.peak, servedBytes: N * SIZE * (ROUNDS * 2 + 2) },
  };
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    for (const r of result.rows) console.log(`${r.name.padEnd(28)} ${r.seconds.toFixed(2).padStart(7)} s  ${r.mbPerSecond.toFixed(0).padStart(6)} MB/s  ${(100 * r.ratioOfStatic).toFixed(0).padStart(4)}% of static  server CPU ${r.serverCpuSeconds.toFixed(2)} s`);
    const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
    console.log(`tdv serve memory: idle ${mb(idle.rss)}, peak ${mb(after.peak)} after serving ${(result.tdvServeMemory.servedBytes / 1e9).toFixed(1)} GB`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(work, { recursive: true, force: true });
}
