/**
 * What push and fetch share: progress events, transfer counters, the
 * number of requests in flight (--jobs), and a bounded-concurrency runner.
 */
import { UsageError } from "../errors.js";

/** Requests in flight unless --jobs says otherwise. */
export const DEFAULT_JOBS = 16;
export const MAX_JOBS = 256;

/** Refuse a --jobs value outside 1..256 (a clear error, before any request). */
export function checkJobs(jobs: number): void {
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) {
    throw new UsageError(`--jobs must be a whole number from 1 to ${MAX_JOBS} (got ${Number.isNaN(jobs) ? "not a number" : jobs})`, {
      hint: `give how many requests may run at once, e.g. \`--jobs 32\` (default ${DEFAULT_JOBS})`,
    });
  }
}

/** Parse a --jobs option value (commander's argParser); the library checks the range. */
export function parseJobs(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  checkJobs(n);
  return n;
}
export interface TransferProgress {
  /** "uploading", "receiving metadata", "receiving chunks", ... */
  phase: string;
  /** objects done / total; total is absent while not known (a walk still discovering objects), never revised */
  done: number;
  total?: number;
  /** bytes done / total (totalBytes absent when not known ahead) */
  bytes: number;
  totalBytes?: number;
  unit: "objects";
}

export type OnTransferProgress = (p: TransferProgress) => void;

export interface TransferCounts {
  objects: number;
  bytes: number;
  chunks: number;
  gitObjects: number;
}

export function zeroCounts(): TransferCounts {
  return { objects: 0, bytes: 0, chunks: 0, gitObjects: 0 };
}

export function addCount(c: TransferCounts, kind: "chunk" | "git", bytes: number): void {
  c.objects++;
  c.bytes += bytes;
  if (kind === "chunk") c.chunks++;
  else c.gitObjects++;
}

/**
 * A progress meter for one phase; calls `onProgress` at most every 50 ms
 * (and always for the last item). Totals are given up front; once `grow`
 * says they were not final, they are reported as unknown (a count without a
 * percentage) for the rest of the phase, never as a smaller fraction; a
 * null total is unknown from the start (a count of what a walk finds).
 */
export function meter(onProgress: OnTransferProgress | undefined, phase: string, totalGiven: number | null, totalBytes?: number) {
  let done = 0;
  let bytes = 0;
  let last = 0;
  let known = totalGiven !== null;
  let total = totalGiven ?? 0;
  const emit = (force: boolean) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - last < 50) return;
    last = now;
    onProgress(known ? { phase, done, total, bytes, ...(totalBytes === undefined ? {} : { totalBytes }), unit: "objects" } : { phase, done, bytes, unit: "objects" });
  };
  emit(true);
  return {
    add(n: number) {
      done++;
      bytes += n;
      emit(done === total);
    },
    grow(n: number) {
      total += n;
      known = false;
    },
  };
}

/**
 * Run `fn` over items pulled from a queue that `fn` itself may extend, with
 * at most `limit` in flight. Ends when the queue is empty and nothing runs.
 * After a failure nothing new starts, and the first error is thrown once the
 * tasks in flight have settled (so none writes after the caller cleaned up).
 */
export async function drain<T>(initial: readonly T[], limit: number, fn: (item: T, push: (next: T) => void) => Promise<void>): Promise<void> {
  const queue: T[] = [...initial];
  let head = 0;
  let running = 0;
  let failed: { err: unknown } | null = null;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (running === 0 && (failed || head === queue.length)) return failed ? reject(failed.err) : resolve();
      while (!failed && running < limit && head < queue.length) {
        const item = queue[head] as T;
        queue[head++] = undefined as T; // let it be collected
        running++;
        fn(item, (next) => queue.push(next)).then(
          () => {
            running--;
            pump();
          },
          (err) => {
            failed ??= { err };
            running--;
            pump();
          },
        );
      }
    };
    pump();
  });
}

/** mapLimit that, on a failure, starts nothing new and throws once the tasks in flight have settled. */
export async function mapSettled<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  await drain(
    items.map((item, i) => ({ item, i })),
    limit,
    async ({ item, i }) => {
      out[i] = await fn(item, i);
    },
  );
  return out;
}
