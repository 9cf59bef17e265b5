/**
 * Buffers lent for reads whose bytes live briefly (a chunk `tdv serve` reads,
 * verifies and sends), then given back and lent again. A server that
 * allocated a new buffer per chunk made the garbage collector run a full
 * mark-compact every few dozen chunks (large buffers are memory outside the
 * heap, and its growth triggers one); lent buffers are allocated once.
 *
 * A buffer is given back only once nothing holds it any more (for a response:
 * when it has finished, never when it was cut short, as the socket may still
 * hold the bytes). One not given back is collected as any other; one given
 * twice, or never lent by this pool, is ignored, so a buffer is never lent to
 * two readers at once.
 */

/** The smallest buffer kept; smaller reads are cheap to allocate. */
const MIN_CLASS = 64 * 1024;

export class BufferPool {
  /** free buffers by capacity (a power of two) */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** buffers lent and not given back */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** bytes held in `free` */
  private held = 0;

  constructor(
    /** at most this many bytes kept free (default 64 MiB) */
    readonly maxBytes = 64 * 1024 * 1024,
    /** larger reads are not pooled (default 16 MiB) */
    readonly maxBuffer = 16 * 1024 * 1024,
  ) {}

  /** A buffer of at least `capacity` bytes, lent until `give`; its bytes are whatever it last held. */
  take(capacity: number): Buffer {
    const size = classOf(capacity);
    if (size > this.maxBuffer) return Buffer.allocUnsafeSlow(capacity);
    let ab = this.free.get(size)?.pop();
    if (ab) this.held -= size;
    else ab = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    this.lent.add(ab);
    return Buffer.from(ab, 0, size);
  }

  /** Give back a buffer `take` lent (or any view of it); the caller no longer reads it. */
  give(bytes: Uint8Array): void {
    const ab = bytes.buffer as ArrayBuffer;
    if (!this.lent.delete(ab)) return;
    if (this.held + ab.byteLength > this.maxBytes) return;
    const list = this.free.get(ab.byteLength);
    if (list) list.push(ab);
    else this.free.set(ab.byteLength, [ab]);
    this.held += ab.byteLength;
  }

  /** Bytes kept free now. */
  get freeBytes(): number {
    return this.held;
  }
}

function classOf(n: number): number {
  let c = MIN_CLASS;
  while (c < n) c *= 2;
  return c;
}
