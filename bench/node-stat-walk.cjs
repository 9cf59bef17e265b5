/**
 * The floor of a clean `status` inside Node: one process that lists every
 * folder under the current one (`.tdv` and `.git` skipped) and `lstat`s each
 * file it finds (Node's `fs.Stats`, with the size, mtime, ctime and inode the
 * index compares), and prints nothing. No index is read and nothing is compared: what
 * is left of a `status` beyond this is tdv's own (its code loading, the
 * index, the comparison). CommonJS, Node's cheapest start (an ES module
 * entry costs a few ms more). Run by bench/run.mjs beside `tdv status`.
 */
const fs = require("node:fs");

const SKIP = new Set([".tdv", ".git"]);
function walk(dir) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${ent.name}`;
    if (ent.isDirectory()) {
      if (!SKIP.has(ent.name)) walk(p);
    } else {
      fs.lstatSync(p, { throwIfNoEntry: false });
    }
  }
}
walk(process.cwd());
