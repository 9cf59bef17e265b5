/**
 * One warning per array for the chunk files on disk whose keys fall outside
 * the array's grid (left over from another shape or chunking, or written by
 * mistake): a count and the first few names, never one line per file.
 */
const NAMED = 3;

export function outsideGridWarnings(files: readonly { path: string; array: string | null }[], note = ""): string[] {
  const byArray = new Map<string, string[]>();
  for (const f of files) {
    const key = f.array ?? "";
    const list = byArray.get(key);
    if (list) list.push(f.path);
    else byArray.set(key, [f.path]);
  }
  const out: string[] = [];
  for (const [array, paths] of [...byArray].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    paths.sort();
    const n = paths.length;
    const named = paths.slice(0, NAMED).join(", ") + (n > NAMED ? ", …" : "");
    out.push(`${n === 1 ? "1 chunk file" : `${n} chunk files`} outside the grid of array '${array || "."}'${note}: ${named}`);
  }
  return out;
}
