/**
 * Releases on real Zarr data through the built CLI, the whole story (the
 * fast lane's test/cli/release.test.ts has the core of it): `tdv release` checks the
 * rules and records the verdict, the arrays with their checksums and the
 * commits (with trailers) since the previous release; `show`, `log
 * --releases` and `verify` read it back; a corrupt chunk object or a
 * rewritten tag makes verify exit 1 naming it; a release is not moved or
 * deleted (locally or on a remote) without --force; failing rules refuse it.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type GitOid, parseReleaseMessage, Repository, type ReleaseRecord } from "../../src/index.js";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { committedFixture } from "../remote/dataset.js";
import { tempDir } from "../helpers/fixture.js";

const RULES = `[[arrays]]
path = "single.zarr"
attrs = { units = "1" }
`;

/** Each command a second later than the one before: releases made in one test get distinct dates. */
let clock = Date.parse("2026-06-01T00:00:00Z");
function at(): { env: { TDV_AUTHOR_DATE: string } } {
  clock += 1000;
  return { env: { TDV_AUTHOR_DATE: new Date(clock).toISOString() } };
}

type Shown = { commit: { oid: string }; release: ReleaseRecord & { tagOid: string } };

let dir: string;
let remote: string;

beforeAll(async () => {
  dir = await committedFixture("v2/single.zarr");
  await fs.writeFile(path.join(dir, "tdv-rules.toml"), RULES);
  await tdvOk(dir, ["add", "tdv-rules.toml"]);
  await tdvOk(dir, ["commit", "-m", "Rules for the product", "-m", "Pipeline: qc-v2"], at());
  remote = path.join(await tempDir(), "remote");
  await tdvOk(dir, ["remote", "add", "origin", `file://${remote}`]);
  await tdvOk(dir, ["push", "-q", "origin", "main"]);
});

const chunkFile = () => path.join(dir, "single.zarr", "0.0");
async function chunkObject(file: string): Promise<string> {
  const id = createHash("sha256").update(await fs.readFile(file)).digest("hex");
  return path.join(dir, ".tdv", "chunks", id.slice(0, 2), id.slice(2));
}

