/**
 * What push and fetch share: progress events, transfer counters, and a
 * bounded-concurrency runner.
 */
export interface TransferProgress {
  /** "uploading", "receiving metadata", "receiving chunks", ... */
  phase: string;
  /** objects done / total (total grows while a walk discovers more) */
  done: number;
  total: number;
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
 * A progress meter for one phase with known totals; calls `onProgress` at
 * most every 50 ms (and always for the last item).
 */
export function meter(onProgress: OnTransferProgress | undefined, phase: string, total: number, totalBytes?: number) {
  let done = 0;
  let bytes = 0;
  let last = 0;
  const emit = (force: boolean) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - last < 50) return;
    last = now;
    onProgress({ phase, done, total, bytes, ...(totalBytes === undefined ? {} : { totalBytes }), unit: "objects" });
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
