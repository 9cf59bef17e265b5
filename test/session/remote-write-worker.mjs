/**
 * A worker process of the remote write-session tests and the benchmark: opens
 * a fork of a session from its token alone (argv[2], JSON) and writes its
 * part through zarrita, one chunk at a time (memory stays at one chunk).
 *
 *   node remote-write-worker.mjs TOKEN '{"mode":"slab","array":"big.zarr/t","t0":0,"t1":16}'
 *     writes time steps [t0, t1) of the float32 array with VALUE(t, y, x) and
 *     prints its change set (JSON) on stdout.
 *   node remote-write-worker.mjs TOKEN '{"mode":"hang","array":"...","t0":0,"t1":4}'
 *     writes the same with random values, prints "written <change set>" and
 *     waits to be killed.
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

const token = JSON.parse(process.argv[2]);
const job = JSON.parse(process.argv[3]);
const session = await lib.openRemoteWriteSession(token);
const arr = await zarr.open(zarr.root(session).resolve(job.array), { kind: "array" });
const [, Y, X] = arr.shape;
const [ct, cy, cx] = arr.chunks;
for (let t = job.t0; t < job.t1; t += ct) {
  for (let y = 0; y < Y; y += cy) {
    for (let x = 0; x < X; x += cx) {
      const data = new Float32Array(ct * cy * cx);
      let k = 0;
      for (let i = 0; i < ct; i++) for (let j = 0; j < cy; j++) for (let l = 0; l < cx; l++) data[k++] = job.mode === "hang" ? Math.random() : VALUE(t + i, y + j, x + l);
      await zarr.set(arr, [zarr.slice(t, t + ct), zarr.slice(y, y + cy), zarr.slice(x, x + cx)], { data, shape: [ct, cy, cx], stride: [cy * cx, cx, 1] });
    }
  }
}
const set = session.changeSet();
if (job.mode === "hang") {
  process.stdout.write(`written ${JSON.stringify(set)}\n`);
  setInterval(() => {}, 1000); // holds the session (and its announcement) until killed
} else {
  await session.close();
  process.stdout.write(`${JSON.stringify(set)}\n`);
}
