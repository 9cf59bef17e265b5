/**
 * Errors of remotes: each names the cause and carries the fix in its hint.
 * They extend the library's TdvError (same `_tag`, `hint`, `toJSON()`), so the
 * CLI reports them like any other error (exit code 1).
 */
import { TdvError } from "../errors.js";

export class UnknownRemoteError extends TdvError<"UnknownRemoteError"> {
  readonly _tag = "UnknownRemoteError";
  constructor(
    readonly remote: string,
    readonly known: string[],
  ) {
    super(`no remote named '${remote}'${known.length ? ` (remotes: ${known.join(", ")})` : " (this repository has no remotes)"}`, {
      hint: `add it with \`tdv remote add ${remote} URL\` (s3://bucket/prefix, file:///path, https://...); \`tdv remote -v\` lists the remotes`,
    });
  }
}

export class RemoteExistsError extends TdvError<"RemoteExistsError"> {
  readonly _tag = "RemoteExistsError";
  constructor(
    readonly remote: string,
    readonly url: string,
  ) {
    super(`remote '${remote}' already exists (${url})`, { hint: `change its URL with \`tdv remote set-url ${remote} URL\`, remove it with \`tdv remote remove ${remote}\`, or choose another name` });
  }
}

export class UnsupportedUrlError extends TdvError<"UnsupportedUrlError"> {
  readonly _tag = "UnsupportedUrlError";
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot use '${url}' as a remote: ${reason}`, {
      hint: "give s3://bucket/prefix, file:///absolute/path, a plain path, or an https:// URL (read-only)",
    });
  }
}

export class NoCredentialsError extends TdvError<"NoCredentialsError"> {
  readonly _tag = "NoCredentialsError";
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`no credentials for ${url}: ${detail}`, {
      hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or a profile in ~/.aws/credentials chosen with AWS_PROFILE",
    });
  }
}

export class AccessDeniedError extends TdvError<"AccessDeniedError"> {
  readonly _tag = "AccessDeniedError";
  constructor(
    readonly url: string,
    readonly code: string,
    detail: string,
  ) {
    super(`access denied to ${url} (${code}): ${detail}`, {
      hint: "check that the access key is valid and its policy allows s3:GetObject, s3:PutObject and s3:ListBucket on the bucket and prefix",
    });
  }
}

export class BucketNotFoundError extends TdvError<"BucketNotFoundError"> {
  readonly _tag = "BucketNotFoundError";
  constructor(
    readonly bucket: string,
    readonly endpoint: string,
  ) {
    super(`bucket '${bucket}' does not exist at ${endpoint}`, {
      hint: "check the bucket name in the remote URL (`tdv remote -v`), the endpoint (AWS_ENDPOINT_URL) and region (AWS_REGION); tdv does not create buckets",
    });
  }
}

/** The server could not be reached, or kept failing, after every retry. */
export class RemoteUnreachableError extends TdvError<"RemoteUnreachableError"> {
  readonly _tag = "RemoteUnreachableError";
  constructor(
    readonly url: string,
    readonly attempts: number,
    detail: string,
    cause?: unknown,
  ) {
    super(`cannot reach ${url} after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${detail}`, {
      hint: `check the network and ${/^s3:\/\//i.test(url) ? "the endpoint (AWS_ENDPOINT_URL)" : "that the server at that URL is up"}; nothing on the remote moved, so run the command again when it is back`,
      cause,
    });
  }
}

/** Any other refusal by the server (a 4xx the client cannot fix by retrying). */
export class RemoteRequestError extends TdvError<"RemoteRequestError"> {
  readonly _tag = "RemoteRequestError";
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${url}: the server answered ${status}${code ? ` ${code}` : ""}${detail ? `: ${detail}` : ""}`, {
      hint: "the request was refused; check the remote URL and the server's configuration",
    });
  }
}

export class ReadOnlyRemoteError extends TdvError<"ReadOnlyRemoteError"> {
  readonly _tag = "ReadOnlyRemoteError";
  constructor(readonly url: string) {
    const local = !/^https?:\/\//i.test(url); // read-only and not http(s): a local repository (a working copy or its repository folder)
    super(local ? `${url} is a local repository: tdv clones and fetches from it but does not push into it` : `${url} is read-only: tdv reads http(s):// remotes but cannot write to them`, {
      hint: local
        ? "pull from this copy in that working copy instead (`tdv remote add NAME PATH` there, then `tdv pull NAME`), or push to a remote (a new folder, s3://bucket/prefix)"
        : "push to the bucket behind it instead (s3://bucket/prefix) or to a file:// remote",
    });
  }
}

