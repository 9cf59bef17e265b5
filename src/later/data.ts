/** The functions of the public index that load with the first call of one of them (src/index.ts, `later`): data. */
export { exportRevision } from "../commands/export.js";
export { merge, mergeAbort, mergeContinue, mergeQuit } from "../commands/merge.js";
export { rebase, rebaseAbort, rebaseContinue, rebaseSkip } from "../commands/rebase.js";
export { isReleaseTag, listReleases, readRelease, release, releaseArrays, verifyRelease } from "../commands/release.js";
export { resolve } from "../commands/resolve.js";
export { serve } from "../remote/serve.js";
export { detectConflicts } from "../repo/merge/detect.js";
export { solve } from "../repo/merge/solve.js";
export { checkRevision, loadRules } from "../rules/check.js";
export { openWriteSession } from "../rules/session.js";
export { openSession } from "../session/read.js";
export { decodeChunk, fillChunk } from "../zarr/decode.js";
export { encodeChunk } from "../zarr/encode.js";
