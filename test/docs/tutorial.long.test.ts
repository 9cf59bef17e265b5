/**
 * docs/tutorial.md, run as written: every `$ command` line of its ```console
 * blocks runs in order in one temp folder (`cd` moves it), with `tdv` on the
 * PATH (the built CLI), `python3` the system's (zarr-python), and an S3 server
 * on 127.0.0.1 standing in for the team's bucket. Each ```python block whose
 * first line is `# NAME.py` is written to NAME.py in the current folder where
 * it appears. The lines under a command are key outputs: each must match a
 * line of what the command printed, in order (`…` stands for anything, a
 * 7-digit hex word for any commit id).
 *
 * TDV_TUTORIAL_PRINT=1 prints every command's output instead of checking it (to update the page).
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, baseEnv } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import { startS3Server, type S3TestServer } from "../helpers/s3-server.mjs";
import { hasZarrPython, PYTHON } from "../helpers/zarr-python.js";

const TUTORIAL = fileURLToPath(new URL("../../docs/tutorial.md", import.meta.url));

type Step = { kind: "run"; command: string; expected: string[] } | { kind: "file"; name: string; text: string };

/** The steps of the page, in order. */
export function parseTutorial(markdown: string): Step[] {
  const steps: Step[] = [];
  const blocks = markdown.matchAll(/^```(console|python)\n([\s\S]*?)^```$/gm);
  for (const [, lang, body = ""] of blocks) {
    if (lang === "python") {
      const name = /^# ([\w.-]+\.py)\n/.exec(body)?.[1];
      if (name) steps.push({ kind: "file", name, text: body });
      continue;
    }
    let cur: Step | null = null;
    for (const line of body.replace(/\n$/, "").split("\n")) {
      if (line.startsWith("$ ")) {
        cur = { kind: "run", command: line.slice(2), expected: [] };
        steps.push(cur);
      } else if (cur?.kind === "run" && line.trim() !== "") cur.expected.push(line);
    }
  }
  return steps;
}

/** An expected line as a pattern: `…` is anything, a 7-digit hex word any commit id, the rest literal. */
function linePattern(line: string): RegExp {
  const parts = line.trim().split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\b[0-9a-f]{7}\b/g, "[0-9a-f]{7}"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/** Each expected line matches an output line after the one the previous matched. */
function missingLines(expected: string[], output: string): string[] {
  const lines = output.split("\n").map((l) => l.trim());
  let at = 0;
  const missing: string[] = [];
  for (const e of expected) {
    const re = linePattern(e);
    const i = lines.findIndex((l, k) => k >= at && re.test(l));
    if (i < 0) missing.push(e);
    else at = i + 1;
  }
  return missing;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!hasZarrPython())("docs/tutorial.md", () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ["climate-data"] });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it("parses: commands, files and key outputs", async () => {
    const steps = parseTutorial(await fsp.readFile(TUTORIAL, "utf8"));
    expect(steps.filter((s) => s.kind === "run").length).toBeGreaterThan(20);
    expect(steps.filter((s) => s.kind === "file").map((s) => (s as { name: string }).name)).toEqual(expect.arrayContaining(["ingest.py", "qc.py"]));
  });

  it("runs as written", { timeout: 600_000 }, async () => {
    const steps = parseTutorial(await fsp.readFile(TUTORIAL, "utf8"));
    const root = await tempDir();
    // `tdv` and `python3` on the PATH as a reader has them
    const bin = path.join(root, ".bin");
    await fsp.mkdir(bin);
    await fsp.writeFile(path.join(bin, "tdv"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    await fsp.symlink(PYTHON, path.join(bin, "python3"));
    const home = path.join(root, ".home");
    await fsp.mkdir(home);
    const env = baseEnv({ ...s3.env(), PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: home, XDG_CONFIG_HOME: undefined, TDV_AUTHOR_NAME: undefined, TDV_AUTHOR_EMAIL: undefined });
    let cwd = root;
    for (const step of steps) {
      if (step.kind === "file") {
        await fsp.writeFile(path.join(cwd, step.name), step.text);
        continue;
      }
      const cd = /^cd (\S+)$/.exec(step.command);
      if (cd) {
        cwd = path.resolve(cwd, cd[1] as string);
        continue;
      }
      // asynchronous: the S3 server runs in this process and must answer meanwhile
      const r = await run(step.command, cwd, env);
      const output = `${r.stdout}${r.stderr}`;
      expect(r.status, `$ ${step.command}\n${output}`).toBe(0);
      if (process.env.TDV_TUTORIAL_PRINT === "1") {
        process.stdout.write(`$ ${step.command}\n${output}\n`);
        continue; // printing the outputs to update the page: not checked
      }
      expect(missingLines(step.expected, output), `$ ${step.command}\n${output}`).toEqual([]);
    }
  });
});
