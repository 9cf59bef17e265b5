/**
 * Named remotes, kept in `.tdv/tdv.json` under "remotes": `tdv remote add`,
 * `remove`, `-v`. A command that takes a remote accepts a name or a URL.
 */
import { UsageError } from "../errors.js";
import type { Repository } from "../repo/repository.js";
import { normalizeRemoteUrl } from "./backend.js";
import { RemoteExistsError, UnknownRemoteError } from "./errors.js";

export interface RemoteInfo {
  name: string;
  url: string;
}

export function checkRemoteName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.endsWith(".lock") || name.includes("..")) {
    throw new UsageError(`'${name}' is not a valid remote name`, { hint: "use letters, digits, '.', '_' and '-', starting with a letter or digit" });
  }
}

export function listRemotes(repo: Repository): RemoteInfo[] {
  return Object.entries(repo.config.remotes ?? {})
    .map(([name, r]) => ({ name, url: r.url }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function addRemote(repo: Repository, { name, url, cwd }: { name: string; url: string; cwd?: string }): Promise<RemoteInfo> {
  checkRemoteName(name);
  const normalized = normalizeRemoteUrl(url, cwd);
  await repo.updateConfig((c) => {
    const existing = c.remotes?.[name];
    if (existing) throw new RemoteExistsError(name, existing.url);
    c.remotes = { ...c.remotes, [name]: { url: normalized } };
  });
  return { name, url: normalized };
}

/** Forget a remote and its remote-tracking refs (refs/remotes/NAME/*). */
export async function removeRemote(repo: Repository, { name }: { name: string }): Promise<RemoteInfo> {
  let removed: RemoteInfo | null = null;
  await repo.updateConfig((c) => {
    const existing = c.remotes?.[name];
    if (!existing) throw new UnknownRemoteError(name, Object.keys(c.remotes ?? {}));
    removed = { name, url: existing.url };
    const rest = { ...c.remotes };
    delete rest[name];
    c.remotes = rest;
    if (c.lazy?.remote === name) delete c.lazy;
  });
  for (const [ref, oid] of await repo.refs.list(`refs/remotes/${name}/`)) {
    await repo.refs.update(ref, { expected: oid, next: null, who: repo.identity(), message: `remote: removed ${name}` });
  }
  return removed as unknown as RemoteInfo;
}

/**
 * The remote a command means: a configured name, or a URL (then `name` is
 * null and no remote-tracking refs are kept). With no argument: "origin",
 * or the only remote.
 */
export function resolveRemote(repo: Repository, nameOrUrl?: string): { name: string | null; url: string } {
  const remotes = repo.config.remotes ?? {};
  if (nameOrUrl === undefined) {
    const names = Object.keys(remotes);
    const pick = remotes.origin ? "origin" : names.length === 1 ? names[0] : undefined;
    if (!pick) {
      if (names.length === 0) throw new UnknownRemoteError("origin", []);
      throw new UsageError(`which remote? this repository has ${names.length}: ${names.join(", ")}`, { hint: "name one: `tdv push NAME`" });
    }
    return { name: pick, url: (remotes[pick] as { url: string }).url };
  }
  const known = remotes[nameOrUrl];
  if (known) return { name: nameOrUrl, url: known.url };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(nameOrUrl) || nameOrUrl.includes("/") || nameOrUrl.startsWith(".")) {
    return { name: null, url: normalizeRemoteUrl(nameOrUrl) };
  }
  throw new UnknownRemoteError(nameOrUrl, Object.keys(remotes));
}

/** Point a remote at another URL (`tdv remote set-url`); its remote-tracking refs stay. */
export async function setRemoteUrl(repo: Repository, { name, url, cwd }: { name: string; url: string; cwd?: string }): Promise<RemoteInfo & { old: string }> {
  const normalized = normalizeRemoteUrl(url, cwd);
  let old = "";
  await repo.updateConfig((c) => {
    const existing = c.remotes?.[name];
    if (!existing) throw new UnknownRemoteError(name, Object.keys(c.remotes ?? {}));
    old = existing.url;
    c.remotes = { ...c.remotes, [name]: { ...existing, url: normalized } };
  });
  return { name, url: normalized, old };
}

/**
 * Rename a remote (`tdv remote rename`): its remote-tracking refs move from
 * refs/remotes/OLD/ to refs/remotes/NEW/ (each created, then the old one
 * deleted, with reflog entries), then the configuration follows, with a lazy
 * clone's remote. Upstreams are implicit (a branch pulls the same-named
 * branch of the remote), so they follow the refs. A rename cut short leaves
 * the remote under its old name with some refs already moved: running it
 * again finishes it.
 */
export async function renameRemote(repo: Repository, { from, to }: { from: string; to: string }): Promise<{ from: string; to: string; url: string; movedRefs: string[] }> {
  checkRemoteName(to);
  const remotes = repo.config.remotes ?? {};
  const existing = remotes[from];
  if (!existing) throw new UnknownRemoteError(from, Object.keys(remotes));
  if (from === to) throw new UsageError(`remote '${from}' already has that name`, { hint: "give a different new name" });
  if (remotes[to]) throw new RemoteExistsError(to, (remotes[to] as { url: string }).url);
  const who = repo.identity();
  const movedRefs: string[] = [];
  for (const [ref, oid] of await repo.refs.list(`refs/remotes/${from}/`)) {
    const next = `refs/remotes/${to}/${ref.slice(`refs/remotes/${from}/`.length)}`;
    const cur = await repo.refs.read(next);
    if (cur !== oid) await repo.refs.update(next, { expected: cur, next: oid, who, message: `remote: renamed ${ref} to ${next}` });
    await repo.refs.update(ref, { expected: oid, next: null, who, message: `remote: renamed ${ref} to ${next}` });
    movedRefs.push(next);
  }
  await repo.updateConfig((c) => {
    const r = c.remotes?.[from];
    if (!r) throw new UnknownRemoteError(from, Object.keys(c.remotes ?? {}));
    if (c.remotes?.[to]) throw new RemoteExistsError(to, c.remotes[to].url);
    const rest = { ...c.remotes, [to]: r };
    delete rest[from];
    c.remotes = rest;
    if (c.lazy?.remote === from) c.lazy = { ...c.lazy, remote: to };
  });
  return { from, to, url: existing.url, movedRefs };
}
