/**
 * zarr-python 2 (Debian's python3-zarr, numcodecs) as the reference
 * implementation: tests write arrays with it, edit them as a pipeline would,
 * and read back what tdv wrote.
 *
 *   if (!hasZarrPython()) it.skip(...)
 *   await python(dir, "z = zarr.open('data.zarr/a'); z[4] = 200");
 *   const out = await pythonJson<{ got: string }>(dir, "print(json.dumps({'got': zarr.open('data.zarr/a')[:].tobytes().hex()}))");
 */
import { execFile, execFileSync } from "node:child_process";

export const PYTHON = "/usr/bin/python3";

const PRELUDE = "import json, zarr, numpy as np, numcodecs\nfrom numcodecs import Shuffle, Delta, Blosc, Zlib\n";

export function hasZarrPython(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import zarr, numcodecs"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

/** Run `code` (after the prelude: json, zarr, np, numcodecs, Shuffle, Delta, Blosc, Zlib) in `cwd`; its stdout. */
export function python(cwd: string, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ["-c", PRELUDE + code], { cwd, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python failed: ${stderr}\n--- code:\n${code}`));
      else resolve(stdout);
    });
  });
}

export async function pythonJson<T>(cwd: string, code: string): Promise<T> {
  return JSON.parse(await python(cwd, code)) as T;
}
