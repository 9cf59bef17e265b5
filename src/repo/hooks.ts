/**
 * Hooks, as git's: executable files in `.tdv/hooks/` that tdv runs at fixed
 * moments (pre-commit, pre-merge, pre-push, post-commit), with the repository
 * root as working directory, the change set as one JSON document on stdin,
 * and TDV_HOOK (the hook's name) and TDV_DIR (the repository's directory,
 * git's GIT_DIR) in the environment. A pre-* hook that exits non-zero stops
 * the command before anything moves (HookFailedError). The hook's stdout and
 * stderr both go to tdv's stderr (as git sends a hook's stdout), so a
 * command's `--json` output stays clean.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { TdvError } from "../errors.js";
import type { GitOid } from "../format/hash.js";
import type { Repository, Stores } from "./repository.js";

export const HOOK_NAMES = ["pre-commit", "pre-merge", "pre-push", "post-commit"] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** A pre-* hook exited non-zero (or was killed): the command stopped before it changed anything. */
export class HookFailedError extends TdvError<"HookFailedError"> {
  readonly _tag = "HookFailedError";
  constructor(
    readonly hook: HookName,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly file: string,
    what: string,
  ) {
    super(`the ${hook} hook ${exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal ?? "a signal"}`}: ${what}`, {
      hint: `its output is above; fix what it reports and run the command again, or skip the hook with --no-verify (the hook is ${file})`,
    });
  }
}

/** The hook could not be started (a missing interpreter on its #! line, a bad file). */
export class HookStartError extends TdvError<"HookStartError"> {
  readonly _tag = "HookStartError";
  constructor(
    readonly hook: HookName,
    readonly file: string,
    detail: string,
  ) {
    super(`the ${hook} hook (${file}) could not be started: ${detail}`, {
      hint: "check its first line (#!/bin/sh, or another interpreter that exists here), or skip it with --no-verify",
    });
  }
}

declare module "../errors.js" {
  interface TdvErrorMap {
    HookFailedError: HookFailedError;
    HookStartError: HookStartError;
  }
}

export type HookState = "absent" | "not-executable" | "ready";

export interface HookRun {
  hook: HookName;
  file: string;
  /** absent or not executable: not run (as git does) */
  state: HookState;
  /** when it ran: its exit code (null when killed by a signal) */
  exitCode: number | null;
  signal: string | null;
}

/** The hook's file under the repository's directory. */
export function hookFile(repo: Repository<Stores>, hook: HookName): string {
  return path.join(repo.tdvDir, "hooks", hook);
}

/** Whether the hook is there and executable. */
export async function hookState(repo: Repository<Stores>, hook: HookName): Promise<HookState> {
  const file = hookFile(repo, hook);
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) return "absent";
  return access(file, constants.X_OK).then(
    () => "ready" as const,
    () => "not-executable" as const,
  );
}

export interface RunHookOptions {
  /** the document the hook gets on stdin; computed only when the hook will run */
  input: () => unknown;
  /**
   * what a failing pre-* hook stopped, for its error message ("nothing committed");
   * post-* hooks never throw: their exit code is returned
   */
  stopped?: string;
  /** where the hook's stdout and stderr go (default: this process's stderr) */
  output?: "inherit" | "ignore";
}

/**
 * Run `hook` when it exists and is executable. A pre-* hook exiting non-zero
 * throws HookFailedError; a post-* hook's exit code is returned.
 */
export async function runHook(repo: Repository<Stores>, hook: HookName, opts: RunHookOptions): Promise<HookRun> {
  const file = hookFile(repo, hook);
  const state = await hookState(repo, hook);
  if (state !== "ready") return { hook, file, state, exitCode: null, signal: null };
  const input = `${JSON.stringify(await opts.input(), (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
  const fd = opts.output === "ignore" ? "ignore" : 2;
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    const child = spawn(file, [], {
      cwd: repo.root,
      env: { ...process.env, TDV_HOOK: hook, TDV_DIR: repo.tdvDir },
      stdio: ["pipe", fd, fd],
    });
    child.on("error", (err) => reject(new HookStartError(hook, file, err.message)));
    child.on("close", (c, s) => resolve({ code: c, signal: s }));
    // a hook need not read its input: a closed pipe is not an error
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
  if (hook.startsWith("pre-") && code !== 0) throw new HookFailedError(hook, code, signal, file, opts.stopped ?? "the command stopped");
  return { hook, file, state, exitCode: code, signal };
}

/** The commits a merge of `theirs` into `ours` compares: its merge base (the first, null without one). */
export async function mergeBaseFor(repo: Repository<Stores>, ours: GitOid, theirs: GitOid): Promise<GitOid | null> {
  return (await repo.git.mergeBase(ours, theirs))[0] ?? null;
}
