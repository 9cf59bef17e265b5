/**
 * The record a release keeps in its annotated tag's message: a summary for
 * people, then the same facts as one fenced JSON block (```tdv-release) that
 * `show`, `log --releases` and `verify` parse back. Pure: text in, values out.
 *
 *   Release v2024.06 of 3f2a1bc…: the June product
 *
 *   Rules: passed (rules blob 9d1e…, 4 arrays checked, 120 chunks read)
 *   Arrays (2):
 *     era.zarr/t2m  12 chunks, 48.0 kB  manifest 5be1…  metadata 77c0…
 *   Commits since v2024.05 (3):
 *     3f2a1bc Ana <ana@lab.org> 2026-06-30T12:00:00Z  Append June
 *       Tdv-Command: tdv commit -a -m "Append June"
 *
 *   ```tdv-release
 *   { "format": 1, ... }
 *   ```
 */
import { TdvError } from "../errors.js";
import { formatBytes } from "./display.js";
import type { GitOid } from "./hash.js";

export const RELEASE_FORMAT = 1;
const FENCE = "```tdv-release";

/** The rules' verdict as a release records it. */
export interface ReleaseVerdict {
  passed: boolean;
  /** the rules file's blob id in the released commit (null: the commit has no rules file) */
  rules: string | null;
  arraysChecked: number;
  chunksRead: number;
  failures: number;
  /** the commit the check was incremental from (what did not change since was checked there), null: checked whole */
  since: string | null;
  /** the release was made although the rules failed (`--allow-failing`): who said why */
  override: { reason: string } | null;
}

/** One array of the released commit, with what `verify` recomputes. */
export interface ReleaseArray {
  path: string;
  /** the metadata document's name (zarr.json, .zarray) and its Git blob id */
  metadataDoc: string;
  metadata: GitOid;
  /** .zattrs (Zarr v2) blob id, when there is one */
  attributes: GitOid | null;
  /** the manifest subtree's Git id (null: no chunk stored); it names every chunk by its SHA-256 */
  manifest: GitOid | null;
  chunks: number;
  bytes: number;
}

export interface ReleaseCommit {
  oid: GitOid;
  author: { name: string; email: string; date: string };
  subject: string;
  /** the commit's trailers (Tdv-Command, Tdv-Version, Tdv-Session, pipeline or source trailers, …) */
  trailers: Record<string, string>;
}

export interface ReleaseRecord {
  format: number;
  tag: string;
  commit: GitOid;
  tree: GitOid;
  message: string;
  verdict: ReleaseVerdict;
  arrays: ReleaseArray[];
  /** the release before this one on the commit's history (null: the first) */
  previous: { tag: string; commit: GitOid } | null;
  /** the commits since `previous` (all of the history for the first release), newest first */
  commits: ReleaseCommit[];
}

/** The tag message: the user's message, a summary, and the fenced record. */
export function formatReleaseMessage(r: ReleaseRecord): string {
  const lines: string[] = [r.message.trim(), ""];
  const v = r.verdict;
  const counts = `${v.arraysChecked} array${v.arraysChecked === 1 ? "" : "s"} checked, ${v.chunksRead} chunk${v.chunksRead === 1 ? "" : "s"} read`;
  const rules = v.rules === null ? "no rules file" : `rules blob ${v.rules}`;
  lines.push(
    v.passed
      ? `Rules: passed (${rules}, ${counts})`
      : `Rules: FAILED, ${v.failures} failure${v.failures === 1 ? "" : "s"}, released anyway (${rules}, ${counts}): ${v.override?.reason ?? ""}`,
  );
  lines.push(`Commit: ${r.commit} (tree ${r.tree})`);
  lines.push(`Arrays (${r.arrays.length}):`);
  for (const a of r.arrays) {
    lines.push(`  ${a.path || "."}  ${a.chunks} chunk${a.chunks === 1 ? "" : "s"}, ${formatBytes(a.bytes)}  manifest ${a.manifest ?? "(none)"}  ${a.metadataDoc} ${a.metadata}`);
  }
  lines.push(r.previous ? `Commits since ${r.previous.tag} (${r.commits.length}):` : `Commits (${r.commits.length}, the first release):`);
  for (const c of r.commits) {
    lines.push(`  ${c.oid.slice(0, 10)} ${c.author.name} <${c.author.email}> ${c.author.date}  ${c.subject}`);
    for (const [k, val] of Object.entries(c.trailers)) lines.push(`    ${k}: ${val}`);
  }
  lines.push("", FENCE, JSON.stringify(r, null, 1), "```", "");
  return lines.join("\n");
}

/** The record in a tag message, or null when the tag is no release (no fenced record, or one that does not parse). */
export function parseReleaseMessage(message: string): ReleaseRecord | null {
  const start = message.lastIndexOf(`\n${FENCE}\n`);
  if (start < 0) return null;
  const body = message.slice(start + FENCE.length + 2);
  const end = body.indexOf("\n```");
  if (end < 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(body.slice(0, end));
  } catch {
    return null;
  }
  return isRecord(value) ? value : null;
}

/** Whether a tag message holds a release record (a tag that only `--force` moves or deletes). */
export function isReleaseMessage(message: string): boolean {
  return parseReleaseMessage(message) !== null;
}

function isRecord(v: unknown): v is ReleaseRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.format === "number" &&
    typeof r.tag === "string" &&
    typeof r.commit === "string" &&
    typeof r.tree === "string" &&
    typeof r.verdict === "object" &&
    r.verdict !== null &&
    Array.isArray(r.arrays) &&
    Array.isArray(r.commits) &&
    r.arrays.every((a) => typeof a === "object" && a !== null && typeof (a as ReleaseArray).path === "string")
  );
}

/**
 * A commit message's trailers: the `Key: value` lines of its last paragraphs
 * made only of such lines (git interpret-trailers reads the last one; tdv
 * appends its own Tdv-* paragraph after a user's `-m "Pipeline: x"` one).
 */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  // never the subject: a one-paragraph message has no trailers
  for (let i = paragraphs.length - 1; i >= 1; i--) {
    const lines = (paragraphs[i] as string).split("\n");
    const parsed = lines.map((line) => /^([A-Za-z0-9][A-Za-z0-9-]*): ?(.*)$/.exec(line));
    if (parsed.some((m) => m === null)) break;
    for (const m of parsed as RegExpExecArray[]) if (!((m[1] as string) in out)) out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** A release tag would move or go without `--force`. */
export class ReleaseProtectedError extends TdvError<"ReleaseProtectedError"> {
  readonly _tag = "ReleaseProtectedError";
  constructor(
    readonly tag: string,
    readonly action: "move" | "delete",
  ) {
    super(`'${tag}' is a release: it is not ${action === "move" ? "moved" : "deleted"} without --force`, {
      hint: action === "move" ? `choose another name, or replace it with \`--force\` (its old tag object stays in the reflog)` : `\`tdv tag -d --force ${tag}\` deletes it anyway`,
    });
  }
}

declare module "../errors.js" {
  interface TdvErrorMap {
    ReleaseProtectedError: ReleaseProtectedError;
  }
}
