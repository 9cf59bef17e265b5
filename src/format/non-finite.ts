/**
 * Bare `NaN`, `Infinity` and `-Infinity` tokens, which zarr-python writes in
 * metadata documents but JSON does not allow: find them outside strings and
 * replace each by what `replace` returns (a JSON text).
 */
const WORDS = ["-Infinity", "Infinity", "NaN"] as const;

export type NonFiniteWord = (typeof WORDS)[number];

export function replaceNonFinite(text: string, replace: (word: NonFiniteWord) => string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const word = WORDS.find((w) => text.startsWith(w, i));
    if (word) {
      out += replace(word);
      i += word.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
