/**
 * The messages between the main thread and the working copy's worker thread
 * (worker.ts): a job goes in as `workerData`, one reply comes back. Both are
 * checked where they arrive: a malformed one is an error, never a cast.
 *
 * A worker's error travels as data (its `_tag`, message and fields) and is
 * rebuilt on the main thread with the class of src/errors.ts that has that
 * tag, so the caller sees the same error (class, message, hint, exit code) as
 * when the main thread does the work itself.
 */
import * as errors from "../errors.js";
import type { VerifyOutcome, VerifyTask } from "../store/verified-copy.js";

/** Folders the scan worker walks: [path relative to the root, absolute path]. */
export interface ScanJob {
  kind: "scan";
  claims: SharedArrayBuffer;
  dirs: [string, string][];
  skipDirs: string[];
}

/** Working files the store worker hashes and (with `write`) stores as chunk objects. */
export interface StoreJob {
  kind: "store";
  claims: SharedArrayBuffer;
  root: string;
  /** the files' paths relative to root, as UTF-8 one after the other (shared: no copy, and no string a file held) */
  names: SharedArrayBuffer;
  /** where each path starts in `names`, and where the last ends (Float64Array, one more than the files) */
  nameStarts: SharedArrayBuffer;
  chunksDir: string;
  write: boolean;
  /** files, bytes done by the worker (Float64Array): read by the main thread for its progress line */
  progress: SharedArrayBuffer;
  /** per file (Int32Array): 1 (present) or 2 (written) once the worker stored it, written with Atomics after its slot */
  done: SharedArrayBuffer;
  /** where the worker writes what it stored: a chunk entry's bytes after its path (store 1, id, size, mtimeMs, ctimeMs, ino: 65 bytes) */
  slots: SharedArrayBuffer;
  /** per file (Uint32Array): where its slot is in `slots` */
  at: SharedArrayBuffer;
}

/** Chunk objects the checkout worker copies to working files (paths checked and folders made by the main thread). */
export interface CopyJob {
  kind: "copy";
  claims: SharedArrayBuffer;
  root: string;
  /** the working files' paths relative to root, joined by NUL */
  names: string;
  /** the objects' ids, 64 hex digits each, one after the other */
  ids: string;
  sizes: Float64Array;
  chunksDir: string;
  tmpDir: string;
  block: number;
  /** files, bytes placed by the worker (Float64Array) */
  progress: SharedArrayBuffer;
  /** per file (Int32Array): PLACED or MISSING, written with Atomics after its stats */
  outcome: SharedArrayBuffer;
  /** per file (Float64Array): size, mtimeMs, ctimeMs, ino */
  stats: SharedArrayBuffer;
}

export type WorkerJob = ScanJob | StoreJob | CopyJob;

/**
 * A long-lived worker of remote/verify-pool.ts (its `workerData`): instead of
 * one job it takes tasks as messages, answering each by its `seq`.
 */
export interface VerifyPoolJob {
  kind: "verify-pool";
}
export type VerifyMessage = VerifyTask & { seq: number };
export type VerifyAnswer = { seq: number; outcome: VerifyOutcome } | { seq: number; error: SentError };

/** bad: [dir, name in hex, folder] of each name that is not UTF-8 */
export interface ScanResult {
  kind: "scan";
  /** the files found, joined by NUL */
  paths: string;
  /** per file: size, mtimeMs, ctimeMs, ino */
  stats: Float64Array;
  /** per folder walked: its number in the job's `dirs`, its first file, the file after its last */
  runs: Float64Array;
  /** [path, reason] of each entry skipped (symbolic links, special files, reserved names) */
  skipped: [string, string][];
  folders: number;
  bad: [string, string, boolean][];
}

export interface CountResult {
  kind: "store" | "copy";
  files: number;
}

export type WorkerResult = ScanResult | CountResult;

/** An error as data: a tdv error's `_tag` (absent for others) and its own fields, in their order. */
export interface SentError {
  tag: string | null;
  name: string;
  message: string;
  stack: string | undefined;
  fields: [string, unknown][];
  cause: SentError | null;
}

export type WorkerReply = WorkerResult | { kind: "error"; error: SentError };

/** The result a job of kind K answers with. */
export type ResultOf<K extends WorkerJob["kind"]> = K extends "scan" ? ScanResult : CountResult;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isSab = (v: unknown): v is SharedArrayBuffer => v instanceof SharedArrayBuffer;
const isString = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isPair = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && isString(v[0]) && isString(v[1]);

function fail(what: string, v: unknown): never {
  const kind = isObject(v) ? `kind ${JSON.stringify(v.kind)}` : typeof v;
  throw new Error(`malformed ${what} (${kind}): the worker and the main thread disagree on their messages`);
}

/** Check a job as the worker receives it. */
export function parseJob(v: unknown): WorkerJob | VerifyPoolJob {
  if (isObject(v) && v.kind === "verify-pool") return { kind: "verify-pool" };
  if (!isObject(v) || !isSab(v.claims)) fail("worker job", v);
  switch (v.kind) {
    case "scan":
      if (Array.isArray(v.dirs) && v.dirs.every(isPair) && Array.isArray(v.skipDirs) && v.skipDirs.every(isString)) return v as unknown as ScanJob;
      break;
    case "store":
      if (
        isString(v.root) && isSab(v.names) && isSab(v.nameStarts) && isString(v.chunksDir) && typeof v.write === "boolean" &&
        isSab(v.progress) && isSab(v.done) && isSab(v.slots) && isSab(v.at)
      )
        return v as unknown as StoreJob;
      break;
    case "copy":
      if (
        isString(v.root) && isString(v.names) && isString(v.ids) && v.sizes instanceof Float64Array && isString(v.chunksDir) &&
        isString(v.tmpDir) && isCount(v.block) && v.block > 0 && isSab(v.progress) && isSab(v.outcome) && isSab(v.stats)
      )
        return v as unknown as CopyJob;
      break;
  }
  fail("worker job", v);
}

