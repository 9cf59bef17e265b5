/**
 * Hooks, as git's (.tdv/hooks/*): each gets its change set as JSON on stdin,
 * the repository root as cwd, TDV_HOOK and TDV_DIR; a failing pre-commit,
 * pre-merge or pre-push stops the command with nothing moved; --no-verify
 * skips them; post-commit runs after the commit; a hook that is not
 * executable is skipped with a hint.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tdv, tdvJson, tdvOk } from "../helpers/cli.js";
import { committedFixture } from "../remote/dataset.js";
import { tempDir } from "../helpers/fixture.js";

/** A hook that saves its stdin, environment and cwd under $HOOK_OUT and exits with `code` (printing a line on stdout). */
async function installHook(dir: string, name: string, code: number, mode = 0o755): Promise<void> {
  const hooks = path.join(dir, ".tdv", "hooks");
  await fs.mkdir(hooks, { recursive: true });
  const body = [
    "#!/bin/sh",
    `cat > "$HOOK_OUT/${name}.json"`,
    `printf '%s\\n%s\\n%s\\n' "$TDV_HOOK" "$TDV_DIR" "$(pwd)" > "$HOOK_OUT/${name}.env"`,
    `echo "${name} says: checked"`,
    `exit ${code}`,
    "",
  ].join("\n");
  await fs.writeFile(path.join(hooks, name), body);
  await fs.chmod(path.join(hooks, name), mode);
}

async function setup(): Promise<{ dir: string; env: { HOOK_OUT: string } }> {
  const dir = await committedFixture("v2/single.zarr");
  return { dir, env: { HOOK_OUT: await tempDir() } };
}

async function read<T>(env: { HOOK_OUT: string }, name: string): Promise<T> {
  return JSON.parse(await fs.readFile(path.join(env.HOOK_OUT, `${name}.json`), "utf8")) as T;
}

async function headOid(dir: string): Promise<string> {
  return (await tdvJson<{ head: string }>(dir, ["status", "--json"])).head;
}

const chunk = (dir: string) => path.join(dir, "single.zarr", "0.0");

