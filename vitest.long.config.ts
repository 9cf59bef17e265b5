import { defineConfig } from "vitest/config";
import { shared } from "./vitest.config.js";

// `npm run test:long`: the reliability lanes (crash, concurrency, gc races, hostile
// input, full disks) and the slow end-to-end scenarios (`*.long.test.ts`). CI runs them after `npm test`; TDV_CRASH_SCALE and
// TDV_GC_RACE_ROUNDS make them longer.
export default defineConfig({
  test: {
    ...shared,
    include: ["test/reliability/**/*.test.ts", "test/**/*.long.test.ts", "test/**/*.long.test.tsx"],
    // both cores, as npm test: on one worker the lane took 17 min of CI's 20 (the files wait on
    // spawned processes and servers as much as they compute)
    maxWorkers: 2,
  },
});