describe("releases", () => {
  it("a release of a passing commit records the verdict, the arrays and every commit with its trailers; show, log --releases and verify read it", async () => {
    const r = await tdvJson<ReleaseRecord>(dir, ["release", "v1", "-m", "First product", "--json"], at());
    expect(r.verdict).toMatchObject({ passed: true, failures: 0, override: null });
    expect(r.verdict.rules).toMatch(/^[0-9a-f]{40}$/);
    expect(r.arrays).toEqual([expect.objectContaining({ path: "single.zarr", metadataDoc: ".zarray", chunks: 6 })]);
    expect(r.arrays[0]?.manifest).toMatch(/^[0-9a-f]{40}$/);
    expect(r.previous).toBeNull();
    expect(r.commits.map((c) => c.subject)).toEqual(["Rules for the product", "import"]);
    expect(r.commits[0]?.trailers).toMatchObject({ Pipeline: "qc-v2" });
    expect(r.commits[0]?.trailers["Tdv-Command"]).toContain("tdv commit -m 'Rules for the product' -m 'Pipeline: qc-v2'");
    expect(r.commits[0]?.author).toMatchObject({ name: "Test User", email: "test@example.org" });

    const shown = await tdvJson<Shown>(dir, ["show", "v1", "--json"]);
    expect(shown.release).toMatchObject({ tag: "v1", commit: shown.commit.oid, verdict: r.verdict, arrays: r.arrays });
    const human = (await tdvOk(dir, ["show", "v1"])).stdout;
    expect(human).toMatch(/^release v1$/m);
    expect(human).toContain("Rules:  passed");
    expect(human).toContain("Pipeline: qc-v2");
    expect(human).toMatch(/single\.zarr {2}6 chunks/);
    // the tag message is readable as it is stored (stock git shows it) and parses back
    const repo = await Repository.open({ durability: "none", dir });
    const tag = await repo.git.readTag(shown.release.tagOid as GitOid);
    expect(tag.message).toMatch(/^First product\n\nRules: passed/);
    const { tagOid, replaced, ...stored } = r as ReleaseRecord & { tagOid: string; replaced: string | null };
    expect(tagOid).toBe(shown.release.tagOid);
    expect(replaced).toBeNull();
    expect(parseReleaseMessage(tag.message)).toEqual(stored);

    const v = await tdvJson<{ ok: boolean; chunks: number; arrays: number; problems: unknown[] }>(dir, ["verify", "v1", "--json"]);
    expect(v).toMatchObject({ ok: true, chunks: 6, arrays: 1, problems: [] });
    expect((await tdvOk(dir, ["verify", "v1"])).stdout).toMatch(/release v1 .*: intact/);
  });

  it("the next release lists only the commits since the previous one; log --releases lists them newest first", async () => {
    await fs.writeFile(chunkFile(), Buffer.alloc((await fs.stat(chunkFile())).size, 3));
    await tdvOk(dir, ["commit", "-a", "-m", "Reprocess tile 0.0"], at());
    const r = await tdvJson<ReleaseRecord>(dir, ["release", "v2", "-m", "Second", "--json"], at());
    expect(r.previous).toMatchObject({ tag: "v1" });
    expect(r.commits.map((c) => c.subject)).toEqual(["Reprocess tile 0.0"]);
    expect(r.commits[0]?.trailers["Tdv-Command"]).toContain("tdv commit -a");

    const list = await tdvJson<{ tag: string; commit: string; date: string; passed: boolean }[]>(dir, ["log", "--releases", "--json"]);
    expect(list.map((x) => [x.tag, x.passed])).toEqual([
      ["v2", true],
      ["v1", true],
    ]);
    expect(list[0]?.commit).toBe(r.commit);
    const text = (await tdvOk(dir, ["log", "--releases"])).stdout.trim().split("\n");
    expect(text[0]).toMatch(/^v2 {2}[0-9a-f]{7,} {2}\S+ {2}rules passed {2}Second$/);
    expect(text[1]).toMatch(/^v1 /);
  });

  it("verify exits 1 naming a corrupt chunk object, and naming a rewritten tag", async () => {
    const obj = await chunkObject(chunkFile());
    const good = await fs.readFile(obj);
    await fs.chmod(obj, 0o644);
    await fs.writeFile(obj, Buffer.alloc(good.length, 0x55));
    const bad = await tdv(dir, ["verify", "v2"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("NOT intact");
    expect(bad.stdout).toContain(path.basename(path.dirname(obj)) + path.basename(obj));
    expect(bad.stdout).toContain("single.zarr chunk [0,0]");
    await fs.writeFile(obj, good);

    // a tag object forged with another manifest id, put in place behind tdv's back
    const repo = await Repository.open({ durability: "none", dir });
    const tagRef = path.join(dir, ".tdv", "git", "refs", "tags", "v2");
    const real = (await fs.readFile(tagRef, "utf8")).trim() as GitOid;
    const tag = await repo.git.readTag(real);
    const manifest = (parseReleaseMessage(tag.message) as ReleaseRecord).arrays[0]?.manifest as string;
    const forged = await repo.git.writeTag({ object: tag.object, type: "commit", tag: "v2", tagger: tag.tagger, message: tag.message.replaceAll(manifest, "0".repeat(40)) });
    await fs.writeFile(tagRef, `${forged}\n`);
    const r = await tdv(dir, ["verify", "--json", "v2"]);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as { ok: boolean; problems: { kind: string; message: string }[] };
    expect(res.ok).toBe(false);
    expect(res.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "tag", message: expect.stringContaining("rewritten outside tdv") }),
        expect.objectContaining({ kind: "array", message: expect.stringContaining(`manifest is ${manifest}`) }),
      ]),
    );
    await fs.writeFile(tagRef, `${real}\n`);
    await tdvOk(dir, ["verify", "v2"]);
  });

  it("a release is not moved or deleted without --force, here or on a remote", async () => {
    const moved = await tdv(dir, ["release", "v2", "HEAD~1", "-m", "again"]);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain("'v2' is a release: it is not moved without --force");
    const del = await tdv(dir, ["tag", "-d", "v2"]);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain("'v2' is a release: it is not deleted without --force");
    expect((await tdvJson<{ tag: string }[]>(dir, ["log", "--releases", "--json"])).map((x) => x.tag)).toEqual(["v2", "v1"]);

    await tdvOk(dir, ["push", "-q", "origin", "v1"]);
    await tdvOk(dir, ["release", "v1", "HEAD", "-m", "First, redone", "--force"], at());
    const push = await tdv(dir, ["push", "origin", "v1"]);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain("v1");
    await tdvOk(dir, ["push", "-q", "--force", "origin", "v1"]);

    expect((await tdvOk(dir, ["tag", "-d", "--force", "v2"])).stdout).toContain("Deleted release 'v2'");
  });

  it("a lazy clone verifies a release by fetching its chunks (or lists them with --no-fetch)", async () => {
    const parent = await tempDir();
    await tdvOk(parent, ["clone", "-q", "--lazy", "--no-checkout", `file://${remote}`, "lazy"]);
    const lazy = path.join(parent, "lazy");
    const local = await tdv(lazy, ["verify", "--no-fetch", "--json", "v1"]);
    expect(local.code).toBe(1);
    const missing = JSON.parse(local.stdout) as { problems: { kind: string }[] };
    expect(missing.problems.length).toBe(6);
    expect(missing.problems.every((p) => p.kind === "not-local")).toBe(true);
    const fetched = await tdvJson<{ ok: boolean; fetched: number; chunks: number }>(lazy, ["verify", "--json", "v1"]);
    expect(fetched).toMatchObject({ ok: true, fetched: 6, chunks: 6 });
  });

  it("a release of data that fails the rules is refused with the failures listed; --allow-failing records the reason", async () => {
    const attrs = path.join(dir, "single.zarr", ".zattrs");
    await fs.writeFile(attrs, (await fs.readFile(attrs, "utf8")).replace('"units": "1"', '"units": "K"'));
    await tdvOk(dir, ["commit", "-a", "-m", "Wrong unit"], at());
    const r = await tdv(dir, ["release", "v3", "-m", "Third"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the rules fail on");
    expect(r.stderr).toContain("single.zarr");
    expect(r.stderr).toContain("--allow-failing");
    expect((await tdv(dir, ["show", "v3"])).code).not.toBe(0); // no tag made

    const forced = await tdvJson<ReleaseRecord>(dir, ["release", "v3", "-m", "Third", "--allow-failing", "units fixed downstream", "--json"], at());
    expect(forced.verdict).toMatchObject({ passed: false, override: { reason: "units fixed downstream" } });
    expect(forced.verdict.failures).toBeGreaterThan(0);
    expect((await tdvOk(dir, ["show", "v3"])).stdout).toContain("FAILED");
    const list = await tdvJson<{ tag: string; passed: boolean }[]>(dir, ["log", "--releases", "--json"]);
    expect(list[0]).toMatchObject({ tag: "v3", passed: false });
  });
});
