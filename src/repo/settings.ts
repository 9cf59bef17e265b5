/**
 * Settings (`tdv config`) and who commits.
 *
 * Two tdv config files: the repository's (`.tdv/tdv.json`: user.name,
 * user.email, remote.NAME.url, pull.rebase) and the user's global one, in git's config
 * format, at $XDG_CONFIG_HOME/tdv/config (default ~/.config/tdv/config).
 * The identity recorded in commits and reflogs comes, for each of name and
 * email, from the first of: TDV_AUTHOR_NAME/EMAIL, git's GIT_AUTHOR_* (or
 * GIT_COMMITTER_* for the committer), the repository's config, tdv's global
 * config, git's global config (GIT_CONFIG_GLOBAL, else ~/.gitconfig over
 * $XDG_CONFIG_HOME/git/config), for the email $EMAIL; else it is guessed
 * from the OS user and host name, and `guessed` says so (commit warns, as git does).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../errors.js";
import { parseGitConfig, setGitConfig, splitKey } from "../format/git-config.js";
import type { Person } from "../format/git-object.js";
import { writeAtomic } from "../store/atomic.js";
import type { RepoConfig } from "./repository.js";

export type Role = "author" | "committer";

export interface Identity {
  person: Person;
  /** name or email came from the OS user and host name: no setting names them */
  guessed: boolean;
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** tdv's global config file. */
export function globalConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME || path.join(home(env), ".config");
  return path.join(xdg, "tdv", "config");
}

/** git's global config files, lowest precedence first. */
export function gitGlobalConfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.GIT_CONFIG_GLOBAL) return [env.GIT_CONFIG_GLOBAL];
  const xdg = env.XDG_CONFIG_HOME || path.join(home(env), ".config");
  return [path.join(xdg, "git", "config"), path.join(home(env), ".gitconfig")];
}

function readConfig(file: string): Map<string, string> {
  try {
    return parseGitConfig(fs.readFileSync(file, "utf8"));
  } catch {
    return new Map(); // missing or unreadable: no settings from it, as git
  }
}

function gitGlobal(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of gitGlobalConfigFiles(env)) for (const [k, v] of readConfig(f)) out.set(k, v);
  return out;
}

/** Who made a commit or moved a ref. */
export function resolveIdentity(config: Pick<RepoConfig, "user">, role: Role = "author", now = new Date(), env: NodeJS.ProcessEnv = process.env): Identity {
  const tdvGlobal = readConfig(globalConfigFile(env));
  const git = gitGlobal(env);
  const ROLE = role === "author" ? "AUTHOR" : "COMMITTER";
  const pick = (field: "name" | "email"): string | undefined =>
    [env[`TDV_AUTHOR_${field.toUpperCase()}`], env[`GIT_${ROLE}_${field.toUpperCase()}`], config.user?.[field], tdvGlobal.get(`user.${field}`), git.get(`user.${field}`), field === "email" ? env.EMAIL : undefined].find(
      (v): v is string => typeof v === "string" && v.trim() !== "",
    );
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = "unknown";
  }
  const name = pick("name");
  const email = pick("email");
  const date = env.TDV_AUTHOR_DATE ? new Date(env.TDV_AUTHOR_DATE) : now;
  return {
    person: { name: name ?? user, email: email ?? `${user}@${os.hostname()}`, timestamp: Math.floor(date.getTime() / 1000), tzOffset: -date.getTimezoneOffset() },
    guessed: name === undefined || email === undefined,
  };
}

// ---- tdv config -------------------------------------------------------------------

export type ConfigScope = "repository" | "global";

/** The keys tdv reads; others are refused (a typo would otherwise be kept and never read). */
export function checkConfigKey(key: string, scope: ConfigScope): string {
  const parts = splitKey(key);
  const k = parts ? (parts.sub === null ? `${parts.section}.${parts.name}` : `${parts.section}.${parts.sub}.${parts.name}`) : key;
  if (k === "user.name" || k === "user.email") return k;
  if (k === "pull.rebase") return k;
  if (parts?.section === "remote" && parts.sub !== null && parts.name === "url") {
    if (scope === "global") throw new UsageError(`${key} is a setting of one repository`, { hint: "set it without --global, inside the repository (or `tdv remote add NAME URL`)" });
    return k;
  }
  throw new UsageError(`unknown setting '${key}'`, { hint: "tdv reads user.name, user.email, remote.NAME.url and pull.rebase" });
}

