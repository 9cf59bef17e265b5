/** The errors of validation rules: a rules file tdv cannot read, and a result the rules refuse. */
import { TdvError } from "../errors.js";

/** One rule a revision breaks: which rule, which array, and where (chunk index, coordinate values). */
export interface RuleFailure {
  /** the rule's key in tdv-rules.toml ("max_nan_fraction", "attrs", "complete_along", ...) */
  rule: string;
  /** the array (or group) it names; "" for the root */
  array: string;
  message: string;
  /** the chunk's index in the array's chunk grid, when the failure is in one chunk */
  chunk?: number[];
  /** the values of the array's 1-D coordinates at the failing element (CF time as ISO dates) */
  coords?: Record<string, string | number>;
}

/** `tdv-rules.toml` of a revision is not valid: names the file, the key, and the fix. */
export class RulesFileError extends TdvError<"RulesFileError"> {
  readonly _tag = "RulesFileError";
  constructor(
    readonly file: string,
    readonly key: string | null,
    problem: string,
    hint: string,
  ) {
    super(`${file}${key ? `: ${key}` : ""}: ${problem}`, { hint });
  }
}

/** One line for a failure: array, chunk, coordinates, what is wrong. */
export function describeFailure(f: RuleFailure): string {
  const where = [f.array === "" ? "/" : f.array];
  if (f.chunk) where.push(`chunk [${f.chunk.join(",")}]`);
  const coords = f.coords ? Object.entries(f.coords).map(([k, v]) => `${k} ${v}`) : [];
  return `${where.join(" ")}${coords.length ? ` (${coords.join(", ")})` : ""}: ${f.rule}: ${f.message}`;
}

/** A commit or merge refused because the result breaks the branch's rules: nothing moved. */
export class RulesFailedError extends TdvError<"RulesFailedError"> {
  readonly _tag = "RulesFailedError";
  constructor(
    /** "commit", "merge", "push" */
    readonly action: string,
    readonly branch: string,
    readonly failures: RuleFailure[],
    hint?: string,
  ) {
    const shown = failures.slice(0, 20).map((f) => `  ${describeFailure(f)}`);
    if (failures.length > shown.length) shown.push(`  … and ${failures.length - shown.length} more (\`tdv check --json\` lists them all)`);
    super(`${action} refused: the result breaks ${failures.length === 1 ? "1 rule" : `${failures.length} rules`} of tdv-rules.toml for branch '${branch}':\n${shown.join("\n")}`, {
      hint: hint ?? `fix the data (or the rules) and try again; \`--no-verify\` overrides, and is recorded in the commit (Tdv-No-Verify)`,
    });
  }
}

/** A push that would move a protected branch other than by a fast-forward: refused, with or without --force. */
export class ProtectedBranchError extends TdvError<"ProtectedBranchError"> {
  readonly _tag = "ProtectedBranchError";
  constructor(
    readonly branch: string,
    readonly remote: string,
  ) {
    super(`branch '${branch}' is protected on ${remote} (tdv-rules.toml): it moves only by fast-forward, so --force cannot move it`, {
      hint: `fetch and merge ${remote}'s '${branch}' first (\`tdv pull\`), then push without --force; or change its protection in tdv-rules.toml on that branch`,
    });
  }
}

declare module "../errors.js" {
  interface TdvErrorMap {
    RulesFileError: RulesFileError;
    RulesFailedError: RulesFailedError;
    ProtectedBranchError: ProtectedBranchError;
    ReleaseRefusedError: ReleaseRefusedError;
  }
}

/** The rules failed on the commit to release: nothing was tagged. */
export class ReleaseRefusedError extends TdvError<"ReleaseRefusedError"> {
  readonly _tag = "ReleaseRefusedError";
  constructor(
    readonly tag: string,
    readonly commit: string,
    readonly failures: RuleFailure[],
  ) {
    const shown = failures.slice(0, 20).map((f) => `  ${describeFailure(f)}`);
    const more = failures.length > 20 ? [`  ... and ${failures.length - 20} more`] : [];
    super([`the rules fail on ${commit.slice(0, 10)}: no release ${tag} made (${failures.length} failure${failures.length === 1 ? "" : "s"})`, ...shown, ...more].join("\n"), {
      hint: `fix the data (\`tdv check ${commit.slice(0, 10)}\` lists the failures), or release it anyway with the reason recorded in the tag: \`tdv release ${tag} --allow-failing "why"\``,
    });
  }
}
