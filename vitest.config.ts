import { defineConfig } from "vitest/config";

// Node 20 reads the certificates NODE_EXTRA_CA_CERTS names as every process starts, before its
// code runs: ~45 ms of each of the suite's spawned CLIs on machines that set it to the system's
// bundle (`node -e 0` 75 ms with it, 27 without). No test speaks TLS; the workers and everything
// they spawn inherit the environment without it.
delete process.env.NODE_EXTRA_CA_CERTS;

// `npm test`: the suite a newcomer runs, a few minutes. The long lanes (kill -9 at
// random moments, racing processes, injected faults: test/reliability/) run with
// `npm run test:long` (vitest.long.config.ts) with the end-to-end scenarios too slow
// for a newcomer's run (files named `*.long.test.ts`), and CI runs both.
export const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    ...shared,
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    exclude: ["test/reliability/**", "test/**/*.long.test.ts", "test/**/*.long.test.tsx", "node_modules/**"],
    // both cores: the fast suite is CPU-bound (spawned CLIs), 270 s on one worker here, ~200 s on two
    maxWorkers: 2,
  },
});
