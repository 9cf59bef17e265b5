/**
 * Ref updates on every kind of S3 server the test server can play (its
 * MODES): ETags quoted or not, If-Match compared verbatim, leniently, or
 * refused when quoted; a condition that fails answered 412, 409 or 500.
 * Each mode: a branch is created, fast-forwarded, refused (non-fast-forward),
 * forced, and a second branch shows up in git/info/refs (a failed
 * condition on git/HEAD and on the conditions check is answered 409 or 500
 * there too); a real lost race (another push lands between this push's read
 * and its write) names the move. Then the servers that cannot be used: one that ignores conditions,
 * one that refuses every If-Match; and git/info/refs kept current.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRemote, clone, createBranch, isTdvError, openBackend, push, Repository, reset, type NonFastForwardError } from "../../src/index.js";
import { tdv, tdvOk } from "../helpers/cli.js";
import { tempDir } from "../helpers/fixture.js";
import type { S3Mode, S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, committedFixture, s3Setup } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => s3?.stop());

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);

async function caught(p: Promise<unknown>): Promise<Error & { _tag?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure, but it succeeded");
}

async function note(repo: Repository, text: string): Promise<string> {
  await fs.writeFile(path.join(repo.root, "NOTES.md"), `${text}\n`);
  await commitAll(repo.root, text);
  return (await repo.refs.head()).oid as string;
}

async function infoRefs(url: string): Promise<string> {
  const b = await openBackend(url, { env });
  return dec((await b.get("git/info/refs"))!.bytes);
}

const modes: S3Mode[] = ["verbatim-quoted", "lenient", "quoted-refused", "verbatim-unquoted", "race-409", "race-500"];

describe.each(modes)("an S3 server that behaves as %s", (mode) => {
  const backend = () => ({ env });

  it("creates, fast-forwards, refuses, forces and lists branches", async () => {
    s3.mode(mode);
    const url = `s3://${s3.bucket}/modes-${mode}`;
    const a = await Repository.open({ durability: "none", dir: await committedFixture("v2/single.zarr") });
    expect((await push(a, { remote: url, backend: backend() })).refs[0]!.status).toBe("created");
    const second = await note(a, "second");
    const ff = await push(a, { remote: url, backend: backend() });
    expect(ff.refs[0]).toMatchObject({ status: "fast-forward", new: second });

    // another clone moves main; ours diverges: a plain non-fast-forward, then --force
    const b = await Repository.open({ durability: "none", dir: (await clone({ durability: "none", url, dir: path.join(await tempDir(), "b"), backend: backend() })).dir });
    const theirs = await note(b, "theirs");
    await push(b, { backend: backend() });
    const ours = await note(a, "ours");
    const refused = (await caught(push(a, { remote: url, backend: backend() }))) as NonFastForwardError;
    expect(isTdvError(refused, "NonFastForwardError")).toBe(true);
    expect(refused.message).toMatch(/has commits that are not in your history/);
    expect(refused.refs[0]).toMatchObject({ remote: theirs, local: ours });
    expect(refused.refs[0]!.raced).toBeUndefined();
    const forced = await push(a, { remote: url, force: true, backend: backend() });
    expect(forced.refs[0]).toMatchObject({ status: "forced", old: theirs, new: ours });

    // a second branch appears in git/info/refs beside main
    await createBranch(a, { name: "side" });
    await push(a, { remote: url, refs: ["side"], backend: backend() });
    expect(await infoRefs(url)).toBe(`${ours}\trefs/heads/main\n${ours}\trefs/heads/side\n`);
  });

  it("deletes a ref only while it holds the version read (a conditional DELETE)", async () => {
    s3.mode(mode);
    const b = await openBackend(`s3://${s3.bucket}/delete-${mode}`, { env });
    const key = "git/refs/heads/gone";
    const { etag: first } = await b.put(key, enc("one\n"), { ifNoneMatch: "*" });
    await b.put(key, enc("two\n"));
    const moved = await caught(b.delete(key, { ifMatch: first }));
    expect(isTdvError(moved, "PreconditionFailedError")).toBe(true);
    expect(dec((await b.get(key))!.bytes)).toBe("two\n");
    await b.delete(key, { ifMatch: (await b.head(key))!.etag });
    expect(await b.head(key)).toBeNull();
  });

  // the other modes race eight pushers in s3-servers.long.test.ts
  it.runIf(["quoted-refused", "race-409", "race-500"].includes(mode))("names a race lost to another push, and keeps both commits", async () => {
    s3.mode(mode);
    const url = `s3://${s3.bucket}/race-${mode}`;
    const a = await Repository.open({ durability: "none", dir: await committedFixture("v2/single.zarr") });
    const base = (await a.refs.head()).oid as string;
    await push(a, { remote: url, backend: backend() });
    const b = await Repository.open({ durability: "none", dir: (await clone({ durability: "none", url, dir: path.join(await tempDir(), "b"), backend: backend() })).dir });
    const theirs = await note(b, "theirs");
    const ours = await note(a, "ours");
    // b's push lands just before a's conditional write of main is checked
    let fired = false;
    s3.state.beforeConditionalPut = async (key) => {
      if (fired || !key.endsWith("git/refs/heads/main")) return;
      fired = true;
      await push(b, { backend: backend() });
    };
    const lost = (await caught(push(a, { remote: url, backend: backend() }).finally(() => (s3.state.beforeConditionalPut = undefined)))) as NonFastForwardError;
    expect(fired).toBe(true);
    expect(isTdvError(lost, "NonFastForwardError")).toBe(true);
    expect(lost.refs[0]).toMatchObject({ raced: true, was: base, remote: theirs, local: ours });
    expect(lost.message).toContain(`main on ${url} moved while this push ran (${base.slice(0, 7)} -> ${theirs.slice(0, 7)})`);
    expect(lost.hint).toMatch(/tdv pull .*then `tdv push` again/);
    const remote = await openBackend(url, { env });
    expect(dec((await remote.get("git/refs/heads/main"))!.bytes).trim()).toBe(theirs);
  });
});

describe("through the CLI, on a server that refuses a quoted If-Match", () => {
  it("moves an existing branch, and forces it", async () => {
    s3.mode("quoted-refused");
    try {
      const repo = await Repository.open({ durability: "none", dir: await committedFixture("v2/single.zarr") });
      const first = (await repo.refs.head()).oid as string;
      await addRemote(repo, { name: "origin", url: `s3://${s3.bucket}/cli-quoted-refused` });
      await tdvOk(repo.root, ["push", "-q"], { env });
      const second = await note(repo, "second");
      const moved = await tdv(repo.root, ["push"], { env });
      expect(moved.stderr).not.toMatch(/not in your history|rejected/);
      expect(moved.code).toBe(0);
      expect(moved.stdout).toContain(`${first.slice(0, 7)}..${second.slice(0, 7)}`);
      await reset(repo, { rev: first, mode: "hard" });
      const other = await note(repo, "other");
      const forced = await tdv(repo.root, ["push", "--force"], { env });
      expect(forced.code).toBe(0);
      expect(forced.stdout).toMatch(new RegExp(`${second.slice(0, 7)}\\.\\.\\.${other.slice(0, 7)} +main -> main \\(forced update\\)`));
    } finally {
      s3.mode("verbatim-quoted");
    }
  });
});

describe("a conditional DELETE (push --delete, remote ref removal)", () => {
  it("switches the If-Match form as ref writes do, both ways", async () => {
    const b = await openBackend(`s3://${s3.bucket}/delete-forms`, { env });
    const bare = (e: string) => e.replace(/^"(.*)"$/, "$1");
    const deletes = () => s3.requests.filter((q) => q.method === "DELETE").map((q) => [q.ifMatch, q.status]);
    try {
      // a server that takes only the quoted form teaches this process that form (a ref write)
      s3.mode("verbatim-quoted");
      const { etag: e1 } = await b.put("git/refs/heads/a", enc("1\n"), { ifNoneMatch: "*" });
      await b.put("git/refs/heads/a", enc("2\n"), { ifMatch: e1 });
      const { etag: e2 } = await b.put("git/refs/heads/b", enc("1\n"), { ifNoneMatch: "*" });
      // then it refuses the quoted form: the delete switches to the bare one
      s3.mode("quoted-refused");
      const a = (await b.head("git/refs/heads/a"))!.etag;
      s3.resetLog();
      await b.delete("git/refs/heads/a", { ifMatch: a });
      expect(await b.head("git/refs/heads/a")).toBeNull();
      expect(deletes()).toEqual([
        [`"${bare(a)}"`, 412],
        [bare(a), 204],
      ]);
      // and back: the bare form learned, a server that compares verbatim (quoted) wants the quoted one
      s3.mode("verbatim-quoted");
      s3.resetLog();
      await b.delete("git/refs/heads/b", { ifMatch: e2 });
      expect(await b.head("git/refs/heads/b")).toBeNull();
      expect(deletes()).toEqual([
        [bare(e2), 412],
        [`"${bare(e2)}"`, 204],
      ]);
    } finally {
      s3.mode("verbatim-quoted");
    }
  });
});

describe("S3 servers tdv cannot move refs on", () => {
  it("refuses a server that ignores conditional writes, before uploading, with a clear error", async () => {
    s3.mode("ignores-conditions");
    try {
      const dir = await committedFixture("v2/single.zarr");
      const url = `s3://${s3.bucket}/ignores`;
      s3.resetLog();
      const r = await tdv(dir, ["push", url, "main"], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: this S3 server ignores conditional writes \(a PUT with If-None-Match: \* that does not hold succeeded at s3:\/\/.*\); tdv cannot update refs safely there/);
      expect(r.stderr).toMatch(/hint: use a server that enforces S3 conditional writes/);
      expect(s3.requests.filter((q) => q.method === "PUT" && /chunks\/|git\/objects\/|git\/refs\//.test(q.key))).toEqual([]);
    } finally {
      s3.mode("verbatim-quoted");
    }
  });

  it("tells a server that refuses every If-Match from a lost race", async () => {
    const b = await openBackend(`s3://${s3.bucket}/never`, { env });
    const { etag } = await b.put("git/refs/heads/main", new TextEncoder().encode("one\n"), { ifNoneMatch: "*" });
    s3.state.ifMatch = "never";
    try {
      const err = await caught(b.put("git/refs/heads/main", new TextEncoder().encode("two\n"), { ifMatch: etag }));
      expect(isTdvError(err, "ConditionalWritesRefusedError")).toBe(true);
      expect(err.message).toMatch(/refuses every If-Match .* whether the ETag is sent quoted or not/);
    } finally {
      s3.mode("verbatim-quoted");
    }
  });
});

describe("git/info/refs", () => {
  it("is rewritten by the next push when it was left stale, even with nothing to upload", async () => {
    const url = `s3://${s3.bucket}/stale-info`;
    const a = await Repository.open({ durability: "none", dir: await committedFixture("v2/single.zarr") });
    await push(a, { remote: url, backend: { env } });
    const good = await infoRefs(url);
    const b = await openBackend(url, { env });
    await b.put("git/info/refs", new TextEncoder().encode(""));
    const again = await push(a, { remote: url, backend: { env } });
    expect(again.refs[0]!.status).toBe("up-to-date");
    expect(await infoRefs(url)).toBe(good);
  });

  it("says so when other writers keep it from being rewritten", async () => {
    const url = `s3://${s3.bucket}/contended-info`;
    const a = await Repository.open({ durability: "none", dir: await committedFixture("v2/single.zarr") });
    await push(a, { remote: url, backend: { env } });
    await note(a, "more");
    const other = await openBackend(url, { env });
    let n = 0;
    s3.state.beforeConditionalPut = async (key) => {
      if (key.endsWith("git/info/refs")) await other.put("git/info/refs", new TextEncoder().encode(`written by another pusher ${n++}\n`));
    };
    const err = await caught(push(a, { remote: url, backend: { env, retryBaseMs: 1 } }).finally(() => (s3.state.beforeConditionalPut = undefined)));
    expect(isTdvError(err, "InfoRefsNotUpdatedError")).toBe(true);
    expect((err as Error & { hint: string }).hint).toMatch(/run `tdv push` to that remote again/);
    // the branch itself moved; the next push repairs the list
    const again = await push(a, { remote: url, backend: { env } });
    expect(again.refs[0]!.status).toBe("up-to-date");
    expect(await infoRefs(url)).toBe(`${(await a.refs.head()).oid}\trefs/heads/main\n`);
  });
});
