import type { Command } from "commander";
import { loadLib, action, out, printJson, type Lib, type Repo } from "../output.js";
import { repoOptions } from "../env.js";

interface ConfigOptions {
  global?: boolean;
  list?: boolean;
  unset?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("config")
    .description("read and set settings: user.name and user.email (who commits), remote.NAME.url, pull.rebase")
    .usage("[options] [KEY [VALUE]]")
    .argument("[key]", "user.name, user.email, remote.NAME.url or pull.rebase")
    .argument("[value]", "the new value; without it, print the current one")
    .option("--global", "tdv's global config ($XDG_CONFIG_HOME/tdv/config, default ~/.config/tdv/config) instead of the repository's")
    .option("-l, --list", "list the settings (both scopes, or the one named by --global)")
    .option("--unset", "remove KEY")
    .option("--json", "with --list or a KEY: print JSON")
    .addHelpText(
      "after",
      `
Who commits: each of name and email comes from TDV_AUTHOR_NAME/EMAIL, git's
GIT_AUTHOR_*/GIT_COMMITTER_* variables, this repository's config, tdv's global
config, then git's own user.name/user.email (~/.gitconfig); else the user and
host names, with a warning at each commit.

pull.rebase (true or false): \`tdv pull\` rebases the branch's own commits
onto the remote branch instead of merging (\`tdv pull --no-rebase\` merges).

Examples:
  $ tdv config --global user.name "Ada Lovelace"
  $ tdv config --global user.email ada@example.org
  $ tdv config user.email ada@lab.example.org    for this repository only
  $ tdv config user.name                         print the name commits record
  $ tdv config --list
  $ tdv config --unset user.email
  $ tdv config --global pull.rebase true         every pull rebases`,
    )
    .action(action(run));
}

async function openMaybe(lib: Lib): Promise<Repo | null> {
  try {
    return await lib.openRepository({ dir: process.cwd(), ...repoOptions() });
  } catch (e) {
    if (lib.isTdvError(e, "NotARepositoryError")) return null;
    throw e;
  }
}

async function run(key: string | undefined, value: string | undefined, opts: ConfigOptions): Promise<number> {
  const lib = await loadLib();
  const scope = opts.global ? "global" : "repository";
  const repo = opts.global && !opts.list && key !== undefined ? null : await openMaybe(lib);
  const needRepo = () => {
    if (repo) return repo;
    throw new lib.NotARepositoryError(process.cwd());
  };
  if (opts.list) {
    if (key !== undefined) throw new lib.UsageError("--list takes no KEY", { hint: "`tdv config --list`, or `tdv config KEY` for one value" });
    const scopes = opts.global ? (["global"] as const) : repo ? (["global", "repository"] as const) : (["global"] as const);
    const rows = scopes.flatMap((s) => [...lib.listConfigScope(s, repo?.config ?? null)].map(([k, v]) => ({ scope: s, key: k, value: v })));
    if (opts.json) printJson(rows);
    else if (rows.length > 0) out(rows.map((r) => `${r.key}=${r.value}`).join("\n"));
    return 0;
  }
  if (key === undefined) throw new lib.UsageError("name a setting, or --list", { hint: "`tdv config user.name`, `tdv config --global user.name NAME`, `tdv config --list`" });
  if (opts.unset) {
    if (value !== undefined) throw new lib.UsageError("--unset takes only the KEY", { hint: `\`tdv config${opts.global ? " --global" : ""} --unset ${key}\`` });
    const had = opts.global ? await lib.setGlobalConfig(key, null) : await lib.setRepoSetting(needRepo(), key, null);
    if (!had) {
      process.stderr.write(`error: ${key} is not set in the ${scope} config\n`);
      return 1;
    }
    return 0;
  }
  if (value === undefined) {
    const k = lib.checkConfigKey(key, opts.global ? "global" : "repository");
    const hit = opts.global ? (lib.listConfigScope("global", null).has(k) ? { value: lib.listConfigScope("global", null).get(k) as string, from: "global" } : null) : lib.effectiveConfigValue(k, repo?.config ?? null);
    if (opts.json) printJson({ key: k, value: hit?.value ?? null, from: hit?.from ?? null });
    else if (hit) out(hit.value);
    return hit ? 0 : 1; // git config KEY exits 1 when the key is not set
  }
  if (opts.global) await lib.setGlobalConfig(key, value);
  else await lib.setRepoSetting(needRepo(), key, value, (u) => lib.normalizeRemoteUrl(u));
  return 0;
}