describe.concurrent("hooks", () => {
  it("pre-commit gets the staged changes; failing, it stops the commit with the index kept; --no-verify skips it; post-commit gets the new commit", async () => {
    const { dir, env } = await setup();
    await fs.writeFile(chunk(dir), Buffer.alloc((await fs.stat(chunk(dir))).size, 7));
    await tdvOk(dir, ["add", "single.zarr"]);
    const before = await headOid(dir);
    await installHook(dir, "pre-commit", 3);
    await installHook(dir, "post-commit", 0);

    const r = await tdv(dir, ["commit", "-m", "refused"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pre-commit says: checked"); // the hook's stdout passes through (to stderr, as git)
    expect(r.stderr).toContain("the pre-commit hook exited with code 3");
    expect(r.stderr).toContain("--no-verify");
    expect(r.stdout).toBe("");
    const input = await read<{ hook: string; head: string; staged: { arrays: { path: string; chunks: { modified: number } }[] } }>(env, "pre-commit");
    expect(input.hook).toBe("pre-commit");
    expect(input.head).toBe(before);
    expect(input.staged.arrays).toEqual([expect.objectContaining({ path: "single.zarr", chunks: { added: 0, modified: 1, deleted: 0 } })]);
    const [hookName, tdvDir, cwd] = (await fs.readFile(path.join(env.HOOK_OUT, "pre-commit.env"), "utf8")).split("\n");
    expect(hookName).toBe("pre-commit");
    expect(await fs.realpath(tdvDir as string)).toBe(await fs.realpath(path.join(dir, ".tdv")));
    expect(await fs.realpath(cwd as string)).toBe(await fs.realpath(dir));
    // nothing moved, nothing lost: HEAD as before, the change still staged
    const st = await tdvJson<{ head: string; staged: { path: string }[] }>(dir, ["status", "--json"]);
    expect(st.head).toBe(before);
    expect(st.staged.map((c) => c.path)).toEqual(["single.zarr/0.0"]);
    await expect(fs.stat(path.join(env.HOOK_OUT, "post-commit.json"))).rejects.toThrow();

    await tdvOk(dir, ["commit", "--no-verify", "-m", "skipped the hook"], { env });
    const after = await headOid(dir);
    expect(after).not.toBe(before);
    const post = await read<{ hook: string; commit: string; parents: string[]; message: string; changes: { arrays: { path: string }[] } }>(env, "post-commit");
    expect(post).toMatchObject({ hook: "post-commit", commit: after, parents: [before] });
    expect(post.message).toMatch(/^skipped the hook\n/);
    expect(post.changes.arrays.map((a) => a.path)).toEqual(["single.zarr"]);
  });

  it("a passing pre-commit lets the commit through; a hook that is not executable is skipped with a hint", async () => {
    const { dir, env } = await setup();
    await fs.writeFile(chunk(dir), Buffer.alloc((await fs.stat(chunk(dir))).size, 1));
    await installHook(dir, "pre-commit", 0);
    await tdvOk(dir, ["commit", "-a", "-m", "passes"], { env });
    const input = await read<{ all: boolean; unstaged: { arrays: { path: string }[] } }>(env, "pre-commit");
    expect(input.all).toBe(true); // with -a, the tracked changes -a stages are given too
    expect(input.unstaged.arrays.map((a) => a.path)).toEqual(["single.zarr"]);

    await installHook(dir, "pre-commit", 1, 0o644);
    await fs.writeFile(chunk(dir), Buffer.alloc((await fs.stat(chunk(dir))).size, 2));
    const r = await tdvOk(dir, ["commit", "-a", "-m", "not executable: not run"], { env });
    expect(r.stderr).toContain("hook");
    expect(r.stderr).toContain("not executable");
    expect(r.stderr).toContain("chmod +x");
  });

  it("pre-merge gets what the merge brings in; failing, it stops the merge with HEAD and the working copy kept; --no-verify merges", async () => {
    const { dir, env } = await setup();
    const main = await headOid(dir);
    await tdvOk(dir, ["switch", "-c", "feature"]);
    await fs.writeFile(chunk(dir), Buffer.alloc((await fs.stat(chunk(dir))).size, 9));
    await tdvOk(dir, ["commit", "-a", "-m", "feature work"]);
    const feature = await headOid(dir);
    await tdvOk(dir, ["switch", "main"]);
    const original = await fs.readFile(chunk(dir));
    await installHook(dir, "pre-merge", 4);

    const r = await tdv(dir, ["merge", "feature"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the pre-merge hook exited with code 4");
    expect(r.stderr).toContain("pre-merge says: checked");
    const input = await read<{ hook: string; rev: string; head: string; theirs: string; base: string; changes: { arrays: { path: string; chunks: { modified: number } }[] } }>(env, "pre-merge");
    expect(input).toMatchObject({ hook: "pre-merge", rev: "feature", head: main, theirs: feature, base: main });
    expect(input.changes.arrays).toEqual([expect.objectContaining({ path: "single.zarr" })]);
    expect(await headOid(dir)).toBe(main);
    expect(await fs.readFile(chunk(dir))).toEqual(original);
    expect((await tdvJson<{ clean: boolean }>(dir, ["status", "--json"])).clean).toBe(true);

    await tdvOk(dir, ["merge", "--no-verify", "feature"], { env });
    expect(await headOid(dir)).toBe(feature);
  });

  it("pre-push gets the refs and commits being pushed; failing, it stops the push with the remote untouched; --no-verify pushes", async () => {
    const { dir, env } = await setup();
    const remote = path.join(await tempDir(), "remote");
    await tdvOk(dir, ["remote", "add", "origin", `file://${remote}`]);
    await installHook(dir, "pre-push", 5);
    const head = await headOid(dir);

    const r = await tdv(dir, ["push", "origin", "main"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the pre-push hook exited with code 5");
    const input = await read<{ hook: string; remote: string; url: string; refs: unknown[] }>(env, "pre-push");
    expect(input).toMatchObject({ hook: "pre-push", remote: "origin", url: `file://${remote}` });
    expect(input.refs).toEqual([{ localRef: "refs/heads/main", localOid: head, remoteRef: "refs/heads/main", remoteOid: null, status: "created", commits: [head] }]);
    const ls = await tdv(dir, ["ls-remote", "--json", "origin"]);
    if (ls.code === 0) expect(JSON.stringify(JSON.parse(ls.stdout))).not.toContain(head);

    await tdvOk(dir, ["push", "--no-verify", "origin", "main"], { env });
    expect((await tdvOk(dir, ["ls-remote", "origin"])).stdout).toContain(head);

    // a new branch brings only the commits no remote ref reaches
    await tdvOk(dir, ["switch", "-c", "feat"]);
    await fs.writeFile(chunk(dir), Buffer.alloc((await fs.stat(chunk(dir))).size, 5));
    await tdvOk(dir, ["commit", "-a", "-m", "feat work"]);
    const feat = await headOid(dir);
    await installHook(dir, "pre-push", 0);
    await tdvOk(dir, ["push", "origin", "feat"], { env });
    const next = await read<{ refs: { localRef: string; remoteOid: string | null; status: string; commits: string[] }[] }>(env, "pre-push");
    expect(next.refs).toEqual([expect.objectContaining({ localRef: "refs/heads/feat", remoteOid: null, status: "created", commits: [feat] })]);
  });
});