/** The settings of one scope as key → value ("user.name", "remote.origin.url"). */
export function listScope(scope: ConfigScope, repoConfig: RepoConfig | null, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  if (scope === "global") return readConfig(globalConfigFile(env));
  const out = new Map<string, string>();
  if (!repoConfig) return out;
  if (repoConfig.user?.name !== undefined) out.set("user.name", repoConfig.user.name);
  if (repoConfig.user?.email !== undefined) out.set("user.email", repoConfig.user.email);
  for (const [name, r] of Object.entries(repoConfig.remotes ?? {})) out.set(`remote.${name}.url`, r.url);
  if (repoConfig.pull?.rebase !== undefined) out.set("pull.rebase", String(repoConfig.pull.rebase));
  return out;
}

/** Set (or with null remove) a key in tdv's global config file; returns whether it was set before. */
export async function setGlobal(key: string, value: string | null, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const k = checkConfigKey(key, "global");
  if (k === "pull.rebase" && value !== null) value = String(parseBool(k, value));
  const file = globalConfigFile(env);
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const had = parseGitConfig(text).has(k);
  if (value === null && !had) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeAtomic(file, setGitConfig(text, k, value));
  return had;
}

/** The value of `key` in the repository's config, tdv's global config, then (user.*) git's global config. */
export function effectiveValue(key: string, repoConfig: RepoConfig | null, env: NodeJS.ProcessEnv = process.env): { value: string; from: string } | null {
  const local = listScope("repository", repoConfig, env).get(key);
  if (local !== undefined) return { value: local, from: "repository" };
  const global = readConfig(globalConfigFile(env)).get(key);
  if (global !== undefined) return { value: global, from: globalConfigFile(env) };
  if (key.startsWith("user.")) {
    const git = gitGlobal(env).get(key);
    if (git !== undefined) return { value: git, from: "git" };
  }
  return null;
}

/** Set (or with null remove) a key in the repository's config; returns whether it was set before. Removing a remote's url is `removeRemote`'s job. */
export async function setRepoSetting(
  repo: { config: RepoConfig; updateConfig(edit: (c: RepoConfig) => void): Promise<RepoConfig> },
  key: string,
  value: string | null,
  /** how a remote URL is stored (remote/backend's normalizeRemoteUrl: the repo layer does not import remote/) */
  normalizeUrl: (url: string) => string = (u) => u,
): Promise<boolean> {
  const k = checkConfigKey(key, "repository");
  let had = false;
  if (k === "pull.rebase") {
    const on = value === null ? null : parseBool(k, value);
    await repo.updateConfig((c) => {
      had = c.pull?.rebase !== undefined;
      if (on === null) delete c.pull;
      else c.pull = { rebase: on };
    });
    return had;
  }
  const field = k === "user.name" ? "name" : k === "user.email" ? "email" : null;
  if (field === null) {
    const name = k.slice("remote.".length, -".url".length);
    if (value === null) throw new UsageError(`remove a remote with \`tdv remote remove ${name}\``);
    const url = normalizeUrl(value);
    await repo.updateConfig((c) => {
      had = c.remotes?.[name] !== undefined;
      c.remotes = { ...c.remotes, [name]: { url } };
    });
    return had;
  }
  await repo.updateConfig((c) => {
    had = c.user?.[field] !== undefined;
    const user = { ...c.user };
    if (value === null) delete user[field];
    else user[field] = value;
    if (Object.keys(user).length === 0) delete c.user;
    else c.user = user;
  });
  return had;
}

/** A boolean setting's value as git reads one: true/yes/on/1, false/no/off/0. */
export function parseBool(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (["true", "yes", "on", "1"].includes(v)) return true;
  if (["false", "no", "off", "0"].includes(v)) return false;
  throw new UsageError(`${key} is true or false, not '${value}'`, { hint: `\`tdv config ${key} true\`` });
}

/** `pull.rebase` as the repository's config, then tdv's global config, set it (false when neither does). */
export function pullRebaseSetting(repoConfig: RepoConfig | null, env: NodeJS.ProcessEnv = process.env): boolean {
  const hit = effectiveValue("pull.rebase", repoConfig, env);
  return hit ? parseBool("pull.rebase", hit.value) : false;
}
