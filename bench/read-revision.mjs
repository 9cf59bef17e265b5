/**
 * Read every file of a revision's Zarr stores through tdv's read session (the
 * library, no checkout): the tdv row beside Icechunk's `read` in the
 * benchmark. Each chunk's bytes are verified against their id as they are
 * read, 64 at a time; prints the key count, bytes and the same
 * order-independent checksum as `bench/icechunk.mjs read`, so the two
 * outputs (and a checksum of the dataset folder, `--folder DIR`) can be
 * compared.
 *
 *   node bench/read-revision.mjs REV            # in a tdv working copy
 *   node bench/read-revision.mjs --folder DIR   # the same checksum of plain files
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { openSession, Repository } from "../dist/src/index.js";

const isZarrKey = (k) => k.includes(".zarr/");
const sums = new Map();
let bytes = 0;
const note = (key, b) => {
  bytes += b.length;
  sums.set(key, createHash("sha256").update(b).digest("hex"));
};

if (process.argv[2] === "--folder") {
  const dir = process.argv[3];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name === ".tdv" || e.name === ".git") continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && isZarrKey(r)) note(r, fs.readFileSync(path.join(dir, r)));
    }
  };
  walk("");
} else {
  const rev = process.argv[2];
  if (!rev) {
    console.error("usage: node bench/read-revision.mjs REV | --folder DIR");
    process.exit(2);
  }
  const session = await openSession(await Repository.open({ dir: process.cwd() }), rev);
  const inFlight = new Set();
  for await (const file of session.walk("")) {
    if (!isZarrKey(file.path)) continue;
    const p = session.read(file).then((b) => note(file.path, b)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
const all = createHash("sha256");
for (const k of [...sums.keys()].sort()) all.update(`${k} ${sums.get(k)}\n`);
console.log(`${sums.size} keys, ${bytes} bytes, ${all.digest("hex")}`);
