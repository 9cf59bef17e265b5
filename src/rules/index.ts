/** Validation rules on the data: `tdv-rules.toml`, `tdv check`, and the policy commit, merge and push follow. */
export { checkRevision, loadRules, type Verdict, type CheckOptions } from "./check.js";
export { branchPolicy, parseRules, globMatcher, canonicalDtype, RULES_FILE, type Rules, type ArrayRule, type GroupRule, type BranchRule, type CheckPoint } from "./parse.js";
export { RulesFileError, RulesFailedError, ProtectedBranchError, ReleaseRefusedError, describeFailure, type RuleFailure } from "./errors.js";
export { gate, NO_VERIFY_TRAILER } from "./gate.js";
