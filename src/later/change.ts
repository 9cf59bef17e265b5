/** The functions of the public index that load with the first call of one of them (src/index.ts, `later`): change. */
export { add } from "../commands/add.js";
export { checkout, reset, restore, switchBranch } from "../commands/checkout.js";
export { commit } from "../commands/commit.js";
export { fsck } from "../commands/fsck.js";
export { gc } from "../commands/gc.js";
export { revert } from "../commands/revert.js";
export { changeSparse } from "../commands/sparse.js";
export { stashApply, stashDrop, stashList, stashPush } from "../commands/stash.js";
export { unstage } from "../commands/unstage.js";
