/**
 * What the library takes as options and the CLI reads from the environment,
 * in one place (the library reads no environment variable for these).
 *
 *   TDV_FSYNC   when written objects reach the disk: unset (deferred: one
 *               sync before a ref or the index names them), "each" (fsync
 *               every object), "0" (never: throwaway repositories, tests)
 */
import type { DurabilityMode } from "../src/index.js";

/** The durability mode TDV_FSYNC asks for. */
export function durabilityFromEnv(env: NodeJS.ProcessEnv = process.env): DurabilityMode {
  const v = env.TDV_FSYNC;
  return v === "0" ? "none" : v === "each" ? "fsync" : "deferred";
}

/** The options every repository the CLI opens or creates gets from the environment. */
export function repoOptions(env: NodeJS.ProcessEnv = process.env): { durability: DurabilityMode } {
  return { durability: durabilityFromEnv(env) };
}
