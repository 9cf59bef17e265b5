/**
 * Two pushers race for the same branch: the remote ref moves by
 * compare-and-swap, so one wins, the other is told "non-fast-forward", and no
 * commit is lost: the winner's is on the remote, the loser's is still local
 * and lands after a pull-and-merge (here: after taking the winner's commit).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clone, fetch, isTdvError, log, push, Repository } from "../../src/index.js";
import { tdv, tdvOk } from "../helpers/cli.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import type { S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, committedFixture, s3Setup } from "./dataset.js";

let s3: S3TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ s3, env } = await s3Setup());
});
afterAll(async () => s3?.stop());

async function edit(dir: string, name: string): Promise<void> {
  await fs.writeFile(path.join(dir, `NOTES-${name}.md`), `written by ${name}\n`);
}

describe("racing pushers", () => {
  it("on S3 through the CLI: one wins, one is refused, nothing is lost", async () => {
    const origin = await committedFixture("v2/single.zarr");
    const url = `s3://${s3.bucket}/race`;
    await push(await Repository.open({ durability: "none", dir: origin }), { remote: url, backend: { env } });
    const parent = await tempDir();
    await Promise.all(["a", "b"].map((n) => tdvOk(parent, ["clone", "-q", url, n], { env })));
    const [a, b] = [path.join(parent, "a"), path.join(parent, "b")];
    for (const [dir, n] of [[a, "a"], [b, "b"]] as const) {
      await edit(dir, n);
      await commitAll(dir, `notes from ${n}`);
    }
    const results = await Promise.all([tdv(a, ["push"], { env }), tdv(b, ["push"], { env })]);
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1)!;
    expect(loser.stderr).toMatch(/non-fast-forward/);
    expect(loser.stderr).toMatch(/tdv pull/);
    const [winDir, loseDir] = results[0]!.code === 0 ? [a, b] : [b, a];

    // the remote holds the winner's commit, complete
    const check = path.join(parent, "check");
    await clone({ durability: "none", url, dir: check, backend: { env } });
    expect(await listFiles(check)).toEqual(await listFiles(winDir));
    // the loser keeps its commit; --ff-only stops after the fetch, a plain pull merges
    const loserLog = await log(await Repository.open({ durability: "none", dir: loseDir }), {});
    expect(loserLog[0]!.message).toMatch(/notes from/);
    const ffOnly = await tdv(loseDir, ["pull", "--ff-only"], { env });
    expect(ffOnly.code).toBe(1);
    expect(ffOnly.stderr).toMatch(/diverged/);
    const oids = async (dir: string, rev: string) => (await log(await Repository.open({ durability: "none", dir }), { rev })).map((e) => e.oid);
    expect(await oids(loseDir, "origin/main")).toEqual(await oids(winDir, "HEAD"));
    expect((await tdvOk(loseDir, ["pull"], { env })).stdout).toMatch(/Merge of origin\/main made by tdv/);
    await tdvOk(loseDir, ["push"], { env });
    // nothing lost: the remote now has both commits and both files
    const final = path.join(parent, "final");
    await clone({ durability: "none", url, dir: final, backend: { env } });
    const files = [...(await listFiles(final)).keys()];
    expect(files).toEqual(expect.arrayContaining(["NOTES-a.md", "NOTES-b.md"]));
    const messages = (await log(await Repository.open({ durability: "none", dir: final }), {})).map((e) => e.message.split("\n")[0]);
    expect(messages).toEqual(expect.arrayContaining(["notes from a", "notes from b"]));
  });

  it("on a folder remote through the library: eight concurrent pushes, one winner", async () => {
    const remoteDir = path.join(await tempDir(), "remote");
    const base = await committedFixture("v2/single.zarr");
    const baseRepo = await Repository.open({ durability: "none", dir: base });
    await push(baseRepo, { remote: remoteDir });
    const clones = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const dir = path.join(await tempDir(), `c${i}`);
        await clone({ durability: "none", url: remoteDir, dir });
        await edit(dir, `c${i}`);
        return commitAll(dir, `c${i}`);
      }),
    );
    const outcomes = await Promise.allSettled(clones.map((repo) => push(repo, {})));
    const won = outcomes.filter((o) => o.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const o of outcomes) if (o.status === "rejected") expect(isTdvError(o.reason, "NonFastForwardError")).toBe(true);
    const winner = clones[outcomes.findIndex((o) => o.status === "fulfilled")]!;
    const head = (await winner.refs.head()).oid;
    const loser = clones.find((c) => c !== winner)!;
    await fetch(loser, {});
    expect(await loser.refs.read("refs/remotes/origin/main")).toBe(head);
    // --force overwrites the remote branch (the winner's commit stays in its clone and in origin/main here)
    const forced = await push(loser, { force: true });
    expect(forced.refs[0]!.status).toBe("forced");
    expect(forced.refs[0]!.old).toBe(head);
  });
});
