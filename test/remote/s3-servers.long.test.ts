/**
 * Remotes on every S3 behaviour the test server plays (MODES) and on a
 * second, independent S3 implementation (moto's server, when the machine
 * has it):
 *
 * - moto: the ref round trip (create, fast-forward, refuse, force, a second
 *   branch in git/info/refs) and push/clone byte for byte;
 * - each: eight pushers race for main, each pulling and pushing again until
 *   its commit lands. Every commit must be on the remote at the end, no
 *   error but "non-fast-forward" may reach a pusher (a 409 or 500 from the
 *   server is handled), and the figures (rejections, server answers) are
 *   printed.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clone, createBranch, isTdvError, log, openBackend, pull, push, Repository } from "../../src/index.js";
import { listFiles, tempDir } from "../helpers/fixture.js";
import { motoVersion, startMotoServer, type MotoServer } from "../helpers/moto-server.js";
import type { S3Mode, S3TestServer } from "../helpers/s3-server.mjs";
import { commitAll, committedFixture, s3Setup } from "./dataset.js";

const PUSHERS = 8;
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function note(repo: Repository, file: string, text: string): Promise<string> {
  await fs.writeFile(path.join(repo.root, file), `${text}\n`);
  await commitAll(repo.root, text);
  return (await repo.refs.head()).oid as string;
}

async function cloneRepo(url: string, env: Record<string, string>): Promise<Repository> {
  const { dir } = await clone({ durability: "none", url, dir: path.join(await tempDir(), "c"), backend: { env } });
  return Repository.open({ durability: "none", dir });
}

interface RaceFigures {
  pushers: number;
  rejections: number;
  pulls: number;
  unhandled: string[];
  commitsOnRemote: number;
}

/** Eight clones of `url`, each with a commit of its own, push until it lands (pull on a rejection). */
async function racingPushers(url: string, env: Record<string, string>): Promise<RaceFigures> {
  const backend = { env };
  const origin = await Repository.open({ durability: "none", dir: await committedFixture("v2/single.zarr") });
  await push(origin, { remote: url, backend });
  const clones = await Promise.all(Array.from({ length: PUSHERS }, () => cloneRepo(url, env)));
  for (const [i, repo] of clones.entries()) await note(repo, `NOTES-${i}.md`, `pusher ${i}`);
  const figures: RaceFigures = { pushers: PUSHERS, rejections: 0, pulls: 0, unhandled: [], commitsOnRemote: 0 };
  await Promise.all(
    clones.map(async (repo) => {
      for (let round = 0; round < 40; round++) {
        try {
          await push(repo, { backend });
          return;
        } catch (err) {
          if (!isTdvError(err, "NonFastForwardError")) {
            figures.unhandled.push(String(err));
            return;
          }
          figures.rejections++;
        }
        await pull(repo, { backend });
        figures.pulls++;
      }
      figures.unhandled.push("gave up after 40 rounds");
    }),
  );
  const final = await cloneRepo(url, env);
  const messages = (await log(final, {})).map((e) => e.message.split("\n")[0]);
  const files = [...(await listFiles(final.root)).keys()];
  for (let i = 0; i < PUSHERS; i++) {
    expect(messages).toContain(`pusher ${i}`);
    expect(files).toContain(`NOTES-${i}.md`);
  }
  figures.commitsOnRemote = messages.filter((m) => m?.startsWith("pusher ")).length;
  return figures;
}

describe("eight racing pushers on each behaviour of the test server", () => {
  let s3: S3TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ s3, env } = await s3Setup());
  });
  afterAll(async () => s3?.stop());

  const modes: S3Mode[] = ["verbatim-quoted", "lenient", "quoted-refused", "verbatim-unquoted", "race-409", "race-500"];
  it.each(modes)("%s: every commit lands, only non-fast-forward reaches a pusher", async (mode) => {
    s3.mode(mode);
    s3.resetLog();
    const figures = await racingPushers(`s3://${s3.bucket}/race8-${mode}`, env);
    const answers = s3.requests.filter((r) => r.method === "PUT" && /git\/refs\//.test(r.key));
    const statuses = Object.fromEntries([200, 409, 412, 500].map((st) => [st, answers.filter((r) => r.status === st).length]));
    console.log(`[figures] ${mode}: ${JSON.stringify({ ...figures, refPutAnswers: statuses })}`);
    expect(figures.unhandled).toEqual([]);
    expect(figures.commitsOnRemote).toBe(PUSHERS);
    expect(figures.rejections).toBeGreaterThan(0);
  });
});

describe("eight racing pushers on a folder remote", () => {
  it("every commit lands, only non-fast-forward reaches a pusher", async () => {
    const figures = await racingPushers(path.join(await tempDir(), "remote"), {});
    console.log(`[figures] folder: ${JSON.stringify(figures)}`);
    expect(figures.unhandled).toEqual([]);
    expect(figures.commitsOnRemote).toBe(PUSHERS);
  });
});

const moto = motoVersion();
describe.skipIf(!moto)(`moto's S3 server (${moto ?? "not installed: python3 -c 'import moto.server' failed"})`, () => {
  let server: MotoServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startMotoServer();
    env = { ...server.env(), HOME: await tempDir(), TDV_REMOTE_RETRY_MS: "5" };
  });
  afterAll(async () => server?.stop());

  it("moves refs by compare-and-swap, lists them in git/info/refs, and clones byte for byte", async () => {
    const url = `s3://${server.bucket}/roundtrip`;
    const backend = { env };
    const a = await Repository.open({ durability: "none", dir: await committedFixture("v3") });
    expect((await push(a, { remote: url, backend })).refs[0]!.status).toBe("created");
    const second = await note(a, "NOTES.md", "second");
    expect((await push(a, { remote: url, backend })).refs[0]).toMatchObject({ status: "fast-forward", new: second });

    const b = await cloneRepo(url, env);
    expect(await listFiles(b.root)).toEqual(await listFiles(a.root));
    const theirs = await note(b, "NOTES.md", "theirs");
    await push(b, { backend });
    const ours = await note(a, "NOTES.md", "ours");
    await expect(push(a, { remote: url, backend })).rejects.toMatchObject({ _tag: "NonFastForwardError", message: expect.stringMatching(/not in your history/) });
    expect((await push(a, { remote: url, force: true, backend })).refs[0]).toMatchObject({ status: "forced", old: theirs, new: ours });
    await createBranch(a, { name: "side" });
    await push(a, { remote: url, refs: ["side"], backend });
    const remote = await openBackend(url, { env });
    expect(dec((await remote.get("git/info/refs"))!.bytes)).toBe(`${ours}\trefs/heads/main\n${ours}\trefs/heads/side\n`);
    const c = await cloneRepo(url, env);
    expect(await listFiles(c.root)).toEqual(await listFiles(a.root));
  });

  it("eight racing pushers: every commit lands, only non-fast-forward reaches a pusher", async () => {
    const figures = await racingPushers(`s3://${server.bucket}/race8`, env);
    console.log(`[figures] moto ${moto}: ${JSON.stringify(figures)}`);
    expect(figures.unhandled).toEqual([]);
    expect(figures.commitsOnRemote).toBe(PUSHERS);
  });
});
