/** `tdv add`: stage files and write the index (see worktree/stage.ts). */
import type { Repository } from "../repo/repository.js";
import { type AddOptions, type AddResult, addToIndex } from "../worktree/stage.js";

/** Stage files: store their bytes (chunk objects or Git blobs) and record them in the index. */
export function add(repo: Repository, opts: AddOptions): Promise<AddResult> {
  return repo.exclusive("add", () => addToIndex(repo, opts));
}
