/**
 * Run the built CLI (`dist/bin/tdv.js`, made by `npm run build`) as a user
 * would: a child process in a working directory, with a fixed author identity.
 *
 *   const r = await tdv(dir, ["status", "--json"]);   // never throws on exit codes
 *   const out = await tdvOk(dir, ["add", "-A"]);        // throws with stderr unless exit 0
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeFixture } from "./fixture.js";

export const BIN = fileURLToPath(new URL("../../dist/bin/tdv.js", import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout exactly as written (for `tdv cat`) */
  stdoutBytes: Buffer;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
}

/** The environment every spawned tdv gets: a fixed author, no fsync (speed), no debug output. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TDV_AUTHOR_NAME: "Test User", TDV_AUTHOR_EMAIL: "test@example.org", TDV_FSYNC: "0" };
  delete env.TDV_DEBUG;
  delete env.TDV_AUTHOR_DATE;
  delete env.GIT_AUTHOR_NAME;
  delete env.GIT_AUTHOR_EMAIL;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function tdv(cwd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the CLI tests`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code: code ?? (signal ? 128 : -1),
        stdout: stdoutBytes.toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        stdoutBytes,
      });
    });
  });
}

/** Run tdv and require exit 0; returns the result (the error names the command and its stderr). */
export async function tdvOk(cwd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await tdv(cwd, args, opts);
  if (r.code !== 0) throw new Error(`tdv ${args.join(" ")} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** Run a `--json` command (the caller puts `--json` in `args`) and parse the document it printed. */
export async function tdvJson<T = unknown>(cwd: string, args: readonly string[], opts: RunOptions = {}): Promise<T> {
  const r = await tdvOk(cwd, args, opts);
  return JSON.parse(r.stdout) as T;
}

/** A fixture copied to a temp dir, initialised, with everything committed; returns the working dir. */
export async function committed(fixture: string): Promise<string> {
  const dir = path.dirname(await makeFixture(fixture));
  await tdvOk(dir, ["init"]);
  await tdvOk(dir, ["add", "-A"]);
  await tdvOk(dir, ["commit", "-m", "import"]);
  return dir;
}
