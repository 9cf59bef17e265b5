/**
 * `tdv serve` with real clients: the built CLI listens on a free port
 * (`--port 0 --json`), xarray (Debian's python3-xarray through fsspec's HTTP
 * file system) opens a v2 group at a tag, a date and a commit id and reads
 * the values of a checkout of that revision; zarrita's FetchStore reads a
 * sharded v3 array with range requests; hostile URLs answer 4xx; ETag, 304,
 * cache headers, --pin, generated consolidated metadata, SIGTERM.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import http from "node:http";
import path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import FetchStore from "@zarrita/storage/fetch";
import * as zarr from "zarrita";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, baseEnv, committed, tdvOk } from "../helpers/cli.js";
import { FIXTURES_DIR, listFiles, tempDir } from "../helpers/fixture.js";
import { startS3Server } from "../helpers/s3-server.mjs";
import { PYTHON, python } from "../helpers/zarr-python.js";

interface Served {
  url: string;
  port: number;
  child: ChildProcess;
  /** stderr so far (the request log with --verbose) */
  log(): string;
  /** SIGTERM (or `signal`) and the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<Served>();
afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop()));
});

async function serve(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--json", ...args], { cwd: dir, env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr?.on("data", (b: Buffer) => {
    err += b.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    void exited.then((code) => reject(new Error(`tdv serve exited ${code} before listening:\n${err}`)));
  });
  const info = JSON.parse(line) as { url: string; port: number };
  const s: Served = {
    url: info.url,
    port: info.port,
    child,
    log: () => err,
    stop: async (signal = "SIGTERM") => {
      running.delete(s);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(s);
  return s;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with the path sent exactly as given (no normalisation of `..` or `%2e`). */
function request(port: number, rawPath: string, { method = "GET", headers = {} }: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
    req.end();
  });
}

const blobId = (bytes: Uint8Array) => createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");

/** The commit id `rev` names (from `tdv log --json`). */
async function commitOf(dir: string, rev: string): Promise<string> {
  const r = await tdvOk(dir, ["log", "--json", "-n", "1", rev]);
  const first = (JSON.parse(r.stdout) as { oid: string }[])[0];
  if (!first) throw new Error(`no commit in ${r.stdout}`);
  return first.oid;
}

