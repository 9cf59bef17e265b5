/**
 * `tdv diff --remote` on the S3 test server: two revisions of a remote
 * compared in place, without a clone. The document is the one the local diff
 * gives; the server's request log shows only what the diff needs was fetched
 * (no chunk without --values; with --values the changed chunk on each side
 * and the coordinates of the changed region). A working-copy side is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRemote, createTag, diff, openSession, push, type DiffResult, type Repository } from "../../src/index.js";
import { tdv, tdvJson } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, editAttrs, repoFrom, setPoints } from "../merge/helpers.js";
import { s3Setup } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;
let repo: Repository;
let dir: string;
let store: string;
let url: string;

const PREFIX = "review";
const gets = (what: "chunks" | "git/objects") => s3.requests.filter((r) => r.method === "GET" && r.key.startsWith(`${PREFIX}/${what}/`)).map((r) => r.key);

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
  ({ repo, dir, store } = await repoFrom("v3/ocean.zarr"));
  await createTag(repo, { name: "v1" });
  await setPoints(dir, `${store}/sst`, { "0,0,0": 42.5 });
  await editAttrs(dir, `${store}/sst`, (a) => {
    a.reviewed = true;
  });
  await commitAll(repo, "fix one sst value");
  url = `s3://${s3.bucket}/${PREFIX}`;
  await addRemote(repo, { name: "s3", url });
  await push(repo, { remote: "s3", refs: ["main"], tags: true, backend: { env } });
});

afterAll(async () => {
  await s3?.stop();
});

describe("tdv diff --remote on S3", () => {
  it("gives the local diff's document, fetching no chunk; with --values only the chunks the values need; outside a repository by URL", async () => {
    const local = JSON.parse(JSON.stringify(await diff(repo, { from: "v1", to: "main" }))) as DiffResult;
    s3.resetLog();
    // by the remote's name, in the repository that names it
    const byName = await tdvJson<DiffResult>(dir, ["diff", "--remote", "s3", "v1", "main", "--json"], { env: { ...env, TDV_CACHE_DIR: await tempDir() } });
    expect(byName).toEqual(local);
    expect(gets("chunks")).toEqual([]);
    expect(gets("git/objects").length).toBeGreaterThan(0);
    expect(s3.requests.every((r) => r.method === "GET")).toBe(true);

    // by URL, from a folder that is no repository, with values
    const localValues = JSON.parse(JSON.stringify(await diff(repo, { from: "v1", to: "main", values: true }))) as DiffResult;
    s3.resetLog();
    const elsewhere = await tempDir();
    const byUrl = await tdvJson<DiffResult>(elsewhere, ["diff", "--remote", url, "v1", "main", "--values", "--json"], { env: { ...env, TDV_CACHE_DIR: await tempDir() } });
    expect(byUrl).toEqual(localValues);
    expect(byUrl.arrays[0]?.values?.changed).toBe(1);
    const want = new Set<string>();
    for (const rev of ["v1", "main"]) {
      const f = await (await openSession(repo, rev)).file(`${store}/sst/c/0/0/0`);
      want.add(f?.id as string);
    }
    const s = await openSession(repo, "main");
    for (const coord of ["time", "lat", "lon"]) for await (const f of s.walk(`${store}/${coord}`)) if (f.kind === "chunk") want.add(f.id);
    expect(new Set(gets("chunks").map((k) => k.slice(`${PREFIX}/chunks/`.length).replace("/", "")))).toEqual(want);

    // text output with a path filter, and --exit-code
    const text = await tdv(elsewhere, ["diff", "--remote", url, "v1", "main", "--stat", "--exit-code", "--", `${store}/sst`], { env });
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain(`${store}/sst`);
  });

  it("refuses a working-copy or index side: name both revisions", async () => {
    for (const args of [["diff", "--remote", url], ["diff", "--remote", url, "main"], ["diff", "--remote", url, "--cached", "v1", "main"]]) {
      const r = await tdv(dir, args, { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: .*(a remote has no working copy|which a remote has not)/m);
      expect(r.stderr).toMatch(/^hint: .*tdv diff --remote NAME/m);
    }
  });
});
