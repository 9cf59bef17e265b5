/** Paths inside a repository: relative, "/"-separated ("" is the root). */

/** True when `p` is `prefix` itself or inside it ("" is the whole tree). */
export function isUnder(p: string, prefix: string): boolean {
  return prefix === "" || p === prefix || p.startsWith(`${prefix}/`);
}
