/**
 * A second S3 implementation for the tests: moto's server (Python), which
 * implements S3's conditional writes itself (If-None-Match: * since 5.0,
 * If-Match since 5.1), started on 127.0.0.1 by the test and stopped after.
 * The Python is `python3` on PATH, or TDV_MOTO_PYTHON.
 *
 *   if (!hasMoto()) it.skip(...)
 *   const moto = await startMotoServer();
 *   process.env = { ...process.env, ...moto.env() };
 *   await moto.stop();
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import net from "node:net";
import { AwsV4Signer } from "aws4fetch";

export const MOTO_PYTHON = process.env.TDV_MOTO_PYTHON ?? "python3";

/** moto's version, or null when its server cannot run here (moto, flask or flask_cors missing). */
export function motoVersion(): string | null {
  try {
    return execFileSync(MOTO_PYTHON, ["-c", "import moto, moto.server, flask, flask_cors; print(moto.__version__)"], { stdio: "pipe", encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

export interface MotoServer {
  endpoint: string;
  bucket: string;
  version: string;
  env(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: "moto-test", AWS_SECRET_ACCESS_KEY: "moto-test", AWS_REGION: "us-east-1" };

async function signedFetch(url: string, method: string): Promise<Response> {
  const signer = new AwsV4Signer({ url, method, accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY, service: "s3", region: CREDENTIALS.AWS_REGION });
  const signed = await signer.sign();
  return fetch(signed.url, { method, headers: signed.headers });
}

export async function startMotoServer({ bucket = "tdv-moto" } = {}): Promise<MotoServer> {
  const version = motoVersion();
  if (!version) throw new Error(`moto's server cannot run with ${MOTO_PYTHON}: install moto (with flask and flask_cors) or set TDV_MOTO_PYTHON`);
  const port = await freePort();
  const child: ChildProcess = spawn(MOTO_PYTHON, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  // ready when it answers (a listing of buckets)
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`moto's server exited with ${child.exitCode}: ${stderr}`);
    const ok = await signedFetch(`${endpoint}/`, "GET").then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) {
      child.kill("SIGTERM");
      throw new Error(`moto's server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const made = await signedFetch(`${endpoint}/${bucket}`, "PUT");
  if (!made.ok) throw new Error(`moto refused to create bucket ${bucket}: ${made.status} ${await made.text()}`);
  return {
    endpoint,
    bucket,
    version,
    env: (extra = {}) => ({ AWS_ENDPOINT_URL: endpoint, ...CREDENTIALS, ...extra }),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
