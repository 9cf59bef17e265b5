/**
 * git's `-N` for `-n N` (`tdv log -1`, `tdv reflog -5`): commander has no
 * numeric options, so the words are rewritten before parsing, for the
 * commands that take a count and only before a `--` (after it, `-1` is a path).
 */
const COUNTED = new Set(["log", "reflog"]);

export function expandCountShorthand(argv: readonly string[]): string[] {
  const [node = "", script = "", command, ...rest] = argv;
  if (command === undefined || !COUNTED.has(command)) return [...argv];
  const out = [node, script, command];
  let dashes = false;
  for (const a of rest) {
    if (a === "--") dashes = true;
    if (!dashes && /^-\d+$/.test(a)) out.push("-n", a.slice(1));
    else out.push(a);
  }
  return out;
}
