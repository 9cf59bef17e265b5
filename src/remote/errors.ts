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
    super(`remote '${remote}' already exists (${url})`, { hint: `remove it first with \`tdv remote remove ${remote}\`, or choose another name` });
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
      hint: "check the network and the endpoint (AWS_ENDPOINT_URL); nothing on the remote moved, so run the command again when it is back",
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

export class NonFastForwardError extends TdvError<"NonFastForwardError"> {
  readonly _tag = "NonFastForwardError";
  constructor(
    readonly remote: string,
    readonly refs: { ref: string; remote: string | null; local: string }[],
    /** refs that did move before the refusal (a push of several refs) */
    readonly pushed: unknown[] = [],
  ) {
    const names = refs.map((r) => r.ref.replace(/^refs\/(heads|tags)\//, "")).join(", ");
    super(`rejected: ${names} on ${remote} ${refs.length === 1 ? "has" : "have"} commits that are not in your history (non-fast-forward)`, {
      hint: `run \`tdv pull ${remote}\` to bring them in, then push again; or \`tdv push --force\` to overwrite them (they are lost from the remote branch)`,
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
