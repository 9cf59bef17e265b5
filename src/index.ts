/** tdv's public API: the CLI imports only this module. */
export * from "./errors.js";
export type { ChunkId, GitOid } from "./format/hash.js";
export type { ArrayMeta } from "./format/zarr-meta.js";
export { Repository, TDV_VERSION, REPO_FORMAT_VERSION } from "./repo/repository.js";
export { add, type AddOptions, type AddResult, type Progress } from "./repo/add.js";
export { commit, type CommitOptions, type CommitResult } from "./repo/commit.js";
export { status, type StatusResult } from "./repo/status.js";
export type { Change, ChangeKind, ArrayChanges, GroupedChanges } from "./repo/changes.js";
export { checkout, switchBranch, restore, reset, type ResetMode, type CheckoutResult } from "./repo/checkout.js";
export { show, ls, cat, type ShowResult, type ArrayInfo } from "./repo/inspect.js";
export { resolveRevision, parseDate } from "./repo/revision.js";
export { listBranches, createBranch, deleteBranch, currentBranch } from "./repo/branch.js";
export { listTags, createTag, deleteTag } from "./repo/tag.js";
export { log, type LogEntry } from "./repo/log.js";
export type { CommitObject, Person } from "./store/git.js";
