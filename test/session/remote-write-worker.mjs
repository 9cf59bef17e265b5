/**
 * A worker process of the remote write-session tests and the benchmark: opens
 * a fork of a session from its token alone (argv[2], JSON) and writes its
 * part through zarrita, one chunk at a time (memory stays at one chunk).
 *
 *   node remote-write-worker.mjs TOKEN '{"mode":"slab","array":"big.zarr/t","t0":0,"t1":16}'
 *     writes time steps [t0, t1) of the float32 array with VALUE(t, y, x) and
 *     prints its change set (JSON) on stdout.
 *   node remote-write-worker.mjs TOKEN '{"mode":"raw","url":"s3://b/raw","shape":[T,Y,X],"chunks":[t,y,x],"t0":0,"t1":16}'
 *     PUTs the same chunk bytes straight to URL (no session): the benchmark's floor.
 *   node remote-write-worker.mjs TOKEN '{"mode":"hang","array":"...","t0":0,"t1":4}'
 *     writes the same with random values, prints "written <change set>" and
 *     waits to be killed.
 *
 * A job's "inflight" (default 1) is how many chunks the worker has in flight at
 * once, in either mode (memory: that many chunks). A slab job's "writer":
 * "zarrita" (default, zarr.set) or "store" (each chunk's encoded bytes given to
 * the session's set: the same bytes, without zarrita's copy into its chunk).
 *
 * The library is the built one (dist/), as a user's process loads it; TDV_CACHE_DIR
 * and the S3 credentials come from the environment.
 */
import { fileURLToPath } from "node:url";
import * as zarr from "zarrita";

const lib = await import(fileURLToPath(new URL("../../dist/src/index.js", import.meta.url)));

/** The value at (t, y, x): exact in float32, distinct enough to catch a misplaced chunk. */
function VALUE(t, y, x) {
  return ((t * 7919 + y * 31 + x) % 65536) / 4;
}

/** The values of the chunk at (t, y, x) of shape (ct, cy, cx): VALUE, or random ones for "hang". */
function slab(t, y, x, ct, cy, cx) {
  const data = new Float32Array(ct * cy * cx);
  let k = 0;
  for (let i = 0; i < ct; i++) for (let j = 0; j < cy; j++) for (let l = 0; l < cx; l++) data[k++] = job.mode === "hang" ? Math.random() : VALUE(t + i, y + j, x + l);
  return data;
}

/** Run `write` for each chunk origin of [t0, t1) × Y × X, `inflight` at a time, in order of their start. */
async function eachChunk(Y, X, [ct, cy, cx], write) {
  const origins = [];
  for (let t = job.t0; t < job.t1; t += ct) for (let y = 0; y < Y; y += cy) for (let x = 0; x < X; x += cx) origins.push([t, y, x]);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, job.inflight ?? 1) }, async () => {
      while (next < origins.length) await write(...origins[next++]);
    }),
  );
}

const token = JSON.parse(process.argv[2]);
const job = JSON.parse(process.argv[3]);
if (job.mode === "raw") {
  // the floor of the benchmark: the same bytes PUT straight to the store, as a session's worker sends them
  const backend = await lib.openBackend(job.url);
  const [, Y, X] = job.shape;
  const [ct, cy, cx] = job.chunks;
  await eachChunk(Y, X, job.chunks, (t, y, x) => backend.put(`${t / ct}.${y / cy}.${x / cx}`, new Uint8Array(slab(t, y, x, ct, cy, cx).buffer)));
  process.stdout.write("{}\n");
  process.exit(0);
}
const session = await lib.openRemoteWriteSession(token);
const arr = await zarr.open(zarr.root(session).resolve(job.array), { kind: "array" });
const [, Y, X] = arr.shape;
const [ct, cy, cx] = arr.chunks;
await eachChunk(Y, X, arr.chunks, async (t, y, x) => {
  const data = slab(t, y, x, ct, cy, cx);
  // "store": the chunk's encoded bytes handed to the session's own set (a v2 "<f4" array without a
  // compressor: the values' little-endian bytes, as zarrita encodes them), not through zarrita's copy
  if (job.writer === "store") await session.set(`${job.array}/${t / ct}.${y / cy}.${x / cx}`, new Uint8Array(data.buffer));
  else await zarr.set(arr, [zarr.slice(t, t + ct), zarr.slice(y, y + cy), zarr.slice(x, x + cx)], { data, shape: [ct, cy, cx], stride: [cy * cx, cx, 1] });
});
const set = session.changeSet();
if (job.mode === "hang") {
  process.stdout.write(`written ${JSON.stringify(set)}\n`);
  setInterval(() => {}, 1000); // holds the session (and its announcement) until killed
} else {
  await session.close();
  process.stdout.write(`${JSON.stringify(set)}\n`);
}
