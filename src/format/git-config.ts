/**
 * git's config file format (`[section "sub"]`, `key = value`), pure: text in,
 * values out, and one setting changed in a text with everything else kept.
 * Used for the user's git config (user.name, user.email) and tdv's own global
 * config file, which has the same format. Not supported (ignored): include
 * and includeIf, and multi-line values continued with a backslash.
 */
import { UsageError } from "../errors.js";

/** Settings by full key, lower case section and key ("user.name", "remote.origin.url"); the last value wins. */
export function parseGitConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(?:[#;].*)?$/.exec(line);
    if (head) {
      const name = (head[1] as string).toLowerCase();
      section = head[2] === undefined ? name : `${name}.${head[2].replace(/\\(.)/g, "$1")}`;
      continue;
    }
    if (section === null) continue;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) continue;
    out.set(`${section}.${(kv[1] as string).toLowerCase()}`, kv[2] === undefined ? "true" : unquote(kv[2]));
  }
  return out;
}

/** A value as git reads it: quotes removed, escapes applied, an unquoted comment cut, outer spaces trimmed. */
function unquote(v: string): string {
  let out = "";
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '"') quoted = !quoted;
    else if (c === "\\" && i + 1 < v.length) {
      const n = v[++i] as string;
      out += n === "n" ? "\n" : n === "t" ? "\t" : n;
    } else if (!quoted && (c === "#" || c === ";")) break;
    else out += c;
  }
  return out.trim();
}

/** Split "remote.origin.url" into section "remote", subsection "origin", key "url". */
export function splitKey(key: string): { section: string; sub: string | null; name: string } | null {
  const first = key.indexOf(".");
  const last = key.lastIndexOf(".");
  if (first <= 0 || last === key.length - 1) return null;
  const section = key.slice(0, first).toLowerCase();
  const name = key.slice(last + 1).toLowerCase();
  if (!/^[a-z0-9-]+$/.test(section) || !/^[a-z][a-z0-9-]*$/.test(name)) return null;
  return { section, sub: first === last ? null : key.slice(first + 1, last), name };
}

function quoteValue(v: string): string {
  const escaped = v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t");
  return /^\s|\s$|[#;]/.test(v) || escaped !== v ? `"${escaped}"` : v;
}

/**
 * `text` with `key` set to `value` (or removed when `value` is null): the
 * key's last line in its section is replaced, else the line is added to the
 * section, else the section is added at the end. Other lines are kept as they are.
 */
export function setGitConfig(text: string, key: string, value: string | null): string {
  const parts = splitKey(key);
  if (!parts) throw new UsageError(`invalid config key ${key}`, { hint: "a key is SECTION.NAME or SECTION.SUBSECTION.NAME, as user.name or remote.origin.url" });
  const want = parts.sub === null ? parts.section : `${parts.section}.${parts.sub}`;
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  let section: string | null = null;
  let sectionEnd = -1;
  const hits: number[] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const head = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
    if (head) {
      const name = (head[1] as string).toLowerCase();
      section = head[2] === undefined ? name : `${name}.${head[2].replace(/\\(.)/g, "$1")}`;
      if (section === want) sectionEnd = i;
      continue;
    }
    if (section !== want) continue;
    if (line !== "" && !line.startsWith("#") && !line.startsWith(";")) sectionEnd = i;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(=|$)/.exec(line);
    if (kv && (kv[1] as string).toLowerCase() === parts.name) hits.push(i);
  }
  const entry = `\t${parts.name} = ${value === null ? "" : quoteValue(value)}`;
  if (value === null) {
    for (const i of hits.reverse()) lines.splice(i, 1);
  } else if (hits.length > 0) {
    const last = hits[hits.length - 1] as number;
    for (const i of hits.slice(0, -1).reverse()) lines.splice(i, 1);
    lines[last - (hits.length - 1)] = entry;
  } else if (sectionEnd >= 0) {
    lines.splice(sectionEnd + 1, 0, entry);
  } else {
    const sub = parts.sub === null ? "" : ` "${parts.sub.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
    lines.push(`[${parts.section}${sub}]`, entry);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
