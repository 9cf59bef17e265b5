/**
 * One committer of bench/sessions.mjs, in its own process (as independent
 * writers on other machines are): opens a write session on the branch with
 * its own cache, writes rows [4k, 4k+4) of the array `grid`, prints "ready",
 * waits for a line on stdin, commits, and prints its commit latency
 * (commit() called → returned), rebases and carried commits as JSON.
 *
 *   node bench/session-committer.mjs URL K
 *
 * The library is the built one (dist/); the S3 credentials and endpoint and
 * TDV_CACHE_DIR come from the environment.
 */
import { fileURLToPath } from "node:url";
import * as zarr from "zarrita";

const lib = await import(fileURLToPath(new URL("../dist/src/index.js", import.meta.url)));
const [url, kText] = process.argv.slice(2);
const k = Number(kText);
const s = await lib.openRemoteWriteSession(url, "main");
const a = await zarr.open(zarr.root(s).resolve("grid"), { kind: "array" });
await zarr.set(a, [zarr.slice(4 * k, 4 * k + 4), null], k + 1);
process.stdout.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.pause();
const t = performance.now();
const r = await s.commit(`committer ${k}`);
process.stdout.write(`${JSON.stringify({ ms: performance.now() - t, retries: r.rebased, carried: r.carried })}\n`);
