/**
 * The errors of decoding and encoding chunk values, apart from the codecs
 * themselves: the public index exports them without loading zarrita's side.
 */
import { TdvError } from "../errors.js";
import { describeRefusal, type Refusal } from "./support.js";

/** What still works on an array whose values tdv cannot decode. */
const STILL_WORKS = "changed chunks are still reported (bytes, no values) and merged as whole chunks";

/**
 * tdv cannot decode an array's values faithfully: its data type, one of its
 * codecs, or a codec setting is not on the allow-list (src/zarr/support.ts),
 * or zarrita has no decoder for it. `codec` names the codec (the data type
 * for a data type); `setting` the parameter, when one is at fault.
 */
export class CodecUnavailableError extends TdvError<"CodecUnavailableError"> {
  readonly _tag = "CodecUnavailableError";
  readonly setting: string | null;
  constructor(
    readonly codec: string,
    detail: string,
    cause?: unknown,
    opts: { setting?: string | null; message?: string } = {},
  ) {
    super(opts.message ?? `cannot decode chunks encoded with '${codec}': ${detail}; ${STILL_WORKS}`, {
      hint: "to see values, read the array with a Zarr library that supports it (tdv decodes with zarrita); `tdv resolve PATH --chunk I --ours|--theirs` settles a chunk both sides changed",
      cause,
    });
    this.setting = opts.setting ?? null;
  }

  /** The error for an array the allow-list refuses. */
  static of(r: Refusal): CodecUnavailableError {
    const message = `cannot decode ${describeRefusal(r)}; ${STILL_WORKS}`;
    return r.kind === "dtype"
      ? new CodecUnavailableError(r.dtype, r.detail, undefined, { message })
      : new CodecUnavailableError(r.codec, r.detail, undefined, { setting: r.setting || null, message });
  }
}

/** A codec this tdv cannot encode with, a sharded array, or a chunk that did not round-trip. */
export class ChunkEncodeError extends TdvError<"ChunkEncodeError"> {
  readonly _tag = "ChunkEncodeError";
  constructor(
    readonly reason: string,
    opts: { cause?: unknown } = {},
  ) {
    super(`cannot encode chunk: ${reason}`, {
      hint: "resolve the chunk by taking one side (`tdv resolve PATH --chunk I,J --ours|--theirs`), or rewrite it with a Zarr tool and `tdv add` it",
      ...opts,
    });
  }
}

declare module "../errors.js" {
  interface TdvErrorMap {
    CodecUnavailableError: CodecUnavailableError;
    ChunkEncodeError: ChunkEncodeError;
  }
}
