/**
 * Where rules run: the gate commit and merge pass a new commit through
 * before the branch moves to it. The branch's policy comes from the rules of
 * the commit itself (tdv-rules.toml is versioned with the data); a branch
 * whose `check_on` names the action gets the commit checked, and a failing
 * result is refused, or, with `--no-verify`, recorded in a trailer.
 */
import type { GitOid } from "../format/hash.js";
import type { Repository, Stores } from "../repo/repository.js";
import { checkRevision, loadRules } from "./check.js";
import { branchPolicy } from "./parse.js";
import { RulesFailedError } from "./errors.js";
import { RULES_FILE, type CheckPoint } from "./parse.js";
import { isTdvError } from "../errors.js";

export const NO_VERIFY_TRAILER = "Tdv-No-Verify";

/**
 * Check `commit`, about to land on `branch` (a full ref name or null when
 * detached) by `action`. Returns null when it may land as it is, the
 * trailers to record when `noVerify` let a failing result through, and
 * throws RulesFailedError when the rules refuse it.
 */
export async function gate(repo: Repository<Stores>, commit: GitOid, branch: string | null, action: CheckPoint, noVerify: boolean): Promise<Record<string, string> | null> {
  if (branch === null || !branch.startsWith("refs/heads/")) return null;
  let rules: Awaited<ReturnType<typeof loadRules>>;
  try {
    rules = await loadRules(repo, commit);
  } catch (err) {
    // a rules file that does not parse is refused like a failing rule, and --no-verify lets it through, recorded
    if (noVerify && isTdvError(err, "RulesFileError")) return { [NO_VERIFY_TRAILER]: `${RULES_FILE} is not valid` };
    throw err;
  }
  const name = branch.slice("refs/heads/".length);
  if (!branchPolicy(rules, name).checkOn.has(action)) return null;
  const verdict = await checkRevision(repo, commit);
  if (verdict.passed) return null;
  if (noVerify) return { [NO_VERIFY_TRAILER]: `${verdict.failures.length} rule failure${verdict.failures.length === 1 ? "" : "s"}` };
  throw new RulesFailedError(action, name, verdict.failures);
}