/** xarray opens `url` over HTTP (consolidated) and `local` from disk; whether they are identical, and temperature[0,0,0]. */
function xarrayCompare(cwd: string, url: string, local: string): Promise<{ identical: boolean; t0: number; vars: string[] }> {
  const code = `
import json, sys, warnings
warnings.simplefilter("ignore")
import xarray as xr
url, local = sys.argv[1], sys.argv[2]
rem = xr.open_zarr(url, consolidated=True).load()
loc = xr.open_zarr(local, consolidated=False).load()
print(json.dumps({"identical": bool(loc.identical(rem)), "t0": float(rem.temperature.values.flat[0]), "vars": sorted(rem.variables)}))
`;
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ["-c", code, url, local], { cwd, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python failed: ${stderr}`));
      else resolve(JSON.parse(stdout) as { identical: boolean; t0: number; vars: string[] });
    });
  });
}


const hasXarray = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import xarray, fsspec, aiohttp, zarr"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();

describe("tdv serve", () => {
  it.skipIf(!hasXarray)("xarray opens a v2 group at a tag, a date and a commit id; its values are those of a checkout of that revision", async () => {
    const dir = await committed("v2/weather.zarr");
    await tdvOk(dir, ["tag", "v1"]);
    const v1 = await commitOf(dir, "HEAD");
    // a date after the first commit and before the second (reflog times are in seconds)
    const date = Math.floor(Date.now() / 1000);
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
    await python(dir, "z = zarr.open('weather.zarr/temperature'); z[0, 0, 0] = 1234.5");
    // the second commit has no stored .zmetadata: the server generates it
    await fsp.rm(path.join(dir, "weather.zarr/.zmetadata"));
    await tdvOk(dir, ["commit", "-a", "-m", "edit temperature, drop .zmetadata"]);
    const v2 = await commitOf(dir, "HEAD");
    expect(v2).not.toBe(v1);

    const s = await serve(dir, ["--verbose"]);
    const cases: [string, string, string][] = [
      ["v1", v1, "tag"],
      [`main@{@${date}}`, v1, "date"],
      [v2, v2, "commit id"],
    ];
    const seen: number[] = [];
    for (const [rev, commit] of cases) {
      const url = `${s.url}${encodeURIComponent(rev)}/weather.zarr`;
      const head = await request(s.port, `/${encodeURIComponent(rev)}/weather.zarr/.zmetadata`);
      expect(head.status).toBe(200);
      expect(head.headers["x-tdv-commit"]).toBe(commit);
      // the checkout of that revision, read from disk by the same reader
      await tdvOk(dir, ["checkout", commit]);
      const got = await xarrayCompare(dir, url, "weather.zarr");
      expect(got.identical).toBe(true);
      expect(got.vars).toContain("temperature");
      seen.push(got.t0);
    }
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).toBe(1234.5);
    expect(seen[0]).not.toBe(1234.5);
    // every chunk was answered by the server: its log has the GETs of temperature's chunks and a 404 for an absent one
    expect(s.log()).toMatch(/^GET \/v1\/weather\.zarr\/temperature\/0\.0\.0 200 /m);
    expect(s.log()).toMatch(/^GET \/[0-9a-f]{40}\/weather\.zarr\/snow_depth\/0\.0\.0 404 /m);
    expect(await s.stop()).toBe(0);
  }, 120_000);

  it("generated consolidated metadata: v2 equals zarr-python's .zmetadata, v3 equals zarr-python 3's consolidated zarr.json; stored ones are served as they are", async () => {
    const dir = await committed("v2/weather.zarr");
    await fsp.cp(path.join(FIXTURES_DIR, "v3/consolidated.zarr"), path.join(dir, "consolidated.zarr"), { recursive: true });
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "add v3"]);
    await tdvOk(dir, ["tag", "stored"]);
    const storedV2 = await fsp.readFile(path.join(dir, "weather.zarr/.zmetadata"));
    const storedV3 = await fsp.readFile(path.join(dir, "consolidated.zarr/zarr.json"));
    await fsp.rm(path.join(dir, "weather.zarr/.zmetadata"));
    const root = JSON.parse(storedV3.toString("utf8")) as Record<string, unknown>;
    delete root.consolidated_metadata;
    await fsp.writeFile(path.join(dir, "consolidated.zarr/zarr.json"), JSON.stringify(root, null, 2));
    await tdvOk(dir, ["add", "-A"]);
    await tdvOk(dir, ["commit", "-m", "no consolidated metadata"]);

    const s = await serve(dir);
    const stored2 = await request(s.port, "/stored/weather.zarr/.zmetadata");
    expect(stored2.body.equals(storedV2)).toBe(true);
    expect(stored2.headers.etag).toBe(`"${blobId(storedV2)}"`);
    const stored3 = await request(s.port, "/stored/consolidated.zarr/zarr.json");
    expect(stored3.body.equals(storedV3)).toBe(true);

    const gen2 = await request(s.port, "/main/weather.zarr/.zmetadata");
    expect(gen2.status).toBe(200);
    expect(JSON.parse(gen2.body.toString("utf8"))).toEqual(JSON.parse(storedV2.toString("utf8")));
    expect(gen2.headers.etag).toBe(`"${blobId(gen2.body)}"`);
    const gen3 = await request(s.port, "/main/consolidated.zarr/zarr.json");
    expect(JSON.parse(gen3.body.toString("utf8"))).toEqual(JSON.parse(storedV3.toString("utf8")));
    // not a group: no .zmetadata made up for an array's folder or a missing folder
    expect((await request(s.port, "/main/weather.zarr/precip/.zmetadata")).status).toBe(404);
    expect((await request(s.port, "/main/nowhere/.zmetadata")).status).toBe(404);
    await s.stop();
  }, 60_000);

  it("zarrita's FetchStore reads a sharded v3 array over serve with range requests; values equal the folder's", async () => {
    const dir = await committed("v3/sharded.zarr");
    const s = await serve(dir, ["--verbose"]);
    const remote = zarr.root(new FetchStore(`${s.url}main/sharded.zarr`));
    const local = zarr.root(new FileSystemStore(path.join(dir, "sharded.zarr")));
    for (const name of ["counts", "temperature"]) {
      const a = await zarr.open(remote.resolve(name), { kind: "array" });
      const b = await zarr.open(local.resolve(name), { kind: "array" });
      const [x, y] = await Promise.all([zarr.get(a), zarr.get(b)]);
      expect(x.shape).toEqual(y.shape);
      expect(Array.from(x.data as ArrayLike<number>)).toEqual(Array.from(y.data as ArrayLike<number>));
    }
    const ranged = s.log().split("\n").filter((l) => / 206 /.test(l));
    expect(ranged.length).toBeGreaterThan(4);
    expect(ranged.every((l) => /\/sharded\.zarr\/(counts|temperature)\/c\//.test(l))).toBe(true);
    await s.stop();
  }, 60_000);

  it("exact bytes, ETag = the object's hash, 304, HEAD, ranges (a-b, a-, -n, several, unsatisfiable), immutable commit and tag URLs, live branch URLs, many readers at once", async () => {
    const dir = await committed("v2/weather.zarr");
    await tdvOk(dir, ["tag", "v1"]);
    const commit = await commitOf(dir, "HEAD");
    const s = await serve(dir);
    const chunk = "weather.zarr/temperature/0.0.0";
    const bytes = await fsp.readFile(path.join(dir, chunk));
    const sha = createHash("sha256").update(bytes).digest("hex");

    const main = await request(s.port, `/main/${chunk}`);
    expect(main.status).toBe(200);
    expect(main.body.equals(bytes)).toBe(true);
    expect(main.headers.etag).toBe(`"${sha}"`);
    expect(main.headers["x-tdv-commit"]).toBe(commit);
    expect(main.headers["cache-control"]).toBe("no-cache");
    for (const rev of ["v1", commit, `${commit}~0`]) expect((await request(s.port, `/${encodeURIComponent(rev)}/${chunk}`)).headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    // an abbreviated id may become ambiguous: not immutable
    expect((await request(s.port, `/${commit.slice(0, 10)}/${chunk}`)).headers["cache-control"]).toBe("no-cache");
    const zgroup = await fsp.readFile(path.join(dir, "weather.zarr/.zgroup"));
    expect((await request(s.port, "/v1/weather.zarr/.zgroup")).headers.etag).toBe(`"${blobId(zgroup)}"`);

    const again = await request(s.port, `/v1/${chunk}`, { headers: { "if-none-match": `"${sha}"` } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect((await request(s.port, `/v1/${chunk}`, { headers: { "if-none-match": '"other"' } })).status).toBe(200);

    const head = await request(s.port, `/v1/${chunk}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers["content-length"])).toBe(bytes.length);
    expect(head.body.length).toBe(0);

    const n = bytes.length;
    const range = async (r: string) => request(s.port, `/v1/${chunk}`, { headers: { range: r } });
    const mid = await range("bytes=3-9");
    expect([mid.status, mid.headers["content-range"]]).toEqual([206, `bytes 3-9/${n}`]);
    expect(mid.body.equals(bytes.subarray(3, 10))).toBe(true);
    const tail = await range("bytes=-5");
    expect([tail.status, tail.headers["content-range"]]).toEqual([206, `bytes ${n - 5}-${n - 1}/${n}`]);
    expect(tail.body.equals(bytes.subarray(n - 5))).toBe(true);
    const from = await range(`bytes=${n - 2}-`);
    expect(from.body.equals(bytes.subarray(n - 2))).toBe(true);
    const past = await range(`bytes=0-${n + 100}`);
    expect([past.status, past.body.length]).toEqual([206, n]);
    const several = await range("bytes=0-1,4-5");
    expect(several.status).toBe(200);
    expect(several.body.equals(bytes)).toBe(true);
    for (const bad of [`bytes=${n}-`, "bytes=9-3", "bytes=99999999999999999999999-", "bytes=-0", "items=0-3", "bytes=x-y"]) {
      const r = await range(bad);
      expect([bad, r.status]).toEqual([bad, 416]);
      expect(r.headers["content-range"]).toBe(`bytes */${n}`);
    }

    // many readers at once: every file of the revision, in parallel, byte for byte
    const files = [...(await listFiles(path.join(dir, "weather.zarr")))];
    const replies = await Promise.all(files.map(([rel]) => request(s.port, `/${commit}/weather.zarr/${rel}`)));
    replies.forEach((r, i) => {
      const [rel, want] = files[i] as [string, Buffer];
      expect([rel, r.status, r.body.equals(want)]).toEqual([rel, 200, true]);
    });

    // branch URLs are live: a new commit on main is served at once
    await fsp.writeFile(path.join(dir, "weather.zarr/README.txt"), "changed\n");
    await tdvOk(dir, ["commit", "-a", "-m", "readme"]);
    const live = await request(s.port, "/main/weather.zarr/README.txt");
    expect(live.body.toString("utf8")).toBe("changed\n");
    expect(live.headers["x-tdv-commit"]).not.toBe(commit);
    expect((await request(s.port, "/v1/weather.zarr/README.txt")).body.toString("utf8")).not.toBe("changed\n");
    await s.stop();
  }, 60_000);

  it("listings: GET / names branches, tags and HEAD; GET /REV/ the root and its arrays; GET /REV/DIR/ a folder with sizes", async () => {
    const dir = await committed("v2/weather.zarr");
    await tdvOk(dir, ["tag", "v1"]);
    await tdvOk(dir, ["branch", "team/run"]);
    const commit = await commitOf(dir, "HEAD");
    const s = await serve(dir);
    const refs = JSON.parse((await request(s.port, "/")).body.toString("utf8")) as { head: string; branches: Record<string, string>; tags: Record<string, string> };
    expect(refs).toMatchObject({ head: "main", branches: { main: commit, "team/run": commit }, tags: { v1: commit } });
    const root = JSON.parse((await request(s.port, "/team%2Frun/")).body.toString("utf8")) as { commit: string; dirs: string[]; arrays: string[] };
    expect(root.commit).toBe(commit);
    expect(root.dirs).toEqual(["weather.zarr"]);
    expect(root.arrays).toContain("weather.zarr/temperature");
    expect(root.arrays).toContain("weather.zarr/sub/elevation");
    const folder = JSON.parse((await request(s.port, "/v1/weather.zarr/temperature/")).body.toString("utf8")) as { dirs: string[]; files: { name: string; size: number }[] };
    const onDisk = await fsp.readdir(path.join(dir, "weather.zarr/temperature"));
    expect(folder.files.map((f) => f.name).sort()).toEqual(onDisk.sort());
    for (const f of folder.files) expect(f.size).toBe((await fsp.stat(path.join(dir, "weather.zarr/temperature", f.name))).size);
    // a folder named without its slash is no file
    const noSlash = await request(s.port, "/v1/weather.zarr/temperature");
    expect(noSlash.status).toBe(404);
    expect(noSlash.body.toString("utf8")).toContain("/v1/weather.zarr/temperature/");
    expect((await request(s.port, "/v1/nowhere/")).status).toBe(404);
    await s.stop();
  }, 60_000);

  it("hostile paths and revisions answer 4xx and read nothing outside the tree; other methods 405; absent chunks 404", async () => {
    const dir = await committed("v2/weather.zarr");
    await fsp.writeFile(path.join(path.dirname(dir), "secret.txt"), "TOP-SECRET-BYTES");
    const s = await serve(dir);
    const bad = [
      "/main/../secret.txt",
      "/main/weather.zarr/../../secret.txt",
      "/main/%2e%2e/secret.txt",
      "/main/%2E%2E%2Fsecret.txt",
      "/main/weather.zarr%2F.zgroup",
      "/main//weather.zarr/.zgroup",
      "/main/weather.zarr//.zgroup",
      "/main/weather.zarr\\.zgroup",
      "/main/weather.zarr%5C.zgroup",
      "/main/./weather.zarr/.zgroup",
      "/main/weather.zarr/%00",
      "/main/%E0%A4%A",
      "/..%2F..%2Fsecret.txt/x",
      "/%2e%2e/secret.txt",
      "/main%2F..%2F../x",
    ];
    for (const p of bad) {
      const r = await request(s.port, p);
      expect([p, r.status]).toEqual([p, 400]);
      expect(r.body.toString("utf8")).not.toContain("TOP-SECRET-BYTES");
    }
    for (const p of ["/nope/weather.zarr/.zgroup", "/main~99/weather.zarr/.zgroup", "/main@%7Bnot%20a%20date%7D/x", "/ffffffffffffffffffffffffffffffffffffffff/x"]) {
      const r = await request(s.port, p);
      expect([p, r.status]).toEqual([p, 404]);
      expect((JSON.parse(r.body.toString("utf8")) as { error: string }).error).toMatch(/UnknownRevisionError/);
    }
    // an absent chunk (inside the array's grid, not stored) and an absent file
    expect((await request(s.port, "/main/weather.zarr/snow_depth/0.0.0")).status).toBe(404);
    expect((await request(s.port, "/main/weather.zarr/nothing.txt")).status).toBe(404);
    expect((await request(s.port, "/main/.tdv/config")).status).toBe(404);
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const r = await request(s.port, "/main/weather.zarr/.zgroup", { method });
      expect([method, r.status, r.headers.allow]).toEqual([method, 405, "GET, HEAD"]);
    }
    // a chunk object whose bytes no longer match its hash: an error naming it, never the bytes
    const chunk = await fsp.readFile(path.join(dir, "weather.zarr/temperature/0.0.0"));
    const id = createHash("sha256").update(chunk).digest("hex");
    const object = path.join(dir, ".tdv/chunks", id.slice(0, 2), id.slice(2));
    await fsp.chmod(object, 0o644);
    await fsp.writeFile(object, Buffer.concat([Buffer.from("rot"), chunk.subarray(3)]));
    const rotten = await request(s.port, "/main/weather.zarr/temperature/0.0.0");
    expect(rotten.status).toBe(500);
    expect((JSON.parse(rotten.body.toString("utf8")) as { error: string }).error).toBe("CorruptObjectError");
    expect(rotten.headers.etag).toBeUndefined();
    // still serving after all that
    expect((await request(s.port, "/main/weather.zarr/.zgroup")).status).toBe(200);
    await s.stop();
  }, 60_000);

  it("--pin answers every branch with the commit it named at startup (immutable); SIGINT and SIGTERM stop the server with exit 0", async () => {
    const dir = await committed("v2/weather.zarr");
    const first = await commitOf(dir, "HEAD");
    const pinned = await serve(dir, ["--pin"]);
    const live = await serve(dir);
    await fsp.writeFile(path.join(dir, "weather.zarr/README.txt"), "moved\n");
    await tdvOk(dir, ["commit", "-a", "-m", "move main"]);
    const p = await request(pinned.port, "/main/weather.zarr/README.txt");
    expect(p.headers["x-tdv-commit"]).toBe(first);
    expect(p.body.toString("utf8")).not.toBe("moved\n");
    expect(p.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await request(pinned.port, "/HEAD~0/weather.zarr/README.txt")).headers["x-tdv-commit"]).toBe(first);
    const l = await request(live.port, "/main/weather.zarr/README.txt");
    expect(l.body.toString("utf8")).toBe("moved\n");
    expect(l.headers["x-tdv-commit"]).not.toBe(first);
    expect(await pinned.stop("SIGINT")).toBe(0);
    expect(await live.stop("SIGTERM")).toBe(0);
    await expect(request(live.port, "/")).rejects.toThrow();
  }, 60_000);

  it("a port in use is an error naming it (exit 1)", async () => {
    const dir = await committed("v2/weather.zarr");
    const s = await serve(dir);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, "serve", "--port", String(s.port)], { cwd: dir, env: baseEnv() }, (err, _o, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot listen on 127\.0\.0\.1:\d+: the port is in use/m);
    expect(r.stderr).toMatch(/^hint: .*--port 0/m);
    await s.stop();
  }, 30_000);

  it("--remote serves a remote on the S3 test server without a clone, reading only the objects asked for; a corrupted chunk answers an error, never its bytes", async () => {
    const s3 = await startS3Server();
    try {
      const env = s3.env();
      const dir = await committed("v2/weather.zarr");
      await tdvOk(dir, ["tag", "v1"]);
      const url = `s3://${s3.bucket}/weather`;
      await tdvOk(dir, ["remote", "add", "origin", url]);
      await tdvOk(dir, ["push", "origin", "main", "v1"], { env });
      const elsewhere = await tempDir();
      s3.resetLog();
      const s = await serve(elsewhere, ["--remote", url], { ...env, TDV_CACHE_DIR: path.join(elsewhere, "cache") });
      const chunk = "weather.zarr/temperature/0.0.0";
      const r = await request(s.port, `/v1/${chunk}`);
      expect(r.status).toBe(200);
      const bytes = await fsp.readFile(path.join(dir, chunk));
      expect(r.body.equals(bytes)).toBe(true);
      expect(r.headers.etag).toBe(`"${createHash("sha256").update(bytes).digest("hex")}"`);
      const chunkGets = s3.requests.filter((q) => q.method === "GET" && q.key.includes("chunks/"));
      expect(chunkGets.map((q) => q.key)).toEqual([`weather/chunks/${createHash("sha256").update(bytes).digest("hex").slice(0, 2)}/${createHash("sha256").update(bytes).digest("hex").slice(2)}`]);
      // a chunk damaged on the server: an error, not its bytes
      const other = await fsp.readFile(path.join(dir, "weather.zarr/temperature/1.0.0"));
      const id = createHash("sha256").update(other).digest("hex");
      await fsp.writeFile(s3.objectPath(`weather/chunks/${id.slice(0, 2)}/${id.slice(2)}`), Buffer.concat([other.subarray(1), Buffer.from([0])]));
      const bad = await request(s.port, "/v1/weather.zarr/temperature/1.0.0");
      expect(bad.status).toBeGreaterThanOrEqual(500);
      expect(bad.body.toString("utf8")).toMatch(/Corrupt/);
      expect(bad.body.includes(other.subarray(1, 9))).toBe(false);
      // the listing of the remote's refs
      const refs = JSON.parse((await request(s.port, "/")).body.toString("utf8")) as { tags: Record<string, string> };
      expect(Object.keys(refs.tags)).toEqual(["v1"]);
      expect(await s.stop()).toBe(0);
    } finally {
      await s3.stop();
    }
  }, 60_000);
});
