import { randomBytes } from "node:crypto";
import { constants, promises as fsp } from "node:fs";
import path from "node:path";
import { FileAccessError } from "../errors.js";

/** Name for a temp file; unique per process and call. */
export function tempName(base: string): string {
  return `${base}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
}

/**
 * Write `bytes` to `file` atomically: write a temp file beside it, fsync it,
 * then rename over the target. Readers see the old bytes or the new, never half.
 */
export async function writeAtomic(
  file: string,
  bytes: Uint8Array | string,
  { durable = true, mode }: { durable?: boolean; mode?: number } = {},
): Promise<void> {
  const tmp = tempName(file);
  try {
    const fh = await fsp.open(tmp, "wx", mode);
    try {
      await fh.writeFile(bytes);
      if (durable) await fh.datasync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw asAccessError(err, file);
  }
}

/**
 * Write a content-addressed object: like writeAtomic, but an existing target
 * is left alone (same name means same bytes) and missing folders are made.
 */
export async function writeObjectFile(
  file: string,
  bytes: Uint8Array,
  durable: boolean,
): Promise<boolean> {
  if (await exists(file)) return false;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeAtomic(file, bytes, { durable, mode: 0o444 });
  return true;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

export async function readFileOrNull(file: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw asAccessError(err, file);
  }
}

/** Wrap a Node file-system error into a FileAccessError naming the path. */
export function asAccessError(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return new FileAccessError(file, code, err);
  return err;
}

/** Run `fn` over `items` with at most `limit` in flight; results keep input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
