/**
 * A worker of the concurrency test: commits to its own branch through the
 * library (what `tdv commit` does once it has a tree: write the commit, move
 * the ref by compare-and-swap), and creates and deletes a temporary branch
 * next to other workers' temporary branches at every step.
 *
 *   node branch-committer.mjs '{"dir": "...", "id": 3, "commits": 12, "pool": [...]}'
 *
 * With "pool", every commit snapshots one pool entry (files whose objects
 * already exist as old unreachable garbage, as a commit of a state seen
 * before does) while a gc runs beside it. Prints one JSON line:
 * {"commits": [oid, ...], "errors": [...]}.
 */
import { Repository } from "../../../dist/src/index.js";
import { sha256 } from "../../../dist/src/format/hash.js";
import { writeSnapshot } from "../../../dist/src/repo/snapshot.js";

const cfg = JSON.parse(process.argv[2]);
const repo = await Repository.open({ dir: cfg.dir });
const who = repo.identity();
const base = await repo.refs.read("refs/heads/main");
const baseTree = (await repo.git.readCommit(base)).tree;
const ref = `refs/heads/team/p${cfg.id}`;
const commits = [];
const errors = [];

/** The bytes of chunk `c` of pool entry `j`: the test wrote the same ones. */
function poolChunk(j, c) {
  return Buffer.from(`pool ${j} chunk ${c}`.padEnd(64, "."));
}

async function snapshotOf(entry) {
  const files = new Map();
  files.set("pool.zarr/.zarray", { store: "git", id: await repo.git.writeBlob(Buffer.from(entry.zarray)), size: entry.zarray.length });
  for (let c = 0; c < entry.chunks; c++) {
    const bytes = poolChunk(entry.j, c);
    const id = sha256(bytes);
    await repo.chunks.put(id, bytes); // as `tdv add` stores a file it hashed
    files.set(`pool.zarr/0.${c}`, { store: "chunk", id, size: bytes.length });
  }
  return writeSnapshot(repo, files);
}

let parent = null;
for (let k = 0; k < cfg.commits; k++) {
  const tmp = `refs/heads/tmp/p${cfg.id}-${k}`;
  try {
    // a writer of objects announces itself, as every tdv command that writes does: gc never runs meanwhile
    await repo.writing("branch-committer", async () => {
      await repo.refs.update(tmp, { expected: null, next: base, who, message: "branch: Created from main" });
      const tree = cfg.pool ? await snapshotOf(cfg.pool[(cfg.id + k) % cfg.pool.length]) : baseTree;
      const oid = await repo.git.writeCommit({ tree, parents: [parent ?? base], author: who, committer: who, message: `p${cfg.id}-${k}\n` });
      await repo.refs.update(ref, { expected: parent, next: oid, who, message: `commit: p${cfg.id}-${k}` });
      await repo.refs.update(tmp, { expected: base, next: null, who, message: "branch: deleted" });
      parent = oid;
      commits.push(oid);
    });
  } catch (err) {
    errors.push({ k, error: `${err?.name}: ${err?.message}` });
  }
}
process.stdout.write(`${JSON.stringify({ commits, errors })}\n`);