function parseSentError(v: unknown): SentError {
  if (
    !isObject(v) || !(v.tag === null || isString(v.tag)) || !isString(v.name) || !isString(v.message) ||
    !(v.stack === undefined || isString(v.stack)) || !Array.isArray(v.fields) ||
    !v.fields.every((f) => Array.isArray(f) && f.length === 2 && isString(f[0]))
  )
    fail("worker error", v);
  return { tag: v.tag, name: v.name, message: v.message, stack: v.stack, fields: v.fields as [string, unknown][], cause: v.cause == null ? null : parseSentError(v.cause) };
}

/** Check the reply to a job of kind `kind` as the main thread receives it. */
export function parseReply<K extends WorkerJob["kind"]>(kind: K, v: unknown): ResultOf<K> | { kind: "error"; error: SentError } {
  if (!isObject(v)) fail("worker reply", v);
  if (v.kind === "error") return { kind: "error", error: parseSentError(v.error) };
  if (v.kind !== kind) fail(`reply to a ${kind} job`, v);
  if (kind === "scan") {
    if (
      isString(v.paths) && v.stats instanceof Float64Array && v.runs instanceof Float64Array && isCount(v.folders) &&
      Array.isArray(v.skipped) && v.skipped.every((s) => Array.isArray(s) && s.length === 2 && isString(s[0]) && isString(s[1])) &&
      Array.isArray(v.bad) &&
      v.bad.every((b) => Array.isArray(b) && b.length === 3 && isString(b[0]) && isString(b[1]) && typeof b[2] === "boolean")
    )
      return v as unknown as ResultOf<K>;
  } else if (isCount(v.files)) return v as unknown as ResultOf<K>;
  fail(`reply to a ${kind} job`, v);
}

/** Turn an error into data a message can carry (structured clone keeps no class). */
export function sendError(err: unknown): SentError {
  if (!(err instanceof Error)) return { tag: null, name: "Error", message: String(err), stack: undefined, fields: [], cause: null };
  const fields: [string, unknown][] = [];
  for (const [k, v] of Object.entries(err)) {
    if (k === "cause" || typeof v === "function") continue;
    fields.push([k, v]);
  }
  return {
    tag: errors.isTdvError(err) ? err._tag : null,
    name: err.name,
    message: err.message,
    stack: err.stack,
    fields,
    cause: err.cause === undefined ? null : sendError(err.cause),
  };
}

/** The error classes of src/errors.ts by tag (each class is exported under its tag). */
const CLASSES = new Map<string, abstract new (...args: never[]) => errors.TdvError>();
for (const [name, value] of Object.entries(errors)) {
  if (typeof value === "function" && value.prototype instanceof errors.TdvError) CLASSES.set(name, value as never);
}

/**
 * Rebuild a worker's error on this thread: a tdv error as an instance of its
 * class with the same fields (the constructor is not run again: its message
 * and fields are the worker's), any other as an Error with its fields (code,
 * path, …). The stack is the worker's.
 */
export function receiveError(e: SentError): Error {
  const cls = e.tag === null ? undefined : CLASSES.get(e.tag);
  const err: Error = cls ? Object.create(cls.prototype) : new Error(e.message);
  const hidden = (key: string, value: unknown) => Object.defineProperty(err, key, { value, writable: true, configurable: true, enumerable: false });
  hidden("message", e.message);
  if (e.stack !== undefined) hidden("stack", e.stack);
  if (e.cause) hidden("cause", receiveError(e.cause));
  for (const [k, v] of e.fields) (err as unknown as Record<string, unknown>)[k] = v;
  if (!cls && e.name !== "Error" && !e.fields.some(([k]) => k === "name")) hidden("name", e.name);
  return err;
}

/** Check a verify task as the pool's worker receives it. */
export function parseVerifyMessage(v: unknown): VerifyMessage {
  if (isObject(v) && isCount(v.seq) && isString(v.src) && isString(v.id)) {
    if (
      v.op === "copy" && isString(v.file) && isString(v.tmp) && typeof v.durable === "boolean" && typeof v.check === "boolean" &&
      (v.mode === undefined || isCount(v.mode))
    )
      return v as unknown as VerifyMessage;
  }
  fail("verify task", v);
}

/** Check a verify answer as the main thread receives it. */
export function parseVerifyAnswer(v: unknown): VerifyAnswer {
  if (!isObject(v) || !isCount(v.seq)) fail("verify answer", v);
  if ("error" in v) return { seq: v.seq, error: parseSentError(v.error) };
  const o = v.outcome;
  if (isObject(o) && (isString(o.corrupt) || o.missing === true || (typeof o.wrote === "boolean" && isCount(o.bytes)))) {
    return v as unknown as VerifyAnswer;
  }
  fail("verify answer", v);
}
