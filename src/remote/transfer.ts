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
 */
export async function drain<T>(initial: readonly T[], limit: number, fn: (item: T, push: (next: T) => void) => Promise<void>): Promise<void> {
  const queue: T[] = [...initial];
  let running = 0;
  let failed: unknown = null;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failed) return;
      if (queue.length === 0 && running === 0) return resolve();
      while (running < limit && queue.length > 0) {
        const item = queue.shift() as T;
        running++;
        fn(item, (next) => queue.push(next)).then(
          () => {
            running--;
            pump();
          },
          (err) => {
            failed = err;
            reject(err);
          },
        );
      }
    };
    pump();
  });
}
