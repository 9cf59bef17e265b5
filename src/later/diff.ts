/** The functions of the public index that load with the first call of one of them (src/index.ts, `later`): diff. */
export { diff } from "../commands/diff.js";
