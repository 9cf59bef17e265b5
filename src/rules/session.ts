/**
 * Write sessions under the branch's rules: what the library exports as
 * `openWriteSession`. A session's commit moves its branch like `tdv commit`
 * does, so it passes the same gate (check_on "commit"): a result that breaks
 * the rules is refused, the branch does not move and the session stays open;
 * `session.commit(msg, { noVerify: true })` lands it, recorded as Tdv-No-Verify.
 */
import type { Repository, Stores } from "../repo/repository.js";
import { openWriteSession as openUnchecked, type SessionToken, type WriteSession, type WriteSessionOptions } from "../session/write.js";
import { gate } from "./gate.js";

export function openWriteSession<S extends Stores>(repo: Repository<S>, target: string | SessionToken, opts: WriteSessionOptions = {}): Promise<WriteSession> {
  return openUnchecked(repo, target, { verify: (oid, ref, noVerify) => gate(repo, oid, ref, "commit", noVerify), ...opts });
}
