/** Build commits directly from Git objects, for tests of revision, branch, tag and log. */
import { Repository } from "../../src/index.js";
import type { GitOid } from "../../src/format/hash.js";
import type { Person, TreeEntry } from "../../src/format/git-object.js";
import { tempDir } from "./fixture.js";

export type Files = Record<string, string>;

export function person(timestamp: number): Person {
  return { name: "Ada Tester", email: "ada@example.com", timestamp, tzOffset: 60 };
}

export async function newRepo(): Promise<Repository> {
  // removed after the test file, as every temp folder the fixture makes
  const dir = await tempDir();
  return (await Repository.init({ dir, durability: "none" })).repo;
}

/** Write a tree of small text files (paths with "/" make subtrees). */
export async function writeFiles(repo: Repository, files: Files): Promise<GitOid> {
  const entries: TreeEntry[] = [];
  const dirs = new Map<string, Files>();
  for (const [p, content] of Object.entries(files)) {
    const [head, ...rest] = p.split("/") as [string, ...string[]];
    if (rest.length === 0) entries.push({ mode: "100644", name: head, oid: await repo.git.writeBlob(Buffer.from(content)) });
    else dirs.set(head, { ...dirs.get(head), [rest.join("/")]: content });
  }
  for (const [name, sub] of dirs) entries.push({ mode: "040000", name, oid: await writeFiles(repo, sub) });
  return repo.git.writeTree(entries);
}
