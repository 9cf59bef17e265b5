/**
 * The hooks of commit, merge and push (`.tdv/hooks/*`, as git's): what each
 * hook gets on stdin (docs/hooks.md), and the hint for a hook that is there
 * but not executable. A failing pre-* hook throws HookFailedError before the
 * command changes anything; post-commit's exit code is only reported.
 */
import type { CommitResult, GitOid, HookName, HookRun, RefUpdate } from "../src/index.js";
import { err, warn, type RepoContext } from "./output.js";

const told = new Set<HookName>();

async function run({ lib, repo }: RepoContext, hook: HookName, input: () => Promise<unknown>, stopped: string): Promise<HookRun> {
  const r = await lib.runHook(repo, hook, { input, stopped });
  if (r.state === "not-executable" && !told.has(hook)) {
    told.add(hook);
    err(`hint: the ${hook} hook (${r.file}) was ignored because it is not executable`);
    err(`hint: make it executable with \`chmod +x ${r.file}\`, or remove it`);
  }
  return r;
}

/** pre-commit: the staged changes (`tdv status --json`'s grouped.staged); with -a also the tracked changes -a stages. */
export async function preCommitHook(ctx: RepoContext, { all, merging }: { all: boolean; merging: boolean }): Promise<void> {
  await run(
    ctx,
    "pre-commit",
    async () => {
      const st = await ctx.lib.status(ctx.repo);
      return { hook: "pre-commit", branch: st.branch, head: st.head, merging, all, staged: st.grouped.staged, ...(all ? { unstaged: st.grouped.unstaged } : {}) };
    },
    "nothing was committed; the index and the working copy are as they were",
  );
}

/** post-commit: the new commit and what it changed. */
export async function postCommitHook(ctx: RepoContext, res: Pick<CommitResult, "oid" | "branch" | "parents" | "changes">): Promise<void> {
  const r = await run(
    ctx,
    "post-commit",
    async () => {
      const c = (await ctx.lib.log(ctx.repo, { rev: res.oid, n: 1 }))[0];
      return { hook: "post-commit", commit: res.oid, branch: res.branch, parents: res.parents, message: c?.message ?? null, author: c?.author ?? null, changes: res.changes };
    },
    "",
  );
  if (r.state === "ready" && r.exitCode !== 0) warn(`the post-commit hook exited with code ${r.exitCode ?? r.signal}; the commit ${res.oid.slice(0, 10)} is made`);
}

/** pre-merge: what the merge brings in, as `tdv diff --json BASE THEIRS` (BASE: the merge base, null without one). */
export async function preMergeHook(ctx: RepoContext, rev: string): Promise<void> {
  const { lib, repo } = ctx;
  await run(
    ctx,
    "pre-merge",
    async () => {
      const theirs = await lib.resolveRevision(repo, rev);
      const head = await lib.headCommit(repo);
      const base = head === null ? null : await lib.mergeBaseFor(repo, head, theirs);
      const changes = await lib.diff(repo, { from: base, to: theirs });
      const branch = await lib.currentBranch(repo);
      return { hook: "pre-merge", rev, branch: branch === null ? null : `refs/heads/${branch}`, head, theirs, base, changes };
    },
    "nothing was merged; HEAD, the index and the working copy are as they were",
  );
}

/** pre-push: git's stdin lines (local ref and id, remote ref and id) as JSON, with the commits each brings that no remote ref reaches. */
export function prePushHook(ctx: RepoContext): (plan: { remote: string | null; url: string; refs: RefUpdate[]; remoteTips: string[] }) => Promise<void> {
  return async (plan) => {
    await run(
      ctx,
      "pre-push",
      async () => ({
        hook: "pre-push",
        remote: plan.remote,
        url: plan.url,
        refs: await Promise.all(
          plan.refs.map(async (u) => ({
            localRef: u.ref,
            localOid: u.new,
            remoteRef: u.ref,
            remoteOid: u.old,
            status: u.status,
            commits: u.new === null ? [] : (await ctx.lib.commitsSince(ctx.repo, u.new, [...(u.old === null ? [] : [u.old]), ...(plan.remoteTips as GitOid[])])).map((c) => c.oid),
          })),
        ),
      }),
      "nothing was uploaded and no remote ref moved",
    );
  };
}
