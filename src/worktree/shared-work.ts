/**
 * Work shared between the main thread and one worker thread: a list of items
 * both take from one counter in shared memory, so neither waits for the other
 * and a slow worker start costs nothing but the items it did not take.
 *
 * The worker runs source text (`new Worker(source, { eval: true })`), so the
 * same code serves the bundle, tsc's output and the tests: its functions are
 * self-contained and given Node's modules as arguments. The worker reads
 * `workerData.claims` (an Int32Array's buffer: the next item) and posts one
 * result when the counter passes the end, or `{ error: { message, code, path } }`.
 *
 * If the worker cannot start or dies, the main thread does the items it did
 * not take itself.
 */
import { Worker } from "node:worker_threads";

export interface WorkerFailure {
  /** thrown on the main thread as an Error with these fields (a worker may add its own, e.g. which object was corrupt) */
  error: { message: string; code?: string; path?: string; [more: string]: unknown };
}

/** Build a worker's source: `main(...modules, ...helpers)` with Node modules by name and helper functions by source text. */
export function workerSource(main: (...args: never[]) => void, modules: readonly string[], helpers: readonly ((...args: never[]) => unknown)[] = []): string {
  const args = [...modules.map((m) => `require(${JSON.stringify(m)})`), ...helpers.map((f) => f.toString())];
  return `(${main.toString()})(${args.join(", ")})`;
}

/**
 * Run `count` items on both threads: `doItem(i)` on the main thread, the
 * worker's source on the other. Returns the worker's result (null when it
 * never answered, and then every item it took was done here) and how many
 * items the main thread did.
 */
export async function shareWork<R extends object>(
  source: string,
  data: Record<string, unknown>,
  count: number,
  doItem: (i: number) => void | Promise<void>,
  /** false: the main thread leaves every item to the worker (tests of the worker's side) */
  mainShares = true,
): Promise<{ result: R | null; byMain: number }> {
  const claims = new SharedArrayBuffer(4);
  const next = new Int32Array(claims);
  const mine = new Uint8Array(count);
  let byMain = 0;
  let worker: Worker | null = null;
  let answer: Promise<R | WorkerFailure | null> = Promise.resolve(null);
  try {
    worker = new Worker(source, { eval: true, workerData: { ...data, claims } });
    const w = worker;
    answer = new Promise((resolve) => {
      w.once("message", (m: R | WorkerFailure) => resolve(m));
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
  if (got && "error" in got) {
    throw Object.assign(new Error(got.error.message), got.error);
  }
  if (!got) {
    for (let i = 0; i < count; i++) {
      if (mine[i]) continue;
      byMain++;
      await doItem(i);
    }
    return { result: null, byMain };
  }
  return { result: got as R, byMain };
}
