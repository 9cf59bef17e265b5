/**
 * Work shared between the main thread and one worker thread: a list of items
 * both take from one counter in shared memory, so neither waits for the other
 * and a slow worker start costs nothing but the items it did not take.
 *
 * The worker is a module of its own (worker.ts; in the bundle dist/bin/worker.js,
 * beside the script that starts it) that does its items with the same
 * functions the main thread uses. It gets a job (worker-protocol.ts) as
 * `workerData` with the counter in `claims`, and posts one reply when the
 * counter passes the end: its result, or its error, which is thrown here as
 * the same tdv error class.
 *
 * If the worker cannot start or dies, the main thread does the items it did
 * not take itself.
 */
import { Worker } from "node:worker_threads";
import { parseReply, receiveError, type ResultOf, type WorkerJob } from "./worker-protocol.js";

/**
 * The worker module: beside this one in tsc's output and in the bundle (whose
 * import.meta.url is the bundle's). Run from the TypeScript sources (the
 * tests), the compiled one in dist/.
 */
export function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/src/worktree/worker.js", here) : new URL("./worker.js", here);
}

/** Take items from the shared counter until it passes `count`, doing each with `each`. */
export async function takeItems(claims: SharedArrayBuffer, count: number, each: (i: number) => void | Promise<void>): Promise<void> {
  const next = new Int32Array(claims);
  for (let i = Atomics.add(next, 0, 1); i < count; i = Atomics.add(next, 0, 1)) await each(i);
}

/**
 * Run `count` items on both threads: `doItem(i)` on the main thread, the job
 * on the worker. Returns the worker's result (null when it never answered,
 * and then every item it took was done here) and how many items the main
 * thread did.
 */
export async function shareWork<J extends WorkerJob>(
  job: Omit<J, "claims">,
  count: number,
  doItem: (i: number) => void | Promise<void>,
  /** false: the main thread leaves every item to the worker (tests of the worker's side) */
  mainShares = true,
): Promise<{ result: ResultOf<J["kind"]> | null; byMain: number }> {
  const claims = new SharedArrayBuffer(4);
  const next = new Int32Array(claims);
  const mine = new Uint8Array(count);
  let byMain = 0;
  let worker: Worker | null = null;
  let answer: Promise<unknown> = Promise.resolve(null);
  try {
    worker = new Worker(workerUrl(), { workerData: { ...job, claims } });
    const w = worker;
    answer = new Promise((resolve) => {
      w.once("message", (m: unknown) => resolve(m));
      w.once("error", () => resolve(null));
      w.once("exit", () => resolve(null));
    });
  } catch {
    worker = null; // no threads here: the main thread does everything
  }
  try {
    for (let i = mainShares || !worker ? Atomics.add(next, 0, 1) : count; i < count; i = Atomics.add(next, 0, 1)) {
      mine[i] = 1;
      byMain++;
      await doItem(i);
    }
  } catch (err) {
    Atomics.store(next, 0, count); // the worker takes nothing more
    void worker?.terminate();
    throw err;
  }
  const got = await answer;
  void worker?.terminate();
  if (got !== null) {
    const reply = parseReply(job.kind as J["kind"], got);
    if (reply.kind === "error") throw receiveError((reply as { error: Parameters<typeof receiveError>[0] }).error);
    return { result: reply as ResultOf<J["kind"]>, byMain };
  }
  for (let i = 0; i < count; i++) {
    if (mine[i]) continue;
    byMain++;
    await doItem(i);
  }
  return { result: null, byMain };
}
