/**
 * What the library takes as options and the CLI reads from the environment,
 * in one place (the library reads none of these variables).
 *
 *   TDV_FSYNC             when written objects reach the disk: unset (deferred:
 *                         one sync before a ref or the index names them), "each"
 *                         (fsync every object), "0" (never: throwaway repositories, tests)
 *   TDV_GC_WAIT_MS        how long a command that writes waits for a running gc
 *   TDV_WRITERS_WAIT_MS   how long gc waits for running writers
 */
import type { DurabilityMode, RepoOptions } from "../src/index.js";

/** The durability mode TDV_FSYNC asks for. */
export function durabilityFromEnv(env: NodeJS.ProcessEnv = process.env): DurabilityMode {
  const v = env.TDV_FSYNC;
  return v === "0" ? "none" : v === "each" ? "fsync" : "deferred";
}

/** A duration in ms from the environment: undefined (the library's default) unless a number ≥ 0. */
function envMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  const v = Number(raw);
  return raw !== undefined && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** The options every repository the CLI opens or creates gets from the environment. */
export function repoOptions(env: NodeJS.ProcessEnv = process.env): RepoOptions {
  const gcWaitMs = envMs(env, "TDV_GC_WAIT_MS");
  const writersWaitMs = envMs(env, "TDV_WRITERS_WAIT_MS");
  return { durability: durabilityFromEnv(env), ...(gcWaitMs === undefined ? {} : { gcWaitMs }), ...(writersWaitMs === undefined ? {} : { writersWaitMs }) };
}