/** A conditional write found the object changed (HTTP 412). Push turns it into NonFastForwardError. */
export class PreconditionFailedError extends TdvError<"PreconditionFailedError"> {
  readonly _tag = "PreconditionFailedError";
  constructor(readonly key: string) {
    super(`${key} changed on the remote since it was read`, { hint: "read it again and retry" });
  }
}

export class NotARemoteRepositoryError extends TdvError<"NotARemoteRepositoryError"> {
  readonly _tag = "NotARemoteRepositoryError";
  constructor(readonly url: string) {
    super(`no tdv repository at ${url} (it has no tdv.json)`, {
      hint: "check the URL (`tdv remote -v`); a remote is created by the first `tdv push` to it",
    });
  }
}

/** A ref the push could not move: the remote's value (`remote`), ours (`local`); `raced` when it moved during this push, from `was`. */
export interface RejectedRef {
  ref: string;
  remote: string | null;
  local: string;
  /** the remote ref moved while this push ran (another push landed first): from `was` to `remote` */
  raced?: boolean;
  was?: string | null;
}

export class NonFastForwardError extends TdvError<"NonFastForwardError"> {
  readonly _tag = "NonFastForwardError";
  constructor(
    readonly remote: string,
    readonly refs: RejectedRef[],
    /** refs that did move before the refusal (a push of several refs) */
    readonly pushed: unknown[] = [],
  ) {
    const short = (r: RejectedRef) => r.ref.replace(/^refs\/(heads|tags)\//, "");
    const names = refs.map(short).join(", ");
    const raced = refs.filter((r) => r.raced);
    const oid = (o: string | null | undefined) => (o ? o.slice(0, 7) : "(none)");
    const message =
      raced.length === refs.length
        ? `rejected: ${raced.map((r) => `${short(r)} on ${remote} moved while this push ran (${oid(r.was)} -> ${oid(r.remote)}): another push landed first`).join("; ")}, so moving it to ${raced.length === 1 ? oid(raced[0]?.local) : "yours"} would drop its commits (non-fast-forward)`
        : `rejected: ${names} on ${remote} ${refs.length === 1 ? "has" : "have"} commits that are not in your history (non-fast-forward)`;
    super(message, {
      hint:
        raced.length === refs.length
          ? `run \`tdv pull ${remote}\` to bring in what landed, then \`tdv push\` again`
          : `run \`tdv pull ${remote}\` to bring them in, then push again; or \`tdv push --force\` to overwrite them (they are lost from the remote branch)`,
    });
  }
}

/** The server does not enforce S3 conditional writes: refs there could be overwritten by a racing push, so tdv does not move them. */
export class ConditionalWritesIgnoredError extends TdvError<"ConditionalWritesIgnoredError"> {
  readonly _tag = "ConditionalWritesIgnoredError";
  constructor(
    readonly url: string,
    /** the condition the server let through: "If-None-Match: *" or "If-Match" */
    readonly condition: string,
  ) {
    super(`this S3 server ignores conditional writes (a PUT with ${condition} that does not hold succeeded at ${url}); tdv cannot update refs safely there`, {
      hint: "use a server that enforces S3 conditional writes (If-None-Match: * and If-Match), such as AWS S3, MinIO or Ceph RGW, or a file:// remote; no remote branch was moved",
    });
  }
}

/** The server answers 412 to If-Match with the very ETag it serves, quoted and unquoted alike. */
export class ConditionalWritesRefusedError extends TdvError<"ConditionalWritesRefusedError"> {
  readonly _tag = "ConditionalWritesRefusedError";
  constructor(
    readonly url: string,
    readonly etag: string,
  ) {
    super(`the S3 server refuses every If-Match for ${url}: its ETag ${etag} is unchanged, yet a write conditioned on it fails (412) whether the ETag is sent quoted or not`, {
      hint: "the server's conditional writes are broken for existing objects; use a server that implements S3's If-Match (AWS S3, MinIO, Ceph RGW) or a file:// remote; no remote branch was moved",
    });
  }
}

/** git/info/refs (the ref list http:// readers use) could not be rewritten: other pushers kept changing it. */
export class InfoRefsNotUpdatedError extends TdvError<"InfoRefsNotUpdatedError"> {
  readonly _tag = "InfoRefsNotUpdatedError";
  constructor(
    readonly url: string,
    readonly attempts: number,
  ) {
    super(`the branches moved, but ${url}/git/info/refs could not be rewritten after ${attempts} attempts (other pushes kept changing it), so http:// readers may miss them`, {
      hint: "run `tdv push` to that remote again: a push that finds git/info/refs out of date rewrites it, even when there is nothing to upload",
    });
  }
}

export class DivergedError extends TdvError<"DivergedError"> {
  readonly _tag = "DivergedError";
  constructor(
    readonly branch: string,
    readonly upstream: string,
    readonly ours: string,
    readonly theirs: string,
  ) {
    super(`${branch} and ${upstream} have diverged: each has commits the other lacks, so a fast-forward is not possible`, {
      hint: `merge them with \`tdv pull\` (without --ff-only) or \`tdv merge ${upstream}\` (the fetch is done), or replace yours with \`tdv reset --hard ${upstream}\``,
    });
  }
}

/** A remote gc runs (or another gc does): the command gave way and changed nothing on the remote. */
export class RemoteGcRunningError extends TdvError<"RemoteGcRunningError"> {
  readonly _tag = "RemoteGcRunningError";
  constructor(
    readonly remote: string,
    readonly who: string,
    readonly key: string,
    leaseMinutes: number,
  ) {
    super(`${who} is collecting garbage on ${remote}`, {
      hint: `nothing was changed on the remote; run the command again when it has finished. A gc that died leaves its announcement ${key}, which stops counting ${leaseMinutes} minutes after its last renewal`,
    });
  }
}

/** remote gc gave way to pushes that kept running: it deleted nothing. */
export class RemoteWritersRunningError extends TdvError<"RemoteWritersRunningError"> {
  readonly _tag = "RemoteWritersRunningError";
  constructor(
    readonly remote: string,
    readonly writers: string[],
  ) {
    super(`remote gc deleted nothing: ${writers.join(", ")} ${writers.length === 1 ? "is" : "are"} pushing to ${remote}`, {
      hint: "run `tdv remote gc` again when the pushes have finished (TDV_WRITERS_WAIT_MS sets how long it waits); the announcement of a push that died stops counting after the lease (10 minutes)",
    });
  }
}

/**
 * A push or remote gc was held up longer than its announcement on the remote
 * lasts (a suspended process, a stalled network): it stopped before its next
 * step could race the other side. Nothing it had not finished is referenced.
 */
export class RemoteLeaseLostError extends TdvError<"RemoteLeaseLostError"> {
  readonly _tag = "RemoteLeaseLostError";
  constructor(
    readonly remote: string,
    readonly command: string,
    readonly silentMs: number,
  ) {
    const gc = command === "gc";
    super(`${command} on ${remote} stopped: its announcement was not renewed for ${Math.round(silentMs / 1000)} s (the process was held up), so a ${gc ? "push" : "remote gc"} may have started meanwhile`, {
      hint:
        command === "push"
          ? "no ref was moved; run the push again (what was uploaded is not sent twice)"
          : gc
            ? "run `tdv remote gc` again; what it deleted was unreachable and old"
            : "no ref was moved; open a new session and write again (a remote gc may have removed what this one uploaded)",
    });
  }
}

/** remote gc cannot tell what is needed (a ref it cannot read, an object a ref needs is missing or damaged): it deletes nothing. */
export class RemoteGcRefusedError extends TdvError<"RemoteGcRefusedError"> {
  readonly _tag = "RemoteGcRefusedError";
  constructor(
    readonly remote: string,
    readonly problems: string[],
  ) {
    super(`remote gc deleted nothing on ${remote}: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? `; and ${problems.length - 3} more` : ""}`, {
      hint: "`tdv remote fsck NAME` lists every problem with the ref that needs it; repair the remote (push the objects again from a complete clone) and run gc again",
    });
  }
}

/** `tdv commit --session`, `tdv session drop`: the remote has no staged session of that id. */
export class StagedSessionNotFoundError extends TdvError<"StagedSessionNotFoundError"> {
  readonly _tag = "StagedSessionNotFoundError";
  constructor(
    readonly remote: string,
    readonly session: string,
  ) {
    super(`no staged session '${session}' on ${remote}`, {
      hint: "`tdv session list --remote REMOTE` lists the sessions; workers stage their folders with `tdv stage --remote REMOTE --session ID DIR`",
    });
  }
}

/** `tdv commit --session`: the session exists but no worker has staged a change set yet. */
export class StagedSessionEmptyError extends TdvError<"StagedSessionEmptyError"> {
  readonly _tag = "StagedSessionEmptyError";
  constructor(
    readonly remote: string,
    readonly session: string,
  ) {
    super(`staged session '${session}' on ${remote} has no change sets: nothing to commit`, {
      hint: "stage the workers' folders first (`tdv stage --remote REMOTE --session ID DIR`), or drop the session with `tdv session drop`",
    });
  }
}

/** `tdv stage`: the session was started on another branch or base than this stage asks for. */
export class StagedSessionMismatchError extends TdvError<"StagedSessionMismatchError"> {
  readonly _tag = "StagedSessionMismatchError";
  constructor(
    readonly remote: string,
    readonly session: string,
    what: string,
  ) {
    super(`staged session '${session}' on ${remote} ${what}`, {
      hint: "stage into the session as it was started (omit --base and --branch), or use a new session id",
    });
  }
}

/** `tdv stage`: a change set of that worker name is already staged in the session (a conditional write refused). */
export class StagedChangeSetExistsError extends TdvError<"StagedChangeSetExistsError"> {
  readonly _tag = "StagedChangeSetExistsError";
  constructor(
    readonly remote: string,
    readonly session: string,
    readonly worker: string,
  ) {
    super(`staged session '${session}' on ${remote} already has a change set from worker '${worker}'`, {
      hint: "give each worker its own name with --worker (the default is unique per run), or drop the session and stage again",
    });
  }
}

/** An object a remote ref needs is not on the remote (a damaged or half-deleted remote). */
export class RemoteObjectMissingError extends TdvError<"RemoteObjectMissingError"> {
  readonly _tag = "RemoteObjectMissingError";
  constructor(
    readonly id: string,
    /** "chunk", "Git object (tree data.zarr)", ... */
    readonly what: string,
    /** "remote origin (s3://bucket/x)" or the URL */
    readonly remote: string,
    /** the remote refs that need it, when known */
    readonly refs: string[] = [],
  ) {
    super(`${what} ${id} is missing on ${remote}${refs.length ? ` (needed by ${refs.map((r) => r.replace(/^refs\/(heads|tags)\//, "")).join(", ")})` : ""}`, {
      hint: "the remote is damaged: from a repository that has the object, run `tdv push --verify` to upload what is missing or broken",
    });
  }
}

/** An object on a remote whose bytes do not match its id (damage on the remote, or a bad copy). */
export class RemoteObjectCorruptError extends TdvError<"RemoteObjectCorruptError"> {
  readonly _tag = "RemoteObjectCorruptError";
  constructor(
    readonly id: string,
    readonly what: string,
    readonly remote: string,
    detail: string,
  ) {
    super(`${what} ${id} on ${remote} is damaged: ${detail}`, {
      hint: "nothing was stored from it; from a repository that has the object, run `tdv push --verify` to replace the remote's copy",
    });
  }
}

/** These errors by their tags, in the one map of every tdv error (src/errors.ts). */
declare module "../errors.js" {
  interface TdvErrorMap {
    UnknownRemoteError: UnknownRemoteError;
    RemoteExistsError: RemoteExistsError;
    UnsupportedUrlError: UnsupportedUrlError;
    NoCredentialsError: NoCredentialsError;
    AccessDeniedError: AccessDeniedError;
    BucketNotFoundError: BucketNotFoundError;
    RemoteUnreachableError: RemoteUnreachableError;
    RemoteRequestError: RemoteRequestError;
    ReadOnlyRemoteError: ReadOnlyRemoteError;
    PreconditionFailedError: PreconditionFailedError;
    NotARemoteRepositoryError: NotARemoteRepositoryError;
    NonFastForwardError: NonFastForwardError;
    ConditionalWritesIgnoredError: ConditionalWritesIgnoredError;
    ConditionalWritesRefusedError: ConditionalWritesRefusedError;
    InfoRefsNotUpdatedError: InfoRefsNotUpdatedError;
    DivergedError: DivergedError;
    RemoteGcRunningError: RemoteGcRunningError;
    RemoteWritersRunningError: RemoteWritersRunningError;
    RemoteLeaseLostError: RemoteLeaseLostError;
    RemoteGcRefusedError: RemoteGcRefusedError;
    StagedSessionNotFoundError: StagedSessionNotFoundError;
    StagedSessionEmptyError: StagedSessionEmptyError;
    StagedSessionMismatchError: StagedSessionMismatchError;
    StagedChangeSetExistsError: StagedChangeSetExistsError;
    RemoteObjectMissingError: RemoteObjectMissingError;
    RemoteObjectCorruptError: RemoteObjectCorruptError;
  }
}
